/**
 * The shared engine: PostgreSQL through node-postgres, a pool of connections, each transaction on a
 * connection of its own. The store's SQL uses `?` placeholders; they become $1, $2 … here.
 */
import pg from 'pg';
import type { Row, SqlEngine } from './store.ts';
import { SqlStore } from './store.ts';

function numbered(sql: string): string {
  let n = 0;
  // Placeholders are never inside the store's string literals (it has none with '?').
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = { query: (sql: string, params?: unknown[]) => Promise<{ rows: Row[] }> };

class PgEngine implements SqlEngine {
  readonly dialect = 'postgres' as const;
  constructor(
    private readonly q: Queryable,
    private readonly pool: pg.Pool | undefined,
  ) {}

  async run(sql: string, params: readonly unknown[] = []): Promise<void> {
    await this.q.query(numbered(sql), [...params]);
  }

  async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.q.query(numbered(sql), [...params])).rows;
  }

  async transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T> {
    if (this.pool === undefined) return fn(this); // already inside one
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await fn(new PgEngine(client as unknown as Queryable, undefined));
      await client.query('COMMIT');
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }
}

/** Connects to `url` (postgres://…) and brings the schema up to date. */
export async function openPostgresStore(url: string): Promise<SqlStore> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // REAL/DOUBLE and BIGINT come back as numbers; counts (bigint) as strings — the store converts.
  const store = new SqlStore(new PgEngine(pool as unknown as Queryable, pool));
  try {
    await store.migrate();
  } catch (e) {
    await pool.end();
    throw e;
  }
  return store;
}
