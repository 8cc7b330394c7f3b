import { after, test } from 'node:test';
import { assessedDevice, riskOf } from '../../test/helpers/devices.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from './sqlite.ts';
import { SqlStore, type SqlEngine } from './store.ts';
import { BatchedWriter } from './writer.ts';
import { turnsWhile } from '../../test/helpers/turns.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function device(id: string, risk = 10) {
  return assessedDevice(id, { risk: riskOf(risk) });
}

/** An engine that fails every statement while `down` is set: a database outage. */
function flaky(inner: SqlEngine): SqlEngine & { down: boolean } {
  const e = {
    down: false,
    dialect: inner.dialect,
    run: async (sql: string, p?: readonly unknown[]) => {
      if (e.down) throw new Error('connection refused');
      return inner.run(sql, p);
    },
    all: async (sql: string, p?: readonly unknown[]) => {
      if (e.down) throw new Error('connection refused');
      return inner.all(sql, p);
    },
    transaction: async <T>(fn: (tx: SqlEngine) => Promise<T>) => {
      if (e.down) throw new Error('connection refused');
      return inner.transaction(fn);
    },
    close: () => inner.close(),
  };
  return e;
}

test('an outage: the writer keeps accepting within its bounds, says so, and catches up after', async () => {
  const base = await openSqliteStore(join(dir, 'w.db'));
  const engine = flaky(base.engine);
  const store = new SqlStore(engine);
  const w = new BatchedWriter(store, { intervalMs: 20, batch: 50, maxQueuedAlerts: 10, maxBackoffMs: 40 });
  engine.down = true;
  for (let i = 0; i < 120; i++) w.device(device(`d${i}`));
  // The same device again while down: one slot, the newest copy.
  w.device(device('d0', 99));
  for (let i = 0; i < 15; i++) w.alert({ key: `k${i}`, deviceId: null, kind: 'test', severity: 'low', title: `t${i}`, detail: {}, teams: [], at: i });
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(w.health.state, 'retrying');
  assert.match(w.health.lastError ?? '', /connection refused/);
  assert.equal(w.health.queuedDevices, 120);
  assert.equal(w.health.queuedAlerts, 10);
  assert.equal(w.health.droppedAlerts, 5, 'the oldest alerts beyond the bound are dropped and counted');
  engine.down = false;
  const state = (): string => w.health.state; // read afresh: the assertion above narrowed the type
  for (let i = 0; i < 50 && state() !== 'ok'; i++) await new Promise((r) => setTimeout(r, 20));
  await w.close();
  assert.equal(state(), 'ok');
  assert.equal(w.health.queuedDevices, 0);
  assert.equal((await store.devices({ limit: 1 })).total, 120);
  assert.equal((await store.device('d0'))?.risk.score, 99);
  assert.deepEqual((await store.alerts({ limit: 100 })).map((a) => a.title).sort(), ['t10', 't11', 't12', 't13', 't14', 't5', 't6', 't7', 't8', 't9']);
  await store.close();
});

test('close() says what could not be written when the database stays down', async () => {
  const base = await openSqliteStore(join(dir, 'w2.db'));
  const engine = flaky(base.engine);
  const w = new BatchedWriter(new SqlStore(engine), { intervalMs: 10_000 });
  engine.down = true;
  w.device(device('x'));
  await assert.rejects(() => w.close(), /store unavailable: connection refused; 1 devices, 0 alerts and 0 traffic rows not written/);
  await base.close();
});

test('between two batches the event loop gets a turn: a live sensor on this thread reads its capture meanwhile', async () => {
  const store = await openSqliteStore(join(dir, 'w3.db'));
  const w = new BatchedWriter(store, { intervalMs: 10_000, batch: 20 });
  // The event loop's turns while the writer drains 200 devices (10 batches).
  const turns = await turnsWhile(async () => {
    for (let i = 0; i < 200; i++) w.device(device(`t${i}`));
    await w.close();
  });
  assert.equal((await store.devices({ limit: 1 })).total, 200);
  assert.ok(turns >= 9, `${turns} turns of the event loop while 10 batches were written`);
  await store.close();
});
