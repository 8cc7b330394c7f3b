/**
 * NetBIOS name service (RFC 1001 §15, RFC 1002 §4.2; UDP 137): Windows machines and Samba servers
 * register their computer name (unique <00>, <20> with file sharing), their workgroup or domain
 * (group <00>, <1E>), answer name queries for the names they own, and answer node-status queries
 * with their whole name table and their MAC address (the "unit ID").
 *
 * The message is DNS-shaped (see dns-wire.ts) but names use the "first-level encoding" of RFC 1001
 * §14.1: 16 bytes (15 characters padded with spaces, then a suffix byte saying what the name is
 * for), each byte split into two nibbles written as the letters 'A'+nibble: 32 letters A–P.
 */
import { sender, type DissectContext, type Dissector, type Side } from './dissector.ts';
import { DnsType, parseDns, probeDnsFormat, type DnsMessage, type DnsRecord } from './dns-wire.ts';
import { macFromBytes } from '../packet/address.ts';
import { cleanText } from './redact.ts';

/** RFC 1002 §4.2.1.1 OPCODE values. */
const Op = { QUERY: 0, REGISTRATION: 5, RELEASE: 6, WACK: 7, REFRESH: 8, REFRESH_ALT: 9, MULTIHOMED: 15 } as const;
/** NB_FLAGS / NAME_FLAGS G bit (RFC 1002 §4.2.1.3, §4.2.18): a group name. */
const GROUP = 0x8000;
const MAX_NAMES = 64;
const MAX_ADDRESSES = 4;

export interface NbName {
  /** The name without its padding (a NetBIOS name is at most 15 characters). */
  name: string;
  /** The 16th byte: what the name is for (<00> workstation, <20> server, <1C> domain controllers …). */
  suffix: number;
}

/** Decodes a first-level encoded name (RFC 1001 §14.1); a scope ID after the first label is ignored. */
export function decodeNbName(encoded: string): NbName | undefined {
  if (encoded.length < 32 || (encoded.length > 32 && encoded.charCodeAt(32) !== 0x2e)) return undefined;
  let s = '';
  for (let i = 0; i < 32; i += 2) {
    // Upper-case A–P only; some stacks write lower case, which reads the same.
    const hi = (encoded.charCodeAt(i) | 0x20) - 0x61;
    const lo = (encoded.charCodeAt(i + 1) | 0x20) - 0x61;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    s += String.fromCharCode((hi << 4) | lo);
  }
  return { name: cleanText(s.slice(0, 15), 15), suffix: s.charCodeAt(15) };
}

/** "NAME<xx>", as Wireshark and nbtstat write it. */
export function formatNbName(n: NbName): string {
  return `${n.name}<${n.suffix.toString(16).padStart(2, '0')}>`;
}

/**
 * What a name in a name table says about its owner. Unique names are the machine's own, with
 * their suffix (CT-WS-03<00>, CT-WS-03<20>). Workgroup/domain names — group <00>, <1C> (domain
 * controllers), <1E> (browser elections), unique <1B>/<1D> (domain / local master browser) — become
 * a bare netbios.domain. The browse-master marker, IIS's internal names and <03> identify nothing.
 */
export function classifyNbName(n: NbName, group: boolean): { attribute: 'netbios.name' | 'netbios.domain'; value: string } | undefined {
  if (n.name === '' || n.name === '*' || n.name.includes('__MSBROWSE__') || /^(INet~Services|IS~)/i.test(n.name)) return undefined;
  if (group) return n.suffix === 0x00 || n.suffix === 0x1c || n.suffix === 0x1e ? { attribute: 'netbios.domain', value: n.name } : undefined;
  if (n.suffix === 0x1b || n.suffix === 0x1d) return { attribute: 'netbios.domain', value: n.name };
  // <03> (messenger service) is registered for the computer — a copy of its <00> name — and for the
  // logged-on user: a person's name, which identifies no device. Not reported.
  if (n.suffix === 0x03) return undefined;
  return { attribute: 'netbios.name', value: formatNbName(n) };
}

export const netbios: Dissector = {
  name: 'netbios',
  transport: 'udp',
  ports: [137],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined) return;
    const side: Side = ctx.dir === 0 ? 'client' : 'server';
    if (!m.response) request(m, p, ctx, side);
    else if (m.rcode === 0 && m.opcode === Op.QUERY) response(m, p, ctx, side);
  },
};

