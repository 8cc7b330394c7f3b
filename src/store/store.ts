/**
 * The store: one interface, two engines — SQLite (embedded, the zero-configuration default) and
 * PostgreSQL (a hospital's shared database) — with the same behaviour and one test suite.
 *
 * Both are written on `SqlStore`, which holds all the SQL (portable: TEXT, INTEGER, REAL, JSON kept
 * as text) and asks its engine for four things only: run a statement, read rows, run a function in
 * a transaction, close. Every write that matters happens in a transaction, so a crash leaves either
 * the old state or the new, never half; every change to an alert is written to the audit log in the
 * same transaction as the change.
 */
import type { AssessedDevice } from '../inventory/inventory.ts';
import type { Category } from '../inventory/device.ts';
import type { Severity } from '../assess/finding.ts';
import { MIGRATIONS } from './migrations.ts';
import { EventEmitter } from 'node:events';
import { ipv4Range, ipv4ToNumber, isInternalIp, isUnicastIp } from '../inventory/address.ts';
import type { DeviceTrafficRow } from '../flow/traffic.ts';
import { allEolAt } from '../assess/lifecycle.ts';
import { deviceFindings, type DeviceFinding, type FindingKind } from '../assess/device-findings.ts';
import { SEVERITIES } from '../assess/finding.ts';
import type { Role } from '../server/auth.ts';

export type Row = Record<string, unknown>;

