/**
 * Users, roles and secrets: what the server's login, sessions and API tokens rest on.
 *
 * Passwords are stored as scrypt hashes (RFC 7914; N = 2^15, r = 8, p = 1, 16-byte salt), in a
 * self-describing string so the parameters can be raised later without breaking old hashes, and
 * compared in constant time. Session and API tokens are 32 random bytes; only their SHA-256 is
 * stored, so a copy of the database opens no session.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const ROLES = ['admin', 'analyst', 'clinical-engineer', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do. Every route names one action; the check is `can(role, action)`. */
export const ACTIONS = ['read', 'alerts.triage', 'alerts.resolve', 'devices.annotate', 'reports.read', 'knowledge.import', 'users.manage', 'settings.manage'] as const;
export type Action = (typeof ACTIONS)[number];

const PERMISSIONS: Record<Role, readonly Action[]> = {
  admin: ACTIONS,
  // IT security and clinical engineering share the alert workflow; only IT imports threat data.
  analyst: ['read', 'alerts.triage', 'alerts.resolve', 'devices.annotate', 'reports.read', 'knowledge.import'],
  'clinical-engineer': ['read', 'alerts.triage', 'alerts.resolve', 'devices.annotate', 'reports.read'],
  'read-only': ['read', 'reports.read'],
};

export function can(role: Role, action: Action): boolean {
  return PERMISSIONS[role].includes(action);
}

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY = 32;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEY, opts, (err, key) => (err !== null ? reject(err) : resolve(key))));
}

/** "scrypt$32768$8$1$<salt b64>$<hash b64>". */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return false;
  const expected = Buffer.from(parts[5] as string, 'base64');
  const key = await scrypt(password, Buffer.from(parts[4] as string, 'base64'), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A new secret token (session or API) and the hash that is stored for it. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token) };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A first admin's password: printed once at first start, never a default. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A password a hospital would accept for a system holding device and alert data. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 12) return 'a password needs at least 12 characters';
  if (password.length > 1024) return 'a password may have at most 1024 characters';
  return undefined;
}
