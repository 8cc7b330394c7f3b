import { after, before, test } from 'node:test';
import { EventEmitter } from 'node:events';
import { assessedDevice, riskOf } from '../../test/helpers/devices.ts';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { can, hashPassword, ROLES, type Action, type Role } from './auth.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import type { SqlStore } from '../store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-app-'));
let store: SqlStore;
let app: FastifyInstance;
const tokens = new Map<Role, string>();
const PASSWORD = 'a long enough passphrase';

function device(id: string) {
  return assessedDevice(id, {
    ips: ['10.1.0.5'],
    hostnames: ['CT-03'],
    category: { value: 'imaging', confidence: 0.7, rule: '', evidence: [] },
    criticality: 'diagnostic',
    lifecycle: { state: 'eol', basis: '' },
    risk: riskOf(42),
  });
}

before(async () => {
  store = await openSqliteStore(join(dir, 'app.db'));
  await store.upsertDevices([device('mac:00:1b:2c:00:00:01')]);
  await store.raiseAlerts([{ key: 'k1', deviceId: 'mac:00:1b:2c:00:00:01', kind: 'leak', severity: 'high', title: 'ASP.NET error page', detail: {}, teams: ['clinical-engineering', 'it-security'], at: 1 }]);
  for (const r of ROLES) await store.addUser(`u-${r}`, r, await hashPassword(PASSWORD), 'test');
  app = await buildApp({ store, loginPerMinute: 100 });
  for (const r of ROLES) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: `u-${r}`, password: PASSWORD } });
    assert.equal(res.statusCode, 200, res.body);
    tokens.set(r, (res.json() as { token: string }).token);
  }
});
after(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Reads a server-sent event stream as text, until what a test waits for has arrived. */
function eventStream(res: Response): { until: (re: RegExp) => Promise<void>; text: () => string; cancel: () => Promise<void> } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    until: async (re) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    },
    text: () => text,
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

/** Every authenticated route, with the action it needs and a request that would succeed. */
const ROUTES: { method: 'GET' | 'POST' | 'PATCH'; url: string; action: Action; payload?: Record<string, unknown>; ok: number }[] = [
  { method: 'GET', url: '/api/devices', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/devices/export.csv', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01/peers', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01/activity', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01/baseline', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/alerts/summary', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/findings', action: 'read', ok: 200 },
  { method: 'GET', url: '/api/me', action: 'read', ok: 200 },
  { method: 'PATCH', url: '/api/users/u-read-only', action: 'users.manage', payload: { role: 'read-only' }, ok: 200 },
  { method: 'GET', url: '/api/alerts', action: 'read', ok: 200 },
  { method: 'PATCH', url: '/api/alerts/1', action: 'alerts.triage', payload: { status: 'acknowledged' }, ok: 200 },
  { method: 'GET', url: '/api/alerts/1/comments', action: 'read', ok: 200 },
  { method: 'POST', url: '/api/alerts/1/comments', action: 'alerts.triage', payload: { text: 'vendor contacted' }, ok: 201 },
  { method: 'GET', url: '/api/audit', action: 'users.manage', ok: 200 },
  { method: 'GET', url: '/api/users', action: 'users.manage', ok: 200 },
  { method: 'POST', url: '/api/users', action: 'users.manage', payload: { name: 'new-user', role: 'read-only', password: PASSWORD }, ok: 201 },
  { method: 'GET', url: '/metrics', action: 'read', ok: 200 },
  { method: 'POST', url: '/api/tokens', action: 'read', payload: { label: 'SIEM' }, ok: 201 },
  { method: 'GET', url: '/api/reports/eol-forecast', action: 'reports.read', ok: 200 },
  { method: 'GET', url: '/api/reports/risk', action: 'reports.read', ok: 200 },
  { method: 'GET', url: '/api/reports/disclosure', action: 'reports.read', ok: 200 },
  { method: 'GET', url: '/api/reports/disclosure/vendors', action: 'reports.read', ok: 200 },
];

test('every route × every role: allowed exactly when the role table says so; no token is 401', async () => {
  for (const route of ROUTES) {
    const anon = await app.inject({ method: route.method, url: route.url, ...(route.payload !== undefined ? { payload: route.payload } : {}) });
    assert.equal(anon.statusCode, 401, `${route.method} ${route.url} without a token`);
    for (const role of ROLES) {
      const payload = route.payload !== undefined ? { ...route.payload, ...(route.url === '/api/users' ? { name: `n-${role}` } : {}) } : undefined;
      const res = await app.inject({ method: route.method, url: route.url, headers: { authorization: `Bearer ${tokens.get(role)}` }, ...(payload !== undefined ? { payload } : {}) });
      const expected = can(role, route.action) ? route.ok : 403;
      assert.equal(res.statusCode, expected, `${role} ${route.method} ${route.url}: ${res.body}`);
    }
  }
});

