/**
 * The dashboard restates the API's shapes in web/src/api.ts (the browser bundle must not import
 * server code). This keeps the two from drifting apart: each server type the API sends must be
 * assignable to the dashboard's type for it — checked by `tsc` (npm test type-checks before it
 * runs anything), and at run time on a real assessed device from the shared fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AssessedDevice } from '../../src/inventory/inventory.ts';
import type { Alert, AlertComment, AuditEntry, DevicePeer, DeviceRow, User } from '../../src/store/store.ts';
import type { ForecastPoint } from '../../src/assess/lifecycle.ts';
import { ROLES as SERVER_ROLES } from '../../src/server/auth.ts';
import { CATEGORIES as SERVER_CATEGORIES } from '../../src/inventory/device.ts';
import { ALERT_STATUSES as SERVER_STATUSES } from '../../src/store/store.ts';
import { SEVERITIES as SERVER_SEVERITIES } from '../../src/assess/finding.ts';
import { ALERT_STATUSES, CATEGORIES, ROLES, SEVERITIES, type Alert as WebAlert, type AlertComment as WebComment, type AuditEntry as WebAudit, type Device as WebDevice, type DeviceRow as WebRow, type ForecastPoint as WebForecast, type Peer as WebPeer, type User as WebUser } from '../../web/src/api.ts';
import { assessedDevice } from '../helpers/devices.ts';

// Compile-time: a server value passes where the dashboard expects its own type.
export const asWeb = {
  device: (d: AssessedDevice): WebDevice => d,
  row: (r: DeviceRow): WebRow => r,
  alert: (a: Alert): WebAlert => a,
  comment: (c: AlertComment): WebComment => c,
  audit: (e: AuditEntry): WebAudit => e,
  peer: (p: DevicePeer): WebPeer => p,
  user: (u: User): WebUser => u,
  forecast: (f: ForecastPoint): WebForecast => f,
};

test('the dashboard knows every role, category, alert status and severity the server has', () => {
  assert.deepEqual([...ROLES].sort(), [...SERVER_ROLES].sort());
  assert.deepEqual([...CATEGORIES].sort(), [...SERVER_CATEGORIES].sort());
  assert.deepEqual([...ALERT_STATUSES].sort(), [...SERVER_STATUSES].sort());
  assert.deepEqual([...SEVERITIES].sort(), [...SERVER_SEVERITIES].sort());
});

test('an assessed device, as JSON, has every field the device page reads', () => {
  const d: WebDevice = JSON.parse(JSON.stringify(asWeb.device(assessedDevice('mac:00:1b:21:00:00:01')))) as WebDevice;
  for (const k of ['id', 'macs', 'ips', 'hostnames', 'firstSeen', 'lastSeen', 'category', 'criticality', 'software', 'services', 'peers', 'lifecycle', 'leaks', 'vulnerabilities', 'risk'] as const) assert.ok(k in d, k);
  assert.equal(typeof d.risk.explanation, 'string');
});
