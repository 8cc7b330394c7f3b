/**
 * The two behaviour detectors together. The baseline says exactly what is new for a device and its
 * group; the online model says how far a device's minute is from its habits, and in which counts.
 * Alone, the model's anomalous minutes are too many to put before people (bench/baseline.ts: about
 * four false alerts per 100 devices a day on a normal hospital — nightly backups, a new cloud
 * address); together:
 *  - a model alert within `nearSeconds` of something the baseline found new for the same device
 *    corroborates it: the baseline alert carries the model's score and counts, and says so;
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

export const DEFAULT_COMBINE_OPTIONS: CombineOptions = { nearSeconds: 900, standaloneRatio: 10 };

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
  for (const m of model) {
    const id = deviceOf(m.host);
    const near = (id !== undefined ? (byDevice.get(id) ?? []) : []).find((a) => a.times.some((t) => t >= m.from - nearSeconds && t <= m.time + nearSeconds));
    if (near !== undefined) {
      // The first (or strongest) corroboration is the one told.
      if (near.model === undefined || near.model.score / near.model.threshold < m.score / m.threshold) {
        const words = m.features.map((f) => f.words);
        near.model = { score: m.score, threshold: m.threshold, from: m.from, time: m.time, words };
      }
    } else if (m.score >= standaloneRatio * m.threshold) standalone.push(m);
    else unconfirmed.push(m);
  }
  for (const a of out) {
    if (a.model === undefined) continue;
    const minute = (s: number): string => new Date(s * 1000).toISOString().slice(11, 16);
    a.text += ` — the online model saw it too (${(a.model.score / a.model.threshold).toFixed(1)}× its threshold, ${minute(a.model.from)}–${minute(a.model.time)} UTC): ${a.model.words.join('; ')}`;
  }
  return { baseline: out, standalone, unconfirmed };
}
