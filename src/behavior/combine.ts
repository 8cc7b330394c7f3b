/**
 * The two behaviour detectors together. The baseline says exactly what is new for a device and its
 * group; the online model says how far a device's minute is from its habits, and in which counts.
 * Alone, the model's anomalous minutes are too many to put before people (bench/baseline.ts: about
 * four false alerts per 100 devices a day on a normal hospital — nightly backups, a new cloud
 * address); together:
 *  - a model alert on the minute in which the baseline saw something new for the same device (its
 *    first packet: the flow's start, within `nearSeconds` of the window), or within the hour of a
 *    volume alert, corroborates it: the baseline alert carries the model's score and counts, and
 *    says so. (Not merely close in time: a server scanned at 03:53 and renewing its DHCP lease at
 *    04:00 are two stories.)
 *  - a model alert whose new peer is a device with a baseline alert for that minute — a server
 *    refusing a scanner's probes — is folded into the scanner's alert ("reached"), not raised: a
 *    scan of forty devices is one alert, not forty-one;
 *  - a model alert far above its threshold (`standaloneRatio` ×) stands on its own — a scan, an
 *    exploit burst — even when the baseline has nothing (a newcomer, a habit of the group);
 *  - the rest are kept as unconfirmed (counted, shown in --json), not raised.
 * The threshold itself is the model's, set from its training phase only.
 */
import type { BaselineAlert } from './baseline.ts';
import type { WindowAlert } from './window.ts';

export interface CombineOptions {
  nearSeconds: number;
  standaloneRatio: number;
}

export const DEFAULT_COMBINE_OPTIONS: CombineOptions = { nearSeconds: 60, standaloneRatio: 10 };

export interface CombinedBehaviour {
  /** The baseline's alerts, with the model's view where it agrees. */
  baseline: BaselineAlert[];
  /** Model alerts strong enough to raise alone. */
  standalone: WindowAlert[];
  /** Model alerts neither corroborating nor strong: not raised. */
  unconfirmed: WindowAlert[];
}

export function combineBehaviour(baseline: readonly BaselineAlert[], model: readonly WindowAlert[], deviceOf: (ip: string) => string | undefined, o: Partial<CombineOptions> = {}): CombinedBehaviour {
  const { nearSeconds, standaloneRatio } = { ...DEFAULT_COMBINE_OPTIONS, ...o };
  const out = baseline.map((a) => ({ ...a }));
  const byDevice = new Map<string, BaselineAlert[]>();
  for (const a of out) byDevice.set(a.device, [...(byDevice.get(a.device) ?? []), a]);
  const standalone: WindowAlert[] = [];
  const unconfirmed: WindowAlert[] = [];
  const reached = new Map<BaselineAlert, string[]>();
  const nearAlert = (id: string | undefined, m: WindowAlert): BaselineAlert | undefined =>
    (id !== undefined ? (byDevice.get(id) ?? []) : []).find((a) =>
      a.times.some((t) => (a.kind === 'volume' ? m.from >= t && m.from < t + 3600 : t >= m.from - nearSeconds && t <= m.time + nearSeconds)),
    );
  for (const m of model) {
    const near = nearAlert(deviceOf(m.host), m);
    const by = near === undefined && m.peer !== undefined ? nearAlert(deviceOf(m.peer), m) : undefined;
    if (by !== undefined) {
      const r = reached.get(by) ?? [];
      if (!r.includes(m.host)) r.push(m.host);
      reached.set(by, r);
    } else if (near !== undefined) {
      // The first (or strongest) corroboration is the one told.
      if (near.model === undefined || near.model.score / near.model.threshold < m.score / m.threshold) {
        const words = m.features.map((f) => f.words);
        near.model = { score: m.score, threshold: m.threshold, from: m.from, time: m.time, words };
      }
    } else if (m.score >= standaloneRatio * m.threshold) standalone.push(m);
    else unconfirmed.push(m);
  }
  for (const [a, hosts] of reached) {
    a.reached = hosts.slice(0, 64);
    a.text += ` — ${hosts.length} device${hosts.length === 1 ? '' : 's'} it reached behaved unlike their habits in that minute (${hosts.slice(0, 8).join(', ')}${hosts.length > 8 ? ' …' : ''})`;
  }
  for (const a of out) {
    if (a.model === undefined) continue;
    const minute = (s: number): string => new Date(s * 1000).toISOString().slice(11, 16);
    a.text += ` — the online model saw it too (${(a.model.score / a.model.threshold).toFixed(1)}× its threshold, ${minute(a.model.from)}–${minute(a.model.time)} UTC): ${a.model.words.join('; ')}`;
  }
  return { baseline: out, standalone, unconfirmed };
}