test('the session cookie works like the token; logout ends it', async () => {
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'u-analyst', password: PASSWORD } });
  const cookie = login.cookies.find((c) => c.name === 'vigil_session');
  assert.ok(cookie?.httpOnly);
  assert.equal(cookie?.sameSite, 'Strict');
  const headers = { cookie: `vigil_session=${cookie?.value}` };
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices', headers })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices', headers })).statusCode, 401);
});

test('the alert workflow: a clinical engineer assigns and resolves with a reason; the audit trail names them', async () => {
  const auth = { authorization: `Bearer ${tokens.get('clinical-engineer')}` };
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { status: 'assigned', assignee: 'team:clinical-engineering' } })).statusCode, 200);
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { assignee: 'biomed jane; drop table' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { status: 'assigned', assignee: 'biomed.jane' } })).statusCode, 200);
  const noReason = await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { status: 'resolved' } });
  assert.equal(noReason.statusCode, 400);
  assert.match(noReason.json<{ error: string }>().error, /needs a resolution/);
  const done = await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { status: 'resolved', resolution: 'web debug mode switched off by the vendor' } });
  assert.equal(done.statusCode, 200);
  const it = { authorization: `Bearer ${tokens.get('analyst')}` };
  assert.equal((await app.inject({ method: 'POST', url: '/api/alerts/1/comments', headers: it, payload: { text: 'IT: blocked at the firewall meanwhile' } })).statusCode, 201);
  const comments = (await app.inject({ method: 'GET', url: '/api/alerts/1/comments', headers: auth })).json<{ author: string; text: string }[]>();
  assert.ok(comments.some((c) => c.author === 'u-analyst' && /firewall/.test(c.text)), 'clinical engineering sees what IT wrote');
  const alert = (await app.inject({ method: 'GET', url: '/api/alerts', headers: auth })).json<{ id: number; dueAt: number; firstSeen: number; severity: string }[]>().find((a) => a.id === 1);
  assert.equal(alert?.dueAt, (alert?.firstSeen ?? 0) + 3 * 86400, 'a high alert is due in three days');
  const trail = await app.inject({ method: 'GET', url: '/api/audit?entity=alert', headers: { authorization: `Bearer ${tokens.get('admin')}` } });
  assert.ok(trail.json<{ actor: string }[]>().some((t) => t.actor === 'u-clinical-engineer'));
  // A read-only user may not even acknowledge.
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: { authorization: `Bearer ${tokens.get('read-only')}` }, payload: { status: 'new' } })).statusCode, 403);
});

test('bad input gets a 4xx with a clear message; oversize bodies are refused; unknown routes are 404', async () => {
  const auth = { authorization: `Bearer ${tokens.get('admin')}` };
  const bad = await app.inject({ method: 'GET', url: '/api/devices?limit=0', headers: auth });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json<{ error: string }>().error, /limit/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices?category=toaster', headers: auth })).statusCode, 400);
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/999', headers: auth, payload: { status: 'acknowledged' } })).statusCode, 404);
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/alerts/1', headers: auth, payload: { colour: 'red' } })).statusCode, 400);
  const big = await app.inject({ method: 'POST', url: '/api/users', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x', role: 'admin', password: 'y'.repeat(2 << 20) }) });
  assert.equal(big.statusCode, 413);
  assert.equal((await app.inject({ method: 'GET', url: '/api/nothing', headers: auth })).statusCode, 404);
  const weak = await app.inject({ method: 'POST', url: '/api/users', headers: auth, payload: { name: 'weak', role: 'analyst', password: 'short' } });
  assert.equal(weak.statusCode, 400);
});

test('behind a trusted TLS proxy: the session cookie is Secure and the login limit counts each client', async () => {
  const proxied = await buildApp({ store, loginPerMinute: 2, trustProxy: true });
  const login = (client: string) =>
    proxied.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-forwarded-for': client, 'x-forwarded-proto': 'https' }, payload: { name: 'u-analyst', password: PASSWORD } });
  const ok = await login('10.9.0.1');
  assert.equal(ok.cookies.find((c) => c.name === 'vigil_session')?.secure, true);
  await login('10.9.0.1');
  assert.equal((await login('10.9.0.1')).statusCode, 429);
  assert.equal((await login('10.9.0.2')).statusCode, 200, 'another client behind the same proxy is not locked out');
  await proxied.close();
});

test('login: wrong passwords are refused alike, and attempts are rate-limited', async () => {
  const limited = await buildApp({ store, loginPerMinute: 3 });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await limited.inject({ method: 'POST', url: '/api/auth/login', payload: { name: i % 2 === 0 ? 'u-admin' : 'nobody', password: 'wrong password!' } })).statusCode);
  assert.deepEqual(codes, [401, 401, 401, 429, 429]);
  await limited.close();
});

