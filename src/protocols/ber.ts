/**
 * A bounded reader for ASN.1 BER (X.690), enough for SNMP and certificates: tag, length (short and
 * long forms, up to 4 length bytes), value offsets. Indefinite lengths are refused.
 */
export interface Tlv {
  tag: number;
  /** Offset of the value and the offset just past it. */
  start: number;
  end: number;
}

export function readTlv(b: Buffer, off: number, limit = b.length): Tlv | undefined {
  if (off + 2 > limit) return undefined;
  const tag = b[off] as number;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags: not used by SNMP or X.509 here
  let len = b[off + 1] as number;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number);
    p += n;
  }
  if (p + len > limit) return undefined;
  return { tag, start: p, end: p + len };
}

/** The children of a constructed value. */
export function children(b: Buffer, t: Tlv, max = 64): Tlv[] {
  const out: Tlv[] = [];
  let p = t.start;
  while (p < t.end && out.length < max) {
    const c = readTlv(b, p, t.end);
    if (c === undefined) break;
    out.push(c);
    p = c.end;
  }
  return out;
}

export function integer(b: Buffer, t: Tlv): number | undefined {
  const n = t.end - t.start;
  if (n < 1 || n > 6) return undefined;
  let v = (b[t.start] as number) & 0x80 ? -1 : 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + (b[i] as number);
  return v;
}

/** OBJECT IDENTIFIER → dotted text. */
export function oid(b: Buffer, t: Tlv): string | undefined {
  if (t.end <= t.start || t.end - t.start > 128) return undefined;
  const first = b[t.start] as number;
  const parts: number[] = [Math.min(2, Math.floor(first / 40)), first >= 80 ? first - 80 : first % 40];
  let v = 0;
  for (let i = t.start + 1; i < t.end; i++) {
    const c = b[i] as number;
    v = v * 128 + (c & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) return undefined;
    if ((c & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
