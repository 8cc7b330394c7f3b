import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { classifyNbName, decodeNbName, netbios } from './netbios.ts';
import { corpus, hasTshark, observeCapture, tsharkFields } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { message, nbEncode, pointer, question, rr } from '../../test/helpers/dns-build.ts';

/** NB rdata (RFC 1002 §4.2.1.3): NB_FLAGS then the address. */
const nb = (group: boolean, ip: number[]) => Buffer.from([group ? 0x80 : 0x00, 0x00, ...ip]);

/** Registration request (RFC 1002 §4.2.2): opcode 5, RD + B, question and NB additional record. */
function registration(name: string, suffix: number, group: boolean, ip: number[], opcode = 5): Buffer {
  return message({ flags: (opcode << 11) | 0x0110, questions: [question(nbEncode(name, suffix), 0x20)], additional: [rr(pointer(12), 0x20, nb(group, ip), { ttl: 300000 })] });
}

/** Node status response (§4.2.18) with the given name table and unit ID. */
function nodeStatus(names: Array<[string, number, boolean]>, mac: number[]): Buffer {
  const table = names.map(([n, s, g]) => {
    const e = Buffer.alloc(18, 0x20);
    e.write(n, 'latin1');
    e[15] = s;
    e.writeUInt16BE((g ? 0x8000 : 0) | 0x0400, 16);
    return e;
  });
  const stats = Buffer.alloc(46);
  Buffer.from(mac).copy(stats, 0);
  const rdata = Buffer.concat([Buffer.from([names.length]), ...table, stats]);
  return message({ flags: 0x8400, answers: [rr(nbEncode('*', 0, 0), 0x21, rdata, { ttl: 0 })] });
}

