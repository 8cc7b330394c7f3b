import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamVerdict } from './dissector.ts';
import { smb, smb1Os } from './smb.ts';
import { findNtlmssp, parseNtlmssp, windowsName, type NtlmMessage } from './ntlmssp.ts';
import { corpus, hasCorpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';
import * as build from '../simulate/payloads/smb.ts';
import { Rng } from '../simulate/rng.ts';

const withTshark = { skip: (!hasTshark() || !hasCorpus()) && 'tshark or corpus missing' };

// ---- Real captures, checked against tshark ------------------------------------------------------

test('SMB1 from a real MS17-010 scan of Windows 7: Native OS, LAN Manager, server names, dialect, DoublePulsar ping — as tshark reads them', withTshark, async () => {
  const path = corpus('pcaps/identity/ndpi/smbv1.pcap');
  const { observations } = await observeCapture(path, { dissectors: [smb], allObservations: true });
  const at = (frame: string, ip: string, attribute: string) => observations.filter((o) => o.frame === Number(frame) && o.ip === ip && o.attribute === attribute).map((o) => o.value);
  const rows = tsharkFields(path, ['frame.number', 'ip.src', 'smb.native_os', 'smb.native_lanman'], { filter: 'smb.native_os' });
  assert.equal(rows.length, 2);
  for (const [frame = '', ip = '', os, lanman] of rows) {
    assert.deepEqual(at(frame, ip, 'smb.native_os'), [os]);
    assert.deepEqual(at(frame, ip, 'smb.native_lanman'), [lanman]);
  }
  assert.deepEqual(at('4', '10.128.0.243', 'os'), ['Windows 7 Ultimate 7601 Service Pack 1']);
  // The negotiate response names the server (non-extended security) and picks a dialect by index.
  const [neg] = tsharkFields(path, ['frame.number', 'ip.src', 'smb.dialect.index', 'smb.primary_domain', 'smb.server'], { filter: 'smb.cmd == 0x72 && smb.flags.response == 1' });
  const [offered = ''] = tsharkFields(path, ['smb.dialect'], { filter: 'smb.cmd == 0x72 && smb.flags.response == 0' })[0] ?? [];
  assert.ok(neg !== undefined);
  const [frame = '', ip = '', index = '', domain, server] = neg;
  assert.deepEqual(values(observations, 'smb.dialects'), [offered]);
  assert.deepEqual(at(frame, ip, 'smb.dialect'), [offered.split(',')[Number(index)]]);
  assert.deepEqual(at(frame, ip, 'smb.primary_domain'), [domain]);
  assert.deepEqual(at(frame, ip, 'smb.server_name'), [server]);
  assert.deepEqual(at(frame, ip, 'smb.signing'), ['disabled']);
  assert.ok(observations.some((o) => o.attribute === 'smb.smb1' && o.ip === '10.128.0.243'), 'the Windows 7 server still speaks SMB1');
  assert.deepEqual(values(observations, 'smb.share'), ['\\\\10.128.0.243\\IPC$']);
  // Frame 7: Trans2 SESSION_SETUP, the DoublePulsar implant check (tshark: subcommand 0x000e).
  const [ping] = tsharkFields(path, ['frame.number'], { filter: 'smb.trans2.cmd == 0x000e' });
  assert.deepEqual(observations.filter((o) => o.attribute === 'smb.exploit').map((o) => [String(o.frame), o.value]), [[ping?.[0], 'DoublePulsar ping (Trans2 SESSION_SETUP)']]);
});

test('SMB2 with NTLMSSP against Samba: dialect, GUID, signing, target info, Samba VERSION without an OS — as tshark reads them', withTshark, async () => {
  const path = corpus('peer/suricata-verify/smb2-01/smb2-peter.pcap');
  const { observations } = await observeCapture(path, { dissectors: [smb], allObservations: true });
  const got = (a: string, ip?: string) => observations.filter((o) => o.attribute === a && (ip === undefined || o.ip === ip)).map((o) => o.value);
  const [challenge] = tsharkFields(path, ['ip.src', 'ntlmssp.challenge.target_info.nb_computer_name', 'ntlmssp.challenge.target_info.nb_domain_name', 'ntlmssp.challenge.target_info.dns_computer_name', 'ntlmssp.version.major', 'ntlmssp.version.minor', 'ntlmssp.version.build_number'], { filter: 'ntlmssp.messagetype == 2' });
  assert.ok(challenge !== undefined);
  const [server = '', nb, dom, dns, major, minor, buildNo] = challenge;
  assert.deepEqual(got('ntlmssp.nb_computer', server), [nb]);
  assert.deepEqual(got('ntlmssp.nb_domain', server), [dom]);
  assert.deepEqual(got('ntlmssp.dns_computer', server), [dns]);
  assert.deepEqual(got('ntlmssp.version', server), [`${major}.${minor}.${buildNo}`]);
  assert.deepEqual(got('os'), [], 'Samba\'s fixed 6.1.0 says nothing about the OS');
  const [auth] = tsharkFields(path, ['ip.src', 'ntlmssp.auth.domain', 'ntlmssp.auth.username'], { filter: 'ntlmssp.messagetype == 3' });
  assert.deepEqual(got('ntlmssp.domain', auth?.[0]), [auth?.[1]]);
  assert.equal(auth?.[2], 'NULL');
  assert.deepEqual(got('ntlmssp.user'), [], 'an empty user name is not reported');
  const [neg] = tsharkFields(path, ['smb2.dialect', 'smb2.server_guid', 'smb2.sec_mode'], { filter: 'smb2.cmd == 0 && smb2.flags.response == 1' });
  assert.ok(neg !== undefined);
  assert.deepEqual(got('smb.dialect', server), [{ '0x0202': '2.0.2', '0x0210': '2.1' }[neg[0] ?? ''] ?? neg[0]]);
  assert.deepEqual(got('smb.server_guid', server), [neg[1]]);
  assert.deepEqual(got('smb.signing', server), [(Number(neg[2]) & 2) !== 0 ? 'required' : 'enabled']);
  assert.deepEqual(got('smb.share'), ['\\\\10.3.1.1\\public']);
  const [flags] = tsharkFields(path, ['smb2.session_flags'], { filter: 'smb2.cmd == 1 && smb2.flags.response == 1 && smb2.nt_status == 0' });
  assert.deepEqual(got('smb.guest', server), (Number(flags?.[0]) & 1) !== 0 ? ['true'] : []);
});

test('NetBIOS session request on port 139: called and calling names, as tshark reads them', withTshark, async () => {
  const path = corpus('pcaps/identity/ndpi/netbios.pcap');
  const { observations } = await observeCapture(path, { dissectors: [smb] });
  const rows = tsharkFields(path, ['ip.dst', 'nbss.called_name', 'ip.src', 'nbss.calling_name'], { filter: 'nbss.type == 0x81' });
  assert.equal(rows.length, 1);
  const [dst, called, src, calling] = rows[0] ?? [];
  assert.deepEqual(observations.filter((o) => o.attribute === 'netbios.called_name').map((o) => [o.ip, o.value]), [[dst, called]]);
  assert.deepEqual(observations.filter((o) => o.attribute === 'netbios.calling_name').map((o) => [o.ip, o.value]), [[src, calling]]);
});

/** NTLMSSP messages tshark finds in a capture, with the raw message bytes (from HTTP headers or TCP payloads). */
function realNtlm(path: string): Array<{ row: string[]; msg: NtlmMessage | undefined }> {
  const fields = ['ntlmssp.messagetype', 'ntlmssp.version.major', 'ntlmssp.version.minor', 'ntlmssp.version.build_number', 'ntlmssp.challenge.target_info.nb_computer_name', 'ntlmssp.challenge.target_info.nb_domain_name', 'ntlmssp.challenge.target_info.dns_computer_name', 'ntlmssp.challenge.target_info.dns_domain_name', 'ntlmssp.auth.username', 'ntlmssp.auth.domain', 'ntlmssp.auth.hostname', 'http.authorization', 'http.www_authenticate', 'tcp.payload'];
  return tsharkFields(path, fields, { filter: 'ntlmssp' }).map((row) => {
    const [auth = '', www = '', payload = ''] = row.slice(11);
    const header = /\bNTLM ([A-Za-z0-9+/=]+)/.exec(auth || www);
    const blob = header !== null ? Buffer.from(header[1] ?? '', 'base64') : Buffer.from(payload, 'hex');
    return { row, msg: findNtlmssp(blob) };
  });
}

test('NTLMSSP from real Windows Server 2022 (HTTP) and 2012 R2 (LDAP) exchanges: versions, names, users — as tshark reads them', withTshark, () => {
  const seen = new Set<string>();
  for (const file of ['pcaps/leaks/ndpi/webdav.pcap', 'peer/suricata-verify/krb5-request-frag-log/krb5-frag.pcap']) {
    const messages = realNtlm(corpus(file));
    assert.ok(messages.length >= 3, file);
    for (const { row, msg } of messages) {
      const [type, major, minor, buildNo, nbComputer, nbDomain, dnsComputer, dnsDomain, user, domain, host] = row.map((v) => (v === '' || v === 'NULL' ? undefined : v));
      assert.ok(msg !== undefined, `${file}: ${row.join(' ')}`);
      assert.equal(msg.type, Number(type));
      assert.equal(msg.version === undefined ? undefined : `${msg.version.major}.${msg.version.minor}.${msg.version.build}`, major === undefined ? undefined : `${major}.${minor}.${buildNo}`);
      assert.deepEqual([msg.nbComputer, msg.nbDomain, msg.dnsComputer, msg.dnsDomain], [nbComputer, nbDomain, dnsComputer, dnsDomain]);
      assert.deepEqual([msg.user, msg.domain, msg.type === 3 ? msg.workstation : undefined], [user, domain, host]);
      if (msg.version !== undefined) seen.add(windowsName(msg.version));
    }
  }
  assert.deepEqual([...seen].sort(), ['Windows 8.1 / Server 2012 R2 (6.3.9600)', 'Windows Server 2022 (10.0.20348)']);
});

// ---- Built conversations --------------------------------------------------------------------

test('SMB 3.1.1 with NTLMSSP: dialects, GUIDs, capabilities, ciphers, Windows names of both ends, user, admin share; Done after setup', () => {
  const rng = new Rng('smb');
  const server: build.NtlmServer = { version: '10.0.17763', nbComputer: 'FS01', nbDomain: 'SIMHOSP', dnsComputer: 'fs01.simhosp.example', dnsDomain: 'simhosp.example' };
  const client: build.NtlmClient = { version: '6.1.7601', user: 'adm_helpdesk', domain: 'SIMHOSP', workstation: 'WS042' };
  const sid = 0x41n;
  const clientGuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const pieces: Array<[0 | 1, Buffer]> = [
    [0, build.smb2NegotiateRequest(['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'], clientGuid, rng)],
    [1, build.smb2NegotiateResponse('3.1.1', Buffer.alloc(16, 2), 1_795_435_200, rng, true)],
    [0, build.smb2SessionSetupRequest(1, 0n, build.spnegoInit(build.ntlmNegotiate(client.version)))],
    [1, build.smb2SessionSetupResponse(1, sid, build.spnegoResp(1, build.ntlmChallenge(server, rng, 1_795_435_200), true), false)],
    [0, build.smb2SessionSetupRequest(2, sid, build.spnegoResp(1, build.ntlmAuthenticate(client, server, rng, 1_795_435_200), false))],
    [1, build.smb2SessionSetupResponse(2, sid, build.spnegoResp(0, undefined, false), true)],
    [0, build.smb2TreeConnectRequest(3, sid, '\\\\WS017\\ADMIN$')],
  ];
  const { ctx, done } = runStream(smb, pieces.flatMap(([d, b]) => split(b, [100, 3, 1460]).map((p) => [d, p] as [0 | 1, Buffer])));
  assert.equal(done, false);
  const by = (side: string, a: string) => ctx.drafts.filter((d) => d.side === side && d.attribute === a).map((d) => d.value);
  assert.deepEqual(by('client', 'smb.dialects'), ['2.0.2,2.1,3.0,3.0.2,3.1.1']);
  assert.deepEqual(by('client', 'smb.client_guid'), ['33221100-5544-7766-8899-aabbccddeeff']);
  assert.deepEqual(by('client', 'smb.capabilities'), ['DFS,LEASING,LARGE_MTU,MULTI_CHANNEL,PERSISTENT_HANDLES,DIRECTORY_LEASING,ENCRYPTION']);
  assert.deepEqual(by('client', 'smb.ciphers'), ['AES-128-GCM,AES-128-CCM']);
  assert.deepEqual(by('server', 'smb.dialect'), ['3.1.1']);
  assert.deepEqual(by('server', 'smb.server_guid'), ['02020202-0202-0202-0202-020202020202']);
  assert.deepEqual(by('server', 'smb.signing'), ['required']);
  assert.deepEqual([...new Set(by('client', 'os'))], ['Windows 7 / Server 2008 R2 SP1 (6.1.7601)']);
  assert.deepEqual(by('client', 'ntlmssp.version'), ['6.1.7601', '6.1.7601']);
  assert.deepEqual(by('server', 'os'), ['Windows 10 1809 / Server 2019 (10.0.17763)']);
  assert.deepEqual(by('server', 'ntlmssp.dns_computer'), ['fs01.simhosp.example']);
  assert.deepEqual(by('server', 'ntlmssp.nb_domain'), ['SIMHOSP']);
  assert.deepEqual(by('client', 'ntlmssp.user'), ['adm_helpdesk']);
  assert.deepEqual(by('client', 'ntlmssp.workstation'), ['WS042']);
  assert.deepEqual(by('client', 'smb.admin_share'), ['\\\\WS017\\ADMIN$']);
  // File traffic after the session is set up: the session stops within a bounded number of messages.
  const session = smb.openStream?.(ctx);
  assert.ok(session !== undefined);
  let verdict = StreamVerdict.More;
  let n = 0;
  for (const [d, b] of [...pieces.slice(0, 6), ...Array.from({ length: 40 }, (_, i): [0 | 1, Buffer] => [(i % 2) as 0 | 1, build.smb2Simple(8, 10 + i, sid, 1, i % 2 === 1)])]) {
    ctx.dir = d;
    verdict = session.data(b, ctx);
    n++;
    if (verdict === StreamVerdict.Done) break;
  }
  assert.equal(verdict, StreamVerdict.Done);
  assert.ok(n <= 6 + 16, `done after ${n} messages`);
});

/** An SMB2 header (MS-SMB2 §2.2.1) + body, NBSS-framed. */
function smb2Msg(command: number, response: boolean, body: Buffer, next = 0): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt16LE(command, 12);
  h.writeUInt32LE(response ? 1 : 0, 16);
  h.writeUInt32LE(next, 20);
  return Buffer.concat([h, body]);
}

