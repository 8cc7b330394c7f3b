import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reassembly, TcpStream, type StreamSink } from './reassembly.ts';

class Collect implements StreamSink {
  parts: Buffer[] = [];
  gaps: number[] = [];
  data(chunk: Buffer): boolean {
    this.parts.push(Buffer.from(chunk));
    return true;
  }
  gap(length: number): boolean {
    this.gaps.push(length);
    return true;
  }
  get text(): string {
    return Buffer.concat(this.parts).toString();
  }
}

test('in-order, out-of-order, retransmitted and overlapping segments give each byte once, in order', () => {
  const r = new Reassembly();
  const s = new TcpStream(r, 1001);
  const c = new Collect();
  s.segment(1001, Buffer.from('Hello'), c);
  s.segment(1008, Buffer.from('world'), c); // early: held
  s.segment(1001, Buffer.from('Hello'), c); // retransmission
  assert.equal(c.text, 'Hello');
  s.segment(1004, Buffer.from('lo, wor'), c); // overlaps both sides, fills the hole
  assert.equal(c.text, 'Hello, world');
  assert.equal(r.stats.retransmitted, 1);
  assert.equal(r.stats.outOfOrder, 1);
  assert.equal(s.bufferedBytes, 0);
  assert.equal(r.stats.held, 0);
});

test('sequence numbers wrap around 2^32', () => {
  const r = new Reassembly();
  const s = new TcpStream(r, 0xfffffffe);
  const c = new Collect();
  s.segment(0, Buffer.from('CD'), c); // after the wrap: held
  s.segment(0xfffffffe, Buffer.from('ABCD').subarray(0, 4), c);
  assert.equal(c.text, 'ABCD');
  assert.equal(r.stats.retransmitted, 1); // the held "CD" turned out to be covered already
});

test('a hole that never fills becomes a gap at flush, and the held data still arrives', () => {
  const r = new Reassembly();
  const s = new TcpStream(r, 1);
  const c = new Collect();
  s.segment(1, Buffer.from('abc'), c);
  s.segment(10, Buffer.from('xyz'), c);
  s.flush(c);
  assert.equal(c.text, 'abcxyz');
  assert.deepEqual(c.gaps, [6]);
  assert.equal(r.stats.gaps, 1);
});

test('per-stream cap: holding more than allowed skips the hole instead of growing', () => {
  const r = new Reassembly({ maxStreamBytes: 1000, maxStreamSegments: 100, maxTotalBytes: 10_000, maxAhead: 1 << 20 });
  const s = new TcpStream(r, 0);
  const c = new Collect();
  for (let i = 1; i <= 20; i++) s.segment(i * 100, Buffer.alloc(100, 0x41), c); // 0..100 never arrives
  assert.ok(s.bufferedBytes <= 1000);
  assert.ok(r.stats.capHits >= 1);
  assert.deepEqual(c.gaps, [100]);
  assert.equal(Buffer.concat(c.parts).length, 2000);
});

test('global cap is shared by all streams', () => {
  const r = new Reassembly({ maxStreamBytes: 1 << 20, maxStreamSegments: 1000, maxTotalBytes: 5000, maxAhead: 1 << 20 });
  const c = new Collect();
  for (let k = 0; k < 50; k++) {
    const s = new TcpStream(r, 0);
    s.segment(500, Buffer.alloc(400), c);
    assert.ok(r.stats.held <= 5000, `held ${r.stats.held}`);
  }
});

test('a consumer that is done stops the stream and frees what it held', () => {
  const r = new Reassembly();
  const s = new TcpStream(r, 0);
  let calls = 0;
  const sink: StreamSink = { data: () => (++calls, false), gap: () => true };
  s.segment(10, Buffer.alloc(10), sink);
  s.segment(0, Buffer.alloc(10), sink);
  assert.equal(calls, 1);
  assert.ok(s.isStopped);
  assert.equal(r.stats.held, 0);
  s.segment(20, Buffer.alloc(10), sink);
  assert.equal(calls, 1);
});

test('property: any segmentation, order and duplication of a stream reassembles to the original', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 400 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (bytes, cuts, isn, shuffle) => {
        const data = Buffer.from(bytes);
        const segs: Array<[number, Buffer]> = [];
        let pos = 0;
        let i = 0;
        while (pos < data.length) {
          const len = Math.min(cuts[i++ % cuts.length] as number, data.length - pos);
          // Overlapping retransmissions: sometimes start a little earlier.
          const start = i % 3 === 0 ? Math.max(0, pos - 5) : pos;
          segs.push([(isn + start) >>> 0, data.subarray(start, pos + len)]);
          pos += len;
        }
        for (const k of shuffle) {
          const a = k % segs.length;
          const b = (k * 7 + 3) % segs.length;
          [segs[a], segs[b]] = [segs[b] as [number, Buffer], segs[a] as [number, Buffer]];
          if (k % 5 === 0) segs.push(segs[a] as [number, Buffer]); // duplicate
        }
        const r = new Reassembly();
        const s = new TcpStream(r, isn >>> 0);
        const c = new Collect();
        for (const [seq, d] of segs) s.segment(seq, d, c);
        s.flush(c);
        assert.deepEqual(c.gaps, []);
        assert.equal(Buffer.concat(c.parts).toString('hex'), data.toString('hex'));
        assert.equal(r.stats.held, 0);
      },
    ),
    { numRuns: 500 },
  );
});