test('first-level name decoding (RFC 1001 §14.1): padding, suffix, scope, wildcard', () => {
  assert.equal(nbEncode('FRED', 0x20), 'EGFCEFEECACACACACACACACACACACACA');
  assert.deepEqual(decodeNbName('EGFCEFEECACACACACACACACACACACACA'), { name: 'FRED', suffix: 0x20 });
  assert.deepEqual(decodeNbName(`${nbEncode('CT-WS-03', 0)}.hospital.local`), { name: 'CT-WS-03', suffix: 0 });
  assert.deepEqual(decodeNbName('CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), { name: '*', suffix: 0 });
  assert.equal(decodeNbName('EGFCEFEECACACACACACACACACACACAC'), undefined); // 31 letters
  assert.equal(decodeNbName('EGFCEFEECACACACACACACACACACACACQ'), undefined); // Q is not a nibble
  assert.equal(decodeNbName(`${'A'.repeat(32)}X`), undefined);
});

test('which names are a host name, which a workgroup, which nothing', () => {
  const c = (name: string, suffix: number, group: boolean) => classifyNbName({ name, suffix }, group);
  assert.deepEqual(c('CT-WS-03', 0x00, false), { attribute: 'netbios.name', value: 'CT-WS-03<00>' });
  assert.deepEqual(c('CT-WS-03', 0x20, false), { attribute: 'netbios.name', value: 'CT-WS-03<20>' });
  assert.deepEqual(c('RADIOLOGY', 0x00, true), { attribute: 'netbios.domain', value: 'RADIOLOGY' });
  assert.deepEqual(c('RADIOLOGY', 0x1e, true), { attribute: 'netbios.domain', value: 'RADIOLOGY' });
  assert.deepEqual(c('HOSP', 0x1c, true), { attribute: 'netbios.domain', value: 'HOSP' });
  assert.deepEqual(c('HOSP', 0x1b, false), { attribute: 'netbios.domain', value: 'HOSP' });
  assert.equal(c('__MSBROWSE__', 0x01, true), undefined);
  assert.equal(c('JANE DOE', 0x03, false), undefined); // messenger name: the logged-on user
  assert.equal(c('INet~Services', 0x1c, true), undefined);
});

test('registration, refresh and release: the sender claims its names', () => {
  const ctx = new FakeContext();
  ctx.dir = 0;
  ctx.srcMac = '00:1c:c4:10:79:0f';
  netbios.datagram?.(registration('CT-WS-03', 0x00, false, [10, 0, 0, 1]), ctx);
  netbios.datagram?.(registration('RADIOLOGY', 0x00, true, [10, 0, 0, 1]), ctx);
  netbios.datagram?.(registration('CT-WS-03', 0x20, false, [10, 0, 0, 1], 8), ctx);
  netbios.datagram?.(registration('OLDNAME', 0x00, false, [10, 0, 0, 1], 6), ctx);
  netbios.datagram?.(registration('x', 0x00, false, [10, 0, 0, 1], 7), ctx); // WACK: nothing
  assert.deepEqual(
    ctx.drafts.map((d) => [d.attribute, d.value, d.ip, d.mac, d.confidence]),
    [
      ['netbios.name', 'CT-WS-03<00>', '10.0.0.1', '00:1c:c4:10:79:0f', 0.85],
      ['netbios.domain', 'RADIOLOGY', '10.0.0.1', '00:1c:c4:10:79:0f', 0.85],
      ['netbios.name', 'CT-WS-03<20>', '10.0.0.1', '00:1c:c4:10:79:0f', 0.85],
      ['netbios.name', 'OLDNAME<00>', '10.0.0.1', '00:1c:c4:10:79:0f', 0.7],
    ],
  );
  assert.equal(ctx.drafts[0]?.evidence, 'registration CT-WS-03<00>');
});

test('node status: the whole name table and the MAC, about the responder; Samba\'s zero MAC is dropped', () => {
  const ctx = new FakeContext();
  ctx.dir = 1;
  netbios.datagram?.(nodeStatus([['CT-WS-03', 0x00, false], ['RADIOLOGY', 0x00, true], ['CT-WS-03', 0x20, false], ['RADIOLOGY', 0x1e, true], ['RADIOLOGY', 0x1d, false], ['\x01\x02__MSBROWSE__\x02', 0x01, true]], [0x00, 0x1c, 0xc4, 0x10, 0x79, 0x0f]), ctx);
  assert.deepEqual(
    ctx.drafts.map((d) => [d.side, d.attribute, d.value, d.ip]),
    [
      ['server', 'netbios.name', 'CT-WS-03<00>', '10.0.0.2'],
      ['server', 'netbios.domain', 'RADIOLOGY', '10.0.0.2'],
      ['server', 'netbios.name', 'CT-WS-03<20>', '10.0.0.2'],
      ['server', 'netbios.domain', 'RADIOLOGY', '10.0.0.2'],
      ['server', 'netbios.domain', 'RADIOLOGY', '10.0.0.2'],
      ['server', 'netbios.mac', '00:1c:c4:10:79:0f', '10.0.0.2'],
    ],
  );
  const samba = new FakeContext();
  netbios.datagram?.(nodeStatus([['NAS', 0x20, false]], [0, 0, 0, 0, 0, 0]), samba);
  assert.deepEqual(samba.values('netbios.mac'), []);
  // A table that claims more entries than it holds: names read as far as they go, no MAC guessed.
  const cut = nodeStatus([['A', 0, false], ['B', 0, false]], [1, 2, 3, 4, 5, 6]);
  cut[12 + 34 + 10] = 5; // NUM_NAMES (after the 34-byte name and the 10-byte RR header): 5, with 2 entries
  const s = new FakeContext();
  netbios.datagram?.(cut, s);
  assert.deepEqual(s.values('netbios.name'), ['A<00>', 'B<00>']);
  assert.deepEqual(s.values('netbios.mac'), []);
});

test('name query and its answers: the asker, the owner, and a WINS server answering for another host', () => {
  const ctx = new FakeContext();
  netbios.datagram?.(message({ flags: 0x0110, questions: [question(nbEncode('PACS01', 0x20), 0x20)] }), ctx);
  netbios.datagram?.(message({ flags: 0x0010, questions: [question(nbEncode('*', 0, 0), 0x21)] }), ctx); // node status request
  assert.deepEqual(ctx.drafts.map((d) => [d.attribute, d.value, d.ip]), [['netbios.query', 'PACS01<20>', '10.0.0.1']]);
  const own = new FakeContext();
  own.dir = 1;
  netbios.datagram?.(message({ flags: 0x8500, answers: [rr(nbEncode('PACS01', 0x20), 0x20, nb(false, [10, 0, 0, 2]))] }), own);
  assert.deepEqual(own.drafts.map((d) => [d.attribute, d.value, d.ip, d.mac, d.confidence]), [['netbios.name', 'PACS01<20>', '10.0.0.2', '02:00:00:00:00:01', 0.85]]);
  const wins = new FakeContext();
  wins.dir = 1;
  netbios.datagram?.(message({ flags: 0x8580, answers: [rr(nbEncode('PACS01', 0x20), 0x20, Buffer.concat([nb(false, [10, 9, 9, 9]), nb(false, [0, 0, 0, 0])]))] }), wins);
  assert.deepEqual(wins.drafts.map((d) => [d.attribute, d.value, d.ip, d.mac, d.confidence]), [['netbios.name', 'PACS01<20>', '10.9.9.9', undefined, 0.6]]);
  const negative = new FakeContext();
  netbios.datagram?.(message({ flags: 0x8583, answers: [rr(nbEncode('PACS01', 0x20), 0x20, nb(false, [10, 9, 9, 9]))] }), negative);
  assert.deepEqual(negative.drafts, []);
});

test('NetBIOS on real captures: node status, positive answers, queries and Windows 98 registrations, as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/netbios.pcap');
  const { observations } = await observeCapture(path, { dissectors: [netbios], allObservations: true });
  // Node status: the name table is only in tshark's detail view ("Name: GUNNAR<00> (Workstation/Redirector)").
  const statusRows = tsharkFields(path, ['frame.number', 'ip.src', 'nbns.unit_id'], { filter: 'nbns.unit_id' });
  assert.equal(statusRows.length, 4);
  const details = execFileSync('tshark', ['-n', '-r', path, '-V', '-Y', 'nbns.unit_id'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/^(?=Frame \d+:)/m);
  for (const [frame, ip, mac] of statusRows) {
    const detail = details.find((d) => d.startsWith(`Frame ${frame}:`)) ?? '';
    const table = [...detail.matchAll(/^\s+Name: (\S+)<([0-9a-f]{2})> \(.*\)\n\s+Name flags: 0x([0-9a-f]{4})/gm)].map((m) => classifyNbName({ name: m[1] as string, suffix: parseInt(m[2] as string, 16) }, (parseInt(m[3] as string, 16) & 0x8000) !== 0));
    assert.equal(table.length, 4);
    const ours = observations.filter((o) => o.frame === Number(frame)).map((o) => ({ attribute: o.attribute, value: o.value, ip: o.ip }));
    assert.deepEqual(ours, [...table.map((t) => ({ ...t, ip })), { attribute: 'netbios.mac', value: mac, ip }], `frame ${frame}`);
  }
  assert.deepEqual([...new Set(observations.filter((o) => o.attribute === 'netbios.name' && o.ip === '10.0.4.24').map((o) => o.value))], ['GUNNAR<00>', 'GUNNAR<20>']);
  // Positive name query responses: the name and the address tshark shows.
  const answers = tsharkFields(path, ['frame.number', 'nbns.name', 'nbns.addr'], { filter: 'nbns.flags.response == 1 && nbns.addr' });
  assert.ok(answers.length >= 2);
  for (const [frame, name, addr] of answers) {
    const ours = observations.filter((o) => o.frame === Number(frame)).map((o) => [o.value, o.ip]);
    assert.deepEqual(ours, [[(name ?? '').replace(/ \(.*$/, '').replace(/<(..)>$/, (_, x: string) => `<${x.toLowerCase()}>`), addr]], `frame ${frame}`);
  }
  // Queries: the names asked, per frame.
  const queries = tsharkFields(path, ['frame.number', 'nbns.name'], { filter: 'nbns.flags.response == 0 && nbns.flags.opcode == 0' });
  for (const [frame, name] of queries) {
    const expected = (name ?? '').replace(/ \(.*$/, '');
    const ours = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'netbios.query').map((o) => o.value);
    assert.deepEqual(ours, expected.startsWith('*') ? [] : [expected], `frame ${frame}`);
  }

  const w98 = corpus('pcaps/identity/ndpi/dos_win98_smb_netbeui.pcap');
  const reg = await observeCapture(w98, { dissectors: [netbios], allObservations: true });
  const rows = tsharkFields(w98, ['frame.number', 'nbns.name', 'nbns.nb_flags.group'], { filter: 'nbns.flags.opcode == 5 && nbns.flags.response == 0', firstOnly: true });
  assert.ok(rows.length > 30);
  for (const [frame, name, group] of rows) {
    const m = /^(.*)<([0-9a-f]{2})>/.exec(name ?? '');
    assert.ok(m !== null);
    const expected = classifyNbName({ name: (m[1] as string).replace(/<0[12]>/g, ''), suffix: parseInt(m[2] as string, 16) }, group === '1');
    const ours = reg.observations.filter((o) => o.frame === Number(frame)).map((o) => ({ attribute: o.attribute, value: o.value }));
    assert.deepEqual(ours, expected === undefined ? [] : [expected], `frame ${frame} ${name}`);
  }
  const summary = await observeCapture(w98, { dissectors: [netbios] });
  assert.deepEqual(summary.observations.map((o) => [o.attribute, o.value]).sort(), [
    ['netbios.domain', 'WORKGROUP'],
    ['netbios.name', 'MDJR98<00>'],
    ['netbios.name', 'MDJR98<20>'],
  ]);
});

test('property: random and mutated NBNS packets never throw', () => {
  const seeds = [registration('CT-WS-03', 0, false, [10, 0, 0, 1]), nodeStatus([['A', 0, false], ['G', 0x1e, true]], [1, 2, 3, 4, 5, 6]), message({ flags: 0x8500, answers: [rr(nbEncode('P', 0x20), 0x20, nb(false, [10, 0, 0, 2]))] })];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), (s, edits) => {
      const b = Buffer.from(s);
      for (const [i, v] of edits) b[i % b.length] = v;
      netbios.probe(b, 0, true);
      netbios.datagram?.(b, ctx);
    }),
    { numRuns: 500 },
  );
});
