/**
 * A bounded reader for ASN.1 BER (ITU-T X.690), enough for SNMP and X.509: tag, length (short and
 * long forms, up to 4 length bytes), value offsets. Zero-copy: a Tlv is offsets into the caller's
 * buffer. Every read is checked against a limit, so nothing here throws on hostile bytes.
 */
export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number); see readTlv for tag numbers ≥ 31. */
  tag: number;
  /** Offset of the value and the offset just past it. */
  start: number;
  end: number;
}

/**
 * The TLV at `off`, whose value must end by `limit`. Refused (undefined): indefinite lengths
 * (X.690 §8.1.3.6 — not allowed in SNMP, RFC 3417 §8, nor in DER), lengths of more than 4 octets,
 * tag numbers of more than 3 octets, and values running past `limit`.
 */
export function readTlv(b: Buffer, off: number, limit = b.length): Tlv | undefined {
  const lim = Math.min(limit, b.length);
  if (off < 0 || off + 2 > lim) return undefined;
  let tag = b[off] as number;
  let p = off + 1;
  if ((tag & 0x1f) === 0x1f) {
    // High-tag-number form (§8.1.2.4): base-128 octets follow. Some agents encode small numbers
    // this way (a v1 Trap as bf 04 instead of a4); those are folded back into the one-octet form,
    // larger numbers become (number << 8 | class/constructed bits) — never equal to a one-octet tag.
    let n = 0;
    for (let i = 0; ; i++) {
      if (i === 3 || p >= lim) return undefined;
      const c = b[p++] as number;
      n = n * 128 + (c & 0x7f);
      if ((c & 0x80) === 0) break;
    }
    tag = n < 31 ? (tag & 0xe0) | n : n * 256 + (tag & 0xe0);
  }
  if (p >= lim) return undefined;
  let len = b[p++] as number;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > lim) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number);
    p += n;
  }
  if (p + len > lim) return undefined;
  return { tag, start: p, end: p + len };
}

/** The children of a constructed value, at most `max` of them (a malformed child ends the list). */
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

/** A two's-complement INTEGER (X.690 §8.3) of up to 6 octets (exact in a double); longer: undefined. */
export function integer(b: Buffer, t: Tlv): number | undefined {
  const n = t.end - t.start;
  if (n < 1 || n > 6 || t.end > b.length) return undefined;
  let v = (b[t.start] as number) & 0x80 ? -1 : 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + (b[i] as number);
  return v;
}

/**
 * OBJECT IDENTIFIER → dotted text (X.690 §8.19). Subidentifiers are base-128, high bit = more; the
 * first one packs two arcs as 40·X + Y, where X is 0, 1 or 2 and, for X = 2, Y may exceed 39 (and
 * the first subidentifier then spans several octets). At most 128 octets; a truncated last
 * subidentifier or an over-long one makes the whole OID undefined.
 */
export function oid(b: Buffer, t: Tlv): string | undefined {
  if (t.end <= t.start || t.end - t.start > 128 || t.end > b.length) return undefined;
  let out = '';
  let v = 0;
  let first = true;
  for (let i = t.start; i < t.end; i++) {
    const c = b[i] as number;
    v = v * 128 + (c & 0x7f);
    if (v > 0xffffffffff) return undefined; // no real arc is this large; keeps the number exact
    if ((c & 0x80) !== 0) continue;
    if (first) {
      out = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`;
      first = false;
    } else out += `.${v}`;
    v = 0;
  }
  return (b[t.end - 1] as number) & 0x80 ? undefined : out;
}

/** The value as lower-case hex, at most `max` octets. */
export function hex(b: Buffer, t: Tlv, max = 64): string {
  return b.toString('hex', t.start, Math.min(t.end, t.start + max, b.length));
}
