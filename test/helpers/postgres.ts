/**
 * A fresh PostgreSQL database on this machine's server for one test file (dropped after it), or
 * undefined when there is no PostgreSQL. Starts the machine's cluster if it is down.
 */
import { after } from 'node:test';
import { execSync } from 'node:child_process';
import pg from 'pg';

export async function postgresUrl(): Promise<string | undefined> {
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  const ready = async () => {
    const c = new pg.Client({ connectionString: admin });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      return false;
    }
  };
  if (!(await ready())) {
    // The machine's PostgreSQL, as its environment starts it.
    try {
      execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', { stdio: 'ignore', shell: '/bin/bash' });
    } catch {
      return undefined;
    }
    for (let i = 0; i < 20 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 250));
    if (!(await ready())) return undefined;
  }
  const name = `vigil_test_${process.pid}_${Date.now()}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  after(async () => {
    const d = new pg.Client({ connectionString: admin });
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await d.end();
  });
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}
