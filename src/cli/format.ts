/** Human-readable output for the CLI: the host summary and the decoding report. */
import pc from 'picocolors';
import type { HostSummary } from '../sensor/hosts.ts';
import type { SensorReport } from '../sensor/sensor.ts';
import type { Inventory } from '../inventory/inventory.ts';
import type { ReconFinding } from '../assess/recon.ts';
import type { BaselineAlert } from '../behavior/baseline.ts';
import type { WindowAlert } from '../behavior/window.ts';

export function formatHosts(total: number, shown: HostSummary[], maxLines = 10): string {
  const lines: string[] = [];
  lines.push(pc.bold(`Hosts (${total} seen, ${shown.length} shown)`));
  for (const h of shown) {
    const id = [h.ip, ...h.macs].filter((x) => x !== undefined).join('  ');
    lines.push('');
    lines.push(`${pc.cyan(id)}  ${pc.dim(`${h.observations} observations`)}`);
    for (const a of h.attributes.slice(0, maxLines)) {
      const more = a.values.length > 3 ? ` (+more)` : '';
      const vals = a.values.slice(0, 3).join(' | ');
      lines.push(`  ${a.attribute.padEnd(30)} ${vals}${more} ${pc.dim(`[${a.protocols.join(',')}, ${(a.confidence * 100).toFixed(0)}%, #${a.frame}]`)}`);
    }
    if (h.attributes.length > maxLines) lines.push(pc.dim(`  … ${h.attributes.length - maxLines} more attributes (--json for all)`));
  }
  return lines.join('\n');
}

export function formatReport(r: SensorReport, seconds: number): string {
  const lines: string[] = [];
  const rate = seconds > 0 ? r.frames / seconds : 0;
  lines.push(pc.bold('Capture'));
  lines.push(
    `  ${r.format ?? 'unknown'} · ${fmtBytes(r.bytes)} · ${fmtInt(r.frames)} frames · ${fmtInt(r.ipPackets)} IP packets` +
      (r.firstTime !== undefined && r.lastTime !== undefined ? ` · ${fmtDuration(r.lastTime - r.firstTime)} of traffic` : ''),
  );
  lines.push(`  read in ${seconds.toFixed(2)} s (${fmtInt(Math.round(rate))} frames/s)`);
  const skipped = Object.entries(r.skipped).sort((a, b) => b[1] - a[1]);
  if (skipped.length > 0) {
    lines.push(`  not decoded as IP: ${fmtInt(skipped.reduce((s, [, n]) => s + n, 0))}`);
    for (const [why, n] of skipped) lines.push(`    ${fmtInt(n).padStart(10)}  ${why}`);
  }
  if (r.captureError !== undefined) {
    lines.push(pc.yellow(`  stopped early: ${r.captureError.message} (offset ${r.captureError.offset}, frame ${r.captureError.frame})`));
  }
  const f = r.flows;
  lines.push(`  flows: ${fmtInt(f.created)} (peak ${fmtInt(f.peak)} at once, ${f.evicted} evicted)`);
  const fr = r.fragments;
  if (fr.fragments > 0) lines.push(`  IP fragments: ${fr.fragments} → ${fr.reassembled} datagrams (${fr.timedOut} timed out, ${fr.dropped} dropped, ${fr.overlaps} overlaps)`);
  const ra = r.reassembly;
  if (ra.segments > 0) {
    lines.push(
      `  TCP reassembly: ${fmtInt(ra.segments)} segments, ${ra.outOfOrder} out of order, ${ra.retransmitted} retransmitted, ${ra.gaps} gaps (${fmtBytes(ra.gapBytes)}), peak held ${fmtBytes(ra.heldPeak)}`,
    );
  }
  const ds = Object.entries(r.dissectors).filter(([, s]) => s.flows > 0 || s.observations > 0 || s.errors > 0);
  if (ds.length > 0) {
    lines.push('  protocols:');
    for (const [name, s] of ds.sort((a, b) => b[1].observations - a[1].observations)) {
      lines.push(`    ${name.padEnd(16)} ${String(s.flows).padStart(8)} flows ${String(s.observations).padStart(8)} observations${s.errors > 0 ? pc.red(` ${s.errors} errors`) : ''}`);
    }
  }
  lines.push(`  observations: ${fmtInt(r.observations.emitted)} distinct (${fmtInt(r.observations.duplicates)} repeats folded)`);
  return lines.join('\n');
}

/**
 * An integer with thousands separators (1,234,567). Not toLocaleString: its first call loads ICU's
 * locale data, ~20 ms of every run's start for a comma.
 */
export function fmtInt(n: number): string {
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtDuration(s: number): string {
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function cut(s: string, n: number): string {
  return s.length <= n ? s.padEnd(n) : `${s.slice(0, n - 1)}…`;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** The inventory as a table, riskiest first, with the hospital-wide figures and the EOL forecast. */
export function formatInventory(inv: Inventory, max = 40): string {
  const s = inv.summary;
  const lines: string[] = [];
  const cats = Object.entries(s.byCategory)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${n} ${c}`)
    .join(', ');
  lines.push(pc.bold(`Inventory: ${s.devices} devices`) + (cats !== '' ? ` (${cats})` : ''));
  lines.push(`  ${s.eol} on an end-of-life OS · ${s.withKev} with a known-exploited vulnerability (CISA KEV) · ${s.leaking} leaking internals · as of ${s.asOf}`);
  lines.push('');
  lines.push(pc.dim(`${'RISK'.padStart(4)}  ${cut('DEVICE', 22)} ${cut('ADDRESS', 16)} ${cut('VENDOR', 20)} ${cut('TYPE', 24)} ${cut('OS', 30)} ${cut('LIFECYCLE', 18)} VULNERABILITIES`));
  for (const d of inv.devices.slice(0, max)) {
    const name = d.hostnames[0] ?? d.macs[0] ?? d.ips[0] ?? d.id;
    const addr = d.ips[0] ?? d.macs[0] ?? '';
    const conf = (c: { value: string; confidence: number } | undefined) => (c === undefined ? '—' : `${c.value}${c.confidence < 0.5 ? '?' : ''}`);
    const type = d.type !== undefined ? conf(d.type) : d.category.value;
    const lc = d.lifecycle;
    const life = lc.state === 'eol' ? `EOL ${lc.since ?? ''}` : lc.state === 'supported' ? (lc.daysLeft !== undefined ? `${lc.daysLeft} days left` : 'supported') : '—';
    const kev = d.vulnerabilities.filter((v) => v.kev);
    const vulns = d.vulnerabilities.length === 0 ? '' : `${kev.length > 0 ? pc.red(`KEV ${kev.map((v) => v.id).slice(0, 2).join(' ')}`) : d.vulnerabilities[0]?.id ?? ''}${d.vulnerabilities.length > (kev.length > 0 ? Math.min(2, kev.length) : 1) ? ` +${d.vulnerabilities.length - (kev.length > 0 ? Math.min(2, kev.length) : 1)}` : ''}`;
    const risk = String(d.risk.score).padStart(4);
    const riskText = d.risk.score >= 60 ? pc.red(risk) : d.risk.score >= 30 ? pc.yellow(risk) : risk;
    lines.push(`${riskText}  ${cut(name, 22)} ${cut(addr, 16)} ${cut(conf(d.vendor), 20)} ${cut(type, 24)} ${cut(conf(d.os), 30)} ${cut(life, 18)} ${vulns}`);
  }
  if (inv.devices.length > max) lines.push(pc.dim(`  … ${inv.devices.length - max} more (--devices N, --csv FILE or --json for all)`));
  lines.push(pc.dim('  ? = low confidence; --json has every claim with its evidence and rule'));
  if (s.forecast.length > 0) {
    lines.push('');
    lines.push(pc.bold('End-of-life forecast') + pc.dim(' (share of devices with a known OS lifecycle that run an end-of-life OS)'));
    const cats2 = (Object.keys(s.byCategory) as (keyof typeof s.byCategory)[]).filter((c) => (s.forecast[0]?.byCategory[c].known ?? 0) > 0);
    lines.push(pc.dim(`  ${'date'.padEnd(10)}  ${'all'.padStart(11)}  ${cats2.map((c) => c.padStart(18)).join(' ')}`));
    for (const p of s.forecast) {
      const all = `${pct(p.all.share)} of ${p.all.known}`;
      lines.push(`  ${p.date}  ${all.padStart(11)}  ${cats2.map((c) => `${pct(p.byCategory[c].share)} of ${p.byCategory[c].known}`.padStart(18)).join(' ')}`);
    }
    const unknown = s.forecast[0]?.all.unknown ?? 0;
    if (unknown > 0) lines.push(pc.dim(`  ${unknown} device(s) revealed no OS with a known lifecycle`));
  }
  return lines.join('\n');
}

/**
 * The first device listed at each of `ips`. One pass over every device, run once per report as code
 * not yet optimised: indexed loops, and a map of the few addresses asked for (one of every device's
 * addresses took ~7 ms of a 10,000-device report).
 */
function devicesAt<D extends { ips: readonly string[] }>(devices: readonly D[], ips: ReadonlySet<string>): Map<string, D> {
  const out = new Map<string, D>();
  if (ips.size === 0) return out;
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i] as D;
    for (let j = 0; j < d.ips.length; j++) {
      const ip = d.ips[j] as string;
      if (ips.has(ip) && !out.has(ip)) out.set(ip, d);
    }
  }
  return out;
}

/** Findings that are not about one device's identity: hosts probing devices (and, per device, leaks). */
export function formatFindings(inv: Inventory, recon: readonly ReconFinding[], behaviour: readonly BaselineAlert[] = [], learning?: { span: number; learn: number }, anomalies: readonly WindowAlert[] = []): string {
  const lines: string[] = [];
  // The reconnaissance findings shown, and the devices at the addresses they name.
  const shown = recon.slice(0, 10);
  const byIp = devicesAt(inv.devices, new Set(shown.flatMap((r) => [r.client, ...r.targets.map((t) => t.server)])));
  const name = (ip: string): string => {
    const d = byIp.get(ip);
    const label = d?.hostnames[0] ?? d?.type?.value;
    return label !== undefined ? `${ip} (${label})` : ip;
  };
  // Most devices leak nothing: only those that do get an entry.
  const leaky = inv.devices
    .filter((d) => d.leaks.length > 0)
    .map((d) => ({ d, leaks: d.leaks.filter((l) => l.severity !== 'info') }))
    .filter((x) => x.leaks.length > 0)
    .sort((a, b) => rankSeverity(b.leaks) - rankSeverity(a.leaks) || b.d.risk.score - a.d.risk.score);
  if (leaky.length > 0) {
    lines.push(pc.bold(`Leaks: ${leaky.length} device(s) disclose their internals on the wire`) + pc.dim(' (vigil report disclosure writes the manufacturer reports)'));
    for (const { d, leaks } of leaky.slice(0, 12)) {
      const who = `${d.hostnames[0] ?? d.ips[0] ?? d.id}${d.vendor !== undefined ? ` (${d.vendor.value}${d.type !== undefined ? ` ${d.type.value}` : ''})` : ''}`;
      const top = leaks[0] as (typeof leaks)[number];
      const sev = top.deviceSeverity === 'high' || top.deviceSeverity === 'critical' ? pc.red(top.deviceSeverity) : top.deviceSeverity === 'medium' ? pc.yellow(top.deviceSeverity) : top.deviceSeverity;
      const facts = [...new Map(leaks.flatMap((l) => l.facts).map((f) => [`${f.kind}:${f.value}`, f])).values()]
        .slice(0, 5)
        .map((f) => `${f.kind.replace('_', ' ')} ${f.value}${f.version !== undefined ? ` ${f.version}` : ''}`)
        .join(', ');
      lines.push(`  ${sev.padEnd(8)} ${who}: ${leaks.map((l) => l.title).filter((t, i, a) => a.indexOf(t) === i).slice(0, 3).join('; ')}`);
      if (facts !== '') lines.push(pc.dim(`           leaked: ${facts}`));
    }
    if (leaky.length > 12) lines.push(pc.dim(`  … ${leaky.length - 12} more (--json)`));
    lines.push('');
  }
  if (recon.length > 0) {
    lines.push(pc.bold(`Reconnaissance: ${recon.length} host(s) provoking errors from devices`));
    for (const r of shown) {
      const sev = r.severity === 'high' || r.severity === 'critical' ? pc.red(r.severity) : pc.yellow(r.severity);
      lines.push(`  ${sev}  ${name(r.client)} → ${r.targets.map((t) => `${name(t.server)}: ${t.errors} errors (${t.expected} expected)`).join(', ')}`);
      if (r.examples.length > 0) lines.push(pc.dim(`        requests: ${r.examples.slice(0, 4).join(' · ')}`));
    }
    lines.push('');
  }
  if (learning !== undefined) {
    const half = learning.span / 2;
    const hint = half >= 3600 ? `${Math.floor(half / 3600)}h` : `${Math.max(1, Math.floor(half / 60))}m`;
    lines.push(pc.bold('Behaviour') + pc.dim(` learning only: the capture spans ${fmtDuration(learning.span)} and the first ${fmtDuration(learning.learn)} learn what is normal (--learn ${hint} learns over the first ${hint} and detects after; a day's rhythm is then only partly known)`));
    lines.push('');
  }
  if (behaviour.length > 0) {
    lines.push(pc.bold(`Behaviour: ${behaviour.length} departure(s) from what devices and their peers did in the learning period`));
    for (const b of behaviour.slice(0, 15)) {
      lines.push(`  ${new Date(b.time * 1000).toISOString().slice(0, 16).replace('T', ' ')}  ${b.text.length > 240 ? `${b.text.slice(0, 239)}…` : b.text}`);
    }
    if (behaviour.length > 15) lines.push(pc.dim(`  … ${behaviour.length - 15} more (--json)`));
    lines.push('');
  }
  if (anomalies.length > 0) {
    lines.push(pc.bold(`Behaviour, online model: ${anomalies.length} device-minute(s) unlike the learning period`));
    for (const m of anomalies.slice(0, 10)) {
      const text = `${name(m.host)}${m.text.slice(m.host.length)}`;
      lines.push(`  ${new Date(m.time * 1000).toISOString().slice(0, 16).replace('T', ' ')}  ${text.length > 240 ? `${text.slice(0, 239)}…` : text}`);
    }
    if (anomalies.length > 10) lines.push(pc.dim(`  … ${anomalies.length - 10} more (--json)`));
    lines.push('');
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

const SEVERITY_RANK: Record<string, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
function rankSeverity(leaks: readonly { deviceSeverity: string }[]): number {
  return Math.max(...leaks.map((l) => SEVERITY_RANK[l.deviceSeverity] ?? 0));
}

/** "90s", "30m", "24h", "7d" or plain seconds → seconds; NaN when unreadable. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  if (m === null) return NaN;
  const n = Number(m[1]);
  return n * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] ?? NaN);
}