function request(m: DnsMessage, p: Buffer, ctx: DissectContext, side: Side): void {
  const subject = sender(ctx);
  if (m.opcode === Op.QUERY) {
    // What the sender looks for (the wildcard "*" is a node-status request: nothing asked by name).
    for (let i = 0; i < m.questions.length && i < MAX_ADDRESSES; i++) {
      const q = m.questions[i] as DnsMessage['questions'][number];
      const n = decodeNbName(q.name);
      if (n !== undefined && n.name !== '' && n.name !== '*') ctx.emit({ side, attribute: 'netbios.query', value: formatNbName(n), confidence: 0.5, ...subject });
    }
    return;
  }
  // Registration, refresh, release (§4.2.2–4.2.5, §4.2.9): the question names the sender's own name,
  // the additional NB record carries its NB_FLAGS (group or unique) and address.
  const claims = m.opcode === Op.REGISTRATION || m.opcode === Op.REFRESH || m.opcode === Op.REFRESH_ALT || m.opcode === Op.MULTIHOMED;
  if (!claims && m.opcode !== Op.RELEASE) return;
  for (let i = 0; i < m.additional.length && i < MAX_ADDRESSES; i++) {
    const r = m.additional[i] as DnsRecord;
    if (r.type !== DnsType.NB || r.rdlength < 6) continue;
    const n = decodeNbName(r.name);
    if (n === undefined) continue;
    const c = classifyNbName(n, (p.readUInt16BE(r.rdata) & GROUP) !== 0);
    // A release still tells which name the host held, a little less firmly.
    if (c !== undefined) ctx.emit({ side, attribute: c.attribute, value: c.value, confidence: claims ? 0.85 : 0.7, evidence: `${opName(m.opcode)} ${formatNbName(n)}`, ...subject });
  }
}

function response(m: DnsMessage, p: Buffer, ctx: DissectContext, side: Side): void {
  for (let i = 0; i < m.answers.length && i < MAX_ADDRESSES; i++) {
    const r = m.answers[i] as DnsRecord;
    if (r.type === DnsType.NBSTAT) nodeStatus(p, r, ctx, side);
    else if (r.type === DnsType.NB) positiveQuery(p, r, ctx, side);
  }
}

/**
 * Node status response (§4.2.18): NUM_NAMES, then 18-byte entries (16-byte raw name, NAME_FLAGS),
 * then the statistics, which start with the 6-byte UNIT_ID — the adapter's MAC (Samba sends zeros).
 */
function nodeStatus(p: Buffer, r: DnsRecord, ctx: DissectContext, side: Side): void {
  if (r.rdlength < 1) return;
  const subject = sender(ctx);
  const count = p[r.rdata] as number;
  const end = r.rdata + r.rdlength;
  let q = r.rdata + 1;
  let i = 0;
  for (; i < count && i < MAX_NAMES && q + 18 <= end; i++, q += 18) {
    const n: NbName = { name: cleanText(p.toString('latin1', q, q + 15), 15), suffix: p[q + 15] as number };
    const c = classifyNbName(n, (p.readUInt16BE(q + 16) & GROUP) !== 0);
    if (c !== undefined) ctx.emit({ side, attribute: c.attribute, value: c.value, confidence: 0.9, evidence: `NBSTAT ${formatNbName(n)}`, ...subject });
  }
  // Only when the name table was complete does the unit ID sit where we look.
  if (i === count && q + 6 <= end) {
    const mac = macFromBytes(p, q);
    if (mac !== '00:00:00:00:00:00') ctx.emit({ side, attribute: 'netbios.mac', value: mac, confidence: 0.9, evidence: 'NBSTAT unit ID', ...subject });
  }
}

/**
 * Positive name query response (§4.2.13): ADDR_ENTRY list of NB_FLAGS + NB_ADDRESS. In broadcast
 * mode the owner itself answers; a WINS server answers for others — so the subject is each address
 * given, and the claim is firmer when that address is the sender's own.
 */
function positiveQuery(p: Buffer, r: DnsRecord, ctx: DissectContext, side: Side): void {
  const n = decodeNbName(r.name);
  if (n === undefined) return;
  const end = r.rdata + r.rdlength;
  for (let q = r.rdata, k = 0; q + 6 <= end && k < MAX_ADDRESSES; q += 6, k++) {
    const c = classifyNbName(n, (p.readUInt16BE(q) & GROUP) !== 0);
    if (c === undefined) return;
    const ip = `${p[q + 2]}.${p[q + 3]}.${p[q + 4]}.${p[q + 5]}`;
    if (ip === '0.0.0.0') continue;
    const self = ip === ctx.srcIp;
    const subject = self && ctx.srcMac !== undefined ? { ip, mac: ctx.srcMac } : { ip };
    ctx.emit({ side, attribute: c.attribute, value: c.value, confidence: self ? 0.85 : 0.6, evidence: `NB ${formatNbName(n)} ${ip}`, ...subject });
  }
}

function opName(op: number): string {
  return op === Op.REGISTRATION ? 'registration' : op === Op.RELEASE ? 'release' : op === Op.MULTIHOMED ? 'multi-homed registration' : 'refresh';
}
