import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocallyAdministered, ouiRegistriesForTest, ouiLookup, registryForIndex, useOuiIndexForTest } from './oui.ts';
import { buildOuiIndex, organisationOf, OuiIndex } from './oui-index.ts';

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
  // Both ways a lookup can go: the index the build made, and the search of the registry's text.
  const { entries, source } = registryForIndex();
  for (const idx of [OuiIndex.from(buildOuiIndex(entries, source), source), null]) {
    useOuiIndexForTest(idx);
    for (const mac of macs) assert.deepEqual(ouiLookup(mac), reference(mac), mac);
    assert.equal(ouiLookup('00:1b:2c:00:00:01')?.block, 'MA-L');
  }
  useOuiIndexForTest(undefined);
});

test('the binary index answers every prefix as the registry text does, and is not used when stale or damaged', () => {
  const { parsed, prefixes } = ouiRegistriesForTest();
  const { entries, source } = registryForIndex();
  const bytes = buildOuiIndex(entries, source);
  const idx = OuiIndex.from(bytes, source);
  assert.ok(idx !== undefined);
  assert.equal(idx.entries, prefixes.length);
  // Reference: the most specific listed prefix of a MAC's digits, over the parsed registry.
  const reference = (hex12: string) => {
    for (const [digits, block] of [[9, 'MA-S'], [7, 'MA-M'], [6, 'MA-L']] as const) {
      const text = parsed(hex12.slice(0, digits));
      if (text !== undefined) return { organisation: organisationOf(text), digits, block };
    }
    return undefined;
  };
  for (const hex of prefixes) {
    for (const d of [-1, 0, 1]) {
      const n = Number.parseInt(hex, 16) + d;
      if (n < 0 || n >= 16 ** hex.length) continue;
      const h = (n.toString(16).toUpperCase().padStart(hex.length, '0') + '0F0F0F').slice(0, 12);
      assert.deepEqual(idx.lookup(h), reference(h), h);
    }
  }
  assert.equal(idx.lookup('FFFFFFFFFFFF'), reference('FFFFFFFFFFFF'));
  // Made from another registry file (oui-data updated since the build): not used.
  assert.equal(OuiIndex.from(bytes, { ...source, mtimeMs: source.mtimeMs + 1 }), undefined);
  assert.equal(OuiIndex.from(bytes, { ...source, size: source.size + 1 }), undefined);
  // Damaged: truncated anywhere, or not an index at all.
  for (const cut of [0, 10, 47, 48, 1000, bytes.length - 1]) assert.equal(OuiIndex.from(bytes.subarray(0, cut), source), undefined, `cut at ${cut}`);
  assert.equal(OuiIndex.from(Buffer.from('{"000000": "XEROX"}'), source), undefined);
  // Read from a file at an odd offset into its buffer: still aligned for its typed arrays.
  const odd = new Uint8Array(bytes.length + 1);
  odd.set(bytes, 1);
  assert.deepEqual(OuiIndex.from(odd.subarray(1), source)?.lookup('001B2C000001'), reference('001B2C000001'));
  assert.equal(OuiIndex.sourcePath(bytes), source.path);
  assert.equal(OuiIndex.open('/nonexistent/oui.idx', () => source), undefined);
});
