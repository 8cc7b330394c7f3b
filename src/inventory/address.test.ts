import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToNumber } from './address.ts';

/** The general reading, as ipv4ToNumber was written before its digit-by-digit fast path. */
function reference(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 255 || p === '') return undefined;
    n = n * 256 + v;
  }
  return n;
}

test('ipv4ToNumber: dotted quads, and every odd form read as Number() reads it', () => {
  for (const ip of ['10.0.0.1', '255.255.255.255', '0.0.0.0', '010.001.0.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', '0x10.1.1.1', ' 1.2.3.4', '1.2.3.4 ', '1e2.1.1.1', '+1.2.3.4', '0001.2.3.4', '::ffff:1.2.3.4', 'fe80::1', '', '1.2.3.-0', '1.2.3.4\n']) {
    assert.equal(ipv4ToNumber(ip), reference(ip), JSON.stringify(ip));
  }
  assert.equal(ipv4ToNumber('10.1.2.3'), 10 * 2 ** 24 + 1 * 2 ** 16 + 2 * 2 ** 8 + 3);
  const char = fc.constantFrom('0', '1', '2', '5', '9', '.', '.', ':', 'x', 'e', ' ', '+', '-', 'a', 'f');
  fc.assert(fc.property(fc.array(char, { maxLength: 20 }), (cs) => {
    const ip = cs.join('');
    assert.equal(ipv4ToNumber(ip), reference(ip), JSON.stringify(ip));
  }), { numRuns: 20_000 });
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 5 }), (ns) => {
    const ip = ns.join('.');
    assert.equal(ipv4ToNumber(ip), reference(ip), ip);
  }), { numRuns: 20_000 });
});