function treeConnectBody(path: string): Buffer {
  const p = Buffer.from(path, 'utf16le');
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0);
  b.writeUInt16LE(64 + 8, 4);
  b.writeUInt16LE(p.length, 6);
  return Buffer.concat([b, p]);
}

test('a 1 MiB READ response (24-bit NBSS length) is skipped by length and framing holds; compounds are followed; encryption stops', () => {
  const read = smb2Msg(8, true, Buffer.alloc(0x100000 + 80, 0x61));
  // Compound: a CREATE (padded to 8) chained to a TREE_CONNECT.
  const first = smb2Msg(5, false, Buffer.alloc(64));
  first.writeUInt32LE(first.length, 20);
  const compound = Buffer.concat([first, smb2Msg(3, false, treeConnectBody('\\\\srv\\C$'))]);
  const ctx = new FakeContext();
  const session = smb.openStream?.(ctx);
  assert.ok(session !== undefined);
  ctx.dir = 1;
  const nbRead = build.nbss(read);
  // Feed the first segment, then let the "sensor" skip what the session says it may: only the
  // READ's header was needed.
  session.data(nbRead.subarray(0, 1460), ctx);
  assert.equal((session as unknown as { bufferedBytes: number }).bufferedBytes, 0);
  const skip = session.skippable?.(1) ?? 0;
  assert.equal(skip, nbRead.length - 1460, 'the rest of the READ is skippable');
  session.skipped?.(1, skip);
  ctx.dir = 0;
  session.data(build.nbss(compound), ctx);
  assert.deepEqual(ctx.values('smb.admin_share'), ['\\\\srv\\C$']);
  ctx.dir = 1;
  assert.equal(session.data(build.nbss(smb2Msg(0, true, Buffer.alloc(64))).subarray(0, 4), ctx), StreamVerdict.More);
  const transform = Buffer.alloc(52 + 16);
  transform.write('\xfdSMB', 0, 'latin1');
  const v = session.data(Buffer.concat([build.nbss(smb2Msg(0, true, Buffer.alloc(64))).subarray(4), build.nbss(transform)]), ctx);
  assert.equal(v, StreamVerdict.Done);
  assert.deepEqual(ctx.values('smb.encrypted'), ['true']);
});

