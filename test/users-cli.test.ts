/** `vigil users add`: password from stdin, roles checked, names unique, the embedded database created. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { verifyPassword } from '../src/server/auth.ts';

const VIGIL = new URL('../bin/vigil.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vigil-users-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function vigil(args: string[], input: string) {
  const r = spawnSync(process.execPath, [VIGIL, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('users add: the password comes from stdin and is stored as a scrypt hash; bad role, weak password and duplicates are refused', async () => {
  const ok = vigil(['users', 'add', 'jane', '--role', 'clinical-engineer', '--data-dir', dir], 'a long enough passphrase\n');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'added jane (clinical-engineer)');
  assert.ok(existsSync(join(dir, 'vigil.db')));
  assert.equal(vigil(['users', 'add', 'bob', '--role', 'root', '--data-dir', dir], 'a long enough passphrase').code, 2);
  const weak = vigil(['users', 'add', 'bob', '--role', 'analyst', '--data-dir', dir], 'short');
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /at least 12 characters/);
  const dup = vigil(['users', 'add', 'jane', '--role', 'admin', '--data-dir', dir], 'another long passphrase');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /user jane exists/);
  const store = await openSqliteStore(join(dir, 'vigil.db'));
  const jane = await store.userByName('jane');
  assert.ok(jane !== undefined && (await verifyPassword('a long enough passphrase', jane.passwordHash)));
  assert.ok(!jane.passwordHash.includes('passphrase'));
  await store.close();
});
