/** DNS messages (RFC 1035) for the simulator: a standard query and its answer. */

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    const l = Buffer.from(label, 'ascii').subarray(0, 63);
    parts.push(Buffer.from([l.length]), l);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Query for `name` (type A = 1, AAAA = 28, PTR = 12 …). */
export function dnsQuery(id: number, name: string, type = 1): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

/** Answer to an A query: the question echoed, then A records pointing back at it (name compression 0xc00c). */
export function dnsAnswer(id: number, name: string, addresses: readonly Buffer[], ttl = 300): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(addresses.length > 0 ? 0x8180 : 0x8183, 2); // QR RD RA, NXDOMAIN when empty
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(addresses.length, 6);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(1, 0);
  q.writeUInt16BE(1, 2);
  const answers = addresses.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.copy(rr, 12, 0, 4);
    return rr;
  });
  return Buffer.concat([h, encodeName(name), q, ...answers]);
}
