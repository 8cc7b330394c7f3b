import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkType, newCaptureRecord } from '../capture/record.ts';
import { tcpFrame, udpFrame } from '../packet/build.ts';
import { PacketDecoder } from '../packet/decode.ts';
import { Packet } from '../packet/packet.ts';
import type { Flow, FlowEnd } from './flow.ts';
import { FlowTable } from './table.ts';

const E = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const R = { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' };

function decoded(frame: Buffer, time: number, n = 1): Packet {
  const rec = newCaptureRecord();
  Object.assign(rec, { data: frame, linkType: LinkType.ETHERNET, frame: n, tsSec: Math.floor(time), tsNsec: Math.round((time % 1) * 1e9), origLen: frame.length });
  const p = new Packet();
  assert.equal(new PacketDecoder().decode(rec, p), undefined);
  return p;
}

function table(max = 1000) {
  const ended: Array<[Flow, FlowEnd]> = [];
  const t = new FlowTable((f, why) => ended.push([f, why]), { closed: 10, short: 60, established: 600, active: 1800 }, max);
  return { t, ended };
}

const syn = (t: number) => decoded(tcpFrame(E, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 40000, dstPort: 104, seq: 1, flags: 0x02 }), t);
const synAck = (t: number) => decoded(tcpFrame(R, { src: '10.0.0.2', dst: '10.0.0.1' }, { srcPort: 104, dstPort: 40000, seq: 9, ack: 2, flags: 0x12 }), t);
const ack = (t: number, flags = 0x10, payload = '') =>
  decoded(tcpFrame(E, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 40000, dstPort: 104, seq: 2, ack: 10, flags }, Buffer.from(payload)), t);
const finBack = (t: number) => decoded(tcpFrame(R, { src: '10.0.0.2', dst: '10.0.0.1' }, { srcPort: 104, dstPort: 40000, seq: 10, ack: 2, flags: 0x11 }), t);

test('both directions land in one flow, oriented client → server, with counters each way and TCP state', () => {
  const { t, ended } = table();
  const f = t.packet(syn(1));
  assert.equal(t.dir, 0);
  assert.equal(t.packet(synAck(1.1)), f);
  assert.equal(t.dir, 1);
  t.packet(ack(1.2, 0x18, 'abc'));
  assert.equal(f.tcpState, 'established');
  assert.deepEqual([f.clientIp, f.clientPort, f.serverIp, f.serverPort], ['10.0.0.1', 40000, '10.0.0.2', 104]);
  assert.deepEqual([f.packets0, f.packets1, f.payload0], [2, 1, 3]);
  t.packet(ack(2, 0x11));
  t.packet(finBack(2.1));
  assert.equal(f.tcpState, 'closed');
  t.expire(13);
  assert.deepEqual(ended.map(([fl, why]) => [fl.id, why]), [[f.id, 'closed']]);
  assert.equal(t.size, 0);
});

test('a capture that starts with the SYN+ACK still makes the SYN sender the client', () => {
  const { t } = table();
  const f = t.packet(synAck(1));
  assert.equal(t.dir, 1);
  assert.equal(f.clientIp, '10.0.0.1');
  assert.equal(f.serverPort, 104);
});

test('idle timeouts by class: UDP after 60 s, established TCP after 600 s', () => {
  const { t, ended } = table();
  t.packet(decoded(udpFrame(E, { src: '10.0.0.1', dst: '10.0.0.9' }, { srcPort: 5000, dstPort: 53 }, Buffer.from('q')), 0));
  t.packet(syn(0));
  t.packet(synAck(0));
  t.packet(ack(0));
  t.expire(61);
  assert.deepEqual(ended.map(([f, why]) => [f.proto, why]), [[17, 'idle']]);
  t.expire(500);
  assert.equal(ended.length, 1);
  t.expire(601);
  assert.deepEqual(ended.map(([f, why]) => [f.proto, why]), [
    [17, 'idle'],
    [6, 'idle'],
  ]);
});

test('active timeout writes an interim record and restarts the counters', () => {
  const { t, ended } = table();
  const f = t.packet(syn(0));
  t.packet(synAck(0));
  for (let s = 1; s <= 2000; s += 100) t.packet(ack(s));
  assert.ok(ended.some(([fl, why]) => fl === f && why === 'active'));
  assert.ok(f.packets0 < 20);
});

test('the table never holds more than its cap: the least recently seen flow is evicted', () => {
  const { t, ended } = table(100);
  for (let i = 0; i < 1000; i++) {
    t.packet(decoded(udpFrame(E, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1024 + i, dstPort: 9999 }, Buffer.from('x')), i / 1000));
  }
  assert.equal(t.size, 100);
  assert.equal(t.stats.evicted, 900);
  assert.equal(ended.filter(([, why]) => why === 'evicted').length, 900);
  t.flush();
  assert.equal(t.size, 0);
});
