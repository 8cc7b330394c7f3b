/**
 * Risk, 0–100 per device: how likely it is to be compromised × what that does to patients × how
 * reachable it is.
 *
 *   risk = round(100 × exploitability × impact × exposure)
 *
 *   exploitability = 1 − Π(1 − eᵢ) over the weaknesses seen (noisy-OR: each is a way in, and
 *                    more ways in never lower it):
 *       known-exploited vulnerability (CISA KEV)   0.9 × match confidence (0.95 if used by ransomware)
 *       other advisory (CSAF, NVD)                 CVSS/10 × 0.8 × match confidence
 *       operating system past end of life          0.6 (0.3 if it ends within a year), × the OS
 *                                                  claim's confidence / 0.8 (capped at 1)
 *       clear-text or remote-admin service open    0.1–0.25 each (telnet, FTP, SMB, RDP, VNC, HTTP …)
 *       leaked internals (error disclosure)        0.15 per kind of leak, up to 0.45
 *   impact         = life-sustaining 1.0 · diagnostic 0.75 · support 0.45
 *   exposure       = 0.55 + 0.3 if it talked to the Internet + up to 0.15 for internal reach
 *                    (log₁₀ of distinct internal peers / 3)
 *
 * Every factor is listed with its contribution, so a score always explains itself.
 */
import type { Criticality, Device } from '../inventory/device.ts';

export interface RiskFactor {
  kind: 'vulnerability' | 'eol' | 'service' | 'leak' | 'impact' | 'exposure';
  /** The factor in words: "CVE-2017-0144 (EternalBlue) is known to be exploited (CISA KEV)". */
  text: string;
  /** Its value in the formula (eᵢ for exploitability factors, the multiplier otherwise). */
  weight: number;
}

export interface RiskScore {
  score: number;
  exploitability: number;
  impact: number;
  exposure: number;
  factors: RiskFactor[];
  /** One line: "72 = 100 × 0.93 exploitability × 1.00 impact (life-sustaining) × 0.78 exposure". */
  explanation: string;
}

export interface RiskInputs {
  vulnerabilities: readonly { id: string; title: string; kev: boolean; ransomware: boolean; cvss?: number; confidence: number }[];
  lifecycle?: { state: 'supported' | 'eol' | 'unknown'; since?: string; daysLeft?: number };
  /** Kinds of leaked internals (from the error-disclosure detector): 'stack trace', 'database version' … */
  leaks?: readonly string[];
}

/** Services whose presence is a way in on its own: clear-text logins, remote administration, file sharing. */
const RISKY_SERVICES: Record<number, [name: string, weight: number]> = {
  23: ['telnet (clear-text login)', 0.25],
  21: ['FTP (clear-text login)', 0.2],
  445: ['SMB file sharing', 0.15],
  139: ['NetBIOS session (SMB1-era file sharing)', 0.15],
  3389: ['RDP remote desktop', 0.15],
  5900: ['VNC remote desktop', 0.2],
  5800: ['VNC over HTTP', 0.2],
  80: ['HTTP without TLS', 0.1],
  8080: ['HTTP without TLS', 0.1],
  161: ['SNMP', 0.1],
  1433: ['SQL Server', 0.1],
  1521: ['Oracle database listener', 0.1],
  3306: ['MySQL', 0.1],
  5432: ['PostgreSQL', 0.1],
};

export const IMPACT: Record<Criticality, number> = { 'life-sustaining': 1, diagnostic: 0.75, support: 0.45 };

