/**
 * `vigil users add NAME --role ROLE`: the password is read from stdin (never from the command line,
 * where other users of the machine could see it in the process list).
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { hashPassword, isRole, passwordProblem, ROLES } from '../server/auth.ts';
import type { SqlStore } from '../store/store.ts';

export function defaultDataDir(): string {
  return process.env.VIGIL_DATA_DIR ?? join(homedir(), '.local', 'share', 'vigil');
}

export async function openStore(o: { dataDir?: string; database?: string }): Promise<SqlStore> {
  if (o.database !== undefined) {
    const { openPostgresStore } = await import('../store/postgres.ts');
    return openPostgresStore(o.database);
  }
  const dir = o.dataDir ?? defaultDataDir();
  mkdirSync(dir, { recursive: true });
  const { openSqliteStore } = await import('../store/sqlite.ts');
  return openSqliteStore(join(dir, 'vigil.db'));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function usersAddCommand(name: string, o: { role: string; dataDir?: string; database?: string }): Promise<number> {
  if (!isRole(o.role)) {
    process.stderr.write(`vigil users add: --role must be one of ${ROLES.join(', ')}\n`);
    return 2;
  }
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
    process.stderr.write('vigil users add: a user name is 1–64 letters, digits, dots, dashes, underscores or @\n');
    return 2;
  }
  const password = await readStdin();
  const problem = passwordProblem(password);
  if (problem !== undefined) {
    process.stderr.write(`vigil users add: ${problem} (read from stdin)\n`);
    return 2;
  }
  const store = await openStore(o);
  try {
    await store.addUser(name, o.role, await hashPassword(password), `cli:${process.env.USER ?? 'unknown'}`);
    process.stdout.write(`added ${name} (${o.role})\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`vigil users add: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