test('the walk above covers every route the OpenAPI document lists', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
  // Public routes, and the event stream (tested on a real socket below).
  const elsewhere = new Set(['GET /api/health', 'POST /api/auth/login', 'POST /api/auth/logout', 'GET /api/events']);
  const walked = new Set(ROUTES.map((r) => `${r.method} ${r.url.replace(/mac:00:1b:2c:00:00:01/, '{id}').replace(/\/alerts\/1\b/, '/alerts/{id}').replace(/\/users\/u-read-only/, '/users/{name}').split('?')[0]}`));
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const m of Object.keys(methods)) {
      const key = `${m.toUpperCase()} ${path}`;
      assert.ok(walked.has(key) || elsewhere.has(key), `${key} is not in the route × role walk`);
    }
  }
});

test('the live feed: server-sent events for raised and changed alerts; none without a session', async () => {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  assert.equal((await fetch(`${url}/api/events`)).status, 401);
  const ac = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers: { authorization: `Bearer ${tokens.get('read-only')}` }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events = eventStream(res);
  await events.until(/vigil live feed/);
  await store.raiseAlerts([{ key: 'sse-1', deviceId: null, kind: 'reconnaissance', severity: 'medium', title: 'probing from 10.9.9.9', detail: {}, teams: ['it-security'], at: 5 }]);
  await events.until(/probing from 10\.9\.9\.9/);
  assert.match(events.text(), /event: alert\ndata: \{.*"key":"sse-1"/);
  ac.abort();
  await events.cancel();
});

test('device pages: peers and hourly activity from the traffic summaries; a CSV export with the filters; who am I', async () => {
  const auth = { authorization: `Bearer ${tokens.get('clinical-engineer')}` };
  await store.putTraffic([{ source: 's', deviceId: 'mac:00:1b:2c:00:00:01', hour: 3600, peer: '10.1.0.9', service: 'tcp/104 dicom', packets: 10, bytes: 9000, flows: 1, firstSeen: 3700, lastSeen: 3800 }]);
  const peers = (await app.inject({ method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01/peers', headers: auth })).json<{ items: { peer: string; service: string; bytes: number }[] }>();
  assert.deepEqual(peers.items.map((p) => [p.peer, p.service, p.bytes]), [['10.1.0.9', 'tcp/104 dicom', 9000]]);
  const activity = (await app.inject({ method: 'GET', url: '/api/devices/mac:00:1b:2c:00:00:01/activity', headers: auth })).json<{ hours: { at: number; bytes: number }[] }>();
  assert.deepEqual(activity.hours.map((h) => [h.at, h.bytes]), [[3600, 9000]]);
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices/mac:nope/peers', headers: auth })).statusCode, 404);
  const csv = await app.inject({ method: 'GET', url: '/api/devices/export.csv?category=imaging&subnet=10.1.0.0/24', headers: auth });
  assert.match(csv.headers['content-disposition'] as string, /attachment; filename="vigil-inventory-/);
  const lines = csv.body.trim().split('\r\n');
  assert.match(lines[0] ?? '', /^id,risk,category/);
  assert.equal(lines.length, 2);
  assert.match(lines[1] ?? '', /^mac:00:1b:2c:00:00:01,42,imaging/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices/export.csv?subnet=10.1.0.0/24', headers: auth })).body.trim().split('\r\n').length, 2);
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices/export.csv?subnet=10.9.0.0/16', headers: auth })).body.trim().split('\r\n').length, 1, 'no device there: the header only');
  const bad = await app.inject({ method: 'GET', url: '/api/devices/export.csv?subnet=banana', headers: auth });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json<{ error: string }>().error, /not an IPv4 CIDR/);
  const badList = await app.inject({ method: 'GET', url: '/api/devices?subnet=10.0.0.0/99', headers: auth });
  assert.equal(badList.statusCode, 400);
  assert.match(badList.json<{ error: string }>().error, /not an IPv4 CIDR/);
  const findings = (await app.inject({ method: 'GET', url: '/api/findings?kind=eol', headers: auth })).json<{ total: number; items: { deviceId: string; kind: string; severity: string; deviceName: string }[] }>();
  assert.deepEqual(findings.items.map((f) => [f.deviceId, f.kind, f.deviceName]), [['mac:00:1b:2c:00:00:01', 'eol', 'CT-03']]);
  assert.equal((await app.inject({ method: 'GET', url: '/api/findings?minSeverity=critical', headers: auth })).json<{ total: number }>().total, 0);
  const me = (await app.inject({ method: 'GET', url: '/api/me', headers: auth })).json<{ name: string; role: string; may: string[] }>();
  assert.deepEqual([me.name, me.role], ['u-clinical-engineer', 'clinical-engineer']);
  assert.ok(me.may.includes('alerts.resolve') && !me.may.includes('users.manage'));
  const admin = { authorization: `Bearer ${tokens.get('admin')}` };
  assert.equal((await app.inject({ method: 'PATCH', url: '/api/users/u-admin', headers: admin, payload: { disabled: true } })).statusCode, 409, 'an admin cannot lock themselves out');
});

test('health is public; the OpenAPI document lists the routes', async () => {
  const h = await app.inject({ method: 'GET', url: '/api/health' });
  assert.equal(h.statusCode, 200);
  assert.equal(h.json<{ status: string }>().status, 'ok');
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown> }>();
  assert.match(doc.openapi, /^3\./);
  for (const p of ['/api/health', '/api/auth/login', '/api/devices', '/api/devices/{id}', '/api/alerts', '/api/alerts/{id}', '/api/audit', '/api/users']) assert.ok(p in doc.paths, `${p} in OpenAPI`);
});

test('reports: the EOL forecast and the risk summary from the stored devices; an API token works like a session', async () => {
  const auth = { authorization: `Bearer ${tokens.get('read-only')}` };
  const forecast = (await app.inject({ method: 'GET', url: '/api/reports/eol-forecast', headers: auth })).json<{ date: string; all: { devices: number } }[]>();
  assert.equal(forecast.length, 5);
  assert.equal(forecast[0]?.all.devices, 1);
  const risk = (await app.inject({ method: 'GET', url: '/api/reports/risk', headers: auth })).json<{ bands: Record<string, number>; top: { risk: number }[] }>();
  assert.deepEqual(risk.bands, { '0-29': 0, '30-59': 1, '60-100': 0 });
  assert.equal(risk.top[0]?.risk, 42);
  const md = await app.inject({ method: 'GET', url: '/api/reports/disclosure', headers: auth });
  assert.match(md.headers['content-type'] as string, /markdown/);
  assert.match(md.body, /hospital-wide summary/);
  const t = (await app.inject({ method: 'POST', url: '/api/tokens', headers: auth, payload: { label: 'dashboard TV' } })).json<{ token: string }>();
  assert.equal((await app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `Bearer ${t.token}` } })).statusCode, 200);
  const trail = (await app.inject({ method: 'GET', url: '/api/audit?entity=user', headers: { authorization: `Bearer ${tokens.get('admin')}` } })).json<{ actor: string; action: string; after: { label?: string } }[]>();
  assert.ok(trail.some((e) => e.actor === 'u-read-only' && e.action === 'token.create' && e.after.label === 'dashboard TV'), 'an API token is audited (its label, never the token)');
});

test('the dashboard: its files, index.html for page paths, JSON 404s for the API; security headers', async () => {
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Vigil</title><div id="root"></div>');
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
  const withWeb = await buildApp({ store, webRoot: web });
  const page = await withWeb.inject({ method: 'GET', url: '/devices/mac:00:1b:2c:00:00:01' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<title>Vigil<\/title>/);
  assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.match((await withWeb.inject({ method: 'GET', url: '/assets/app.js' })).headers['content-type'] as string, /javascript/);
  assert.equal((await withWeb.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode, 404);
  const api = await withWeb.inject({ method: 'GET', url: '/api/nothing' });
  assert.equal(api.statusCode, 404);
  assert.match(api.headers['content-type'] as string, /json/);
  await withWeb.close();
});

test('the live feed also carries the capture side’s state changes', async () => {
  const ingestEvents = new EventEmitter<{ ingest: [Record<string, unknown>] }>();
  const live = await buildApp({ store, ingestEvents });
  const url = await live.listen({ port: 0, host: '127.0.0.1' });
  const ac = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers: { authorization: `Bearer ${tokens.get('read-only')}` }, signal: ac.signal });
  const events = eventStream(res);
  await events.until(/vigil live feed/);
  ingestEvents.emit('ingest', { state: 'reading', source: 'ward7-0001.pcap' });
  await events.until(/ward7-0001/);
  assert.match(events.text(), /event: ingest\ndata: \{"state":"reading","source":"ward7-0001.pcap"\}/);
  ac.abort();
  await events.cancel();
  for (let i = 0; i < 50 && ingestEvents.listenerCount('ingest') > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ingestEvents.listenerCount('ingest'), 0, 'a closed stream stops listening');
  await live.close();
});