test('SMB 3.1.1 negotiate contexts: NETNAME names the server, the server picks a cipher and compression', () => {
  const ctxs = (list: Array<[number, Buffer]>) => {
    const parts: Buffer[] = [];
    for (const [type, data] of list) {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(type, 0);
      h.writeUInt16LE(data.length, 2);
      const c = Buffer.concat([h, data]);
      parts.push(Buffer.concat([c, Buffer.alloc((8 - (c.length % 8)) % 8)]));
    }
    return Buffer.concat(parts);
  };
  const u16 = (...v: number[]) => Buffer.from(new Uint16Array(v).buffer);
  // Response: fixed 64-byte body, contexts at 128 (8-aligned).
  const body = Buffer.alloc(64);
  body.writeUInt16LE(65, 0);
  body.writeUInt16LE(1, 2);
  body.writeUInt16LE(0x0311, 4);
  body.writeUInt16LE(2, 6);
  body.writeUInt32LE(128, 60);
  const resp = smb2Msg(0, true, Buffer.concat([body, ctxs([[2, u16(1, 4)], [3, Buffer.concat([u16(1, 0), Buffer.alloc(4), u16(1)])]])]));
  // Request: 36-byte body + 1 dialect, contexts at 104.
  const req0 = Buffer.alloc(40);
  req0.writeUInt16LE(36, 0);
  req0.writeUInt16LE(1, 2);
  req0.writeUInt32LE(104, 28);
  req0.writeUInt16LE(2, 32);
  req0.writeUInt16LE(0x0311, 36);
  const req = smb2Msg(0, false, Buffer.concat([req0, ctxs([[5, Buffer.from('fileserver.example', 'utf16le')], [2, u16(2, 4, 2)]])]));
  const { ctx } = runStream(smb, [[0, build.nbss(req)], [1, build.nbss(resp)]]);
  assert.deepEqual(ctx.drafts.filter((d) => d.attribute === 'smb.netname').map((d) => [d.side, d.value]), [['server', 'fileserver.example']]);
  assert.deepEqual(ctx.values('smb.ciphers'), ['AES-256-GCM,AES-128-GCM']);
  assert.deepEqual(ctx.values('smb.cipher'), ['AES-256-GCM']);
  assert.deepEqual(ctx.values('smb.compression'), ['LZNT1']);
  assert.deepEqual(ctx.values('smb.signing'), ['enabled', 'enabled']);
});

