/**
 * Versioned schema migrations, one list for both engines (the SQL differs only where the engines
 * do: auto-increment keys and floating point). A migration is applied once, in its own transaction,
 * and recorded in schema_migrations; never edit an applied one — add the next.
 */
export interface Migration {
  version: number;
  description: string;
  sqlite: readonly string[];
  postgres: readonly string[];
}

const common = (serial: string, real: string): string[] => [
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     category TEXT NOT NULL,
     criticality TEXT NOT NULL,
     vendor TEXT,
     type TEXT,
     os TEXT,
     eol_state TEXT NOT NULL,
     risk INTEGER NOT NULL,
     first_seen ${real} NOT NULL,
     last_seen ${real} NOT NULL,
     search TEXT NOT NULL,
     data TEXT NOT NULL
   )`,
  'CREATE INDEX devices_risk ON devices (risk)',
  'CREATE INDEX devices_category ON devices (category)',
  'CREATE INDEX devices_last_seen ON devices (last_seen)',
  `CREATE TABLE alerts (
     id ${serial},
     alert_key TEXT NOT NULL,
     device_id TEXT,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL,
     title TEXT NOT NULL,
     detail TEXT NOT NULL,
     teams TEXT NOT NULL,
     status TEXT NOT NULL,
     assignee TEXT,
     resolution TEXT,
     first_seen ${real} NOT NULL,
     last_seen ${real} NOT NULL,
     updated_at ${real} NOT NULL
   )`,
  'CREATE INDEX alerts_key ON alerts (alert_key, status)',
  'CREATE INDEX alerts_device ON alerts (device_id)',
  `CREATE TABLE audit (
     id ${serial},
     at ${real} NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     entity TEXT NOT NULL,
     entity_id TEXT NOT NULL,
     before TEXT,
     after TEXT
   )`,
  'CREATE INDEX audit_entity ON audit (entity, entity_id)',
];

const users = (serial: string, real: string): string[] => [
  `CREATE TABLE users (
     id ${serial},
     name TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     created_at ${real} NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     user_id INTEGER NOT NULL,
     kind TEXT NOT NULL,
     label TEXT,
     created_at ${real} NOT NULL,
     expires_at ${real}
   )`,
  'CREATE INDEX sessions_user ON sessions (user_id)',
];

const workflow = (serial: string, real: string): string[] => [
  `ALTER TABLE alerts ADD COLUMN due_at ${real}`,
  `CREATE TABLE alert_comments (
     id ${serial},
     alert_id INTEGER NOT NULL,
     at ${real} NOT NULL,
     author TEXT NOT NULL,
     text TEXT NOT NULL
   )`,
  'CREATE INDEX alert_comments_alert ON alert_comments (alert_id)',
];

const traffic = (real: string, big: string): string[] => [
  // The list columns, so a page of 10,000 rows needs no parse of each device's whole document.
  'ALTER TABLE devices ADD COLUMN model TEXT',
  'ALTER TABLE devices ADD COLUMN vlan INTEGER',
  'ALTER TABLE devices ADD COLUMN list TEXT',
  // For the overview without reading every document: has a known-exploited vulnerability; when
  // all its OS releases end (Unix seconds; 0 = ended on an unknown date, 1e15 = no end announced).
  'ALTER TABLE devices ADD COLUMN kev INTEGER',
  `ALTER TABLE devices ADD COLUMN eol_at ${real}`,
  // One row per address a device holds: the subnet filter is a range scan on ip4.
  `CREATE TABLE device_ips (
     device_id TEXT NOT NULL,
     ip TEXT NOT NULL,
     ip4 ${big},
     PRIMARY KEY (device_id, ip)
   )`,
  'CREATE INDEX device_ips_ip4 ON device_ips (ip4)',
  'CREATE INDEX device_ips_ip ON device_ips (ip)',
  // Flows summarised per device, hour, peer and service: the communication peers and the volume
  // over time. Pruned by age (the retention limit). `source` (a capture file, a live run) makes a
  // write idempotent: the same source's totals replace, so re-reading a file after a crash does not
  // count it twice.
  `CREATE TABLE traffic (
     source TEXT NOT NULL,
     device_id TEXT NOT NULL,
     hour ${real} NOT NULL,
     peer TEXT NOT NULL,
     service TEXT NOT NULL,
     packets ${big} NOT NULL,
     bytes ${big} NOT NULL,
     flows ${big} NOT NULL,
     first_seen ${real} NOT NULL,
     last_seen ${real} NOT NULL,
     PRIMARY KEY (device_id, hour, peer, service, source)
   )`,
  'CREATE INDEX traffic_hour ON traffic (hour)',
  // Learnt behaviour (baselines, models), per device and per peer group, as versioned documents.
  `CREATE TABLE models (
     subject TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     data TEXT NOT NULL,
     updated_at ${real} NOT NULL
   )`,
  // Capture files already analysed (--watch), so a restart resumes where it stopped.
  `CREATE TABLE ingested_files (
     path TEXT PRIMARY KEY,
     size ${big} NOT NULL,
     frames ${big} NOT NULL,
     done_at ${real} NOT NULL
   )`,
  'CREATE INDEX alerts_first_seen ON alerts (first_seen, id)',
  'CREATE INDEX alerts_status_first_seen ON alerts (status, first_seen, id)',
  'CREATE INDEX alerts_severity_first_seen ON alerts (severity, first_seen, id)',
];

/**
 * The device list is read far more than written: the table lists and filters scan becomes narrow
 * (the documents, several KB each, move to device_docs), with indexes in the orders the list sorts
 * by, and a trigram index for search on any identity field (FTS5 in SQLite, pg_trgm in PostgreSQL).
 * `seq` is a stable row number the SQLite search index is keyed by.
 */
const narrowDevices = (dialect: 'sqlite' | 'postgres'): string[] => {
  const real = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const columns = 'id, category, criticality, vendor, model, type, os, eol_state, risk, first_seen, last_seen, vlan, kev, eol_at, search, list';
  return [
    'CREATE TABLE device_docs (id TEXT PRIMARY KEY, data TEXT NOT NULL)',
    'INSERT INTO device_docs (id, data) SELECT id, data FROM devices',
    `CREATE TABLE devices_v5 (
       seq ${dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY'},
       id TEXT NOT NULL UNIQUE,
       category TEXT NOT NULL,
       criticality TEXT NOT NULL,
       vendor TEXT,
       model TEXT,
       type TEXT,
       os TEXT,
       eol_state TEXT NOT NULL,
       risk INTEGER NOT NULL,
       first_seen ${real} NOT NULL,
       last_seen ${real} NOT NULL,
       vlan INTEGER,
       kev INTEGER,
       eol_at ${real},
       search TEXT NOT NULL,
       list TEXT
     )`,
    `INSERT INTO devices_v5 (${columns}) SELECT ${columns} FROM devices ORDER BY id`,
    'DROP TABLE devices',
    'ALTER TABLE devices_v5 RENAME TO devices',
    'CREATE INDEX devices_risk ON devices (risk DESC, id)',
    'CREATE INDEX devices_category ON devices (category, id)',
    'CREATE INDEX devices_vendor ON devices (vendor, id)',
    'CREATE INDEX devices_last_seen ON devices (last_seen, id)',
    'CREATE INDEX devices_vlan ON devices (vlan)',
    ...(dialect === 'sqlite'
      ? ["CREATE VIRTUAL TABLE device_search USING fts5(search, tokenize = 'trigram')", 'INSERT INTO device_search (rowid, search) SELECT seq, search FROM devices']
      : ['CREATE EXTENSION IF NOT EXISTS pg_trgm', 'CREATE INDEX devices_search ON devices USING gin (search gin_trgm_ops)']),
  ];
};

const findings = (): string[] => [
  `CREATE TABLE findings (
     device_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     ref TEXT NOT NULL,
     severity TEXT NOT NULL,
     severity_rank INTEGER NOT NULL,
     title TEXT NOT NULL,
     detail TEXT NOT NULL,
     PRIMARY KEY (device_id, kind, ref)
   )`,
  'CREATE INDEX findings_rank ON findings (severity_rank DESC, device_id)',
  'CREATE INDEX findings_kind ON findings (kind, severity_rank DESC)',
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'devices, alerts, audit log',
    sqlite: common('INTEGER PRIMARY KEY AUTOINCREMENT', 'REAL'),
    postgres: common('BIGSERIAL PRIMARY KEY', 'DOUBLE PRECISION'),
  },
  {
    version: 2,
    description: 'users, sessions and API tokens',
    sqlite: users('INTEGER PRIMARY KEY AUTOINCREMENT', 'REAL'),
    postgres: users('BIGSERIAL PRIMARY KEY', 'DOUBLE PRECISION'),
  },
  {
    version: 3,
    description: 'alert due dates and comments',
    sqlite: workflow('INTEGER PRIMARY KEY AUTOINCREMENT', 'REAL'),
    postgres: workflow('BIGSERIAL PRIMARY KEY', 'DOUBLE PRECISION'),
  },
  {
    version: 4,
    description: 'device list columns and addresses, traffic summaries, learnt models, ingested files, alert list indexes',
    sqlite: traffic('REAL', 'INTEGER'),
    postgres: traffic('DOUBLE PRECISION', 'BIGINT'),
  },
  {
    version: 5,
    description: 'narrow device table (documents apart), list-order indexes, trigram search index',
    sqlite: narrowDevices('sqlite'),
    postgres: narrowDevices('postgres'),
  },
  {
    version: 6,
    description: 'findings per device (end of life, vulnerabilities, leaks), rewritten with the device',
    sqlite: findings(),
    postgres: findings(),
  },
];
