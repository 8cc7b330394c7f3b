import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocallyAdministered, ouiRegistriesForTest, ouiLookup } from './oui.ts';

test('searching the IEEE registry file answers exactly what parsing it whole answers', () => {
  const { searched, parsed, prefixes, sorted } = ouiRegistriesForTest();
  assert.ok(sorted, "oui-data is no longer one entry per line in order: lookups parse it whole");
  assert.ok(prefixes.length > 50_000, `${prefixes.length} prefixes`);
  for (const hex of prefixes) {
    assert.equal(searched(hex), parsed(hex), hex);
    // Its neighbours, listed or not.
    for (const d of [-1, 1]) {
      const n = Number.parseInt(hex, 16) + d;
      if (n < 0 || n >= 16 ** hex.length) continue;
      const near = n.toString(16).toUpperCase().padStart(hex.length, '0');
      assert.equal(searched(near), parsed(near), near);
    }
  }
  // Prefixes the registry does not list, in every block.
  for (const hex of ['FFFFFF', 'FFFFFFF', 'FFFFFFFFF', '000000000']) assert.equal(searched(hex), parsed(hex), hex);
});

test('ouiLookup: the most specific block wins, the first line of the text is the organisation', () => {
  const { parsed, prefixes } = ouiRegistriesForTest();
  // Reference: the lookup as it was written over the parsed registry.
  const reference = (mac: string) => {
    const hex = mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
    if (hex.length !== 12 || isLocallyAdministered(mac) || hex.startsWith('000000')) return undefined;
    for (const [len, block] of [[9, 'MA-S'], [7, 'MA-M'], [6, 'MA-L']] as const) {
      const text = parsed(hex.slice(0, len));
      if (text === undefined) continue;
      const organisation = text.split('\n', 1)[0]?.trim() ?? '';
      return organisation === '' ? undefined : { organisation, prefix: hex.slice(0, len).replace(/(..)(?=.)/g, '$1:'), block };
    }
    return undefined;
  };
  const macs = ['00:1b:2c:00:00:01', '00-09-FB-12-34-56', '00:00:00:11:22:33', '02:1b:2c:00:00:01', 'zz'];
  // Registry prefixes (every MA-M and MA-S, every 7th MA-L) padded out to MACs, a few suffixes each (MA-S and MA-M entries sit inside MA-L blocks).
  for (const hex of prefixes.filter((h, i) => h.length > 6 || i % 7 === 0)) {
    for (const fill of ['0', '8', 'F']) {
      const h = (hex + fill.repeat(12)).slice(0, 12);
      macs.push(h.replace(/(..)(?=.)/g, '$1:').toLowerCase());
    }
  }
  for (const mac of macs) assert.deepEqual(ouiLookup(mac), reference(mac), mac);
  assert.equal(ouiLookup('00:1b:2c:00:00:01')?.block, 'MA-L');
});
