import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smb } from './smb.ts';
import { parseNtlmssp, windowsName } from './ntlmssp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { runStream, split } from '../../test/helpers/dissect.ts';
import * as build from '../simulate/payloads/smb.ts';
import { Rng } from '../simulate/rng.ts';

test('SMB1 Native OS and LAN Manager from a real Windows 2000 → Windows 7 session, as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/smbv1.pcap');
  const { observations } = await observeCapture(path, { dissectors: [smb], allObservations: true });
  const rows = tsharkFields(path, ['frame.number', 'ip.src', 'smb.native_os', 'smb.native_lanman'], { filter: 'smb.native_os' });
  assert.equal(rows.length, 2);
  for (const [frame, ip, os, lanman] of rows) {
    const at = observations.filter((o) => o.frame === Number(frame) && o.ip === ip);
    assert.deepEqual(at.filter((o) => o.attribute === 'smb.native_os').map((o) => o.value), [os]);
    assert.deepEqual(at.filter((o) => o.attribute === 'smb.native_lanman').map((o) => o.value), [lanman]);
  }
  assert.ok(values(observations, 'smb.dialects')[0]?.includes('NT LM 0.12'));
  assert.ok(observations.some((o) => o.attribute === 'smb.smb1' && o.ip === '10.128.0.243'), 'the Windows 7 server still speaks SMB1');
});

test('SMB2 with NTLMSSP against Samba: dialect, target info names, as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('peer/suricata-verify/smb2-01/smb2-peter.pcap');
  const { observations } = await observeCapture(path, { dissectors: [smb] });
  const [row] = tsharkFields(path, ['ip.src', 'ntlmssp.challenge.target_info.nb_computer_name', 'ntlmssp.challenge.target_info.nb_domain_name', 'ntlmssp.challenge.target_info.dns_computer_name'], { filter: 'ntlmssp.messagetype == 2' });
  assert.ok(row !== undefined);
  const [ip, nb, dom, dns] = row;
  const got = (a: string) => observations.filter((o) => o.attribute === a && o.ip === ip).map((o) => o.value);
  assert.deepEqual(got('ntlmssp.nb_computer'), [nb]);
  assert.deepEqual(got('ntlmssp.nb_domain'), [dom]);
  assert.deepEqual(got('ntlmssp.dns_computer'), [dns]);
  const [dialect] = tsharkFields(path, ['smb2.dialect'], { filter: 'smb2.cmd == 0 && smb2.flags.response == 1' })[0] ?? [];
  assert.equal(values(observations, 'smb.dialect')[0], { '0x0202': '2.0.2', '0x0210': '2.1' }[dialect ?? ''] ?? dialect);
  assert.deepEqual(values(observations, 'smb.share'), ['\\\\10.3.1.1\\public']);
});

test('round trip with the simulator: NTLMSSP versions name both Windows releases; users, admin shares', () => {
  const rng = new Rng('smb');
  const server: build.NtlmServer = { version: '10.0.17763', nbComputer: 'FS01', nbDomain: 'SIMHOSP', dnsComputer: 'fs01.simhosp.example', dnsDomain: 'simhosp.example' };
  const client: build.NtlmClient = { version: '6.1.7601', user: 'adm_helpdesk', domain: 'SIMHOSP', workstation: 'WS042' };
  const sid = 0x41n;
  const pieces: Array<[0 | 1, Buffer]> = [
    [0, build.smb2NegotiateRequest(['2.0.2', '2.1'], Buffer.alloc(16, 1), rng)],
    [1, build.smb2NegotiateResponse('2.1', Buffer.alloc(16, 2), 1_795_435_200, rng, true)],
    [0, build.smb2SessionSetupRequest(1, 0n, build.spnegoInit(build.ntlmNegotiate(client.version)))],
    [1, build.smb2SessionSetupResponse(1, sid, build.spnegoResp(1, build.ntlmChallenge(server, rng, 1_795_435_200), true), false)],
    [0, build.smb2SessionSetupRequest(2, sid, build.spnegoResp(1, build.ntlmAuthenticate(client, server, rng, 1_795_435_200), false))],
    [1, build.smb2SessionSetupResponse(2, sid, build.spnegoResp(0, undefined, false), true)],
    [0, build.smb2TreeConnectRequest(3, sid, '\\\\WS017\\ADMIN$')],
  ];
  const { ctx } = runStream(smb, pieces.flatMap(([d, b]) => split(b, [100, 3, 1460]).map((p) => [d, p] as [0 | 1, Buffer])));
  const by = (side: string, a: string) => ctx.drafts.filter((d) => d.side === side && d.attribute === a).map((d) => d.value);
  assert.deepEqual(by('client', 'smb.dialects'), ['2.0.2,2.1']);
  assert.deepEqual(by('server', 'smb.dialect'), ['2.1']);
  assert.deepEqual(by('server', 'smb.signing'), ['required']);
  assert.deepEqual([...new Set(by('client', 'os'))], ['Windows 7 SP1 / Server 2008 R2 SP1 (6.1.7601)']);
  assert.deepEqual(by('server', 'os'), ['Windows 10 1809 / Server 2019 (10.0.17763)']);
  assert.deepEqual(by('server', 'ntlmssp.dns_computer'), ['fs01.simhosp.example']);
  assert.deepEqual(by('client', 'ntlmssp.user'), ['adm_helpdesk']);
  assert.deepEqual(by('client', 'ntlmssp.workstation'), ['WS042']);
  assert.deepEqual(by('client', 'smb.admin_share'), ['\\\\WS017\\ADMIN$']);
});