/** An SMB1 message: header (MS-CIFS §2.2.3.1) then blocks of [wordCount words, bytes]. */
function smb1Msg(command: number, response: boolean, unicode: boolean, blocks: Array<[Buffer, Buffer]>): Buffer {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = command;
  h[9] = response ? 0x98 : 0x18;
  h.writeUInt16LE(unicode ? 0xc003 : 0x4003, 10);
  const parts: Buffer[] = [h];
  let len = 32;
  blocks.forEach(([words, bytes]) => {
    const bc = Buffer.alloc(2);
    bc.writeUInt16LE(bytes.length);
    const block = Buffer.concat([Buffer.from([words.length / 2]), words, bc, bytes]);
    len += block.length;
    parts.push(block);
  });
  // Fix up AndX offsets: each block's AndXOffset points at the next block's WordCount.
  const msg = Buffer.concat(parts);
  let at = 32;
  for (let i = 0; i < blocks.length - 1; i++) {
    const [words, bytes] = blocks[i] as [Buffer, Buffer];
    const next = at + 1 + words.length + 2 + bytes.length;
    msg.writeUInt16LE(next, at + 3);
    at = next;
  }
  return msg;
}

test('SMB1 of an XP-era client: LANMAN dialect pick, AndX session setup + tree connect, account, Native OS mapped; extended-security NTLMSSP', () => {
  const dialects = Buffer.from('\x02PC NETWORK PROGRAM 1.0\x00\x02LANMAN1.0\x00\x02NT LM 0.12\x00', 'latin1');
  const negResp = Buffer.alloc(34);
  negResp.writeUInt16LE(2, 0);
  negResp[2] = 0x0f; // user, encrypt, signing enabled + required
  negResp.writeUInt32LE(0x80000000, 19);
  const negBytes = Buffer.concat([Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), build.spnegoInit(undefined)]);
  // SESSION_SETUP_ANDX (wc 13, OEM) chained to TREE_CONNECT_ANDX (wc 4).
  const ss = Buffer.alloc(26);
  ss[0] = 0x75;
  ss.writeUInt16LE(24, 14); // OEM password length
  const ssBytes = Buffer.concat([Buffer.alloc(24, 0xee), Buffer.from('nurse1\0WARD3\0Windows 2002 Service Pack 3 2600\0Windows 2002 5.1\0', 'latin1')]);
  const tc = Buffer.alloc(8);
  tc[0] = 0xff;
  tc.writeUInt16LE(1, 6);
  const tcBytes = Buffer.from('\0\\\\PACS01\\C$\0A:\0', 'latin1');
  const ntlm = build.ntlmNegotiate('5.1.2600');
  const { ctx } = runStream(smb, [
    [0, build.nbss(smb1Msg(0x72, false, false, [[Buffer.alloc(0), dialects]]))],
    [1, build.nbss(smb1Msg(0x72, true, false, [[negResp, negBytes]]))],
    [0, build.nbss(smb1Msg(0x73, false, false, [[ss, ssBytes], [tc, tcBytes]]))],
    [0, build.smb1SessionSetupRequest(build.spnegoInit(ntlm), 'Windows 5.1', 'Windows 2000 LAN Manager')],
  ]);
  const by = (side: string, a: string) => ctx.drafts.filter((d) => d.side === side && d.attribute === a).map((d) => d.value);
  assert.deepEqual(by('client', 'smb.dialects'), ['PC NETWORK PROGRAM 1.0,LANMAN1.0,NT LM 0.12']);
  assert.deepEqual(by('server', 'smb.dialect'), ['NT LM 0.12']);
  assert.deepEqual(by('server', 'smb.signing'), ['required']);
  assert.deepEqual(by('server', 'smb.server_guid'), ['67452301-ab89-efcd-0123-456789abcdef']);
  assert.deepEqual(by('client', 'smb.account'), ['nurse1']);
  assert.deepEqual(by('client', 'smb.primary_domain'), ['WARD3']);
  assert.deepEqual(by('client', 'smb.native_os'), ['Windows 2002 Service Pack 3 2600', 'Windows 5.1']);
  assert.deepEqual(by('client', 'smb.admin_share'), ['\\\\PACS01\\C$']);
  assert.deepEqual(by('client', 'os'), ['Windows XP Service Pack 3 2600', 'Windows XP (5.1.2600)', 'Windows XP (5.1)']);
  assert.deepEqual(by('client', 'ntlmssp.version'), ['5.1.2600']);
  assert.ok(!ctx.drafts.some((d) => d.value.includes('\xee')), 'passwords are never read');
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
  assert.deepEqual(ctx.values('smb.dialect'), ['NT LM 0.12']);
  assert.ok(ctx.values('os').includes('Windows 7 Professional 7601 Service Pack 1'));
});

