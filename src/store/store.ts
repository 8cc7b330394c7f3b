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

export interface DeviceQuery {
  /** Case-insensitive substring of any identity field: id, MAC, IP, hostname, vendor, model, type, OS. */
  search?: string;
  category?: Category;
  eol?: 'eol' | 'supported' | 'unknown';
  minRisk?: number;
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
  type: string | null;
  os: string | null;
  eolState: string;
  risk: number;
  ips: string[];
  hostnames: string[];
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

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

export class SqlStore {
  constructor(readonly engine: SqlEngine) {}

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
    }
    return version;
  }

  /** Writes (inserts or replaces) devices in one transaction: all of a batch, or none. */
  async upsertDevices(devices: readonly AssessedDevice[]): Promise<void> {
    if (devices.length === 0) return;
    // SQLite's two-argument MIN/MAX are PostgreSQL's LEAST/GREATEST.
    const [least, greatest] = this.engine.dialect === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
    await this.engine.transaction(async (tx) => {
      for (const d of devices) {
        await tx.run(
          `INSERT INTO devices (id, category, criticality, vendor, type, os, eol_state, risk, first_seen, last_seen, search, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET category = excluded.category, criticality = excluded.criticality, vendor = excluded.vendor,
             type = excluded.type, os = excluded.os, eol_state = excluded.eol_state, risk = excluded.risk,
             first_seen = ${least}(devices.first_seen, excluded.first_seen), last_seen = ${greatest}(devices.last_seen, excluded.last_seen),
             search = excluded.search, data = excluded.data`,
          [d.id, d.category.value, d.criticality, d.vendor?.value ?? null, d.type?.value ?? null, d.os?.value ?? null, d.lifecycle.state, d.risk.score, d.firstSeen, d.lastSeen, searchText(d), JSON.stringify(d)],
        );
      }
    });
  }

  async devices(q: DeviceQuery = {}): Promise<{ total: number; items: DeviceRow[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.search !== undefined && q.search !== '') {
      where.push("search LIKE ? ESCAPE '\\'");
      params.push(`%${q.search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
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
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((await this.engine.all(`SELECT COUNT(*) AS n FROM devices ${clause}`, params))[0]?.n ?? 0);
    const sort = SORTS[q.sort ?? 'risk'];
    const order = (q.order ?? (q.sort === undefined || q.sort === 'risk' ? 'desc' : 'asc')) === 'desc' ? 'DESC' : 'ASC';
    const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
    const offset = Math.max(0, q.offset ?? 0);
    const rows = await this.engine.all(`SELECT id, category, criticality, vendor, type, os, eol_state, risk, first_seen, last_seen, data FROM devices ${clause} ORDER BY ${sort} ${order}, id ASC LIMIT ? OFFSET ?`, [...params, limit, offset]);
    return {
      total,
      items: rows.map((r) => {
        const d = parseJson(r.data) as AssessedDevice;
        return {
          id: String(r.id),
          category: String(r.category),
          criticality: String(r.criticality),
          vendor: (r.vendor as string | null) ?? null,
          type: (r.type as string | null) ?? null,
          os: (r.os as string | null) ?? null,
          eolState: String(r.eol_state),
          risk: Number(r.risk),
          ips: d.ips,
          hostnames: d.hostnames,
          firstSeen: Number(r.first_seen),
          lastSeen: Number(r.last_seen),
        };
      }),
    };
  }

  /** Every stored device in full, in pages (for hospital-wide reports). */
  async *allDevices(page = 2000): AsyncGenerator<AssessedDevice> {
    for (let offset = 0; ; offset += page) {
      const rows = await this.engine.all('SELECT data FROM devices ORDER BY id LIMIT ? OFFSET ?', [page, offset]);
      for (const r of rows) yield parseJson(r.data) as AssessedDevice;
      if (rows.length < page) return;
    }
  }

  async device(id: string): Promise<AssessedDevice | undefined> {
    const rows = await this.engine.all('SELECT data FROM devices WHERE id = ?', [id]);
    return rows[0] === undefined ? undefined : (parseJson(rows[0].data) as AssessedDevice);
  }

  /** Raises alerts; one already open under the same key is seen again, not duplicated. Returns how many are new. */
  async raiseAlerts(alerts: readonly NewAlert[]): Promise<number> {
    let added = 0;
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
      }
    });
    return added;
  }

  async alerts(q: { status?: AlertStatus; deviceId?: string; team?: string; limit?: number } = {}): Promise<Alert[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status !== undefined) {
      where.push('status = ?');
      params.push(q.status);
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
    const rows = await this.engine.all(`SELECT * FROM alerts ${clause} ORDER BY first_seen DESC, id DESC LIMIT ?`, [...params, Math.min(Math.max(1, q.limit ?? 100), 10_000)]);
    return rows.map(toAlert);
  }

  /** Changes an alert and records who did it, before and after, in the same transaction. */
  async updateAlert(id: number, change: AlertChange, actor: string, at = Date.now() / 1000): Promise<Alert> {
    return this.engine.transaction(async (tx) => {
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

  async users(): Promise<User[]> {
    return (await this.engine.all('SELECT * FROM users ORDER BY name')).map(toUser);
  }

  async userCount(): Promise<number> {
    return Number((await this.engine.all('SELECT COUNT(*) AS n FROM users'))[0]?.n ?? 0);
  }

  /** Stores a session or API token by its hash. A session expires; an API token lasts until revoked. */
  async addToken(hash: string, userId: number, kind: 'session' | 'api', label: string | null, expiresAt: number | null, at = Date.now() / 1000): Promise<void> {
    await this.engine.run('INSERT INTO sessions (token_hash, user_id, kind, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [hash, userId, kind, label, at, expiresAt]);
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

  close(): Promise<void> {
    return this.engine.close();
  }
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
