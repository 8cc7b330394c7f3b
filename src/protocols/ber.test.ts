import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { children, hex, integer, oid, readTlv } from './ber.ts';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('TLV lengths: short form, long form, high tag numbers, and refusals (indefinite, > 4 length octets, past the limit)', () => {
  assert.deepEqual(readTlv(h('04 03 616263'), 0), { tag: 0x04, start: 2, end: 5 });
  assert.deepEqual(readTlv(h('30 81 03 020100'), 0), { tag: 0x30, start: 3, end: 6 });
  assert.deepEqual(readTlv(h('30 82 0003 020100'), 0), { tag: 0x30, start: 4, end: 7 });
  assert.equal(readTlv(h('30 80 020100 0000'), 0), undefined);
  assert.equal(readTlv(h('30 85 0000000003 020100'), 0), undefined);
  assert.equal(readTlv(h('04 05 6162'), 0), undefined);
  assert.equal(readTlv(h('04 03 616263'), 0, 4), undefined);
  // High tag numbers: a small one folds back to its one-octet form, a large one never collides.
  assert.deepEqual(readTlv(h('bf 04 01 00'), 0), { tag: 0xa4, start: 3, end: 4 });
  assert.deepEqual(readTlv(h('5f 81 00 01 00'), 0), { tag: 128 * 256 + 0x40, start: 4, end: 5 });
  assert.equal(readTlv(h('1f 80 80 80 01 01 00'), 0), undefined);
  assert.equal(readTlv(h('1f 81'), 0), undefined);
  assert.equal(readTlv(h('04'), 0), undefined);
  assert.equal(readTlv(h('0401'), 5), undefined);
  const seq = readTlv(h('30 09 020101 0402 6869 0500'), 0);
  assert.ok(seq !== undefined);
  assert.deepEqual(children(h('30 09 020101 0402 6869 0500'), seq).map((c) => c.tag), [0x02, 0x04, 0x05]);
});

test('INTEGER: two’s complement, up to 6 octets', () => {
  const b = h('0201 7f 0201 80 0202 0100 0203 ff0000 0207 01020304050607');
  const ints = children(b, { tag: 0x30, start: 0, end: b.length }).map((t) => integer(b, t));
  assert.deepEqual(ints, [127, -128, 256, -65536, undefined]);
});

test('OBJECT IDENTIFIER: first two arcs, multi-octet arcs, arc 2 with Y > 39, truncation', () => {
  const o = (s: string) => {
    const b = h(s);
    return oid(b, { tag: 6, start: 0, end: b.length });
  };
  assert.equal(o('2b 06 01 02 01 01 01 00'), '1.3.6.1.2.1.1.1.0');
  assert.equal(o('2b 06 01 04 01 82 37 0a'), '1.3.6.1.4.1.311.10'); // 311 = 0x82 0x37
  assert.equal(o('88 37 03'), '2.999.3'); // X.690 §8.19.5 example
  assert.equal(o('00'), '0.0');
  assert.equal(o('2b 86'), undefined);
  assert.equal(o(''), undefined);
  assert.equal(o('2b ff ff ff ff ff ff 7f'), undefined);
  const b = h('04 04 deadbeef');
  assert.equal(hex(b, { tag: 4, start: 2, end: 6 }), 'deadbeef');
});

test('property: random bytes never throw and children stay within their parent', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(210), (a, off) => {
      const b = Buffer.from(a);
      const t = readTlv(b, off);
      if (t === undefined) return;
      assert.ok(t.start >= off && t.end <= b.length && t.start <= t.end);
      for (const c of children(b, t)) assert.ok(c.start >= t.start && c.end <= t.end);
      integer(b, t);
      oid(b, t);
    }),
    { numRuns: 500 },
  );
});
