/**
 * What is wrong with a device, as a flat list both teams can sort and filter: an end-of-life OS,
 * each vulnerability, each leak — with a severity that weighs the device's clinical criticality
 * (the same end-of-life Windows is worse on an infusion pump than on a printer).
 */
import type { Severity } from './finding.ts';
import { SEVERITIES } from './finding.ts';
import type { AssessedDevice } from '../inventory/inventory.ts';

export const FINDING_KINDS = ['eol', 'eol-soon', 'vulnerability', 'leak'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface DeviceFinding {
  deviceId: string;
  kind: FindingKind;
  /** What the finding is about within the device (an OS label, a CVE, a leak pattern): unique per device and kind. */
  ref: string;
  severity: Severity;
  title: string;
  detail: Record<string, unknown>;
}

function raise(s: Severity, steps: number): Severity {
  const i = Math.max(0, Math.min(SEVERITIES.length - 1, SEVERITIES.indexOf(s) + steps));
  return SEVERITIES[i] as Severity;
}

/** One step up for life-sustaining devices, one down for support ones. */
function weighed(s: Severity, d: AssessedDevice): Severity {
  return d.criticality === 'life-sustaining' ? raise(s, 1) : d.criticality === 'support' ? raise(s, -1) : s;
}

export function deviceFindings(d: AssessedDevice): DeviceFinding[] {
  const out: DeviceFinding[] = [];
  const os = d.os?.value ?? 'its OS';
  if (d.lifecycle.state === 'eol') {
    out.push({
      deviceId: d.id,
      kind: 'eol',
      ref: os,
      severity: weighed('medium', d),
      title: `${os}: end of life${d.lifecycle.since !== undefined ? ` since ${d.lifecycle.since}` : ''}`,
      detail: { lifecycle: d.lifecycle },
    });
  } else if (d.lifecycle.state === 'supported' && d.lifecycle.daysLeft !== undefined && d.lifecycle.daysLeft <= 365) {
    out.push({ deviceId: d.id, kind: 'eol-soon', ref: os, severity: weighed('low', d), title: `${os}: end of life in ${d.lifecycle.daysLeft} days (${d.lifecycle.eolDate ?? ''})`, detail: { lifecycle: d.lifecycle } });
  }
  for (const v of d.vulnerabilities) {
    const base: Severity = v.kev ? 'high' : (v.cvss ?? 0) >= 9 ? 'high' : (v.cvss ?? 0) >= 7 ? 'medium' : 'low';
    const sure = v.confidence >= 0.5 ? base : raise(base, -1);
    out.push({ deviceId: d.id, kind: 'vulnerability', ref: v.id, severity: weighed(sure, d), title: `${v.id}: ${v.title}${v.kev ? ' (known exploited)' : ''}`, detail: { ...v } });
  }
  const leaks = new Set<string>();
  for (const l of d.leaks) {
    if (leaks.has(l.pattern)) continue;
    leaks.add(l.pattern);
    out.push({ deviceId: d.id, kind: 'leak', ref: l.pattern, severity: l.deviceSeverity, title: l.title, detail: { facts: l.facts, evidence: l.evidence, remediation: l.remediation } });
  }
  return out;
}
