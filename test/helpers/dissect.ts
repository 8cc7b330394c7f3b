/** Drives one dissector directly, without the sensor: for unit and property tests. */
import type { DissectContext, Dissector, ObservationDraft, StreamSession } from '../../src/protocols/dissector.ts';
import { StreamVerdict } from '../../src/protocols/dissector.ts';

export class FakeContext implements DissectContext {
  readonly drafts: ObservationDraft[] = [];
  flowId = 1;
  frame = 1;
  time = 1_700_000_000;
  dir: 0 | 1 = 0;
  clientIp = '10.0.0.1';
  serverIp = '10.0.0.2';
  clientPort = 50000;
  serverPort = 104;
  srcMac: string | undefined = '02:00:00:00:00:01';
  dstMac: string | undefined = '02:00:00:00:00:02';
  get srcIp(): string {
    return this.dir === 0 ? this.clientIp : this.serverIp;
  }
  get dstIp(): string {
    return this.dir === 0 ? this.serverIp : this.clientIp;
  }
  get srcPort(): number {
    return this.dir === 0 ? this.clientPort : this.serverPort;
  }
  get dstPort(): number {
    return this.dir === 0 ? this.serverPort : this.clientPort;
  }
  emit(d: ObservationDraft): void {
    this.drafts.push(d);
  }
  values(attribute: string): string[] {
    return this.drafts.filter((d) => d.attribute === attribute).map((d) => d.value);
  }
}

/** Feeds a TCP conversation given as [direction, bytes] pieces; returns the context and the session. */
export function runStream(d: Dissector, pieces: Array<[0 | 1, Buffer]>, ctx = new FakeContext()): { ctx: FakeContext; session: StreamSession; done: boolean } {
  if (d.openStream === undefined) throw new Error(`${d.name} has no stream session`);
  const session = d.openStream(ctx);
  let done = false;
  for (const [dir, bytes] of pieces) {
    ctx.dir = dir;
    if (session.data(bytes, ctx) === StreamVerdict.Done) {
      done = true;
      break;
    }
  }
  if (!done) session.end?.(ctx);
  return { ctx, session, done };
}

/** Splits a buffer into random-sized pieces (segmentation must not change what a dissector sees). */
export function split(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < b.length) {
    const n = Math.max(1, sizes[k++ % Math.max(1, sizes.length)] ?? b.length);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}
