import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkType } from '../src/capture/record.ts';
import { pcapHeader, pcapRecord } from '../src/capture/writer.ts';
import { tcpFrame, udpFrame } from '../src/packet/build.ts';
import { StreamVerdict, type Dissector, type StreamSession } from '../src/protocols/dissector.ts';
import type { Observation } from '../src/protocols/observation.ts';
import type { FlowRecord } from '../src/flow/flow.ts';
import { Sensor } from '../src/sensor/sensor.ts';

const C = { src: '02:00:00:00:00:0c', dst: '02:00:00:00:00:05' };
const S = { src: '02:00:00:00:00:05', dst: '02:00:00:00:00:0c' };
const cip = { src: '10.1.1.10', dst: '10.1.1.20' };
const sip = { src: '10.1.1.20', dst: '10.1.1.10' };

/** A toy line protocol: "HELLO <name>\n" from the client; the server answers "OK <version>\n". */
const hello: Dissector = {
  name: 'hello',
  transport: 'tcp',
  ports: [7777],
  probe: (p, dir) => (dir === 0 ? p.subarray(0, 6).toString() === 'HELLO ' : p.subarray(0, 3).toString() === 'OK '),
  openStream(): StreamSession {
    const text = ['', ''];
    return {
      data(chunk, ctx) {
        text[ctx.dir] += chunk.toString('latin1');
        let nl: number;
        while ((nl = (text[ctx.dir] as string).indexOf('\n')) >= 0) {
          const line = (text[ctx.dir] as string).slice(0, nl);
          text[ctx.dir] = (text[ctx.dir] as string).slice(nl + 1);
          if (ctx.dir === 0 && line.startsWith('HELLO ')) ctx.emit({ side: 'client', attribute: 'hello.name', value: line.slice(6) });
          if (ctx.dir === 1 && line.startsWith('OK ')) {
            ctx.emit({ side: 'server', attribute: 'hello.version', value: line.slice(3) });
            return StreamVerdict.Done;
          }
        }
        return StreamVerdict.More;
      },
      gap: () => StreamVerdict.More,
    };
  },
};

const boom: Dissector = {
  name: 'boom',
  transport: 'udp',
  ports: [9999],
  probe: (_p, _dir, portMatch) => portMatch,
  datagram() {
    throw new Error('a dissector bug');
  },
};

const ping: Dissector = {
  name: 'ping',
  transport: 'udp',
  ports: [],
  probe: (p) => p.subarray(0, 4).toString() === 'PING',
  datagram(p, ctx) {
    ctx.emit({ side: 'client', attribute: 'ping.text', value: p.toString().slice(5) });
  },
};

function capture(frames: Array<[number, Buffer]>): Buffer {
  const o = { linkType: LinkType.ETHERNET };
  return Buffer.concat([pcapHeader(o), ...frames.map(([t, f]) => pcapRecord(o, Math.floor(t), Math.round((t % 1) * 1e9), f))]);
}

function run(bytes: Buffer, dissectors: Dissector[], chunk = bytes.length) {
  const obs: Observation[] = [];
  const flows: FlowRecord[] = [];
  const sensor = new Sensor({ dissectors, onObservation: (o) => obs.push(o), onFlow: (f) => flows.push(f) });
  for (let i = 0; i < bytes.length; i += chunk) sensor.push(bytes.subarray(i, i + chunk));
  const report = sensor.end();
  return { obs, flows, report };
}

test('a TCP protocol on a non-standard port is found by signature; out-of-order segments are reassembled', () => {
  const port = 40404; // not the dissector's port
  const c = (seq: number, flags: number, data = '') => tcpFrame(C, cip, { srcPort: 50000, dstPort: port, seq, ack: 1, flags }, Buffer.from(data));
  const s = (seq: number, flags: number, data = '') => tcpFrame(S, sip, { srcPort: port, dstPort: 50000, seq, ack: 1, flags }, Buffer.from(data));
  const bytes = capture([
    [1, c(100, 0x02)],
    [1.1, s(500, 0x12)],
    [1.2, c(101, 0x10)],
    [1.3, c(101, 0x18, 'HELLO ct-')],
    [1.5, c(117, 0x18, '\n')], // arrives before the middle part
    [1.4, c(110, 0x18, 'scanner')], // fills the hole: "ct-scanner" (timestamps out of order too)
    [1.6, s(501, 0x18, 'OK v')],
    [1.7, s(505, 0x18, '2.1\nOK ignored\n')],
    [1.8, c(118, 0x11)],
    [1.9, s(520, 0x11)],
  ]);
  for (const chunk of [bytes.length, 7]) {
    const { obs, flows, report } = run(bytes, [hello], chunk);
    assert.deepEqual(
      obs.map((o) => [o.attribute, o.value, o.ip, o.mac]),
      [
        ['hello.name', 'ct-scanner', '10.1.1.10', '02:00:00:00:00:0c'],
        ['hello.version', 'v2.1', '10.1.1.20', '02:00:00:00:00:05'],
      ],
    );
    assert.equal(report.reassembly.outOfOrder, 1);
    assert.equal(report.dissectors.hello?.flows, 1);
    assert.equal(flows.length, 1);
    assert.equal(flows[0]?.app, 'hello');
    assert.equal(flows[0]?.tcpState, 'closed');
    assert.deepEqual([flows[0]?.clientPackets, flows[0]?.serverPackets], [6, 4]);
  }
});

test('UDP: signature dispatch, de-duplication of repeats, and a throwing dissector is contained and counted', () => {
  const frames: Array<[number, Buffer]> = [];
  for (let i = 0; i < 5; i++) frames.push([10 + i, udpFrame(C, cip, { srcPort: 3333, dstPort: 4444 }, Buffer.from('PING pump-7'))]);
  frames.push([20, udpFrame(C, cip, { srcPort: 3334, dstPort: 9999 }, Buffer.from('anything'))]);
  frames.push([21, udpFrame(C, cip, { srcPort: 3334, dstPort: 9999 }, Buffer.from('anything'))]);
  const { obs, report } = run(capture(frames), [boom, ping]);
  assert.deepEqual(obs.map((o) => o.value), ['pump-7']);
  assert.equal(report.observations.duplicates, 4);
  assert.equal(report.dissectors.boom?.errors, 1);
  assert.equal(report.frames, 7);
});
