/**
 * Bounded TCP stream reassembly, one TcpStream per direction of a flow.
 *
 * In-order segments (the common case) are handed on as views without copying. Out-of-order
 * segments are copied and held until the hole fills, within a per-stream and a global byte cap;
 * when a cap is hit, or the sender finishes, the stream declares a gap (the consumer is told how
 * many bytes were lost) and carries on from the next held segment. Retransmitted bytes are trimmed,
 * so a consumer sees every byte at most once. The first copy of a byte wins, as in most stacks
 * (and as Suricata's default "bsd" policy).
 *
 * Sequence numbers are compared with 32-bit wrap-around arithmetic (RFC 9293 §3.4).
 */

export interface ReassemblyLimits {
  /** Out-of-order bytes one direction may hold. */
  maxStreamBytes: number;
  /** Out-of-order segments one direction may hold. */
  maxStreamSegments: number;
  /** Out-of-order bytes all streams together may hold. */
  maxTotalBytes: number;
  /** A segment further ahead than this is not a hole to wait for but garbage or a new stream. */
  maxAhead: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxStreamBytes: 1024 * 1024,
  maxStreamSegments: 256,
  maxTotalBytes: 128 * 1024 * 1024,
  maxAhead: 16 * 1024 * 1024,
};

export interface ReassemblyStats {
  segments: number;
  inOrder: number;
  outOfOrder: number;
  retransmitted: number;
  gaps: number;
  gapBytes: number;
  capHits: number;
  /** Bytes held now / at most, across all streams. */
  held: number;
  heldPeak: number;
}

/** Shared budget and counters for every stream of one sensor. */
export class Reassembly {
  readonly stats: ReassemblyStats = {
    segments: 0,
    inOrder: 0,
    outOfOrder: 0,
    retransmitted: 0,
    gaps: 0,
    gapBytes: 0,
    capHits: 0,
    held: 0,
    heldPeak: 0,
  };
  constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}
}

interface Held {
  seq: number;
  data: Buffer;
}

/** Receives in-order bytes and gap notices. Returning false stops the stream (consumer done). */
export interface StreamSink {
  data(chunk: Buffer): boolean;
  gap(length: number): boolean;
}

export class TcpStream {
  /** Next expected sequence number (unsigned 32-bit); -1 until known. */
  private nextSeq: number;
  private held: Held[] = [];
  private heldBytes = 0;
  private stopped = false;

  constructor(
    private readonly r: Reassembly,
    initialSeq: number,
  ) {
    this.nextSeq = initialSeq;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /**
   * The consumer does not want the next `len` bytes: if this segment is exactly the next in order
   * (nothing held, no overlap), step over it without delivering. Returns false when the normal path
   * must handle it.
   */
  fastForward(seq: number, len: number): boolean {
    if (this.stopped || this.held.length > 0 || this.nextSeq < 0 || seq !== this.nextSeq) return false;
    this.nextSeq = (this.nextSeq + len) >>> 0;
    this.r.stats.segments++;
    this.r.stats.inOrder++;
    return true;
  }

  /** A segment of this direction. `data` is a view: copied only if it must be held. */
  segment(seq: number, data: Buffer, sink: StreamSink): void {
    if (this.stopped || data.length === 0) return;
    const st = this.r.stats;
    st.segments++;
    if (this.nextSeq < 0) this.nextSeq = seq;
    const diff = (seq - this.nextSeq) | 0;
    if (diff <= 0) {
      const overlap = -diff;
      if (overlap >= data.length) {
        st.retransmitted++;
        return;
      }
      st.inOrder++;
      this.deliver(overlap === 0 ? data : data.subarray(overlap), sink);
      if (this.held.length > 0 && !this.stopped) this.drain(sink);
      return;
    }
    if (diff > this.r.limits.maxAhead) {
      // Far beyond the window: a reused port or garbage. Not worth holding.
      st.capHits++;
      return;
    }
    st.outOfOrder++;
    const lim = this.r.limits;
    if (
      this.held.length >= lim.maxStreamSegments ||
      this.heldBytes + data.length > lim.maxStreamBytes ||
      st.held + data.length > lim.maxTotalBytes
    ) {
      // Over budget: give up on the hole, skip to what we hold, and keep going.
      st.capHits++;
      this.hold(seq, data);
      this.skipToHeld(sink);
      return;
    }
    this.hold(seq, data);
  }

  /** The sender finished (FIN/RST) or the flow ends: skip any hole, deliver what is held. */
  flush(sink: StreamSink): void {
    while (this.held.length > 0 && !this.stopped) this.skipToHeld(sink);
  }

  /** Frees held data (flow expired or consumer done). */
  release(): void {
    this.r.stats.held -= this.heldBytes;
    this.heldBytes = 0;
    this.held = [];
    this.stopped = true;
  }

  private hold(seq: number, data: Buffer): void {
    // Keep sorted by sequence; copies so the capture chunk can be freed.
    const copy = Buffer.from(data);
    const held = this.held;
    let i = held.length;
    while (i > 0 && (((held[i - 1] as Held).seq - seq) | 0) > 0) i--;
    held.splice(i, 0, { seq, data: copy });
    this.heldBytes += copy.length;
    const st = this.r.stats;
    st.held += copy.length;
    if (st.held > st.heldPeak) st.heldPeak = st.held;
  }

  private skipToHeld(sink: StreamSink): void {
    const first = this.held[0];
    if (first === undefined) return;
    const missing = (first.seq - this.nextSeq) | 0;
    if (missing > 0) {
      const st = this.r.stats;
      st.gaps++;
      st.gapBytes += missing;
      this.nextSeq = first.seq >>> 0;
      if (!sink.gap(missing)) {
        this.stop();
        return;
      }
    }
    this.drain(sink);
  }

  private drain(sink: StreamSink): void {
    const held = this.held;
    while (held.length > 0 && !this.stopped) {
      const h = held[0] as Held;
      const diff = (h.seq - this.nextSeq) | 0;
      if (diff > 0) return;
      held.shift();
      this.heldBytes -= h.data.length;
      this.r.stats.held -= h.data.length;
      const overlap = -diff;
      if (overlap >= h.data.length) {
        this.r.stats.retransmitted++;
        continue;
      }
      this.deliver(overlap === 0 ? h.data : h.data.subarray(overlap), sink);
    }
  }

  private deliver(chunk: Buffer, sink: StreamSink): void {
    this.nextSeq = (this.nextSeq + chunk.length) >>> 0;
    if (!sink.data(chunk)) this.stop();
  }

  private stop(): void {
    this.release();
  }
}