// Texts that many devices share are made once: every device's risk is kept with its report, and a
// text built per device is a string (often a chain of them) per device.
const IMPACT_TEXT: Record<Criticality, string> = { 'life-sustaining': 'clinical criticality: life-sustaining', diagnostic: 'clinical criticality: diagnostic', support: 'clinical criticality: support' };
/** By match: the matcher shares a match between the devices of one subject. */
const vulnerabilityTexts = new WeakMap<RiskInputs['vulnerabilities'][number], string>();
function vulnerabilityText(v: RiskInputs['vulnerabilities'][number]): string {
  let text = vulnerabilityTexts.get(v);
  if (text === undefined) vulnerabilityTexts.set(v, (text = `${v.id}: ${v.title}${v.kev ? ' — known to be exploited (CISA KEV)' : ''}${v.ransomware ? ', used by ransomware' : ''}`));
  return text;
}
const serviceTexts = new Map<string, string>();
function serviceText(name: string, transport: 'tcp' | 'udp', port: number): string {
  const key = `${transport} ${port}`;
  let text = serviceTexts.get(key);
  if (text === undefined) serviceTexts.set(key, (text = `answers ${name} on ${transport.toUpperCase()} ${port}`));
  return text;
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function assessRisk(device: Device, inputs: RiskInputs): RiskScore {
  const factors: RiskFactor[] = [];
  const ways: number[] = [];
  const way = (kind: RiskFactor['kind'], text: string, e: number) => {
    if (e <= 0) return;
    ways.push(e);
    factors.push({ kind, text, weight: r2(e) });
  };
  // Strongest few vulnerabilities only: a hundred CVEs of one product are one way in, not a hundred.
  const vulns =
    inputs.vulnerabilities.length === 0
      ? []
      : inputs.vulnerabilities
          .map((v) => ({ v, e: v.kev ? (v.ransomware ? 0.95 : 0.9) * v.confidence : ((v.cvss ?? 5) / 10) * 0.8 * v.confidence }))
          .sort((a, b) => b.e - a.e)
          .slice(0, 5);
  for (const { v, e } of vulns) way('vulnerability', vulnerabilityText(v), e);
  const lc = inputs.lifecycle;
  // An end of life read from a guess (a p0f signature) counts for less than one the OS stated itself.
  const osSure = Math.min(1, (device.os?.confidence ?? 0) / 0.8);
  const osNote = osSure < 1 ? ` (OS confidence ${device.os?.confidence ?? 0})` : '';
  if (lc?.state === 'eol') way('eol', `operating system ${device.os?.value ?? ''} past end of life${lc.since !== undefined ? ` since ${lc.since}` : ''}: no security updates${osNote}`, 0.6 * osSure);
  else if (lc?.state === 'supported' && lc.daysLeft !== undefined && lc.daysLeft <= 365) way('eol', `operating system ${device.os?.value ?? ''} reaches end of life in ${lc.daysLeft} days${osNote}`, 0.3 * osSure);
  for (const s of device.services) {
    const risky = s.transport === 'tcp' ? RISKY_SERVICES[s.port] : s.port === 161 ? RISKY_SERVICES[161] : undefined;
    if (risky !== undefined) way('service', serviceText(risky[0], s.transport, s.port), risky[1]);
  }
  const leaks = inputs.leaks ?? [];
  if (leaks.length > 0) way('leak', `leaks its internals on the wire: ${leaks.slice(0, 4).join(', ')}`, Math.min(0.45, 0.15 * leaks.length));
  const exploitability = 1 - ways.reduce((p, e) => p * (1 - e), 1);

  const impact = IMPACT[device.criticality];
  factors.push({ kind: 'impact', text: IMPACT_TEXT[device.criticality], weight: impact });

  const internet = device.peers.external > 0 ? 0.3 : 0;
  const reach = Math.min(0.15, (Math.log10(1 + device.peers.internal) / 3) * 0.15);
  const exposure = 0.55 + internet + reach;
  factors.push({
    kind: 'exposure',
    text: `${device.peers.external > 0 ? `talked to ${device.peers.external} Internet address(es)` : 'no Internet contact seen'}; ${device.peers.internal} internal peer(s)`,
    weight: r2(exposure),
  });
  const score = Math.round(100 * exploitability * impact * exposure);
  return {
    score,
    exploitability: r2(exploitability),
    impact,
    exposure: r2(exposure),
    factors,
    explanation: `${score} = 100 × ${r2(exploitability).toFixed(2)} exploitability × ${impact.toFixed(2)} impact (${device.criticality}) × ${r2(exposure).toFixed(2)} exposure`,
  };
}
