/**
 * The REST API (fastify): one place where IT security and clinical engineering see the same
 * devices and alerts. Every route declares the action it needs (see auth.ts); one hook checks it
 * against the caller's role, from a session cookie or an API token. Request and response shapes
 * are JSON Schemas on the routes: fastify validates with them, and /api/openapi.json is generated
 * from them.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { Readable } from 'node:stream';
import { ACTIONS, can, hashPassword, isRole, newToken, passwordProblem, ROLES, tokenHash, verifyPassword, type Action } from './auth.ts';
import { ALERT_STATUSES, type Alert, type AlertChange, type AlertQuery, type AlertStatus, type DeviceQuery, type FindingQuery, type SqlStore, type User } from '../store/store.ts';
import type { DeviceListIndex } from '../store/device-index.ts';
import { baselineSummary } from '../behavior/summary.ts';
import { LEARN_SECONDS, type BaselineSnapshot } from '../behavior/baseline.ts';
import type { Role } from './auth.ts';
import type { WriterHealth } from '../store/writer.ts';
import { CATEGORIES } from '../inventory/device.ts';
import { eolForecastOfEnds, standardForecastDates } from '../assess/lifecycle.ts';
import { existsSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { INVENTORY_COLUMNS, inventoryCsvRow } from '../export/csv.ts';
import { installRoot } from '../knowledge/paths.ts';
import { SEVERITIES } from '../assess/finding.ts';
import { FINDING_KINDS } from '../assess/device-findings.ts';
import { disclosureReports, leakSummary, renderHtml, renderMarkdown, renderSummaryHtml, renderSummaryMarkdown } from '../report/disclosure.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The action the route needs; absent only on the public routes (health, login, OpenAPI). */
    action?: Action;
  }
  interface FastifyRequest {
    user?: User;
  }
}

export interface AppOptions {
  store: SqlStore;
  /** The batched writer's state, for /api/health. */
  writer?: () => WriterHealth;
  /** What the capture side is doing, for /api/health. */
  ingest?: () => Record<string, unknown>;
  /** Its changes, for the live feed (`ingest` events). */
  ingestEvents?: EventEmitter<{ ingest: [Record<string, unknown>] }>;
  /** Session lifetime in seconds (default 8 h: a shift). */
  sessionSeconds?: number;
  /** Login attempts per minute per client address (default 10). */
  loginPerMinute?: number;
  version?: string;
  /** The learning period the analysis runs with (seconds; default 24 h), for the baseline's state. */
  learnSeconds?: number;
  /** The device list's in-memory index (see device-index.ts); without it the list is asked of the store. */
  deviceIndex?: DeviceListIndex;
  /**
   * Behind a TLS proxy: trust its X-Forwarded-For/-Proto, so the login limit counts each client (not
   * the proxy) and session cookies are marked Secure.
   */
  trustProxy?: boolean;
  /** The built dashboard (default: web/dist of the installation, when it has been built). */
  webRoot?: string;
}

const SESSION_COOKIE = 'vigil_session';

const errorSchema = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } as const;
const deviceFilterProps = {
  search: { type: 'string', maxLength: 200 },
  category: { type: 'string', enum: [...CATEGORIES] },
  eol: { type: 'string', enum: ['eol', 'supported', 'unknown'] },
  minRisk: { type: 'integer', minimum: 0, maximum: 100 },
  maxRisk: { type: 'integer', minimum: 0, maximum: 100 },
  vendor: { type: 'string', maxLength: 200 },
  os: { type: 'string', maxLength: 200 },
  subnet: { type: 'string', maxLength: 43, description: 'IPv4 CIDR block, e.g. 10.2.0.0/16' },
  vlan: { type: 'integer', minimum: 0, maximum: 4095 },
} as const;
const deviceFilterSchema = { type: 'object', properties: deviceFilterProps, additionalProperties: false } as const;
const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 200 } }, required: ['id'] } as const;

