/**
 * DHCPv4 messages (RFC 2131, options RFC 2132) as a given OS sends them: its parameter request
 * list, vendor class and option order are what passive fingerprinting reads.
 */
import type { OsProfile } from '../catalogue.ts';

export const DhcpType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

export interface DhcpClient {
  mac: Buffer;
  hostname: string;
  os: OsProfile;
  xid: number;
  /** Address being requested (REQUEST in INIT-REBOOT/SELECTING) or renewed (ciaddr in RENEWING). */
  requested?: Buffer;
  ciaddr?: Buffer;
  serverId?: Buffer;
  secs?: number;
}

function header(op: 1 | 2, xid: number, mac: Buffer, secs: number): Buffer {
  const b = Buffer.alloc(240);
  b[0] = op;
  b[1] = 1; // Ethernet
  b[2] = 6;
  b.writeUInt32BE(xid >>> 0, 4);
  b.writeUInt16BE(secs, 8);
  mac.copy(b, 28);
  b.writeUInt32BE(0x63825363, 236); // magic cookie
  return b;
}

function opt(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** A client message (DISCOVER, REQUEST, INFORM, RELEASE) with the OS's options in the OS's order. */
export function dhcpClientMessage(type: number, c: DhcpClient): Buffer {
  const b = header(1, c.xid, c.mac, c.secs ?? 0);
  if (c.ciaddr !== undefined) c.ciaddr.copy(b, 12);
  // Broadcast flag for clients without an address (most embedded stacks set it).
  if (c.ciaddr === undefined) b.writeUInt16BE(0x8000, 10);
  const d = c.os.dhcp;
  const available = new Map<number, Buffer>();
  available.set(61, Buffer.concat([Buffer.from([1]), c.mac]));
  if (c.requested !== undefined && c.ciaddr === undefined) available.set(50, c.requested);
  if (c.serverId !== undefined && type === DhcpType.REQUEST && c.ciaddr === undefined) available.set(54, c.serverId);
  available.set(12, Buffer.from(c.hostname, 'ascii'));
  if (d?.vendorClass !== undefined) available.set(60, Buffer.from(d.vendorClass, 'ascii'));
  if (d !== undefined) available.set(55, Buffer.from(d.paramList.split(',').map((x) => Number(x.trim()))));
  if (d?.maxMessageSize !== undefined) {
    const m = Buffer.alloc(2);
    m.writeUInt16BE(d.maxMessageSize);
    available.set(57, m);
  }
  if (c.os.family === 'windows') {
    // Client FQDN (RFC 4702): flags 0, rcodes 0, the name in ASCII (as Windows sends it).
    available.set(81, Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from(c.hostname, 'ascii')]));
  }
  const order = d?.optionOrder ?? [61, 50, 54, 12, 81, 60, 57, 55];
  const parts: Buffer[] = [b, opt(53, Buffer.from([type]))];
  const used = new Set<number>();
  for (const code of order) {
    const v = available.get(code);
    if (v !== undefined && !used.has(code)) {
      parts.push(opt(code, v));
      used.add(code);
    }
  }
  for (const [code, v] of available) if (!used.has(code)) parts.push(opt(code, v));
  parts.push(Buffer.from([255]));
  const msg = Buffer.concat(parts);
  // Pad to the BOOTP minimum of 300 bytes (RFC 1542), as real clients do.
  return msg.length >= 300 ? msg : Buffer.concat([msg, Buffer.alloc(300 - msg.length)]);
}

export interface DhcpLease {
  yiaddr: Buffer;
  serverId: Buffer;
  router: Buffer;
  dns: Buffer;
  mask: Buffer;
  domain: string;
  leaseSeconds: number;
}

/** The server's OFFER or ACK. */
export function dhcpServerMessage(type: number, xid: number, mac: Buffer, lease: DhcpLease, ciaddr?: Buffer): Buffer {
  const b = header(2, xid, mac, 0);
  if (ciaddr !== undefined) ciaddr.copy(b, 12);
  lease.yiaddr.copy(b, 16);
  lease.serverId.copy(b, 20); // siaddr
  const t = (n: number) => {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(n >>> 0);
    return v;
  };
  const parts = [
    b,
    opt(53, Buffer.from([type])),
    opt(54, lease.serverId),
    opt(51, t(lease.leaseSeconds)),
    opt(58, t(Math.floor(lease.leaseSeconds / 2))),
    opt(59, t(Math.floor((lease.leaseSeconds * 7) / 8))),
    opt(1, lease.mask),
    opt(3, lease.router),
    opt(6, lease.dns),
    opt(15, Buffer.from(lease.domain, 'ascii')),
    Buffer.from([255]),
  ];
  const msg = Buffer.concat(parts);
  return msg.length >= 300 ? msg : Buffer.concat([msg, Buffer.alloc(300 - msg.length)]);
}
