/**
 * mDNS / DNS-SD announcements (RFC 6762, RFC 6763): an unsolicited response announcing a service
 * instance with its PTR, SRV, TXT and A records, as printers and other devices multicast them.
 */

function name(n: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of n.replace(/\.$/, '').split('.')) {
    const l = Buffer.from(label, 'utf8').subarray(0, 63);
    parts.push(Buffer.from([l.length]), l);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function rr(owner: string, type: number, cacheFlush: boolean, ttl: number, rdata: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(cacheFlush ? 0x8001 : 0x0001, 2);
  h.writeUInt32BE(ttl, 4);
  h.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name(owner), h, rdata]);
}

export function mdnsAnnouncement(o: { instance: string; service: string; host: string; ip: Buffer; port: number; txt: Record<string, string> }): Buffer {
  const full = `${o.instance}.${o.service}.local`;
  const hostName = `${o.host}.local`;
  const srv = Buffer.alloc(6);
  srv.writeUInt16BE(0, 0);
  srv.writeUInt16BE(0, 2);
  srv.writeUInt16BE(o.port, 4);
  const txt = Buffer.concat(
    Object.entries(o.txt).map(([k, v]) => {
      const s = Buffer.from(`${k}=${v}`, 'utf8').subarray(0, 255);
      return Buffer.concat([Buffer.from([s.length]), s]);
    }),
  );
  const answers = [
    rr(`${o.service}.local`, 12, false, 4500, name(full)),
    rr(full, 33, true, 120, Buffer.concat([srv, name(hostName)])),
    rr(full, 16, true, 4500, txt.length > 0 ? txt : Buffer.from([0])),
    rr(hostName, 1, true, 120, o.ip.subarray(0, 4)),
  ];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x8400, 2); // response, authoritative
  h.writeUInt16BE(answers.length, 6);
  return Buffer.concat([h, ...answers]);
}
