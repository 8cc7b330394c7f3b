/**
 * The embedded engine: better-sqlite3 in WAL mode with synchronous=FULL, so a committed transaction
 * survives a crash (kill -9, power loss of the process) and readers never block the writer.
 * better-sqlite3 is synchronous; the store's interface is async for PostgreSQL's sake.
 */
import Database from 'better-sqlite3';
import type { Row, SqlEngine } from './store.ts';
import { SqlStore } from './store.ts';

class SqliteEngine implements SqlEngine {
  readonly dialect = 'sqlite' as const;
  private depth = 0;
  // The store builds its SQL from a few templates: compiling each once saves most of a small query.
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      if (this.statements.size >= 500) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<void> {
    this.prepare(sql).run(...(params as unknown[]));
  }

  async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const st = this.prepare(sql);
    // A statement that returns no rows (DDL, a plain INSERT) cannot be asked for them.
    if (!st.reader) {
      st.run(...(params as unknown[]));
      return [];
    }
    return st.all(...(params as unknown[])) as Row[];
  }

  async transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T> {
    // One connection, statements run synchronously: BEGIN/COMMIT around the awaited function is a
    // real transaction as long as nothing else uses the connection meanwhile (the store serialises).
    if (this.depth > 0) return fn(this);
    this.depth++;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = await fn(this);
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    } finally {
      this.depth--;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Opens (creating if needed) the SQLite store at `file` and brings its schema up to date. */
export async function openSqliteStore(file: string): Promise<SqlStore> {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const store = new SqlStore(new SqliteEngine(db));
  await store.migrate();
  return store;
}
