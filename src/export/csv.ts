/**
 * The inventory as CSV (RFC 4180): one row per device, the columns an asset list in a CMMS or a
 * spreadsheet expects. Cells that start with = + - @ are prefixed with ' so a spreadsheet never runs
 * a value a device sent as a formula (CSV injection).
 */
import type { AssessedDevice } from '../inventory/inventory.ts';

export const INVENTORY_COLUMNS = [
  'id',
  'risk',
  'category',
  'criticality',
  'type',
  'type_confidence',
  'vendor',
  'vendor_confidence',
  'model',
  'os',
  'os_confidence',
  'os_conflicts',
  'eol_state',
  'eol_since',
  'eol_days_left',
  'kev',
  'vulnerabilities',
  'ips',
  'macs',
  'hostnames',
  'vlan',
  'services',
  'software',
  'first_seen',
  'last_seen',
  'risk_explanation',
] as const;

function cell(v: string | number | undefined): string {
  if (v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function iso(t: number): string | undefined {
  return t > 0 ? new Date(t * 1000).toISOString() : undefined;
}

export function inventoryCsvRow(d: AssessedDevice): string {
  const row: Record<(typeof INVENTORY_COLUMNS)[number], string | number | undefined> = {
    id: d.id,
    risk: d.risk.score,
    category: d.category.value,
    criticality: d.criticality,
    type: d.type?.value,
    type_confidence: d.type?.confidence,
    vendor: d.vendor?.value,
    vendor_confidence: d.vendor?.confidence,
    model: d.model?.value,
    os: d.os?.value,
    os_confidence: d.os?.confidence,
    os_conflicts: d.os?.conflicts.map((c) => `${c.value} (${c.protocol})`).join('; '),
    eol_state: d.lifecycle.state,
    eol_since: d.lifecycle.since,
    eol_days_left: d.lifecycle.daysLeft,
    kev: d.vulnerabilities.filter((v) => v.kev).map((v) => v.id).join(' '),
    vulnerabilities: d.vulnerabilities.map((v) => v.id).join(' '),
    ips: d.ips.join(' '),
    macs: d.macs.join(' '),
    hostnames: d.hostnames.join(' '),
    vlan: d.vlan,
    services: d.services.map((s) => `${s.transport}/${s.port}${s.app !== undefined ? `(${s.app})` : ''}`).join(' '),
    software: d.software.map((s) => (s.version !== undefined ? `${s.name} ${s.version}` : s.name)).join('; '),
    first_seen: iso(d.firstSeen),
    last_seen: iso(d.lastSeen),
    risk_explanation: d.risk.explanation,
  };
  return INVENTORY_COLUMNS.map((c) => cell(row[c])).join(',');
}

export function inventoryCsv(devices: readonly AssessedDevice[]): string {
  return `${[INVENTORY_COLUMNS.join(','), ...devices.map(inventoryCsvRow)].join('\r\n')}\r\n`;
}
