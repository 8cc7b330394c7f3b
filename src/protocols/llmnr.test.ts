import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { llmnr } from './llmnr.ts';
import { hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { message, pointer, question, rr } from '../../test/helpers/dns-build.ts';
import { udpFrame } from '../packet/build.ts';
import { pcapHeader, pcapRecord } from '../capture/writer.ts';

const query = (name: string, type = 1) => message({ id: 0x4242, flags: 0x0000, questions: [question(name, type)] });
const answer = (name: string, addr: Buffer) => message({ id: 0x4242, flags: 0x8000, questions: [question(name, addr.length === 4 ? 1 : 28)], answers: [rr(pointer(12), addr.length === 4 ? 1 : 28, addr, { ttl: 30 })] });

test('query → llmnr.query about the querier; answer → llmnr.hostname about the responder', () => {
  const ctx = new FakeContext();
  ctx.clientIp = '10.1.2.3';
  ctx.serverIp = '224.0.0.252';
  llmnr.datagram?.(query('ct-ws-03'), ctx);
  const r = new FakeContext();
  r.clientIp = '10.1.2.40'; // the unicast answer is a flow of its own, started by the responder
  r.srcMac = '00:1b:21:aa:bb:cc';
  llmnr.datagram?.(answer('ct-ws-03', Buffer.from([10, 1, 2, 40])), r);
  assert.deepEqual(ctx.drafts.map((d) => [d.attribute, d.value, d.ip]), [['llmnr.query', 'ct-ws-03', '10.1.2.3']]);
  assert.deepEqual(r.drafts.map((d) => [d.attribute, d.value, d.ip, d.mac, d.evidence]), [['llmnr.hostname', 'ct-ws-03', '10.1.2.40', '00:1b:21:aa:bb:cc', 'A ct-ws-03 10.1.2.40']]);
});

test('errors, conflicts and other opcodes claim nothing', () => {
  const ctx = new FakeContext();
  const refused = message({ flags: 0x8003, questions: [question('x', 1)] });
  llmnr.datagram?.(refused, ctx);
  llmnr.datagram?.(message({ flags: 0x8000, questions: [question('x', 1)] }), ctx); // no answer records
  llmnr.datagram?.(message({ flags: 0x2800, questions: [question('x', 1)] }), ctx); // opcode 5
  assert.deepEqual(ctx.drafts, []);
});

test('tshark reads the same names from a written capture (no LLMNR capture in the corpus)', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-llmnr-'));
  try {
    const o = { linkType: 1 };
    const frames = [
      udpFrame({ src: '02:00:00:00:00:03', dst: '01:00:5e:00:00:fc' }, { src: '10.1.2.3', dst: '224.0.0.252', ttl: 1 }, { srcPort: 51000, dstPort: 5355 }, query('ct-ws-03')),
      udpFrame({ src: '02:00:00:00:00:40', dst: '02:00:00:00:00:03' }, { src: '10.1.2.40', dst: '10.1.2.3' }, { srcPort: 5355, dstPort: 51000 }, answer('ct-ws-03', Buffer.from([10, 1, 2, 40]))),
      udpFrame({ src: '02:00:00:00:00:03', dst: '01:00:5e:00:00:fc' }, { src: '10.1.2.3', dst: '224.0.0.252', ttl: 1 }, { srcPort: 51001, dstPort: 5355 }, query('wpad')),
    ];
    const path = join(dir, 'llmnr.pcap');
    writeFileSync(path, Buffer.concat([pcapHeader(o), ...frames.map((f, i) => pcapRecord(o, 1_700_000_000 + i, 0, f))]));
    const { observations } = await observeCapture(path, { dissectors: [llmnr], allObservations: true });
    const asked = tsharkFields(path, ['ip.src', 'dns.qry.name'], { filter: 'llmnr && dns.flags.response == 0' });
    assert.deepEqual(observations.filter((x) => x.attribute === 'llmnr.query').map((x) => [x.ip, x.value]), asked);
    const answered = tsharkFields(path, ['ip.src', 'dns.resp.name'], { filter: 'llmnr && dns.flags.response == 1' });
    assert.deepEqual(observations.filter((x) => x.attribute === 'llmnr.hostname').map((x) => [x.ip, x.value]), answered);
    assert.deepEqual(values(observations, 'llmnr.hostname'), ['ct-ws-03']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: random and mutated LLMNR packets never throw', () => {
  const seeds = [query('host-1'), answer('host-1', Buffer.from('fe800000000000000000000000000001', 'hex'))];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), (s, edits) => {
      const b = Buffer.from(s);
      for (const [i, v] of edits) b[i % b.length] = v;
      llmnr.probe(b, 0, true);
      llmnr.datagram?.(b, ctx);
    }),
    { numRuns: 500 },
  );
});