/** What an engine must provide. SQL uses `?` placeholders; engines translate as they need. */
export interface SqlEngine {
  readonly dialect: 'sqlite' | 'postgres';
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs `fn` in one transaction; `fn` must use the engine passed to it. */
  transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A query the caller got wrong (not a fault of the store): the API answers it with its status. */
export class QueryError extends RangeError {
  readonly statusCode = 400;
}

/** The address range of a device query's subnet filter, or a QueryError naming what is wrong. */
export function subnetRange(subnet: string): { first: number; last: number } {
  const r = ipv4Range(subnet);
  if (r === undefined) throw new QueryError(`subnet ${subnet} is not an IPv4 CIDR block (like 10.2.0.0/16)`);
  return r;
}

export interface DeviceQuery {
  /** Case-insensitive substring of any identity field: id, MAC, IP, hostname, vendor, model, type, OS. */
  search?: string;
  category?: Category;
  eol?: 'eol' | 'supported' | 'unknown';
  minRisk?: number;
  maxRisk?: number;
  /** Case-insensitive substring of the vendor. */
  vendor?: string;
  /** Case-insensitive substring of the OS. */
  os?: string;
  /** IPv4 CIDR block ("10.2.0.0/16"): devices with an address in it. */
  subnet?: string;
  vlan?: number;
  sort?: 'risk' | 'id' | 'last_seen' | 'vendor' | 'category';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** The columns a device list shows; the whole assessed device is `device()`. */
export interface DeviceRow {
  id: string;
  category: string;
  criticality: string;
  vendor: string | null;
  model: string | null;
  type: string | null;
  os: string | null;
  eolState: string;
  risk: number;
  ips: string[];
  macs: string[];
  hostnames: string[];
  vlan: number | null;
  firstSeen: number;
  lastSeen: number;
}

export const ALERT_STATUSES = ['new', 'acknowledged', 'assigned', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface NewAlert {
  /** De-duplication key: the same key raised again is the same alert (its last_seen moves). */
  key: string;
  deviceId: string | null;
  kind: string;
  severity: Severity;
  title: string;
  detail: unknown;
  /** Owning teams, from the device's category (imaging → clinical engineering and IT security). */
  teams: string[];
  at: number;
}

export interface Alert extends Omit<NewAlert, 'at'> {
  id: number;
  status: AlertStatus;
  assignee: string | null;
  resolution: string | null;
  firstSeen: number;
  lastSeen: number;
  updatedAt: number;
  /** When it should be dealt with (from its severity). */
  dueAt: number | null;
}

/** Days to act by severity: the due date both teams see on an alert. */
export const DUE_DAYS: Record<Severity, number> = { critical: 1, high: 3, medium: 14, low: 30, info: 90 };

export interface AlertComment {
  id: number;
  alertId: number;
  at: number;
  author: string;
  text: string;
}

export interface FindingQuery {
  kind?: FindingKind;
  /** This severity or worse. */
  minSeverity?: Severity;
  deviceId?: string;
  limit?: number;
  offset?: number;
}

export interface AlertQuery {
  status?: AlertStatus;
  /** Only alerts not resolved. */
  open?: boolean;
  severity?: Severity;
  kind?: string;
  deviceId?: string;
  team?: string;
  limit?: number;
  offset?: number;
}

export interface AlertChange {
  status?: AlertStatus;
  assignee?: string | null;
  resolution?: string | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

const SORTS: Record<NonNullable<DeviceQuery['sort']>, string> = { risk: 'risk', id: 'id', last_seen: 'last_seen', vendor: 'vendor', category: 'category' };

function searchText(d: AssessedDevice): string {
  return [d.id, ...d.macs, ...d.ips, ...d.hostnames, d.vendor?.value, d.model?.value, d.type?.value, d.os?.value, d.category.value]
    .filter((x): x is string => x !== undefined)
    .join(' ')
    .toLowerCase();
}

const NO_END_ANNOUNCED = 1e15;

/** `allEolAt` (ms, ±Infinity) as the eol_at column (seconds; no infinities in SQL). */
function eolAtColumn(end: number | undefined): number | null {
  if (end === undefined) return null;
  if (end === -Infinity) return 0;
  if (end === Infinity) return NO_END_ANNOUNCED;
  return end / 1000;
}

function eolAtFromColumn(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const s = Number(v);
  return s === 0 ? -Infinity : s >= NO_END_ANNOUNCED ? Infinity : s * 1000;
}

/** Replaces a device's findings (inside the caller's transaction). */
async function writeFindings(tx: SqlEngine, d: AssessedDevice): Promise<void> {
  await tx.run('DELETE FROM findings WHERE device_id = ?', [d.id]);
  for (const f of deviceFindings(d)) {
    await tx.run('INSERT INTO findings (device_id, kind, ref, severity, severity_rank, title, detail) VALUES (?, ?, ?, ?, ?, ?, ?)', [d.id, f.kind, f.ref, f.severity, SEVERITIES.indexOf(f.severity), f.title, JSON.stringify(f.detail)]);
  }
}

const LIST_COLUMNS = 'id, category, criticality, vendor, model, type, os, eol_state, risk, first_seen, last_seen, vlan, list';

function toDeviceRow(r: Row): DeviceRow {
  const l = (r.list !== null && r.list !== undefined ? parseJson(r.list) : parseJson(r.data)) as ListColumns;
  return {
    id: String(r.id),
    category: String(r.category),
    criticality: String(r.criticality),
    vendor: (r.vendor as string | null) ?? null,
    model: (r.model as string | null) ?? null,
    type: (r.type as string | null) ?? null,
    os: (r.os as string | null) ?? null,
    eolState: String(r.eol_state),
    risk: Number(r.risk),
    ips: l.ips,
    macs: l.macs,
    hostnames: l.hostnames,
    vlan: r.vlan === null || r.vlan === undefined ? null : Number(r.vlan),
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
  };
}

/** The list row of a device as the store writes it. */
export function listRowOf(d: AssessedDevice): DeviceRow {
  return {
    id: d.id,
    category: d.category.value,
    criticality: d.criticality,
    vendor: d.vendor?.value ?? null,
    model: d.model?.value ?? null,
    type: d.type?.value ?? null,
    os: d.os?.value ?? null,
    eolState: d.lifecycle.state,
    risk: d.risk.score,
    ips: d.ips,
    macs: d.macs,
    hostnames: d.hostnames,
    vlan: d.vlan ?? null,
    firstSeen: d.firstSeen,
    lastSeen: d.lastSeen,
  };
}

interface ListColumns {
  ips: string[];
  macs: string[];
  hostnames: string[];
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

export class SqlStore {
  /**
   * 'alert' (an Alert) after an alert is raised or changed, once committed: the live feed the
   * dashboard listens to. 'devices' (their list rows) after devices are written: the server's
   * device list index follows it. In-process only: each server process tells its own clients.
   */
  readonly events = new EventEmitter<{ alert: [Alert]; devices: [DeviceRow[]] }>();

  constructor(readonly engine: SqlEngine) {
    this.events.setMaxListeners(1000);
  }

  /** Applies the migrations not yet applied, each in its own transaction; returns the schema version. */
  async migrate(): Promise<number> {
    await this.engine.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)');
    const rows = await this.engine.all('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    let version = done.size === 0 ? 0 : Math.max(...done);
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await this.engine.transaction(async (tx) => {
        for (const sql of m[this.engine.dialect]) await tx.run(sql);
        await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now() / 1000]);
      });
      version = m.version;
      // Findings are derived from the device documents: a store that had devices before they
      // existed gets them now, rather than whenever each device is next written.
      if (m.version === 6) await this.rewriteFindings();
    }
    return version;
  }

  /** Writes (inserts or replaces) devices, with their addresses, in one transaction: all of a batch, or none. */
  async upsertDevices(devices: readonly AssessedDevice[]): Promise<void> {
    if (devices.length === 0) return;
    // SQLite's two-argument MIN/MAX are PostgreSQL's LEAST/GREATEST.
    const [least, greatest] = this.engine.dialect === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
    const written: DeviceRow[] = [];
    await this.engine.transaction(async (tx) => {
      for (const d of devices) {
        const list: ListColumns = { ips: d.ips, macs: d.macs, hostnames: d.hostnames };
        const search = searchText(d);
        const returned = await tx.all(
          `INSERT INTO devices (id, category, criticality, vendor, model, type, os, eol_state, risk, first_seen, last_seen, vlan, kev, eol_at, search, list)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET category = excluded.category, criticality = excluded.criticality, vendor = excluded.vendor,
             model = excluded.model, type = excluded.type, os = excluded.os, eol_state = excluded.eol_state, risk = excluded.risk,
             first_seen = ${least}(devices.first_seen, excluded.first_seen), last_seen = ${greatest}(devices.last_seen, excluded.last_seen),
             vlan = excluded.vlan, kev = excluded.kev, eol_at = excluded.eol_at, search = excluded.search, list = excluded.list
           RETURNING seq`,
          [
            d.id,
            d.category.value,
            d.criticality,
            d.vendor?.value ?? null,
            d.model?.value ?? null,
            d.type?.value ?? null,
            d.os?.value ?? null,
            d.lifecycle.state,
            d.risk.score,
            d.firstSeen,
            d.lastSeen,
            d.vlan ?? null,
            d.vulnerabilities.some((v) => v.kev) ? 1 : 0,
            eolAtColumn(allEolAt(d.os?.releases ?? [])),
            search,
            JSON.stringify(list),
          ],
        );
        await tx.run('INSERT INTO device_docs (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data', [d.id, JSON.stringify(d)]);
        if (this.engine.dialect === 'sqlite') {
          const seq = returned[0]?.seq;
          await tx.run('DELETE FROM device_search WHERE rowid = ?', [seq]);
          await tx.run('INSERT INTO device_search (rowid, search) VALUES (?, ?)', [seq, search]);
        }
        await tx.run('DELETE FROM device_ips WHERE device_id = ?', [d.id]);
        for (const ip of d.ips) await tx.run('INSERT INTO device_ips (device_id, ip, ip4) VALUES (?, ?, ?)', [d.id, ip, ipv4ToNumber(ip) ?? null]);
        await writeFindings(tx, d);
        written.push(listRowOf(d));
      }
    });
    if (this.events.listenerCount('devices') > 0) this.events.emit('devices', written);
  }

  private async rewriteFindings(): Promise<void> {
    for (let after = ''; ; ) {
      const rows = await this.engine.all('SELECT id, data FROM device_docs WHERE id > ? ORDER BY id LIMIT 2000', [after]);
      if (rows.length === 0) return;
      await this.engine.transaction(async (tx) => {
        for (const r of rows) await writeFindings(tx, parseJson(r.data) as AssessedDevice);
      });
      after = String(rows[rows.length - 1]?.id);
    }
  }

  /** Findings across devices, the most severe first (then by device). */
  async findings(q: FindingQuery = {}): Promise<{ total: number; items: (DeviceFinding & { deviceName: string; category: string })[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.kind !== undefined) {
      where.push('f.kind = ?');
      params.push(q.kind);
    }
    if (q.minSeverity !== undefined) {
      where.push('f.severity_rank >= ?');
      params.push(SEVERITIES.indexOf(q.minSeverity));
    }
    if (q.deviceId !== undefined) {
      where.push('f.device_id = ?');
      params.push(q.deviceId);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((await this.engine.all(`SELECT COUNT(*) AS n FROM findings f ${clause}`, params))[0]?.n ?? 0);
    const rows = await this.engine.all(
      `SELECT f.*, d.list AS list, d.category AS category FROM findings f JOIN devices d ON d.id = f.device_id ${clause} ORDER BY f.severity_rank DESC, f.device_id, f.kind, f.ref LIMIT ? OFFSET ?`,
      [...params, Math.min(Math.max(1, q.limit ?? 100), 10_000), Math.max(0, q.offset ?? 0)],
    );
    return {
      total,
      items: rows.map((r) => {
        const l = parseJson(r.list) as ListColumns | null;
        return {
          deviceId: String(r.device_id),
          deviceName: l?.hostnames[0] ?? l?.ips[0] ?? String(r.device_id),
          category: String(r.category),
          kind: String(r.kind) as FindingKind,
          ref: String(r.ref),
          severity: String(r.severity) as Severity,
          title: String(r.title),
          detail: parseJson(r.detail) as Record<string, unknown>,
        };
      }),
    };
  }

  /** How many devices are of a type (a behaviour peer group's size). */
  async devicesOfType(type: string): Promise<number> {
    return Number((await this.engine.all('SELECT COUNT(*) AS n FROM devices WHERE type = ?', [type]))[0]?.n ?? 0);
  }

  /** Every device's list row, in pages (to build the server's list index). */
  async *deviceListPages(page = 5000): AsyncGenerator<DeviceRow[]> {
    let after = '';
    for (;;) {
      const rows = await this.engine.all(
        `SELECT ${LIST_COLUMNS}, CASE WHEN list IS NULL THEN (SELECT data FROM device_docs WHERE device_docs.id = devices.id) END AS data FROM devices WHERE id > ? ORDER BY id LIMIT ?`,
        [after, page],
      );
      yield rows.map(toDeviceRow);
      if (rows.length < page) return;
      after = String(rows[rows.length - 1]?.id);
    }
  }

  /** The WHERE clause of a device query (throws a QueryError on a malformed subnet). */
  private deviceFilter(q: DeviceQuery): { clause: string; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.search !== undefined && q.search !== '') {
      if (this.engine.dialect === 'sqlite' && !/[%_\\]/.test(q.search)) {
        // The FTS5 trigram index answers LIKE '%…%' (it cannot take an ESCAPE clause: wildcards
        // typed in a search go the plain way below).
        where.push('devices.seq IN (SELECT rowid FROM device_search WHERE search LIKE ?)');
        params.push(`%${q.search.toLowerCase()}%`);
      } else {
        where.push("search LIKE ? ESCAPE '\\'");
        params.push(likePattern(q.search));
      }
    }
    if (q.category !== undefined) {
      where.push('category = ?');
      params.push(q.category);
    }
    if (q.eol !== undefined) {
      where.push('eol_state = ?');
      params.push(q.eol);
    }
    if (q.minRisk !== undefined) {
      where.push('risk >= ?');
      params.push(q.minRisk);
    }
    if (q.maxRisk !== undefined) {
      where.push('risk <= ?');
      params.push(q.maxRisk);
    }
    if (q.vendor !== undefined && q.vendor !== '') {
      where.push("LOWER(vendor) LIKE ? ESCAPE '\\'");
      params.push(likePattern(q.vendor));
    }
    if (q.os !== undefined && q.os !== '') {
      where.push("LOWER(os) LIKE ? ESCAPE '\\'");
      params.push(likePattern(q.os));
    }
    if (q.subnet !== undefined && q.subnet !== '') {
      const r = subnetRange(q.subnet);
      where.push('devices.id IN (SELECT device_id FROM device_ips WHERE ip4 BETWEEN ? AND ?)');
      params.push(r.first, r.last);
    }
    if (q.vlan !== undefined) {
      where.push('vlan = ?');
      params.push(q.vlan);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return { clause, params };
  }

  async devices(q: DeviceQuery = {}): Promise<{ total: number; items: DeviceRow[] }> {
    const { clause, params } = this.deviceFilter(q);
    const total = Number((await this.engine.all(`SELECT COUNT(*) AS n FROM devices ${clause}`, params))[0]?.n ?? 0);
    const sort = SORTS[q.sort ?? 'risk'];
    const order = (q.order ?? (q.sort === undefined || q.sort === 'risk' ? 'desc' : 'asc')) === 'desc' ? 'DESC' : 'ASC';
    const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
    const offset = Math.max(0, q.offset ?? 0);
    // Rows written before the list columns existed carry their lists only in the document.
    const rows = await this.engine.all(
      `SELECT ${LIST_COLUMNS}, CASE WHEN list IS NULL THEN (SELECT data FROM device_docs WHERE device_docs.id = devices.id) END AS data
       FROM devices ${clause} ORDER BY ${sort} ${order}, id ASC LIMIT ? OFFSET ?`,
      [...params, limit, offset],
    );
    return { total, items: rows.map(toDeviceRow) };
  }

  /**
   * The hospital-wide figures, aggregated in the database without reading a device document:
   * devices, risk bands and EOL by category, and the devices grouped by when their OS ends (for the
   * forecast). A device written before schema v4 counts as of unknown OS end until it is next written.
   */
  async deviceStats(): Promise<DeviceStats> {
    const rows = await this.engine.all(
      `SELECT category, CASE WHEN risk >= 60 THEN 2 WHEN risk >= 30 THEN 1 ELSE 0 END AS band, eol_state, kev, eol_at, COUNT(*) AS n, SUM(risk) AS risk_sum
       FROM devices GROUP BY category, CASE WHEN risk >= 60 THEN 2 WHEN risk >= 30 THEN 1 ELSE 0 END, eol_state, kev, eol_at`,
    );
    const stats: DeviceStats = { devices: 0, bands: { '0-29': 0, '30-59': 0, '60-100': 0 }, byCategory: {}, ends: [] };
    const bandNames = ['0-29', '30-59', '60-100'] as const;
    for (const r of rows) {
      const n = Number(r.n);
      const category = String(r.category) as Category;
      stats.devices += n;
      stats.bands[bandNames[Number(r.band)] ?? '0-29'] += n;
      const c = (stats.byCategory[category] ??= { devices: 0, riskSum: 0, kev: 0, eol: 0 });
      c.devices += n;
      c.riskSum += Number(r.risk_sum);
      if (Number(r.kev) === 1) c.kev += n;
      if (r.eol_state === 'eol') c.eol += n;
      stats.ends.push({ category, end: eolAtFromColumn(r.eol_at), count: n });
    }
    return stats;
  }

  /** Every stored device in full (those a query selects), in pages: for hospital-wide reports and exports. */
  async *allDevices(q: DeviceQuery = {}, page = 2000): AsyncGenerator<AssessedDevice> {
    const { clause, params } = this.deviceFilter(q);
    // Keyset pagination on id: every page is an index seek, however deep.
    let after = '';
    for (;;) {
      const rows = await this.engine.all(
        `SELECT devices.id AS id, device_docs.data AS data FROM devices JOIN device_docs ON device_docs.id = devices.id ${clause === '' ? 'WHERE' : `${clause} AND`} devices.id > ? ORDER BY devices.id LIMIT ?`,
        [...params, after, page],
      );
      for (const r of rows) yield parseJson(r.data) as AssessedDevice;
      if (rows.length < page) return;
      after = String(rows[rows.length - 1]?.id);
    }
  }

  async device(id: string): Promise<AssessedDevice | undefined> {
    const rows = await this.engine.all('SELECT data FROM device_docs WHERE id = ?', [id]);
    return rows[0] === undefined ? undefined : (parseJson(rows[0].data) as AssessedDevice);
  }

  /** Raises alerts; one already open under the same key is seen again, not duplicated. Returns how many are new. */
  async raiseAlerts(alerts: readonly NewAlert[]): Promise<number> {
    let added = 0;
    const addedKeys: string[] = [];
    await this.engine.transaction(async (tx) => {
      for (const a of alerts) {
        const existing = await tx.all("SELECT id FROM alerts WHERE alert_key = ? AND status <> 'resolved'", [a.key]);
        if (existing.length > 0) {
          await tx.run('UPDATE alerts SET last_seen = ? WHERE id = ?', [a.at, existing[0]?.id]);
          continue;
        }
        await tx.run(
          `INSERT INTO alerts (alert_key, device_id, kind, severity, title, detail, teams, status, first_seen, last_seen, updated_at, due_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?)`,
          [a.key, a.deviceId, a.kind, a.severity, a.title, JSON.stringify(a.detail), JSON.stringify(a.teams), a.at, a.at, a.at, a.at + DUE_DAYS[a.severity] * 86400],
        );
        added++;
        addedKeys.push(a.key);
      }
    });
    if (addedKeys.length > 0 && this.events.listenerCount('alert') > 0) {
      for (let i = 0; i < addedKeys.length; i += 500) {
        const keys = addedKeys.slice(i, i + 500);
        const rows = await this.engine.all(`SELECT * FROM alerts WHERE status <> 'resolved' AND alert_key IN (${keys.map(() => '?').join(', ')})`, keys);
        for (const r of rows) this.events.emit('alert', toAlert(r));
      }
    }
    return added;
  }

  async alerts(q: AlertQuery = {}): Promise<Alert[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status !== undefined) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.open === true) where.push("status <> 'resolved'");
    if (q.severity !== undefined) {
      where.push('severity = ?');
      params.push(q.severity);
    }
    if (q.kind !== undefined) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    if (q.deviceId !== undefined) {
      where.push('device_id = ?');
      params.push(q.deviceId);
    }
    if (q.team !== undefined) {
      where.push('teams LIKE ?');
      params.push(`%"${q.team.replace(/[%_"\\]/g, '')}"%`);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.engine.all(`SELECT * FROM alerts ${clause} ORDER BY first_seen DESC, id DESC LIMIT ? OFFSET ?`, [...params, Math.min(Math.max(1, q.limit ?? 100), 10_000), Math.max(0, q.offset ?? 0)]);
    return rows.map(toAlert);
  }

  /** Open alerts counted by severity and by owning team (for the overview). */
  async alertCounts(): Promise<{ bySeverity: Record<string, number>; byTeam: Record<string, number>; open: number }> {
    const rows = await this.engine.all("SELECT severity, teams, COUNT(*) AS n FROM alerts WHERE status <> 'resolved' GROUP BY severity, teams");
    const bySeverity: Record<string, number> = {};
    const byTeam: Record<string, number> = {};
    let open = 0;
    for (const r of rows) {
      const n = Number(r.n);
      open += n;
      bySeverity[String(r.severity)] = (bySeverity[String(r.severity)] ?? 0) + n;
      for (const t of parseJson(r.teams) as string[]) byTeam[t] = (byTeam[t] ?? 0) + n;
    }
    return { bySeverity, byTeam, open };
  }

  /** Changes an alert and records who did it, before and after, in the same transaction. */
  async updateAlert(id: number, change: AlertChange, actor: string, at = Date.now() / 1000): Promise<Alert> {
    const after = await this.engine.transaction(async (tx) => {
      const rows = await tx.all('SELECT * FROM alerts WHERE id = ?', [id]);
      if (rows[0] === undefined) throw new Error(`no alert ${id}`);
      const before = toAlert(rows[0]);
      const after: Alert = { ...before, ...change, updatedAt: at };
      if (change.status !== undefined && !ALERT_STATUSES.includes(change.status)) throw new Error(`unknown status ${change.status}`);
      await tx.run('UPDATE alerts SET status = ?, assignee = ?, resolution = ?, updated_at = ? WHERE id = ?', [after.status, after.assignee, after.resolution, at, id]);
      const pick = (a: Alert) => ({ status: a.status, assignee: a.assignee, resolution: a.resolution });
      await tx.run('INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)', [at, actor, 'alert.update', 'alert', String(id), JSON.stringify(pick(before)), JSON.stringify(pick(after))]);
      return after;
    });
    this.events.emit('alert', after);
    return after;
  }

  /** A comment on an alert, seen by both teams; audited. */
  async commentAlert(id: number, author: string, text: string, at = Date.now() / 1000): Promise<AlertComment> {
    return this.engine.transaction(async (tx) => {
      const exists = await tx.all('SELECT id FROM alerts WHERE id = ?', [id]);
      if (exists.length === 0) throw new Error(`no alert ${id}`);
      await tx.run('INSERT INTO alert_comments (alert_id, at, author, text) VALUES (?, ?, ?, ?)', [id, at, author, text]);
      await tx.run('INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)', [at, author, 'alert.comment', 'alert', String(id), null, JSON.stringify({ text })]);
      const row = (await tx.all('SELECT * FROM alert_comments WHERE alert_id = ? ORDER BY id DESC LIMIT 1', [id]))[0] as Row;
      return { id: Number(row.id), alertId: Number(row.alert_id), at: Number(row.at), author: String(row.author), text: String(row.text) };
    });
  }

  async alertComments(id: number): Promise<AlertComment[]> {
    const rows = await this.engine.all('SELECT * FROM alert_comments WHERE alert_id = ? ORDER BY id', [id]);
    return rows.map((r) => ({ id: Number(r.id), alertId: Number(r.alert_id), at: Number(r.at), author: String(r.author), text: String(r.text) }));
  }

  async auditLog(q: { entity?: string; entityId?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.entity !== undefined) {
      where.push('entity = ?');
      params.push(q.entity);
    }
    if (q.entityId !== undefined) {
      where.push('entity_id = ?');
      params.push(q.entityId);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.engine.all(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ?`, [...params, Math.min(Math.max(1, q.limit ?? 100), 10_000)]);
    return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), actor: String(r.actor), action: String(r.action), entity: String(r.entity), entityId: String(r.entity_id), before: parseJson(r.before), after: parseJson(r.after) }));
  }

  // ---- users, sessions, API tokens ---------------------------------------------------------

  /** Adds a user (the password already hashed), audited. Fails on a name that exists. */
  async addUser(name: string, role: Role, passwordHash: string, actor: string, at = Date.now() / 1000): Promise<User> {
    return this.engine.transaction(async (tx) => {
      const exists = await tx.all('SELECT id FROM users WHERE name = ?', [name]);
      if (exists.length > 0) throw new Error(`user ${name} exists`);
      await tx.run('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)', [name, role, passwordHash, at]);
      const row = (await tx.all('SELECT * FROM users WHERE name = ?', [name]))[0] as Row;
      const user = toUser(row);
      await tx.run('INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)', [at, actor, 'user.add', 'user', String(user.id), null, JSON.stringify({ name, role })]);
      return user;
    });
  }

  /** The user and their password hash (for the login check only). */
  async userByName(name: string): Promise<(User & { passwordHash: string }) | undefined> {
    const row = (await this.engine.all('SELECT * FROM users WHERE name = ?', [name]))[0];
    return row === undefined ? undefined : { ...toUser(row), passwordHash: String(row.password_hash) };
  }

  /** Changes a user's role or disables (or re-enables) the account, audited; a disabled user's sessions end. */
  async updateUser(name: string, change: { role?: Role; disabled?: boolean }, actor: string, at = Date.now() / 1000): Promise<User> {
    return this.engine.transaction(async (tx) => {
      const row = (await tx.all('SELECT * FROM users WHERE name = ?', [name]))[0];
      if (row === undefined) throw new Error(`no user ${name}`);
      const before = toUser(row);
      const after: User = { ...before, ...(change.role !== undefined ? { role: change.role } : {}), ...(change.disabled !== undefined ? { disabled: change.disabled } : {}) };
      await tx.run('UPDATE users SET role = ?, disabled = ? WHERE id = ?', [after.role, after.disabled ? 1 : 0, before.id]);
      if (after.disabled) await tx.run('DELETE FROM sessions WHERE user_id = ?', [before.id]);
      const pick = (u: User) => ({ role: u.role, disabled: u.disabled });
      await tx.run('INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)', [at, actor, 'user.update', 'user', String(before.id), JSON.stringify(pick(before)), JSON.stringify(pick(after))]);
      return after;
    });
  }

  async users(): Promise<User[]> {
    return (await this.engine.all('SELECT * FROM users ORDER BY name')).map(toUser);
  }

  async userCount(): Promise<number> {
    return Number((await this.engine.all('SELECT COUNT(*) AS n FROM users'))[0]?.n ?? 0);
  }

  /** Stores a session or API token by its hash. A session expires; an API token lasts until revoked. */
  /** Stores a token by its hash. An API token (long-lived, for an integration) is audited; a login session is not a change. */
  async addToken(hash: string, userId: number, kind: 'session' | 'api', label: string | null, expiresAt: number | null, at = Date.now() / 1000, actor?: string): Promise<void> {
    await this.engine.transaction(async (tx) => {
      await tx.run('INSERT INTO sessions (token_hash, user_id, kind, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [hash, userId, kind, label, at, expiresAt]);
      if (kind === 'api') await tx.run('INSERT INTO audit (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)', [at, actor ?? String(userId), 'token.create', 'user', String(userId), null, JSON.stringify({ label })]);
    });
  }

  /** The user a token hash belongs to, if the token is valid now and the user enabled. */
  async tokenUser(hash: string, now = Date.now() / 1000): Promise<User | undefined> {
    const rows = await this.engine.all(
      'SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND (s.expires_at IS NULL OR s.expires_at > ?) AND u.disabled = 0',
      [hash, now],
    );
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async revokeToken(hash: string): Promise<void> {
    await this.engine.run('DELETE FROM sessions WHERE token_hash = ?', [hash]);
  }

  // ---- traffic summaries, communication peers ----------------------------------------------

  /**
   * Writes summarised traffic. Each row is its source's total for that device, hour, peer and
   * service, so writing it again (a retry, a file read again after a crash) replaces, never adds.
   */
  async putTraffic(rows: readonly SourcedTrafficRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.engine.transaction(async (tx) => {
      for (const r of rows) {
        await tx.run(
          `INSERT INTO traffic (source, device_id, hour, peer, service, packets, bytes, flows, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (device_id, hour, peer, service, source) DO UPDATE SET packets = excluded.packets, bytes = excluded.bytes,
             flows = excluded.flows, first_seen = excluded.first_seen, last_seen = excluded.last_seen`,
          [r.source, r.deviceId, r.hour, r.peer, r.service, r.packets, r.bytes, r.flows, r.firstSeen, r.lastSeen],
        );
      }
    });
  }

  /** Who a device talked to, on what, and how much, over everything retained; the biggest first. */
  async devicePeers(id: string, limit = 500): Promise<DevicePeer[]> {
    const rows = await this.engine.all(
      `SELECT t.peer, t.service, SUM(t.packets) AS packets, SUM(t.bytes) AS bytes, SUM(t.flows) AS flows, MIN(t.first_seen) AS first_seen, MAX(t.last_seen) AS last_seen,
         (SELECT MIN(i.device_id) FROM device_ips i WHERE i.ip = t.peer) AS peer_device
       FROM traffic t WHERE t.device_id = ? GROUP BY t.peer, t.service ORDER BY SUM(t.bytes) DESC, t.peer LIMIT ?`,
      [id, Math.min(Math.max(1, limit), 5000)],
    );
    const names = new Map<string, string>();
    const peerIds = [...new Set(rows.map((r) => r.peer_device).filter((x): x is string => typeof x === 'string'))];
    if (peerIds.length > 0) {
      const docs = await this.engine.all(`SELECT id, list FROM devices WHERE id IN (${peerIds.map(() => '?').join(', ')})`, peerIds);
      for (const d of docs) {
        const l = parseJson(d.list) as ListColumns | null;
        names.set(String(d.id), l?.hostnames[0] ?? l?.ips[0] ?? String(d.id));
      }
    }
    return rows.map((r) => {
      const peer = String(r.peer);
      const peerDeviceId = typeof r.peer_device === 'string' ? r.peer_device : null;
      return {
        peer,
        peerDeviceId,
        peerName: peerDeviceId !== null ? (names.get(peerDeviceId) ?? null) : null,
        // Broadcast and multicast are neither side of the Internet.
        external: isUnicastIp(peer) && !isInternalIp(peer),
        service: String(r.service),
        packets: Number(r.packets),
        bytes: Number(r.bytes),
        flows: Number(r.flows),
        firstSeen: Number(r.first_seen),
        lastSeen: Number(r.last_seen),
      };
    });
  }

  /** A device's traffic per hour, oldest first. */
  async deviceActivity(id: string): Promise<{ at: number; packets: number; bytes: number; flows: number }[]> {
    const rows = await this.engine.all('SELECT hour, SUM(packets) AS packets, SUM(bytes) AS bytes, SUM(flows) AS flows FROM traffic WHERE device_id = ? GROUP BY hour ORDER BY hour', [id]);
    return rows.map((r) => ({ at: Number(r.hour), packets: Number(r.packets), bytes: Number(r.bytes), flows: Number(r.flows) }));
  }

  /**
   * The retention limit: drops traffic summaries more than `keepSeconds` older than the newest
   * (capture time, not the clock: an old capture read today keeps its traffic); returns how many rows.
   */
  async pruneTraffic(keepSeconds: number): Promise<number> {
    const newest = (await this.engine.all('SELECT MAX(hour) AS h FROM traffic'))[0]?.h;
    if (newest === null || newest === undefined) return 0;
    const before = Number(newest) - keepSeconds;
    const n = Number((await this.engine.all('SELECT COUNT(*) AS n FROM traffic WHERE hour < ?', [before]))[0]?.n ?? 0);
    if (n > 0) await this.engine.run('DELETE FROM traffic WHERE hour < ?', [before]);
    return n;
  }

  // ---- learnt behaviour -----------------------------------------------------------------------

  /** Stores learnt state (a baseline, a model) per subject ("device:…", "group:…"), replacing the older. */
  async saveModels(models: readonly StoredModel[], at = Date.now() / 1000): Promise<void> {
    if (models.length === 0) return;
    await this.engine.transaction(async (tx) => {
      for (const m of models) {
        await tx.run('INSERT INTO models (subject, kind, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET kind = excluded.kind, data = excluded.data, updated_at = excluded.updated_at', [
          m.subject,
          m.kind,
          JSON.stringify(m.data),
          at,
        ]);
      }
    });
  }

  async models(kind?: string): Promise<(StoredModel & { updatedAt: number })[]> {
    const rows = await this.engine.all(`SELECT * FROM models ${kind !== undefined ? 'WHERE kind = ?' : ''} ORDER BY subject`, kind !== undefined ? [kind] : []);
    return rows.map((r) => ({ subject: String(r.subject), kind: String(r.kind), data: parseJson(r.data), updatedAt: Number(r.updated_at) }));
  }

  async model(subject: string): Promise<(StoredModel & { updatedAt: number }) | undefined> {
    const r = (await this.engine.all('SELECT * FROM models WHERE subject = ?', [subject]))[0];
    return r === undefined ? undefined : { subject: String(r.subject), kind: String(r.kind), data: parseJson(r.data), updatedAt: Number(r.updated_at) };
  }

  // ---- ingest bookkeeping ---------------------------------------------------------------------

  /** Records a capture file as analysed (in the same run as its results were queued). */
  async markIngested(path: string, size: number, frames: number, at = Date.now() / 1000): Promise<void> {
    await this.engine.run('INSERT INTO ingested_files (path, size, frames, done_at) VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, frames = excluded.frames, done_at = excluded.done_at', [
      path,
      size,
      frames,
      at,
    ]);
  }

  async ingested(path: string): Promise<{ size: number; frames: number; doneAt: number } | undefined> {
    const r = (await this.engine.all('SELECT * FROM ingested_files WHERE path = ?', [path]))[0];
    return r === undefined ? undefined : { size: Number(r.size), frames: Number(r.frames), doneAt: Number(r.done_at) };
  }

  /** Refreshes the planner's statistics (hourly in the server; after a bulk load). */
  async optimize(): Promise<void> {
    await this.engine.run(this.engine.dialect === 'sqlite' ? 'PRAGMA optimize' : 'ANALYZE');
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

export interface SourcedTrafficRow extends DeviceTrafficRow {
  /** The capture file or live run the totals are of. */
  source: string;
}

export interface DeviceStats {
  devices: number;
  bands: { '0-29': number; '30-59': number; '60-100': number };
  byCategory: Partial<Record<Category, { devices: number; riskSum: number; kev: number; eol: number }>>;
  /** Devices by category and when their OS ends (ms; undefined unknown): `eolForecastOfEnds` input. */
  ends: { category: Category; end: number | undefined; count: number }[];
}

export interface DevicePeer {
  peer: string;
  /** The peer is itself a device in the inventory. */
  peerDeviceId: string | null;
  peerName: string | null;
  /** A public (Internet) address. */
  external: boolean;
  service: string;
  packets: number;
  bytes: number;
  flows: number;
  firstSeen: number;
  lastSeen: number;
}

export interface StoredModel {
  /** "device:<id>", "group:<type>" or a detector's own key. */
  subject: string;
  /** Which detector's state ("baseline", "online-model" …) and its version live in `data`. */
  kind: string;
  data: unknown;
}

export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  disabled: boolean;
}

function toUser(r: Row): User {
  return { id: Number(r.id), name: String(r.name), role: String(r.role) as Role, createdAt: Number(r.created_at), disabled: Number(r.disabled) !== 0 };
}

function toAlert(r: Row): Alert {
  return {
    id: Number(r.id),
    key: String(r.alert_key),
    deviceId: (r.device_id as string | null) ?? null,
    kind: String(r.kind),
    severity: String(r.severity) as Severity,
    title: String(r.title),
    detail: parseJson(r.detail),
    teams: parseJson(r.teams) as string[],
    status: String(r.status) as AlertStatus,
    assignee: (r.assignee as string | null) ?? null,
    resolution: (r.resolution as string | null) ?? null,
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    updatedAt: Number(r.updated_at),
    dueAt: r.due_at === null || r.due_at === undefined ? null : Number(r.due_at),
  };
}
