/**
 * DHCPv4 (RFC 2131, options RFC 2132, FQDN RFC 4702, overload option 52).
 *
 * A DHCP request is a device introducing itself: its MAC (chaddr — the real one even through a
 * relay), the hostname it wants, its vendor class ("MSFT 5.0", "dhcpcd-6.8.2:Linux…"), and the
 * parameter request list, whose order is a fingerprint of the OS's DHCP client (Fingerbank and p0f
 * read the same). Replies bind the MAC to an address and name the DHCP server, routers and domain.
 */
import type { DissectContext, Dissector } from './dissector.ts';
import { macFromBytes, ipv4ToString } from '../packet/address.ts';
import { cleanText } from './redact.ts';

const COOKIE = 0x63825363;
const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM', 'FORCERENEW', 'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE'];

interface Options {
  order: number[];
  values: Map<number, Buffer>;
}

/** Collects options from [start, end); `out` may already hold some (overload fields add to them). */
function readOptions(b: Buffer, start: number, end: number, out: Options): void {
  let p = start;
  let n = 0;
  while (p < end && n++ < 256) {
    const code = b[p] as number;
    if (code === 255) return;
    if (code === 0) {
      p++;
      continue;
    }
    if (p + 2 > end) return;
    const len = b[p + 1] as number;
    if (p + 2 + len > end) return;
    out.order.push(code);
    const v = b.subarray(p + 2, p + 2 + len);
    // Options may repeat (RFC 3396 long options): concatenate.
    const prev = out.values.get(code);
    out.values.set(code, prev === undefined ? v : Buffer.concat([prev, v]));
    p += 2 + len;
  }
}

function ip(v: Buffer | undefined, at = 0): string | undefined {
  return v !== undefined && v.length >= at + 4 ? ipv4ToString(v.readUInt32BE(at)) : undefined;
}

function ips(v: Buffer | undefined): string | undefined {
  if (v === undefined || v.length < 4) return undefined;
  const out: string[] = [];
  for (let i = 0; i + 4 <= v.length && out.length < 8; i += 4) out.push(ipv4ToString(v.readUInt32BE(i)));
  return out.join(',');
}

function text(v: Buffer | undefined): string | undefined {
  if (v === undefined || v.length === 0) return undefined;
  const t = cleanText(v.toString('latin1'), 128);
  return t === '' ? undefined : t;
}

/** Option 81 (RFC 4702): flags, two rcodes, then the name — in DNS wire format when the E flag is set. */
function fqdn(v: Buffer | undefined): string | undefined {
  if (v === undefined || v.length < 4) return undefined;
  const flags = v[0] as number;
  const name = v.subarray(3);
  if ((flags & 0x04) === 0) return text(name);
  const labels: string[] = [];
  let p = 0;
  while (p < name.length && labels.length < 32) {
    const l = name[p] as number;
    if (l === 0 || l > 63 || p + 1 + l > name.length) break;
    labels.push(name.toString('latin1', p + 1, p + 1 + l));
    p += 1 + l;
  }
  const t = cleanText(labels.join('.'), 255);
  return t === '' ? undefined : t;
}

function clientId(v: Buffer | undefined): string | undefined {
  if (v === undefined || v.length < 2) return undefined;
  if (v[0] === 1 && v.length === 7) return `01:${macFromBytes(v, 1)}`;
  return v.subarray(0, 64).toString('hex');
}

export const dhcp: Dissector = {
  name: 'dhcp',
  transport: 'udp',
  ports: [67, 68],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    // BOOTP header with the DHCP magic cookie; off the standard ports only with a sane op and hlen.
    if (p.length < 244 || p.readUInt32BE(236) !== COOKIE) return false;
    const op = p[0];
    return (op === 1 || op === 2) && (portMatch || ((p[2] as number) <= 16 && p[1] === 1));
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    if (p.length < 240 || p.readUInt32BE(236) !== COOKIE) return;
    const op = p[0] as number;
    const htype = p[1] as number;
    const hlen = p[2] as number;
    const ciaddr = p.readUInt32BE(12);
    const yiaddr = p.readUInt32BE(16);
    const mac = htype === 1 && hlen === 6 ? macFromBytes(p, 28) : undefined;
    const opts: Options = { order: [], values: new Map() };
    readOptions(p, 240, p.length, opts);
    // Option 52 overload: more options in the file (1) and/or sname (2) fields (RFC 2132 §9.3).
    const overload = opts.values.get(52)?.[0] ?? 0;
    if (overload & 1) readOptions(p, 108, 236, opts);
    if (overload & 2) readOptions(p, 44, 108, opts);
    const v = opts.values;
    const typeCode = v.get(53)?.[0] ?? 0;
    const type = TYPES[typeCode] ?? `type-${typeCode}`;
    if (op === 1) {
      // The subject is the client named in chaddr (a relay forwards it; the IP source may be the relay).
      const subject = { ...(mac !== undefined ? { mac } : {}), ...(ciaddr !== 0 ? { ip: ipv4ToString(ciaddr) } : {}) };
      if (subject.mac === undefined && subject.ip === undefined) return;
      const emit = (attribute: string, value: string | undefined, confidence = 0.85, evidence?: string) => {
        if (value !== undefined) ctx.emit({ side: 'client', attribute, value, confidence, ...subject, ...(evidence !== undefined ? { evidence } : {}) });
      };
      const ev = `DHCP ${type} from ${mac ?? '?'}`;
      emit('dhcp.message_type', type, 0.9, ev);
      emit('dhcp.hostname', text(v.get(12)), 0.85, ev);
      emit('dhcp.vendor_class', text(v.get(60)), 0.9, ev);
      const prl = v.get(55);
      if (prl !== undefined && prl.length > 0) emit('dhcp.param_list', [...prl].join(','), 0.8, ev);
      emit('dhcp.client_id', clientId(v.get(61)), 0.7);
      emit('dhcp.fqdn', fqdn(v.get(81)), 0.85, ev);
      emit('dhcp.requested_ip', ip(v.get(50)), 0.6);
      const mms = v.get(57);
      if (mms !== undefined && mms.length === 2) emit('dhcp.max_message_size', String(mms.readUInt16BE(0)), 0.6);
      emit('dhcp.options', opts.order.join(','), 0.6);
      return;
    }
    if (op === 2) {
      if (mac !== undefined && yiaddr !== 0 && (typeCode === 5 || typeCode === 2)) {
        const assigned = ipv4ToString(yiaddr);
        ctx.emit({ side: 'client', attribute: 'dhcp.assigned_ip', value: assigned, confidence: typeCode === 5 ? 0.95 : 0.6, mac, ip: assigned, evidence: `DHCP ${type} ${assigned} to ${mac}` });
      }
      // The server speaks for itself: option 54 names it (the IP source may be a relay).
      const server = ip(v.get(54)) ?? ctx.srcIp;
      const s = (attribute: string, value: string | undefined) => {
        if (value !== undefined) ctx.emit({ side: 'server', attribute, value, confidence: 0.85, ip: server });
      };
      s('dhcp.server_id', server);
      s('dhcp.domain', text(v.get(15)));
      s('dhcp.router', ips(v.get(3)));
      s('dhcp.dns_servers', ips(v.get(6)));
      const lease = v.get(51);
      if (lease !== undefined && lease.length === 4) s('dhcp.lease_time', String(lease.readUInt32BE(0)));
    }
  },
};
