/**
 * What a server keeps of each judgement: the devices, alerts and learnt behaviour, through the
 * batched writer. Each judgement covers every device the server has seen; only what changed since
 * the last is written (a fingerprint per device and per model piece), so a hospital of 100,000
 * devices is not rewritten at every rotated file or checkpoint.
 *
 * In slices, as the judgement is: fingerprinting 100,000 devices takes ~4 s, which a live sensor on
 * the same thread would spend not reading its capture (the writer, too, gives the event loop a turn
 * between batches).
 */
import { createHash } from 'node:crypto';
import { baselineParts } from '../behavior/baseline.ts';
import type { StoredModel } from '../store/store.ts';
import type { BatchedWriter } from '../store/writer.ts';
import { alertsOf, type Analysis, type AnalysisState } from './pipeline.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The subject (and kind) under which the online model is stored. */
export const WINDOW_MODEL = 'window-model';

/** Devices or model pieces fingerprinted, or alerts queued, between two turns of the event loop (~10 ms of work at most). */
const SLICE = 256;

export class Keeper {
  /** Key ('device|id', 'model|subject') → fingerprint of what was last written. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly writer: Pick<BatchedWriter, 'device' | 'alert' | 'model'>,
    private readonly state: AnalysisState,
  ) {}

  /** Queues what changed in `a` for writing; the number of alerts it raised. */
  async keep(a: Analysis): Promise<number> {
    let n = 0;
    for (const d of a.inventory.devices) {
      if (this.changed(`device|${d.id}`, d)) this.writer.device(d);
      if (++n % SLICE === 0) await nextTurn();
    }
    let raised = 0;
    for (const al of alertsOf(a)) {
      this.writer.alert(al);
      if (++raised % SLICE === 0) await nextTurn();
    }
    // The baseline is kept in a piece per device: as many pieces to fingerprint as devices.
    n = 0;
    for (const m of behaviourModels(this.state, a)) {
      if (this.changed(`model|${m.subject}`, m.data)) this.writer.model(m);
      if (++n % SLICE === 0) await nextTurn();
    }
    return raised;
  }

  private changed(key: string, value: unknown): boolean {
    const sig = createHash('sha1').update(JSON.stringify(value)).digest('base64');
    if (this.written.get(key) === sig) return false;
    this.written.set(key, sig);
    return true;
  }
}

/** The learnt state to keep: the baseline cut per device (and the rest), and the online model. */
function behaviourModels(state: AnalysisState, a: Analysis): StoredModel[] {
  return [...baselineParts(state.baseline, a.inventory.devices), { subject: WINDOW_MODEL, kind: WINDOW_MODEL, data: state.windows.toJSON() }];
}