test('a DoublePulsar-implanted server answers the ping with MID + 0x10', () => {
  const words = Buffer.alloc(30);
  words[26] = 1;
  words.writeUInt16LE(0x0e, 28);
  const ping = smb1Msg(0x32, false, true, [[words, Buffer.alloc(13)]]);
  ping.writeUInt16LE(0x41, 30);
  const reply = smb1Msg(0x32, true, true, [[Buffer.alloc(0), Buffer.alloc(0)]]);
  reply.writeUInt32LE(0xc0000002, 5);
  reply.writeUInt16LE(0x51, 30);
  const { ctx } = runStream(smb, [[0, build.nbss(ping)], [1, build.nbss(reply)]]);
  assert.deepEqual(ctx.values('smb.exploit'), ['DoublePulsar ping (Trans2 SESSION_SETUP)']);
  assert.deepEqual(ctx.values('smb.doublepulsar'), ['installed']);
});

test('Windows names: NTLMSSP builds and SMB1 Native OS strings', () => {
  assert.equal(windowsName({ major: 6, minor: 1, build: 7601 }), 'Windows 7 / Server 2008 R2 SP1 (6.1.7601)');
  assert.equal(windowsName({ major: 6, minor: 3, build: 9600 }), 'Windows 8.1 / Server 2012 R2 (6.3.9600)');
  assert.equal(windowsName({ major: 10, minor: 0, build: 14393 }), 'Windows 10 1607 / Server 2016 (10.0.14393)');
  assert.equal(windowsName({ major: 10, minor: 0, build: 19045 }), 'Windows 10 22H2 (10.0.19045)');
  assert.equal(windowsName({ major: 10, minor: 0, build: 26100 }), 'Windows 11 24H2 / Server 2025 (10.0.26100)');
  assert.equal(windowsName({ major: 10, minor: 0, build: 22999 }), 'Windows 11 (10.0.22999)');
  assert.equal(windowsName({ major: 6, minor: 2, build: 7601 }), 'Windows 8 / Server 2012 (6.2.7601)', 'a build that contradicts major.minor is not trusted');
  assert.equal(smb1Os('Windows 5.1', ''), 'Windows XP (5.1)');
  assert.equal(smb1Os('Windows 4.0', 'Windows 4.0'), 'Windows 95/98/ME (4.0)');
  assert.equal(smb1Os('Windows Server 2003 3790 Service Pack 2', ''), 'Windows Server 2003 3790 Service Pack 2');
  assert.equal(smb1Os('Unix', 'Samba 3.6.25'), 'Unix (Samba 3.6.25)');
  assert.equal(smb1Os('', ''), undefined);
});

