/**
 * Message framing over one direction of a reassembled TCP stream, for the dissectors.
 *
 * A dissector's `take(bytes)` looks at the start of the pending bytes and answers how many it
 * consumed: 0 means "not enough yet", a negative number means "this is not my protocol (any more)".
 * Consuming more than is available is how bulk data is skipped without buffering it: the excess is
 * dropped from the stream as it arrives. Pending bytes are capped, so a hostile peer that never
 * completes a message cannot grow memory.
 */
export class Framer {
  private pending: Buffer | undefined;
  /** Stream bytes still to drop (the unread rest of a message being skipped). */
  private skip = 0;
  /** True once the stream could not be framed (overflow, junk, a gap): stop parsing it. */
  broken = false;

  constructor(readonly cap: number) {}

  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  /** Stream bytes this framer will drop unread (the rest of a message being skipped); Infinity once broken. */
  get skipping(): number {
    return this.broken ? Infinity : this.pending === undefined ? this.skip : 0;
  }

  /** The caller dropped `n` of the bytes being skipped without feeding them. */
  skipped(n: number): void {
    if (!this.broken) this.skip -= Math.min(n, this.skip);
  }

  /** Feeds bytes; calls `take` for each message it can frame. Returns false when the stream is broken. */
  feed(chunk: Buffer, take: (bytes: Buffer) => number): boolean {
    if (this.broken) return false;
    let data = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
      if (data.length === 0) return true;
    }
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let pos = 0;
    while (pos < data.length) {
      const n = take(data.subarray(pos));
      if (n < 0) {
        this.broken = true;
        return false;
      }
      if (n === 0) break;
      if (pos + n > data.length) {
        this.skip = pos + n - data.length;
        pos = data.length;
        break;
      }
      pos += n;
    }
    if (pos < data.length) {
      if (data.length - pos > this.cap) {
        this.broken = true;
        return false;
      }
      this.pending = Buffer.from(data.subarray(pos));
    }
    return true;
  }

  /** Bytes were lost: whatever was pending or being skipped no longer lines up. */
  gap(): void {
    this.pending = undefined;
    this.skip = 0;
    this.broken = true;
  }
}

/** Reads a NUL-free, space-trimmed ASCII string. */
export function ascii(b: Buffer, start: number, end: number): string {
  return b.toString('latin1', start, Math.min(end, b.length)).replace(/\0+$/, '').trim();
}
