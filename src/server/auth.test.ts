import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, ROLES, can, hashPassword, newToken, passwordProblem, randomPassword, tokenHash, verifyPassword } from './auth.ts';

test('scrypt hashes: salted, self-describing, verified in constant time; wrong or malformed never verify', async () => {
  const a = await hashPassword('correct horse battery staple');
  const b = await hashPassword('correct horse battery staple');
  assert.notEqual(a, b, 'salted');
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(await verifyPassword('correct horse battery staple', a));
  assert.ok(!(await verifyPassword('correct horse battery stapl', a)));
  assert.ok(!(await verifyPassword('x', 'plain-text')));
  assert.ok(!(await verifyPassword('x', 'scrypt$99999999$8$1$AA==$AA==')), 'absurd parameters are refused, not computed');
});

test('every role × action is decided by the table; read-only reads, only admins manage users', () => {
  const allowed = ROLES.map((r) => [r, ACTIONS.filter((a) => can(r, a))] as const);
  assert.deepEqual(Object.fromEntries(allowed.map(([r, a]) => [r, a.length])), { admin: 8, analyst: 6, 'clinical-engineer': 5, 'read-only': 2 });
  for (const r of ROLES) assert.ok(can(r, 'read'));
  assert.deepEqual(ROLES.filter((r) => can(r, 'users.manage')), ['admin']);
  assert.ok(can('clinical-engineer', 'alerts.resolve'));
  assert.ok(!can('read-only', 'alerts.triage'));
});

test('tokens are random and stored only as hashes; generated passwords are long', () => {
  const t = newToken();
  assert.equal(t.hash, tokenHash(t.token));
  assert.notEqual(t.token, newToken().token);
  assert.match(t.hash, /^[0-9a-f]{64}$/);
  assert.ok(randomPassword().length >= 24);
  assert.equal(passwordProblem('short'), 'a password needs at least 12 characters');
  assert.equal(passwordProblem('a much longer passphrase'), undefined);
});
