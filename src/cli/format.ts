/** Human-readable output for the CLI: the host summary and the decoding report. */
import pc from 'picocolors';
import type { HostSummary } from '../sensor/hosts.ts';
import type { SensorReport } from '../sensor/sensor.ts';

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
    `  ${r.format ?? 'unknown'} · ${fmtBytes(r.bytes)} · ${r.frames.toLocaleString('en')} frames · ${r.ipPackets.toLocaleString('en')} IP packets` +
      (r.firstTime !== undefined && r.lastTime !== undefined ? ` · ${fmtDuration(r.lastTime - r.firstTime)} of traffic` : ''),
  );
  lines.push(`  read in ${seconds.toFixed(2)} s (${Math.round(rate).toLocaleString('en')} frames/s)`);
  const skipped = Object.entries(r.skipped).sort((a, b) => b[1] - a[1]);
  if (skipped.length > 0) {
    lines.push(`  not decoded as IP: ${skipped.reduce((s, [, n]) => s + n, 0).toLocaleString('en')}`);
    for (const [why, n] of skipped) lines.push(`    ${n.toLocaleString('en').padStart(10)}  ${why}`);
  }
  if (r.captureError !== undefined) {
    lines.push(pc.yellow(`  stopped early: ${r.captureError.message} (offset ${r.captureError.offset}, frame ${r.captureError.frame})`));
  }
  const f = r.flows;
  lines.push(`  flows: ${f.created.toLocaleString('en')} (peak ${f.peak.toLocaleString('en')} at once, ${f.evicted} evicted)`);
  const fr = r.fragments;
  if (fr.fragments > 0) lines.push(`  IP fragments: ${fr.fragments} → ${fr.reassembled} datagrams (${fr.timedOut} timed out, ${fr.dropped} dropped, ${fr.overlaps} overlaps)`);
  const ra = r.reassembly;
  if (ra.segments > 0) {
    lines.push(
      `  TCP reassembly: ${ra.segments.toLocaleString('en')} segments, ${ra.outOfOrder} out of order, ${ra.retransmitted} retransmitted, ${ra.gaps} gaps (${fmtBytes(ra.gapBytes)}), peak held ${fmtBytes(ra.heldPeak)}`,
    );
  }
  const ds = Object.entries(r.dissectors).filter(([, s]) => s.flows > 0 || s.observations > 0 || s.errors > 0);
  if (ds.length > 0) {
    lines.push('  protocols:');
    for (const [name, s] of ds.sort((a, b) => b[1].observations - a[1].observations)) {
      lines.push(`    ${name.padEnd(16)} ${String(s.flows).padStart(8)} flows ${String(s.observations).padStart(8)} observations${s.errors > 0 ? pc.red(` ${s.errors} errors`) : ''}`);
    }
  }
  lines.push(`  observations: ${r.observations.emitted.toLocaleString('en')} distinct (${r.observations.duplicates.toLocaleString('en')} repeats folded)`);
  return lines.join('\n');
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
