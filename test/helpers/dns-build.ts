/** Builds DNS-format messages (RFC 1035 §4) for the name-service tests: DNS, mDNS, LLMNR, NBNS. */

/** Wire form of a dotted name, uncompressed. A Buffer is taken as already encoded (e.g. a pointer). */
export function wireName(n: string | Buffer): Buffer {
  if (Buffer.isBuffer(n)) return n;
  const parts: Buffer[] = [];
  for (const label of n === '' ? [] : n.split('.')) {
    const l = Buffer.from(label, 'utf8');
    parts.push(Buffer.from([l.length]), l);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A compression pointer to `offset` (RFC 1035 §4.1.4). */
export function pointer(offset: number): Buffer {
  return Buffer.from([0xc0 | (offset >> 8), offset & 0xff]);
}

export function question(name: string | Buffer, type: number, cls = 1): Buffer {
  const t = Buffer.alloc(4);
  t.writeUInt16BE(type, 0);
  t.writeUInt16BE(cls, 2);
  return Buffer.concat([wireName(name), t]);
}

export function rr(owner: string | Buffer, type: number, rdata: Buffer, opts: { cls?: number; ttl?: number } = {}): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(opts.cls ?? 1, 2);
  h.writeUInt32BE(opts.ttl ?? 120, 4);
  h.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([wireName(owner), h, rdata]);
}

export function txt(...strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s, 'utf8')])));
}

export function srv(port: number, target: string): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(port, 4);
  return Buffer.concat([h, wireName(target)]);
}

export function message(o: { id?: number; flags: number; questions?: Buffer[]; answers?: Buffer[]; authority?: Buffer[]; additional?: Buffer[] }): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0x1234, 0);
  h.writeUInt16BE(o.flags, 2);
  h.writeUInt16BE(o.questions?.length ?? 0, 4);
  h.writeUInt16BE(o.answers?.length ?? 0, 6);
  h.writeUInt16BE(o.authority?.length ?? 0, 8);
  h.writeUInt16BE(o.additional?.length ?? 0, 10);
  return Buffer.concat([h, ...(o.questions ?? []), ...(o.answers ?? []), ...(o.authority ?? []), ...(o.additional ?? [])]);
}

/** NetBIOS first-level encoding (RFC 1001 §14.1) of a name padded to 15 with `pad`, plus its suffix. */
export function nbEncode(name: string, suffix: number, pad = 0x20): string {
  const raw = Buffer.alloc(16, pad);
  raw.write(name.slice(0, 15), 'latin1');
  raw[15] = suffix;
  let s = '';
  for (const b of raw) s += String.fromCharCode(0x41 + (b >> 4), 0x41 + (b & 0xf));
  return s;
}
