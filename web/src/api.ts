/**
 * The dashboard's only door to the server: typed shapes of the JSON the API returns, and one
 * function per route. A 401 from any call tells the app (through `onUnauthorized`) to show the
 * login page; routes the server may not have yet answer `null` on 404 so a page can show an empty
 * state instead of failing.
 *
 * The shapes mirror the server's (src/store/store.ts, src/inventory/*.ts, src/assess/*.ts) as they
 * travel on the wire; they are restated here because the browser bundle must not import server code.
 */

export const ROLES = ['admin', 'analyst', 'clinical-engineer', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

export const CATEGORIES = ['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it'] as const;
export type Category = (typeof CATEGORIES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'assigned', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** The teams alerts are routed to (from the device's category). */
export const TEAMS = ['it-security', 'clinical-engineering'] as const;

export type EolState = 'eol' | 'supported' | 'unknown';

export interface Me {
  name: string;
  role: Role;
  /** The actions the role may take (src/server/auth.ts), from /api/me. */
  may?: string[];
}

/** One row of the inventory list. `model`, `macs` and `vlan` come with the newer servers. */
export interface DeviceRow {
  id: string;
  category: string;
  criticality: string;
  vendor: string | null;
  model?: string | null;
  type: string | null;
  os: string | null;
  eolState: string;
  risk: number;
  ips: string[];
  macs?: string[];
  vlan?: number | null;
  hostnames: string[];
  firstSeen: number;
  lastSeen: number;
}

export interface DevicePage {
  total: number;
  items: DeviceRow[];
}

export interface Evidence {
  protocol: string;
  attribute: string;
  value: string;
  frame: number;
  time: number;
  snippet?: string;
}

export interface Claim {
  value: string;
  confidence: number;
  rule: string;
  evidence: Evidence[];
}

export interface OsRelease {
  product: string;
  cycle: string;
  label: string;
  releaseDate?: string;
  eol?: string;
  eolUndated?: true;
  extendedEol?: string;
  source?: string;
}

export interface OsClaim extends Claim {
  family: string;
  releases: OsRelease[];
  conflicts: { value: string; confidence: number; protocol: string; why: string }[];
}

export interface Lifecycle {
  state: EolState;
  since?: string;
  eolDate?: string;
  daysLeft?: number;
  extendedUntil?: string;
  basis: string;
}

export interface Vulnerability {
  id: string;
  cves: string[];
  title: string;
  source: 'kev' | 'csaf' | 'nvd' | 'os-flaw';
  kev: boolean;
  ransomware: boolean;
  cvss?: number;
  confidence: number;
  why: string;
  remediation?: string;
  url?: string;
}

export interface Leak {
  pattern: string;
  title: string;
  facts: { kind: string; value: string; version?: string }[];
  evidence: { protocol: string; attribute: string; frame: number; time: number; snippet: string };
  severity: Severity;
  deviceSeverity: Severity;
  remediation: string;
}

export interface RiskScore {
  score: number;
  exploitability: number;
  impact: number;
  exposure: number;
  factors: { kind: string; text: string; weight: number }[];
  explanation: string;
}

/** The whole assessed device (GET /api/devices/:id). */
export interface Device {
  id: string;
  macs: string[];
  ips: string[];
  hostnames: string[];
  vlan?: number;
  firstSeen: number;
  lastSeen: number;
  randomMac: boolean;
  vendor?: Claim;
  model?: Claim;
  type?: Claim;
  category: Claim;
  criticality: string;
  os?: OsClaim;
  software: { name: string; version?: string; vendor?: string; evidence: Evidence }[];
  services: { transport: 'tcp' | 'udp'; port: number; app?: string; flows: number }[];
  peers: { internal: number; external: number };
  observations: number;
  lifecycle: Lifecycle;
  leaks: Leak[];
  vulnerabilities: Vulnerability[];
  risk: RiskScore;
}

export interface Peer {
  peer: string;
  peerDeviceId: string | null;
  peerName: string | null;
  external: boolean;
  service: string;
  packets: number;
  bytes: number;
  flows: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ActivityHour {
  at: number;
  packets: number;
  bytes: number;
  flows: number;
}

/** A manufacturer whose devices leak: one disclosure report. */
export interface DisclosureVendor {
  vendor: string;
  slug: string;
  devices: number;
  issues: number;
  highestSeverity: Severity;
}

export interface Baseline {
  state: 'learning' | 'learned' | 'none';
  learnedUntil?: number;
  peers: string[];
  services: string[];
  group?: string;
  groupSize?: number;
  /** What it did with its protocols while learning (absent from older servers). */
  usage?: { dns: string[]; 'dicom-command': string[]; 'dicom-sop': string[]; hl7: string[] };
}

export interface Alert {
  id: number;
  key: string;
  deviceId: string | null;
  kind: string;
  severity: Severity;
  title: string;
  detail: unknown;
  teams: string[];
  status: AlertStatus;
  assignee: string | null;
  resolution: string | null;
  firstSeen: number;
  lastSeen: number;
  updatedAt: number;
  dueAt: number | null;
}

/** Open (not resolved) alerts counted by severity and by owning team (an alert with two teams counts for each). */
export interface AlertSummary {
  bySeverity: Record<string, number>;
  byTeam: Record<string, number>;
  open: number;
}

export interface AlertChange {
  status?: AlertStatus;
  assignee?: string | null;
  resolution?: string | null;
}

export interface AlertComment {
  id: number;
  alertId: number;
  at: number;
  author: string;
  text: string;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  disabled: boolean;
}

export interface ForecastCount {
  devices: number;
  known: number;
  unknown: number;
  eol: number;
  share: number;
}

export interface ForecastPoint {
  date: string;
  all: ForecastCount;
  byCategory: Record<string, ForecastCount>;
}

export interface RiskReport {
  bands: Record<string, number>;
  byCategory: Record<string, { devices: number; meanRisk: number; kev: number; eol: number }>;
  top: { id: string; name: string; category: string; risk: number; explanation: string }[];
}

export interface Health {
  status: string;
  version: string;
  ingest: Record<string, unknown> | null;
}

/** What the inventory can be narrowed by; every field is also a URL query parameter of the page. */
export interface DeviceFilters {
  search?: string;
  category?: string;
  vendor?: string;
  os?: string;
  eol?: string;
  minRisk?: number;
  maxRisk?: number;
  vlan?: number;
  subnet?: string;
}

export const FILTER_KEYS = ['search', 'category', 'vendor', 'os', 'eol', 'minRisk', 'maxRisk', 'vlan', 'subnet'] as const satisfies readonly (keyof DeviceFilters)[];

export type DeviceSort = 'risk' | 'id' | 'last_seen' | 'vendor' | 'category';

export interface DeviceQuery extends DeviceFilters {
  sort?: DeviceSort;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let unauthorized: () => void = () => undefined;

/** The app's reaction to a 401 (the session ended or never began): show the login page. */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

/** A query string from the set fields (empty strings and undefined are left out). */
export function queryString(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  if (res.status === 401 && path !== '/api/auth/login') unauthorized();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // Not JSON: the status line says enough.
    }
    throw new ApiError(res.status, message);
  }
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** For routes a server may not have yet: null on 404 instead of an error. */
async function optional<T>(path: string): Promise<T | null> {
  try {
    return await request<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body) });
const dev = (id: string): string => `/api/devices/${encodeURIComponent(id)}`;

export const api = {
  login: (name: string, password: string) => request<{ token: string; user: Me }>('/api/auth/login', { method: 'POST', ...json({ name, password }) }),
  logout: () => request<{ ok: boolean }>('/api/auth/logout', { method: 'POST', ...json({}) }),
  /** Who is logged in; null when the server has no /api/me. */
  me: () => optional<Me>('/api/me'),
  health: () => request<Health>('/api/health'),

  devices: (q: DeviceQuery) => request<DevicePage>(`/api/devices${queryString(q)}`),
  device: (id: string) => optional<Device>(dev(id)),
  peers: (id: string) => optional<{ items: Peer[] }>(`${dev(id)}/peers`),
  activity: (id: string) => optional<{ hours: ActivityHour[] }>(`${dev(id)}/activity`),
  baseline: (id: string) => optional<Baseline>(`${dev(id)}/baseline`),
  exportCsvUrl: (filters: DeviceFilters & { sort?: DeviceSort; order?: 'asc' | 'desc' }) => `/api/devices/export.csv${queryString(filters)}`,

  alerts: (q: { status?: AlertStatus; team?: string; deviceId?: string; limit?: number } = {}) => request<Alert[]>(`/api/alerts${queryString(q)}`),
  /** Null from a server without /api/alerts/summary. */
  alertSummary: () => optional<AlertSummary>('/api/alerts/summary'),
  updateAlert: (id: number, change: AlertChange) => request<Alert>(`/api/alerts/${id}`, { method: 'PATCH', ...json(change) }),
  comments: (id: number) => request<AlertComment[]>(`/api/alerts/${id}/comments`),
  addComment: (id: number, text: string) => request<AlertComment>(`/api/alerts/${id}/comments`, { method: 'POST', ...json({ text }) }),
  audit: (q: { entity?: string; entityId?: string; limit?: number }) => request<AuditEntry[]>(`/api/audit${queryString(q)}`),

  users: () => request<User[]>('/api/users'),
  addUser: (name: string, role: Role, password: string) => request<User>('/api/users', { method: 'POST', ...json({ name, role, password }) }),
  updateUser: (name: string, change: { role?: Role; disabled?: boolean }) => request<User>(`/api/users/${encodeURIComponent(name)}`, { method: 'PATCH', ...json(change) }),

  eolForecast: () => request<ForecastPoint[]>('/api/reports/eol-forecast'),
  riskReport: () => request<RiskReport>('/api/reports/risk'),
  disclosureVendors: () => optional<DisclosureVendor[]>('/api/reports/disclosure/vendors'),
  disclosureUrl: (format: 'md' | 'html', vendor?: string) => `/api/reports/disclosure${queryString({ vendor, format })}`,
};

export interface LiveHandlers {
  alert?: (a: Alert) => void;
  ingest?: (status: Record<string, unknown>) => void;
  /** Whether the stream is connected (EventSource reconnects by itself). */
  state?: (connected: boolean) => void;
}

/** Server-sent events from /api/events (cookie auth). Returns the function that closes the stream. */
export function subscribeEvents(h: LiveHandlers): () => void {
  if (typeof EventSource === 'undefined') return () => undefined;
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => h.state?.(true));
  es.addEventListener('error', () => h.state?.(false));
  es.addEventListener('alert', (e) => h.alert?.(JSON.parse((e as MessageEvent<string>).data) as Alert));
  es.addEventListener('ingest', (e) => h.ingest?.(JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>));
  return () => es.close();
}
