/**
 * DHCPv4 (RFC 2131 on the BOOTP format of RFC 951; options RFC 2132; FQDN RFC 4702; long options
 * RFC 3396; client identifiers RFC 4361).
 *
 * A DHCP request is a device introducing itself: its MAC (chaddr — the real one even through a
 * relay), the hostname it wants, its vendor class ("MSFT 5.0", "android-dhcp-9", "dhcpcd-6.8.2:
 * Linux-3.18.31:armv7l:…"), and the parameter request list and option order, which are
 * fingerprints of the OS's DHCP client (Fingerbank reads the same comma-separated list). Replies
 * bind the MAC to an address (yiaddr) and name the DHCP server, routers, DNS servers and domain.
 */
import type { DissectContext, Dissector, ObservationDraft } from './dissector.ts';
import { macFromBytes, ipv4ToString } from '../packet/address.ts';
import { cleanText } from './redact.ts';

/** RFC 2131 §3: the options field starts with the magic cookie 99.130.83.99. */
const COOKIE = 0x63825363;
/** BOOTP fixed header (RFC 2131 §2, Figure 1): sname at 44 (64 octets), file at 108 (128), cookie at 236. */
const SNAME = 44;
const FILE = 108;
const OPTIONS = 240;
/** Option 53 values (RFC 2132 §9.6, RFC 3203 FORCERENEW, RFC 4388 LEASEQUERY). */
const TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM', 'FORCERENEW', 'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE'];
/** At most this many options are collected from one message (there are only 254 codes). */
const MAX_OPTIONS = 255;

interface Options {
  /** Option codes in the order they appear (Pad and End excluded): a client fingerprint. */
  order: number[];
  /** Option values by code; a repeated option is concatenated (RFC 3396 §7). */
  values: Map<number, Buffer>;
}

/**
 * Collects options from [start, end) into `out`. Pad (0) and End (255) have no length octet
 * (RFC 2132 §3.1–3.2); anything running past `end` ends the walk (a truncated or fuzzed message).
 */
function readOptions(b: Buffer, start: number, end: number, out: Options): void {
  let p = start;
  while (p < end && out.order.length < MAX_OPTIONS) {
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
    const prev = out.values.get(code);
    // Concatenation is bounded: at most 255 options of at most 255 octets each.
    out.values.set(code, prev === undefined ? v : Buffer.concat([prev, v]));
    p += 2 + len;
  }
}

function ip(v: Buffer | undefined): string | undefined {
  return v !== undefined && v.length >= 4 ? ipv4ToString(v.readUInt32BE(0)) : undefined;
}

/** A list of addresses (routers, DNS servers), comma-separated, at most 8. */
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

/** Option 81 (RFC 4702 §2): flags, two obsolete rcodes, then the name — DNS wire format when E (0x04) is set. */
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

/**
 * Option 61 (RFC 2132 §9.14): a type octet then the identifier. Type 1 + 6 octets is an Ethernet
 * MAC ("01:aa:bb:…", as ISC dhcpd writes it); type 0 is free text when printable (Cisco IOS sends
 * "cisco-<mac>-<interface>"); anything else (RFC 4361 DUIDs, type 255) as hex.
 */
function clientId(v: Buffer | undefined): string | undefined {
  if (v === undefined || v.length < 2) return undefined;
  if (v[0] === 1 && v.length === 7) return `01:${macFromBytes(v, 1)}`;
  if (v[0] === 0) {
    let printable = true;
    for (let i = 1; i < v.length && printable; i++) printable = (v[i] as number) >= 0x20 && (v[i] as number) < 0x7f;
    if (printable) return v.toString('latin1', 1, Math.min(v.length, 65));
  }
  return v.subarray(0, 64).toString('hex');
}

/**
 * The OS a vendor class (option 60) states outright: dhcpcd sends "dhcpcd-<ver>:<uname -s>-<uname
 * -r>:<machine>:<platform>" (dhcpcd.conf(5), vendorclassid); Android's own client
 * "android-dhcp-<release>". "MSFT 5.0" only says Windows 2000 or later, so it is left to the
 * fingerprint.
 */
export function osFromVendorClass(vc: string): string | undefined {
  const d = /^dhcpcd-[\d.]+:([A-Za-z][\w]*)-(\d+\.\d+[\w.+~-]*)/.exec(vc);
  if (d !== null) return `${d[1] as string} ${d[2] as string}`;
  const a = /^android-dhcp-(\d+(?:\.\d+)*)$/.exec(vc);
  if (a !== null) return `Android ${a[1] as string}`;
  return undefined;
}