// ---- Robustness -----------------------------------------------------------------------------

test('NTLMSSP: hostile offsets and lengths are bounded', () => {
  const rng = new Rng('n');
  const seeds = [
    build.ntlmChallenge({ version: '6.3.9600', nbComputer: 'A', nbDomain: 'B', dnsComputer: 'c', dnsDomain: 'd' }, rng, 1),
    build.ntlmAuthenticate({ version: '10.0.19045', user: 'u', domain: 'd', workstation: 'w' }, { version: '6.3.9600', nbComputer: 'A', nbDomain: 'B', dnsComputer: 'c', dnsDomain: 'd' }, rng, 1),
    build.ntlmNegotiate('5.1.2600'),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 10 }), fc.nat(), (seed, edits, cut) => {
      const b = Buffer.from(seed);
      for (const [i, v] of edits) b[8 + (i % (b.length - 8))] = v;
      const m = parseNtlmssp(b.subarray(0, (cut % b.length) + 1));
      if (m !== undefined) for (const s of [m.user, m.domain, m.workstation, m.nbComputer, m.dnsComputer]) assert.ok(s === undefined || s.length <= 257);
    }),
    { numRuns: 1500 },
  );
  // Offsets past the end, lengths past the end, and a 0xffffffff offset.
  const auth = Buffer.from(seeds[1] as Buffer);
  auth.writeUInt32LE(0xffffffff, 40);
  auth.writeUInt16LE(0xffff, 28);
  const m = parseNtlmssp(auth);
  assert.equal(m?.user, undefined);
  assert.equal(m?.domain, undefined);
  assert.equal(m?.workstation, 'w');
});