test('the MS17-010 probe answered STATUS_INSUFF_SERVER_RESOURCES marks the server vulnerable; the exploit is named', () => {
  const fill = Buffer.alloc(1024, 0x41);
  const { ctx } = runStream(smb, [
    [0, build.smb1NegotiateRequest(false)],
    [1, build.smb1NegotiateResponse(5, Buffer.alloc(16), 1)],
    [0, build.smb1AnonymousSessionSetup()],
    [1, build.smb1SessionSetupAnonResponse(2048, 'Windows 7 Professional 7601 Service Pack 1', 'Windows 7 Professional 6.1')],
    [0, build.smb1TreeConnect('\\\\10.1.1.1\\IPC$', 2048)],
    [1, build.smb1TreeConnectResponse(2048, 2049)],
    [0, build.smb1PeekNamedPipe(2048, 2049)],
    [1, build.smb1StatusResponse(0x25, 2048, 2049, 0xc0000205, 0x41)],
    [0, build.smb1NtTransact(2048, 2049, 1000, fill)],
  ]);
  assert.deepEqual(ctx.values('smb.ms17_010'), ['vulnerable']);
  assert.deepEqual(ctx.values('smb.exploit'), ['MS17-010 EternalBlue NT_TRANSACT']);
  assert.ok(ctx.values('os').includes('Windows 7 Professional 7601 Service Pack 1'));
});

test('NTLMSSP: hostile offsets and lengths are bounded; Windows names by build', () => {
  const rng = new Rng('n');
  const seed = build.ntlmChallenge({ version: '6.3.9600', nbComputer: 'A', nbDomain: 'B', dnsComputer: 'c', dnsDomain: 'd' }, rng, 1);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 10 }), fc.nat(), (edits, cut) => {
      const b = Buffer.from(seed);
      for (const [i, v] of edits) b[i % b.length] = v;
      parseNtlmssp(b.subarray(0, (cut % b.length) + 1));
    }),
    { numRuns: 2000 },
  );
  assert.equal(windowsName({ major: 6, minor: 3, build: 9600 }), 'Windows 8.1 / Server 2012 R2 (6.3.9600)');
  assert.equal(windowsName({ major: 10, minor: 0, build: 22999 }), 'Windows 11 (10.0.22999)');
});

test('property: random and mutated SMB streams never throw', () => {
  const rng = new Rng('f');
  const seeds = [build.smb2NegotiateRequest(['2.0.2', '3.1.1'], Buffer.alloc(16), rng), build.smb1SessionSetupRequest(build.spnegoInit(build.ntlmNegotiate('5.1.2600')), 'Windows 5.1', 'Windows 2000 LAN Manager'), build.smb1PeekNamedPipe(1, 2)];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (msgs, sizes) => {
      const pieces: Array<[0 | 1, Buffer]> = [];
      msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
      runStream(smb, pieces);
      smb.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
    }),
    { numRuns: 500 },
  );
});
