/**
 * Batched writes, so the analysis core never waits on the database: devices, alerts, traffic
 * summaries and learnt models are queued
 * in memory and flushed in one transaction per batch, on a timer or when a batch fills. When the
 * database is down the queue keeps accepting, up to a bound — a device queued again replaces its
 * older copy, so the devices never take more than one slot each — and the writer retries with
 * backoff, reports its state for the health endpoint, and catches up when the database is back.
 * Past the bound the oldest alerts are dropped and counted (never silently).
 */
import type { AssessedDevice } from '../inventory/inventory.ts';
import type { NewAlert, SourcedTrafficRow, SqlStore, StoredModel } from './store.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface WriterOptions {
  /** Flush at least this often (ms). */
  intervalMs?: number;
  /** Items per transaction. */
  batch?: number;
  /** Alerts held while the database is unavailable. */
  maxQueuedAlerts?: number;
  /** Distinct devices held while the database is unavailable. */
  maxQueuedDevices?: number;
  /** Distinct traffic rows held while the database is unavailable. */
  maxQueuedTraffic?: number;
  /** Longest wait between retries (ms). */
  maxBackoffMs?: number;
}

export interface WriterHealth {
  state: 'ok' | 'retrying';
  queuedDevices: number;
  queuedAlerts: number;
  queuedTraffic: number;
  queuedModels: number;
  droppedAlerts: number;
  droppedDevices: number;
  droppedTraffic: number;
  written: { devices: number; alerts: number; traffic: number; models: number };
  lastError?: string;
  lastErrorAt?: number;
  lastFlushAt?: number;
}

export class BatchedWriter {
  private readonly devices = new Map<string, AssessedDevice>();
  private alerts: NewAlert[] = [];
  // Traffic rows are totals and models whole states: a newer copy replaces the queued one.
  private readonly trafficRows = new Map<string, SourcedTrafficRow>();
  private readonly modelStates = new Map<string, StoredModel>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private backoff = 0;
  private closed = false;
  private readonly o: Required<WriterOptions>;
  readonly health: WriterHealth = {
    state: 'ok',
    queuedDevices: 0,
    queuedAlerts: 0,
    queuedTraffic: 0,
    queuedModels: 0,
    droppedAlerts: 0,
    droppedDevices: 0,
    droppedTraffic: 0,
    written: { devices: 0, alerts: 0, traffic: 0, models: 0 },
  };

  constructor(
    private readonly store: SqlStore,
    o: WriterOptions = {},
  ) {
    this.o = { intervalMs: 1000, batch: 500, maxQueuedAlerts: 100_000, maxQueuedDevices: 200_000, maxQueuedTraffic: 1_000_000, maxBackoffMs: 30_000, ...o };
    this.schedule(this.o.intervalMs);
  }

  device(d: AssessedDevice): void {
    if (!this.devices.has(d.id) && this.devices.size >= this.o.maxQueuedDevices) {
      this.health.droppedDevices++;
      return;
    }
    // The newest picture of a device replaces the queued one: an outage costs one slot per device.
    this.devices.delete(d.id);
    this.devices.set(d.id, d);
    this.update();
    if (this.devices.size >= this.o.batch && this.health.state === 'ok') void this.flush();
  }

  alert(a: NewAlert): void {
    this.alerts.push(a);
    if (this.alerts.length > this.o.maxQueuedAlerts) {
      const over = this.alerts.length - this.o.maxQueuedAlerts;
      this.alerts.splice(0, over);
      this.health.droppedAlerts += over;
    }
    this.update();
    if (this.alerts.length >= this.o.batch && this.health.state === 'ok') void this.flush();
  }