export const dhcp: Dissector = {
  name: 'dhcp',
  transport: 'udp',
  ports: [67, 68],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    // BOOTP op (1 request, 2 reply) and the DHCP magic cookie at 236; off the standard ports also a
    // sane htype/hlen (Ethernet, 6), since 4 bytes at one offset are a weak signature on their own.
    if (p.length < OPTIONS + 1 || p.readUInt32BE(236) !== COOKIE) return false;
    const op = p[0];
    if (op !== 1 && op !== 2) return false;
    return portMatch || (p[1] === 1 && p[2] === 6);
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    if (p.length < OPTIONS || p.readUInt32BE(236) !== COOKIE) return;
    const op = p[0] as number;
    const htype = p[1] as number;
    const hlen = p[2] as number;
    const ciaddr = p.readUInt32BE(12);
    const yiaddr = p.readUInt32BE(16);
    // chaddr is a MAC only for Ethernet (htype 1, hlen 6; RFC 1700 hardware types).
    const mac = htype === 1 && hlen === 6 ? macFromBytes(p, 28) : undefined;
    const opts: Options = { order: [], values: new Map() };
    readOptions(p, OPTIONS, p.length, opts);
    // Option 52 (RFC 2132 §9.3): more options in 'file' (1), 'sname' (2) or both (3). RFC 2131
    // §4.1: they are read after the options field, 'file' first, then 'sname'.
    const overload = opts.values.get(52)?.[0] ?? 0;
    if (overload & 1) readOptions(p, FILE, 236, opts);
    if (overload & 2) readOptions(p, SNAME, FILE, opts);
    const v = opts.values;
    const typeCode = v.get(53)?.[0] ?? 0;
    const type = TYPES[typeCode] ?? `type-${typeCode}`;

    if (op === 1) {
      // About the client named in chaddr: a relay forwards the request from its own address, and
      // a client without a lease sends from 0.0.0.0 — so the subject is chaddr, plus ciaddr when set.
      const subject: { mac?: string; ip?: string } = {};
      if (mac !== undefined) subject.mac = mac;
      if (ciaddr !== 0) subject.ip = ipv4ToString(ciaddr);
      if (subject.mac === undefined && subject.ip === undefined) return;
      const ev = `DHCP ${type} from ${mac ?? subject.ip}`;
      const emit = (attribute: string, value: string | undefined, confidence: number, evidence = ev) => {
        if (value !== undefined) ctx.emit({ side: 'client', attribute, value, confidence, evidence, ...subject });
      };
      emit('dhcp.message_type', type, 0.9);
      emit('dhcp.hostname', text(v.get(12)), 0.85);
      const vc = text(v.get(60));
      emit('dhcp.vendor_class', vc, 0.9);
      const os = vc === undefined ? undefined : osFromVendorClass(vc);
      emit('os', os, 0.6, `DHCP vendor class "${vc}"`);
      const prl = v.get(55);
      if (prl !== undefined && prl.length > 0) emit('dhcp.param_list', Array.prototype.join.call(prl, ','), 0.8);
      emit('dhcp.client_id', clientId(v.get(61)), 0.7);
      emit('dhcp.fqdn', fqdn(v.get(81)), 0.85);
      emit('dhcp.requested_ip', ip(v.get(50)), 0.6);
      const mms = v.get(57);
      if (mms !== undefined && mms.length === 2) emit('dhcp.max_message_size', String(mms.readUInt16BE(0)), 0.6);
      if (opts.order.length > 0) emit('dhcp.options', opts.order.join(','), 0.6);
      return;
    }
    if (op !== 2) return;
    // A reply. The lease is about the client: chaddr now holds yiaddr (RFC 2131 §3.1 step 3).
    if (mac !== undefined && yiaddr !== 0 && (typeCode === 5 || typeCode === 2)) {
      const assigned = ipv4ToString(yiaddr);
      ctx.emit({ side: 'client', attribute: 'dhcp.assigned_ip', value: assigned, confidence: typeCode === 5 ? 0.95 : 0.6, mac, ip: assigned, evidence: `DHCP ${type} ${assigned} to ${mac}` });
    }
    // The rest is about the server, which option 54 names (RFC 2132 §9.7); the packet's source
    // may be a relay, so its MAC is the server's only when the source is the server itself.
    const serverId = ip(v.get(54));
    const server = serverId ?? ctx.srcIp;
    const subject: { ip: string; mac?: string } = { ip: server };
    if (server === ctx.srcIp && ctx.srcMac !== undefined) subject.mac = ctx.srcMac;
    const ev = `DHCP ${type} from server ${server}`;
    const s = (attribute: string, value: string | undefined, confidence = 0.85) => {
      if (value === undefined) return;
      const d: ObservationDraft = { side: 'server', attribute, value, confidence, evidence: ev, ...subject };
      ctx.emit(d);
    };
    s('dhcp.message_type', type, 0.9);
    s('dhcp.server_id', serverId);
    s('dhcp.domain', text(v.get(15)));
    s('dhcp.router', ips(v.get(3)));
    s('dhcp.dns_servers', ips(v.get(6)));
    const lease = v.get(51);
    if (lease !== undefined && lease.length === 4) s('dhcp.lease_time', String(lease.readUInt32BE(0)), 0.7);
  },
};
