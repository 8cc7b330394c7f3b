/** How numbers, times and shares read on the dashboard. */
export const fmtInt = (n: number): string => n.toLocaleString('en');
export const fmtPct = (share: number): string => `${Math.round(share * 100)}%`;
export const fmtConfidence = (c: number): string => `${Math.round(c * 100)}%`;

/** Unix seconds → "2026-11-23 06:14" (UTC, as the captures and the audit log are). */
export function fmtTime(unix: number): string {
  if (!Number.isFinite(unix)) return '—';
  return new Date(unix * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A device's name as people say it: its first hostname, else its first address, else its id. */
export function deviceName(d: { hostnames: string[]; ips: string[]; id: string }): string {
  return d.hostnames[0] ?? d.ips[0] ?? d.id;
}

export function riskBand(score: number): 'high' | 'medium' | 'low' {
  return score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low';
}