  traffic(r: SourcedTrafficRow): void {
    const key = `${r.source}|${r.deviceId}|${r.hour}|${r.peer}|${r.service}`;
    if (!this.trafficRows.has(key) && this.trafficRows.size >= this.o.maxQueuedTraffic) {
      this.health.droppedTraffic++;
      return;
    }
    this.trafficRows.set(key, r);
    this.update();
    if (this.trafficRows.size >= this.o.batch * 4 && this.health.state === 'ok') void this.flush();
  }

  /** Learnt state to keep; one per subject (a bounded number: devices and groups). */
  model(m: StoredModel): void {
    this.modelStates.set(m.subject, m);
    this.update();
  }

  private get pending(): boolean {
    return this.devices.size > 0 || this.alerts.length > 0 || this.trafficRows.size > 0 || this.modelStates.size > 0;
  }

  /** Writes what is queued, batch by batch; on failure keeps it queued and retries later. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        const ids = firstEntries(this.devices, this.o.batch).map(([id]) => id);
        const batch = ids.map((id) => this.devices.get(id) as AssessedDevice);
        if (batch.length > 0) {
          await this.store.upsertDevices(batch);
          // Only what was written leaves the queue (a newer copy queued meanwhile stays).
          for (const d of batch) if (this.devices.get(d.id) === d) this.devices.delete(d.id);
          this.health.written.devices += batch.length;
        }
        const alerts = this.alerts.slice(0, this.o.batch);
        if (alerts.length > 0) {
          await this.store.raiseAlerts(alerts);
          this.alerts.splice(0, alerts.length);
          this.health.written.alerts += alerts.length;
        }
        const traffic = firstEntries(this.trafficRows, this.o.batch * 4);
        if (traffic.length > 0) {
          await this.store.putTraffic(traffic.map(([, r]) => r));
          for (const [k, r] of traffic) if (this.trafficRows.get(k) === r) this.trafficRows.delete(k);
          this.health.written.traffic += traffic.length;
        }
        const models = firstEntries(this.modelStates, this.o.batch);
        if (models.length > 0) {
          await this.store.saveModels(models.map(([, m]) => m));
          for (const [k, m] of models) if (this.modelStates.get(k) === m) this.modelStates.delete(k);
          this.health.written.models += models.length;
        }
        this.update();
        // A turn of the event loop between batches: with the embedded engine a batch is synchronous
        // work, and a live sensor on this thread must read its capture in between (100,000 devices
        // took ~24 s to write, and the sensor read nothing meanwhile).
        if (this.pending) await nextTurn();
      }
      this.health.state = 'ok';
      this.health.lastFlushAt = Date.now() / 1000;
      this.backoff = 0;
    } catch (e) {
      this.health.state = 'retrying';
      this.health.lastError = (e as Error).message;
      this.health.lastErrorAt = Date.now() / 1000;
      this.backoff = Math.min(this.o.maxBackoffMs, this.backoff === 0 ? 250 : this.backoff * 2);
      if (!this.closed) this.schedule(this.backoff);
    }
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => {
        if (this.timer === undefined && !this.closed) this.schedule(this.health.state === 'ok' ? this.o.intervalMs : this.backoff);
      });
    }, ms);
    this.timer.unref();
  }

  private update(): void {
    this.health.queuedDevices = this.devices.size;
    this.health.queuedAlerts = this.alerts.length;
    this.health.queuedTraffic = this.trafficRows.size;
    this.health.queuedModels = this.modelStates.size;
  }

  /** Stops the timer after writing what is queued (throws if the database is still unavailable). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.health.state !== 'ok') throw new Error(`store unavailable: ${this.health.lastError ?? ''}; ${this.health.queuedDevices} devices, ${this.health.queuedAlerts} alerts and ${this.health.queuedTraffic} traffic rows not written`);
  }
}

/** The first `n` entries of a map in insertion order, without copying the rest. */
function firstEntries<K, V>(m: Map<K, V>, n: number): [K, V][] {
  const out: [K, V][] = [];
  for (const e of m) {
    if (out.length >= n) break;
    out.push(e);
  }
  return out;
}