export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  // Unknown fields are refused, not silently dropped: a typo in a request must not pass as a no-op.
  const app = Fastify({ bodyLimit: 1 << 20, logger: false, trustProxy: o.trustProxy === true, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } } });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Vigil API', version: o.version ?? '0.1.0', description: 'Passive security monitoring of medical devices: inventory, alerts, audit.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API token (or the session token from /api/auth/login)' },
          cookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
    },
  });
  const { store } = o;
  const sessionSeconds = o.sessionSeconds ?? 8 * 3600;

  // Errors: a clear message and a 4xx for what the client did wrong; never a stack trace.
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.status(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  // The dashboard: its files, and index.html for any other page path (the app routes in the browser).
  const webRoot = o.webRoot ?? join(installRoot(), 'web', 'dist');
  const hasWeb = existsSync(join(webRoot, 'index.html'));
  if (hasWeb) await app.register(fastifyStatic, { root: webRoot, wildcard: false, index: 'index.html', maxAge: 3600_000 });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (hasWeb && req.method === 'GET' && !path.startsWith('/api/') && path !== '/metrics' && !/\.[a-z0-9]+$/i.test(path)) return reply.type('text/html; charset=utf-8').sendFile('index.html', { maxAge: 0 });
    return reply.status(404).send({ error: `no route ${req.method} ${path}` });
  });
  // The dashboard loads nothing from elsewhere and is never framed; responses are not sniffed.
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    return payload;
  });

  async function who(req: FastifyRequest): Promise<User | undefined> {
    const auth = req.headers.authorization;
    const token = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7).trim() : req.cookies[SESSION_COOKIE];
    if (token === undefined || token === '') return undefined;
    return store.tokenUser(tokenHash(token));
  }

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const action = req.routeOptions.config.action;
    if (action === undefined) return;
    const user = await who(req);
    if (user === undefined) return reply.status(401).send({ error: 'log in (POST /api/auth/login) or send an API token' });
    if (!can(user.role, action)) return reply.status(403).send({ error: `role ${user.role} may not ${action}` });
    req.user = user;
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/health',
    { schema: { summary: 'Is the store writable and the capture running', response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => {
      const writer = o.writer?.();
      return { status: writer === undefined || writer.state === 'ok' ? 'ok' : 'degraded', version: o.version ?? '0.1.0', store: writer ?? null, ingest: o.ingest?.() ?? null };
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { rateLimit: { max: o.loginPerMinute ?? 10, timeWindow: 60_000 } },
      schema: {
        summary: 'Log in: a session cookie, and the same token for scripts',
        body: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['name', 'password'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { token: { type: 'string' }, user: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' } } } } }, 401: errorSchema },
      },
    },
    async (req, reply) => {
      const { name, password } = req.body as { name: string; password: string };
      const user = await store.userByName(name);
      // Same work and same answer for an unknown name and a wrong password.
      const ok = user !== undefined && !user.disabled ? await verifyPassword(password, user.passwordHash) : (await hashPassword(password), false);
      if (!ok || user === undefined) return reply.status(401).send({ error: 'wrong name or password' });
      const t = newToken();
      await store.addToken(t.hash, user.id, 'session', null, Date.now() / 1000 + sessionSeconds);
      void reply.setCookie(SESSION_COOKIE, t.token, { httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', path: '/', maxAge: sessionSeconds });
      return { token: t.token, user: { name: user.name, role: user.role } };
    },
  );

  app.post('/api/auth/logout', { config: { action: 'read' }, schema: { summary: 'End this session' } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE] ?? req.headers.authorization?.slice(7);
    if (token !== undefined) await store.revokeToken(tokenHash(token));
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get(
    '/api/devices',
    {
      config: { action: 'read' },
      schema: {
        summary: 'Devices: search any identity field, filter, sort, paginate',
        querystring: {
          type: 'object',
          properties: {
            ...deviceFilterProps,
            sort: { type: 'string', enum: ['risk', 'id', 'last_seen', 'vendor', 'category'] },
            order: { type: 'string', enum: ['asc', 'desc'] },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
          additionalProperties: false,
        },
      },
    },
    // A malformed filter throws a QueryError, which carries its 400 to the error handler.
    async (req) => (o.deviceIndex !== undefined ? o.deviceIndex.query(req.query as DeviceQuery) : store.devices(req.query as DeviceQuery)),
  );

  app.get(
    '/api/devices/export.csv',
    { config: { action: 'read' }, schema: { summary: 'The inventory (the same filters as /api/devices) as CSV, for a CMMS or a spreadsheet', querystring: deviceFilterSchema } },
    async (req, reply) => {
      const q = req.query as DeviceQuery;
      const rows = store.allDevices(q);
      // The first page is read before the first byte goes out: a bad filter is a 400, not a broken download.
      const first = await rows.next();
      void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="vigil-inventory-${new Date().toISOString().slice(0, 10)}.csv"`);
      async function* lines(): AsyncGenerator<string> {
        yield `${INVENTORY_COLUMNS.join(',')}\r\n`;
        if (first.done !== true) yield `${inventoryCsvRow(first.value)}\r\n`;
        for await (const d of rows) yield `${inventoryCsvRow(d)}\r\n`;
      }
      return reply.send(Readable.from(lines()));
    },
  );

  app.get('/api/devices/:id', { config: { action: 'read' }, schema: { summary: 'One device with its evidence, lifecycle, vulnerabilities, leaks and risk', params: { type: 'object', properties: { id: { type: 'string', maxLength: 200 } }, required: ['id'] } } }, async (req, reply) => {
    const d = await store.device((req.params as { id: string }).id);
    return d ?? reply.status(404).send({ error: 'no such device' });
  });

  app.get('/api/devices/:id/peers', { config: { action: 'read' }, schema: { summary: 'Who the device talked to, on which service, how much (traffic summaries within the retention limit)', params: idParam, querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 } }, additionalProperties: false } } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if ((await store.device(id)) === undefined) return reply.status(404).send({ error: 'no such device' });
    return { items: await store.devicePeers(id, (req.query as { limit: number }).limit) };
  });

  app.get('/api/devices/:id/baseline', { config: { action: 'read' }, schema: { summary: 'The behaviour learnt for the device: learning or learned, its normal peers and services, its traffic per hour', params: idParam } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const d = await store.device(id);
    if (d === undefined) return reply.status(404).send({ error: 'no such device' });
    const [own, rest] = await Promise.all([store.model(`device:${id}`), store.model('baseline:rest')]);
    const summary = baselineSummary(own?.data as BaselineSnapshot | undefined, rest?.data as BaselineSnapshot | undefined, o.learnSeconds ?? LEARN_SECONDS);
    // The peer group is the device's type, when the inventory is sure enough of it (as the detector groups).
    const group = d.type !== undefined && d.type.confidence >= 0.5 ? d.type.value : undefined;
    return group === undefined ? summary : { ...summary, group, groupSize: await store.devicesOfType(group) };
  });

  app.get('/api/devices/:id/activity', { config: { action: 'read' }, schema: { summary: "The device's traffic per hour (packets, bytes, connections)", params: idParam } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if ((await store.device(id)) === undefined) return reply.status(404).send({ error: 'no such device' });
    return { hours: await store.deviceActivity(id) };
  });

  app.get(
    '/api/findings',
    {
      config: { action: 'read' },
      schema: {
        summary: "What is wrong with the devices — end-of-life OS, vulnerabilities, leaks — the most severe first (weighed by each device's clinical criticality)",
        querystring: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: [...FINDING_KINDS] },
            minSeverity: { type: 'string', enum: [...SEVERITIES] },
            deviceId: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => store.findings(req.query as FindingQuery),
  );

  app.get(
    '/api/alerts/summary',
    { config: { action: 'read' }, schema: { summary: 'Open alerts by severity and by owning team' } },
    async () => store.alertCounts(),
  );

  app.get('/api/events', { config: { action: 'read' }, schema: { summary: 'Server-sent events: `alert` when an alert is raised or changed, `ingest` when the capture side changes state' } }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': vigil live feed\n\n');
    const send = (a: Alert) => res.write(`event: alert\ndata: ${JSON.stringify(a)}\n\n`);
    const sendIngest = (status: Record<string, unknown>) => res.write(`event: ingest\ndata: ${JSON.stringify(status)}\n\n`);
    store.events.on('alert', send);
    o.ingestEvents?.on('ingest', sendIngest);
    // A comment every 25 s keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    keepAlive.unref();
    const end = () => {
      clearInterval(keepAlive);
      store.events.off('alert', send);
      o.ingestEvents?.off('ingest', sendIngest);
    };
    req.raw.on('close', end);
    res.on('error', end);
  });

  app.get(
    '/api/alerts',
    {
      config: { action: 'read' },
      schema: {
        summary: 'Alerts, newest first',
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: [...ALERT_STATUSES] },
            open: { type: 'boolean', description: 'only alerts not resolved' },
            severity: { type: 'string', enum: [...SEVERITIES] },
            kind: { type: 'string', maxLength: 64 },
            team: { type: 'string', maxLength: 64 },
            deviceId: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
            offset: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => store.alerts(req.query as AlertQuery),
  );

  app.patch(
    '/api/alerts/:id',
    {
      config: { action: 'alerts.triage' },
      schema: {
        summary: 'Acknowledge, assign, resolve (with a reason) or reopen an alert',
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        body: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: [...ALERT_STATUSES] },
            // A person (a user name) or a team ("team:clinical-engineering").
            assignee: { type: ['string', 'null'], pattern: '^(team:)?[A-Za-z0-9._@-]{1,64}$' },
            resolution: { type: ['string', 'null'], maxLength: 2000 },
          },
          additionalProperties: false,
          minProperties: 1,
        },
      },
    },
    async (req, reply) => {
      const change = req.body as AlertChange & { status?: AlertStatus };
      const user = req.user as User;
      if (change.status === 'resolved' && !can(user.role, 'alerts.resolve')) return reply.status(403).send({ error: `role ${user.role} may not alerts.resolve` });
      if (change.status === 'resolved' && (change.resolution ?? '').trim() === '') return reply.status(400).send({ error: 'resolving an alert needs a resolution (the reason)' });
      try {
        return await store.updateAlert((req.params as { id: number }).id, change, user.name);
      } catch (e) {
        if (/no alert/.test((e as Error).message)) return reply.status(404).send({ error: (e as Error).message });
        throw e;
      }
    },
  );

  app.get('/api/alerts/:id/comments', { config: { action: 'read' }, schema: { summary: 'The comments on an alert, oldest first', params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } } }, async (req) =>
    store.alertComments((req.params as { id: number }).id),
  );

  app.post(
    '/api/alerts/:id/comments',
    {
      config: { action: 'alerts.triage' },
      schema: {
        summary: 'Comment on an alert (both teams see it)',
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        body: { type: 'object', properties: { text: { type: 'string', minLength: 1, maxLength: 4000 } }, required: ['text'], additionalProperties: false },
      },
    },
    async (req, reply) => {
      try {
        return reply.status(201).send(await store.commentAlert((req.params as { id: number }).id, (req.user as User).name, (req.body as { text: string }).text));
      } catch (e) {
        if (/no alert/.test((e as Error).message)) return reply.status(404).send({ error: (e as Error).message });
        throw e;
      }
    },
  );

  app.post(
    '/api/tokens',
    {
      config: { action: 'read' },
      schema: { summary: 'A long-lived API token for an integration, acting as the caller (shown once; revoke by deleting the user)', body: { type: 'object', properties: { label: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['label'], additionalProperties: false } },
    },
    async (req, reply) => {
      const t = newToken();
      const user = req.user as User;
      await store.addToken(t.hash, user.id, 'api', (req.body as { label: string }).label, null, Date.now() / 1000, user.name);
      return reply.status(201).send({ token: t.token, label: (req.body as { label: string }).label, user: user.name, role: user.role });
    },
  );

  app.get('/api/reports/eol-forecast', { config: { action: 'reports.read' }, schema: { summary: 'Share of all devices, and of each category, on an end-of-life OS today and over the next three years' } }, async () =>
    eolForecastOfEnds((await store.deviceStats()).ends, standardForecastDates(new Date())),
  );

  app.get('/api/reports/risk', { config: { action: 'reports.read' }, schema: { summary: 'Risk by category and band, and the riskiest devices' } }, async () => {
    const stats = await store.deviceStats();
    const top = [];
    for (const row of (await store.devices({ sort: 'risk', order: 'desc', limit: 20 })).items) {
      const d = await store.device(row.id);
      if (d !== undefined) top.push({ id: d.id, name: d.hostnames[0] ?? d.ips[0] ?? d.id, category: d.category.value, type: d.type?.value ?? null, vendor: d.vendor?.value ?? null, risk: d.risk.score, explanation: d.risk.explanation });
    }
    return {
      devices: stats.devices,
      bands: stats.bands,
      byCategory: Object.fromEntries(Object.entries(stats.byCategory).map(([k, v]) => [k, { devices: v.devices, meanRisk: Math.round(v.riskSum / v.devices), kev: v.kev, eol: v.eol }])),
      top,
    };
  });

  app.get('/api/reports/disclosure/vendors', { config: { action: 'reports.read' }, schema: { summary: 'The manufacturers whose devices leak error messages: one disclosure report each' } }, async () => {
    const devices = [];
    for await (const d of store.allDevices()) if (d.leaks.length > 0) devices.push(d);
    return disclosureReports(devices, { asOf: new Date() }).map((r) => ({ vendor: r.vendor, slug: r.slug, devices: r.devices.length, issues: r.issues.length, highestSeverity: r.highestSeverity }));
  });

  app.get(
    '/api/reports/disclosure',
    {
      config: { action: 'reports.read' },
      schema: { summary: 'Manufacturer disclosure reports (Markdown or HTML): one vendor, or the hospital-wide summary', querystring: { type: 'object', properties: { vendor: { type: 'string', maxLength: 200 }, format: { type: 'string', enum: ['md', 'html'], default: 'md' } }, additionalProperties: false } },
    },
    async (req, reply) => {
      const { vendor, format } = req.query as { vendor?: string; format: 'md' | 'html' };
      const devices = [];
      for await (const d of store.allDevices()) if (d.leaks.length > 0) devices.push(d);
      const opts = { asOf: new Date() };
      void reply.type(format === 'html' ? 'text/html; charset=utf-8' : 'text/markdown; charset=utf-8');
      if (vendor === undefined) {
        const summary = leakSummary(devices, opts);
        return format === 'html' ? renderSummaryHtml(summary) : renderSummaryMarkdown(summary);
      }
      const r = disclosureReports(devices, opts).find((x) => x.vendor.toLowerCase() === vendor.toLowerCase() || x.slug === vendor.toLowerCase());
      if (r === undefined) return reply.status(404).type('application/json').send({ error: `no leaking devices of vendor ${vendor}` });
      return format === 'html' ? renderHtml(r) : renderMarkdown(r);
    },
  );

  app.get(
    '/api/audit',
    { config: { action: 'users.manage' }, schema: { summary: 'Who changed what, when, before and after', querystring: { type: 'object', properties: { entity: { type: 'string', maxLength: 32 }, entityId: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } }, additionalProperties: false } } },
    async (req) => store.auditLog(req.query as Parameters<SqlStore['auditLog']>[0]),
  );

  app.get('/api/users', { config: { action: 'users.manage' }, schema: { summary: 'Users and roles' } }, async () => store.users());

  app.get('/api/me', { config: { action: 'read' }, schema: { summary: 'Who is logged in, and what their role may do' } }, async (req) => {
    const user = req.user as User;
    return { name: user.name, role: user.role, may: ACTIONS.filter((a) => can(user.role, a)) };
  });

  app.patch(
    '/api/users/:name',
    {
      config: { action: 'users.manage' },
      schema: {
        summary: "Change a user's role, or disable (ending their sessions) or re-enable the account",
        params: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } }, required: ['name'] },
        body: { type: 'object', properties: { role: { type: 'string', enum: [...ROLES] }, disabled: { type: 'boolean' } }, additionalProperties: false, minProperties: 1 },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const change = req.body as { role?: Role; disabled?: boolean };
      const me = req.user as User;
      if (name === me.name && (change.disabled === true || (change.role !== undefined && change.role !== 'admin'))) return reply.status(409).send({ error: 'you cannot disable yourself or give up your own admin role (another admin can)' });
      try {
        return await store.updateUser(name, change, me.name);
      } catch (e) {
        if (/no user/.test((e as Error).message)) return reply.status(404).send({ error: (e as Error).message });
        throw e;
      }
    },
  );

  app.post(
    '/api/users',
    {
      config: { action: 'users.manage' },
      schema: {
        summary: 'Add a user',
        body: { type: 'object', properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,64}$' }, role: { type: 'string', enum: [...ROLES] }, password: { type: 'string', maxLength: 1024 } }, required: ['name', 'role', 'password'], additionalProperties: false },
      },
    },
    async (req, reply) => {
      const { name, role, password } = req.body as { name: string; role: string; password: string };
      const problem = passwordProblem(password);
      if (problem !== undefined) return reply.status(400).send({ error: problem });
      if (!isRole(role)) return reply.status(400).send({ error: `unknown role ${role}` });
      try {
        const u = await store.addUser(name, role, await hashPassword(password), (req.user as User).name);
        return reply.status(201).send(u);
      } catch (e) {
        if (/exists/.test((e as Error).message)) return reply.status(409).send({ error: (e as Error).message });
        throw e;
      }
    },
  );

  app.get('/metrics', { config: { action: 'read' }, schema: { hide: true } }, async (_req, reply) => {
    const devices = await store.devices({ limit: 1 });
    const { open } = await store.alertCounts();
    const w = o.writer?.();
    const lines = [
      '# HELP vigil_devices Devices in the inventory.',
      '# TYPE vigil_devices gauge',
      `vigil_devices ${devices.total}`,
      '# HELP vigil_alerts_open Alerts not resolved.',
      '# TYPE vigil_alerts_open gauge',
      `vigil_alerts_open ${open}`,
    ];
    if (w !== undefined) {
      lines.push('# HELP vigil_store_queued Items waiting to be written.', '# TYPE vigil_store_queued gauge', `vigil_store_queued{kind="devices"} ${w.queuedDevices}`, `vigil_store_queued{kind="alerts"} ${w.queuedAlerts}`);
      lines.push('# HELP vigil_store_up Whether the store accepts writes.', '# TYPE vigil_store_up gauge', `vigil_store_up ${w.state === 'ok' ? 1 : 0}`);
    }
    void reply.type('text/plain; version=0.0.4');
    return `${lines.join('\n')}\n`;
  });

  return app;
}
