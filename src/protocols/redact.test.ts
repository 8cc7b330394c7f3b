import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_EVIDENCE, printable } from './redact.ts';

/** printable() as its comment defines it, one byte at a time. */
function printableByteByByte(buf: Buffer, start = 0, end = buf.length, max = MAX_EVIDENCE): string {
  let out = '';
  for (let i = Math.max(0, start); i < Math.min(end, buf.length); i++) {
    if (out.length >= max) return `${out}…`;
    const c = buf[i] as number;
    if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

test('printable: runs of printable bytes, escapes and the cut at max', () => {
  const b = Buffer.from('GET /a\r\nHost: x\t\x00\xff end', 'latin1');
  assert.equal(printable(b), 'GET /a\\r\\nHost: x\\t\\x00\\xff end');
  assert.equal(printable(b, 4, 6), '/a');
  assert.equal(printable(b, 0, b.length, 5), 'GET /…');
  // The cut comes after an escape that crosses max, as it did byte by byte.
  assert.equal(printable(Buffer.from('abcd\x01efg', 'latin1'), 0, 8, 5), 'abcd\\x01…');
  assert.equal(printable(Buffer.alloc(0)), '');
  assert.equal(printable(b, 10, 3), '');
  assert.equal(printable(b, -5, 3), 'GET');
});

test('printable: the same as byte by byte for any bytes, bounds and max', () => {
  // Bytes biased to printable text with controls in it, as payloads are.
  const byte = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 300 }), fc.integer({ min: -3, max: 320 }), fc.integer({ min: -3, max: 320 }), fc.integer({ min: 0, max: 250 }), (bytes, start, end, max) => {
      const buf = Buffer.from(bytes);
      assert.equal(printable(buf, start, end, max), printableByteByByte(buf, start, end, max));
      assert.equal(printable(buf), printableByteByByte(buf));
    }),
    { numRuns: 2000 },
  );
});
