/** The device list index answers exactly what the store's SQL answers, and follows its writes. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSqliteStore } from './sqlite.ts';
import { followDeviceList } from './device-index.ts';
import { syntheticDevice } from '../../bench/seed.ts';
import { QueryError, type DeviceQuery } from './store.ts';
import { CATEGORIES } from '../inventory/device.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the index gives the same totals and pages as the SQL for any filter, sort and page', async () => {
  const store = await openSqliteStore(join(dir, 'i.db'));
  let seed = 7;
  const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  await store.upsertDevices(Array.from({ length: 1500 }, (_, i) => syntheticDevice(i, r)));
  const index = await followDeviceList(store);
  assert.equal(index.size, 1500);
  const query = fc.record(
    {
      search: fc.constantFrom('pump', '10.40.', 'ws-0001', 'windows 7', 'revolution', 'zzz', '00:1b:00:00:05'),
      category: fc.constantFrom(...CATEGORIES),
      eol: fc.constantFrom('eol' as const, 'supported' as const, 'unknown' as const),
      minRisk: fc.integer({ min: 0, max: 100 }),
      maxRisk: fc.integer({ min: 0, max: 100 }),
      vendor: fc.constantFrom('ge ', 'Philips', 'baxter'),
      os: fc.constantFrom('windows', 'Debian 12', 'xp'),
      subnet: fc.constantFrom('10.40.0.0/16', '10.0.0.0/8', '10.20.1.0/24'),
      vlan: fc.integer({ min: 20, max: 103 }),
      // Sorts whose values are never absent: SQLite and PostgreSQL disagree on where NULLs go.
      sort: fc.constantFrom('risk' as const, 'id' as const, 'last_seen' as const, 'category' as const),
      order: fc.constantFrom('asc' as const, 'desc' as const),
      limit: fc.integer({ min: 1, max: 300 }),
      offset: fc.integer({ min: 0, max: 1600 }),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(query, async (q: DeviceQuery) => {
      const fromSql = await store.devices(q);
      const fromIndex = index.query(q);
      assert.equal(fromIndex.total, fromSql.total, JSON.stringify(q));
      assert.deepEqual(fromIndex.items, fromSql.items, JSON.stringify(q));
    }),
    { numRuns: 300 },
  );
  // It follows writes: a device rewritten with a new risk moves; a new one appears.
  const d = syntheticDevice(5, r);
  await store.upsertDevices([{ ...d, risk: { ...d.risk, score: 100 } }, syntheticDevice(99_999, r)]);
  assert.equal(index.size, 1501);
  assert.deepEqual(index.query({ limit: 1 }).items.map((x) => x.id), (await store.devices({ limit: 1 })).items.map((x) => x.id));
  assert.throws(() => index.query({ subnet: 'nonsense' }), QueryError);
  await store.close();
});
