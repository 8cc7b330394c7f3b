/**
 * The simulation loop: activities fire at their times and start conversations; conversations yield
 * packets; a min-heap merges everything into one time-ordered stream for the capture writer.
 *
 * Memory is bounded by the number of activities (a few per device) plus the conversations in
 * flight, never by the length of the simulated period: a 10-million-packet capture streams through
 * in constant space.
 */
import type { PacketSpec } from './wire.ts';

/** A conversation in flight; `tag` names the incident it belongs to, if any. */
export interface Conversation {
  packets: Generator<PacketSpec, void, void>;
  tag?: string;
}

/** Something that happens again and again (a modality sending studies, a pump reporting in). */
export interface Activity {
  /** Next time it fires (capture seconds). */
  next: number;
  /** Starts its conversations at `now` and sets `next`; `next = Infinity` retires it. */
  fire(now: number): Conversation[];
}

interface Slot {
  time: number;
  seq: number;
  conv?: Conversation;
  spec?: PacketSpec;
  act?: Activity;
}

/** Binary min-heap on (time, seq): equal times keep insertion order, so output is deterministic. */
class Heap {
  private a: Slot[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Slot | undefined {
    return this.a[0];
  }
  push(s: Slot): void {
    const a = this.a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(s, a[p] as Slot)) break;
      a[i] = a[p] as Slot;
      i = p;
    }
    a[i] = s;
  }
  pop(): Slot | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && less(a[r] as Slot, a[l] as Slot) ? r : l;
      if (!less(a[c] as Slot, last)) break;
      a[i] = a[c] as Slot;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function less(x: Slot, y: Slot): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

export interface EngineLimits {
  /** Stop at this capture time. */
  end: number;
  /** Stop after this many packets (0: no limit). */
  maxPackets: number;
}

/**
 * Runs activities and conversations until `end`, calling `write` for every packet in time order
 * (write returns the frame number it got) and `flushed` whenever the writer asks for a pause.
 */
export async function runEngine(
  activities: Iterable<Activity>,
  limits: EngineLimits,
  write: (p: PacketSpec, tag: string | undefined) => void,
  shouldFlush: () => boolean,
  flush: () => Promise<void>,
): Promise<number> {
  const heap = new Heap();
  let seq = 0;
  for (const act of activities) if (act.next < limits.end) heap.push({ time: act.next, seq: seq++, act });
  let written = 0;
  const startConv = (conv: Conversation) => {
    const r = conv.packets.next();
    if (!r.done) heap.push({ time: r.value.time, seq: seq++, conv, spec: r.value });
  };
  for (;;) {
    const s = heap.pop();
    if (s === undefined || s.time >= limits.end) break;
    if (s.act !== undefined) {
      for (const conv of s.act.fire(s.time)) startConv(conv);
      if (s.act.next < limits.end) heap.push({ time: Math.max(s.act.next, s.time), seq: seq++, act: s.act });
      continue;
    }
    const conv = s.conv as Conversation;
    write(s.spec as PacketSpec, conv.tag);
    written++;
    if (limits.maxPackets > 0 && written >= limits.maxPackets) break;
    const r = conv.packets.next();
    if (!r.done) {
      // Reuse the slot: one allocation per conversation, not per packet.
      s.time = r.value.time;
      s.seq = seq++;
      s.spec = r.value;
      heap.push(s);
    }
    if (shouldFlush()) await flush();
  }
  return written;
}