test('probe: SMB framings only; random bytes are not claimed', () => {
  assert.equal(smb.probe(build.smb1NegotiateRequest(true), 0, false), true);
  assert.equal(smb.probe(build.nbss(smb2Msg(0, false, Buffer.alloc(40))), 0, false), true);
  const req = Buffer.concat([Buffer.from([0x81, 0, 0, 68, 32]), Buffer.from('EJEJEJEJEJEJEJEJEJEJEJEJEJEJCACA', 'latin1'), Buffer.from([0, 32]), Buffer.from('FDFDFDFDFDFDFDFDFDFDFDFDFDFDCAAA', 'latin1'), Buffer.from([0])]);
  assert.equal(smb.probe(req, 0, true), true);
  assert.equal(smb.probe(req, 0, false), false, 'a session request alone does not claim a non-NetBIOS port');
  assert.equal(smb.probe(Buffer.from('GET / HTTP/1.1\r\n'), 0, true), false);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (a) => {
      const b = Buffer.from(a);
      const claimed = smb.probe(b, 0, false);
      assert.ok(!claimed || (b[0] === 0 && b.toString('latin1', 5, 8) === 'SMB'));
    }),
    { numRuns: 500 },
  );
});

test('property: random and mutated SMB streams never throw and stay bounded', () => {
  const rng = new Rng('f');
  const seeds = [
    build.smb2NegotiateRequest(['2.0.2', '3.1.1'], Buffer.alloc(16), rng),
    build.smb2NegotiateResponse('3.1.1', Buffer.alloc(16, 2), 1, rng, false),
    build.smb2SessionSetupResponse(1, 1n, build.spnegoResp(1, build.ntlmChallenge({ version: '10.0.20348', nbComputer: 'A', nbDomain: 'B', dnsComputer: 'c', dnsDomain: 'd' }, rng, 1), true), false),
    build.smb1SessionSetupRequest(build.spnegoInit(build.ntlmNegotiate('5.1.2600')), 'Windows 5.1', 'Windows 2000 LAN Manager'),
    build.smb1NegotiateResponse(5, Buffer.alloc(16), 1),
    build.smb1PeekNamedPipe(1, 2),
    build.nbss(smb1Msg(0x73, false, true, [[Buffer.from('7500000000000000000000000000000000000000000000000000', 'hex'), Buffer.alloc(10)], [Buffer.from('ff00000000000100', 'hex'), Buffer.from('\0\\\\a\\C$\0', 'latin1')]])),
  ];
  const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([s, e]) => {
    const b = Buffer.from(s);
    for (const [i, v] of e) b[i % b.length] = v;
    return b;
  });
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), mutated), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (msgs, sizes) => {
      const pieces: Array<[0 | 1, Buffer]> = [];
      msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
      const { session } = runStream(smb, pieces);
      assert.ok(((session as unknown as { bufferedBytes: number }).bufferedBytes ?? 0) <= 2 * 16 * 1024 + 64);
      smb.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
    }),
    { numRuns: 500 },
  );
});
