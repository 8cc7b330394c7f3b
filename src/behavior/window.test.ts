import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipKeyFromString, newPacketInput, type PacketInput } from './incstats.ts';
import { SeededRng } from './kitnet.ts';
import { WindowModel, type WindowAlert } from './window.ts';

const T0 = 1_800_000_000;
const SERVER = ipKeyFromString('10.20.1.1');
const pump = (i: number): number => ipKeyFromString(`10.20.1.${10 + i}`);

function pkt(time: number, src: number, dst: number, sp: number, dp: number, len: number, flags = 0x18): PacketInput {
  const p = newPacketInput();
  Object.assign(p, { time, srcIp: src, dstIp: dst, srcPort: sp, dstPort: dp, length: len, proto: 6, flags, internal: 3 });
  return p;
}

/** Eight pumps each send an HL7 message to their server every 5–15 s and get an ACK (seeded jitter). */
function* ward(from: number, seconds: number, seed: string): Generator<PacketInput> {
  const rng = new SeededRng(seed);
  const next = Array.from({ length: 8 }, () => from + rng.next() * 10);
  for (;;) {
    let i = 0;
    for (let j = 1; j < next.length; j++) if (next[j]! < next[i]!) i = j;
    const t = next[i]!;
    if (t >= from + seconds) return;
    yield pkt(t, pump(i), SERVER, 40000 + i, 2575, 200 + Math.floor(rng.next() * 100));
    yield pkt(t + 0.01, SERVER, pump(i), 2575, 40000 + i, 80 + Math.floor(rng.next() * 20));
    next[i] = t + 5 + rng.next() * 10;
  }
}

function learnt(opts: ConstructorParameters<typeof WindowModel>[0] = {}): { m: WindowModel; alerts: WindowAlert[] } {
  const m = new WindowModel({ learnSeconds: 6 * 3600, ...opts });
  const alerts: WindowAlert[] = [];
  m.onAlert = (a) => alerts.push(a);
  for (const p of ward(T0, 6 * 3600, 'learn')) m.packet(p);
  return { m, alerts };
}

test('learns a ward by windows, stays quiet on more of it, and alerts in words when a pump scans', () => {
  const { m, alerts } = learnt();
  for (const p of ward(T0 + 6 * 3600, 3 * 3600, 'normal')) m.packet(p);
  assert.equal(m.phase, 'executing');
  assert.ok(m.windowsScored > 1000, `${m.windowsScored} windows scored`);
  assert.equal(alerts.length, 0, alerts.map((a) => a.text).join('\n'));
  // Pump 3 scans 60 addresses on 10 ports each, with resets back from most of them.
  const t = T0 + 9 * 3600 + 30;
  const scan: PacketInput[] = [];
  for (let h = 0; h < 60; h++) {
    for (let port = 0; port < 10; port++) {
      const at = t + h * 0.05 + port * 0.004;
      const victim = ipKeyFromString(`10.20.2.${h + 1}`);
      scan.push(pkt(at, pump(3), victim, 50000 + port, 20 + port * 100, 60, 0x02));
      scan.push(pkt(at + 0.001, victim, pump(3), 20 + port * 100, 50000 + port, 54, 0x14));
    }
  }
  for (const p of ward(T0 + 9 * 3600, 600, 'after')) {
    while (scan.length > 0 && scan[0]!.time <= p.time) m.packet(scan.shift()!);
    m.packet(p);
  }
  m.flush();
  assert.equal(alerts.length, 1, alerts.map((a) => a.text).join('\n'));
  const a = alerts[0]!;
  assert.equal(a.host, '10.20.1.13');
  assert.equal(a.reason, 'new');
  assert.ok(a.time - t <= 60 && a.time > t, 'alerted at the end of the scan window');
  assert.match(a.text, /^10\.20\.1\.13 behaved unlike its learning period/);
  assert.match(a.text, /never seen for it|TCP connections|refused/);
  assert.ok(a.features.length > 0 && a.features.every((f) => f.value >= 0 && f.contribution > 0));
});

test('a host over its memory quota is still counted, and the tables never pass their caps', () => {
  const m = new WindowModel({ learnSeconds: 60, limits: { hosts: 64, peers: 100, services: 150, peersPerHost: 40, servicesPerHost: 60 } });
  const src = ipKeyFromString('10.0.0.5');
  for (let i = 0; i < 5000; i++) m.packet(pkt(T0 + i * 0.1, src, ipKeyFromString(`10.1.${i >> 8}.${i & 255}`), 40000, 80, 60, 0x02));
  for (let i = 0; i < 500; i++) m.packet(pkt(T0 + 500 + i, ipKeyFromString(`10.2.${i >> 8}.${i & 255}`), src, 40000, 80, 60, 0x02));
  assert.ok(m.hosts.size <= 64 && m.peers.size <= 100 && m.services.size <= 150);
  assert.ok(m.hosts.allocated <= 64 && m.peers.allocated <= 100 && m.services.allocated <= 150);
  assert.ok(m.bytes <= WindowModel.maxBytes(m.limits));
});

test('a snapshot through JSON resumes with identical scores and alerts', () => {
  const { m } = learnt();
  for (const p of ward(T0 + 6 * 3600, 1800, 'before')) m.packet(p);
  const text = JSON.stringify(m.toJSON());
  const back = WindowModel.fromJSON(JSON.parse(text) as ReturnType<WindowModel['toJSON']>);
  assert.equal(back.phase, 'executing');
  assert.equal(back.threshold(), m.threshold());
  const a: string[] = [];
  const b: string[] = [];
  m.onWindow = (s) => a.push(`${s.hostKey} ${s.window} ${s.score} ${s.alert?.text ?? ''}`);
  back.onWindow = (s) => b.push(`${s.hostKey} ${s.window} ${s.score} ${s.alert?.text ?? ''}`);
  // The same continuation, with a scan in it, into both.
  const more = [...ward(T0 + 6 * 3600 + 1800, 1800, 'after')];
  for (let h = 0; h < 30; h++) more.push(pkt(T0 + 6 * 3600 + 2000 + h * 0.1, pump(2), ipKeyFromString(`10.20.3.${h + 1}`), 50000, 445, 60, 0x02));
  more.sort((x, y) => x.time - y.time);
  for (const p of more) {
    m.packet(p);
    back.packet(p);
  }
  m.flush();
  back.flush();
  assert.ok(a.length > 100);
  assert.deepEqual(b, a);
  assert.ok(a.some((s) => s.includes('10.20.1.12 behaved')), 'the scan alerted in both');
  // Bounded: the snapshot of a small ward is small, and a corrupt one is refused.
  assert.ok(text.length < 200_000, `${text.length} characters`);
  assert.throws(() => WindowModel.fromJSON({ ...JSON.parse(text), version: 2 } as ReturnType<WindowModel['toJSON']>), /known version/);
});
