/**
 * Passive TCP/IP stack fingerprints in the p0f v3 style: every SYN and SYN+ACK says how its
 * sender's stack was built (initial TTL, window, MSS, window scale, option order, quirks), and p0f's
 * database (data/p0f.fp) maps that to an OS family. Weaker evidence than NTLMSSP or DHCP — it
 * survives NAT poorly and names families, not versions — but it is there for every device that
 * opens or accepts a TCP connection, including those that say nothing else.
 *
 * The signature is built exactly as p0f 3.09b builds it (parse_packet() in process.c, dump_sig()
 * in fp_tcp.c), quirks of p0f's own included, because the database was made from p0f's output:
 * a signature that differs from p0f's in any detail would miss its label. Tests compare our raw
 * signatures and labels with Debian's p0f, on real captures and on generated packets.
 *
 * Cost: most SYNs repeat a signature their host already showed. A fingerprinter first parses the
 * header into numbers (no allocation), hashes them, and stops there when that host has shown that
 * hash before; strings are built and the database consulted only for new (host, signature) pairs,
 * and matches are cached per signature.
 */
import type { DissectContext, SynDissector, SynIpInfo } from './dissector.ts';
import { matchTcp, p0fDatabase, Quirk, rawSignature, type P0fMatch, type TcpObservation } from './p0f-db.ts';

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_URG = 0x20;
const TCP_ECE = 0x40;
const TCP_CWR = 0x80;

/** config.h: p0f records at most this many options. */
export const MAX_TCP_OPT = 24;

/** The TCP options as p0f sees them: numbers only, so a reused one costs nothing per SYN. */
export interface TcpOptionShape {
  /** Option kinds in order (p0f's opt_layout); `count` are valid. */
  readonly kinds: Uint8Array;
  count: number;
  eolPad: number;
  mss: number;
  wscale: number;
  /** Option quirks: ts1-, ts2+, opt+, exws, bad. */
  quirks: number;
  /** TSval (0 when absent). */
  ts1: number;
}

export function newOptionShape(): TcpOptionShape {
  return { kinds: new Uint8Array(MAX_TCP_OPT), count: 0, eolPad: 0, mss: 0, wscale: 0, quirks: 0, ts1: 0 };
}

/**
 * p0f's TCP option parser (process.c, "TCP option parsing"), byte for byte: `optEnd` is the end of
 * the header (data offset × 4, at most tcp.length). Malformed options are not errors but the 'bad'
 * quirk, and p0f's own arithmetic is kept: MSS, WS, SACKOK and TS advance by their nominal sizes
 * whatever their length byte says (a wrong length byte is 'bad' too); SACK and unknown options
 * advance by their length byte within limits (10–34, 2–40), else parsing stops ('bad').
 * `pureSyn`: a SYN without ACK, the only kind where a non-zero TSecr is the 'ts2+' quirk.
 */
export function parseTcpOptions(tcp: Buffer, optEnd: number, pureSyn: boolean, out: TcpOptionShape): void {
  const kinds = out.kinds;
  let count = 0;
  let quirks = 0;
  let eolPad = 0;
  let mss = 0;
  let wscale = 0;
  let ts1 = 0;
  let p = 20;
  let abort = false;
  while (p < optEnd && count < MAX_TCP_OPT) {
    const kind = tcp[p++] as number;
    kinds[count++] = kind;
    if (kind === 0) {
      // EOL ends the options: count the padding after it, and flag non-zero padding. p0f's loop
      // (`while (data < end && !*data++);`) stops *past* the first non-zero byte, so a non-zero
      // byte that is the header's last one goes unflagged; kept, for identical signatures.
      eolPad = optEnd - p;
      while (p < optEnd) if (tcp[p++] !== 0) break;
      if (p !== optEnd) {
        quirks |= Quirk.OPT_EOL_NZ;
        p = optEnd;
      }
    } else if (kind === 1) {
      // NOP: one byte.
    } else if (kind === 2) {
      if (p + 3 > optEnd) {
        abort = true;
        break;
      }
      if (tcp[p] !== 4) quirks |= Quirk.OPT_BAD;
      mss = ((tcp[p + 1] as number) << 8) | (tcp[p + 2] as number);
      p += 3;
    } else if (kind === 3) {
      if (p + 2 > optEnd) {
        abort = true;
        break;
      }
      if (tcp[p] !== 3) quirks |= Quirk.OPT_BAD;
      wscale = tcp[p + 1] as number;
      // RFC 7323 §2.3: shifts above 14 are invalid.
      if (wscale > 14) quirks |= Quirk.OPT_EXWS;
      p += 2;
    } else if (kind === 4) {
      if (p + 1 > optEnd) {
        abort = true;
        break;
      }
      if (tcp[p] !== 2) quirks |= Quirk.OPT_BAD;
      p++;
    } else if (kind === 8) {
      if (p + 9 > optEnd) {
        abort = true;
        break;
      }
      if (tcp[p] !== 10) quirks |= Quirk.OPT_BAD;
      ts1 = tcp.readUInt32BE(p + 1);
      if (ts1 === 0) quirks |= Quirk.OPT_ZERO_TS1;
      // RFC 7323 §3.2: TSecr is only meaningful with ACK; a SYN has nothing to echo yet.
      if (pureSyn && tcp.readUInt32BE(p + 5) !== 0) quirks |= Quirk.OPT_NZ_TS2;
      p += 9;
    } else {
      // SACK (5) is 10–34 bytes; any other option has a length byte of 2–40.
      const min = kind === 5 ? 10 : 2;
      const max = kind === 5 ? 34 : 40;
      if (p === optEnd) {
        abort = true;
        break;
      }
      const len = tcp[p] as number;
      if (len < min || len > max || p - 1 + len > optEnd) {
        abort = true;
        break;
      }
      p += len - 1;
    }
  }
  if (abort || p !== optEnd) quirks |= Quirk.OPT_BAD;
  out.count = count;
  out.eolPad = eolPad;
  out.mss = mss;
  out.wscale = wscale;
  out.quirks = quirks;
  out.ts1 = ts1;
}

const OPTION_NAMES: Record<number, string> = { 0: 'eol', 1: 'nop', 2: 'mss', 3: 'ws', 4: 'sok', 5: 'sack', 8: 'ts' };

/** p0f's option layout text ("mss,nop,ws,sok,ts"; EOL as plain "eol", its padding apart). */
export function layoutText(shape: TcpOptionShape): string {
  let s = '';
  for (let i = 0; i < shape.count; i++) {
    const k = shape.kinds[i] as number;
    const name = OPTION_NAMES[k] ?? `?${k}`;
    s = i === 0 ? name : `${s},${name}`;
  }
  return s;
}

/** Reads the TCP header's options into p0f's olayout, MSS, window scale and option quirks. */
export function readTcpOptions(tcp: Buffer, synAck: boolean): { olayout: string; eolPad: number; mss: number; wscale: number; quirks: number; ts1: boolean } {
  const shape = newOptionShape();
  // A header too short for options has none (not bad ones).
  const optEnd = tcp.length < 20 ? 20 : Math.max(20, Math.min(tcp.length, ((tcp[12] as number) >> 4) * 4));
  parseTcpOptions(tcp, optEnd, !synAck, shape);
  return { olayout: layoutText(shape), eolPad: shape.eolPad, mss: shape.mss, wscale: shape.wscale, quirks: shape.quirks, ts1: shape.ts1 !== 0 };
}

/** Everything of one SYN that its signature depends on, as numbers (reused; see SynReader.read). */
class SynShape {
  readonly opts = newOptionShape();
  version: 4 | 6 = 4;
  ttl = 0;
  olen = 0;
  win = 0;
  quirks = 0;
  pclass: 0 | 1 = 0;
  totHdr = 0;
  synMss = 0;
  synAck = false;

  /**
   * Reads a SYN or SYN+ACK as parse_packet() does. False for what p0f skips: truncated headers,
   * IPv4 fragments, and "silly" flag combinations (SYN+FIN, SYN+RST), which are scans, not stacks.
   */
  read(ip: SynIpInfo, tcp: Buffer, synAck: boolean, synMss: number): boolean {
    const h = ip.header;
    if (tcp.length < 20) return false;
    const flags = tcp[13] as number;
    if ((flags & (TCP_FIN | TCP_RST)) !== 0 || (flags & TCP_SYN) === 0) return false;
    const doff = ((tcp[12] as number) >> 4) * 4;
    if (doff < 20 || doff > tcp.length) return false;
    let quirks = 0;
    if (ip.version === 4) {
      if (h.length < 20) return false;
      const flagsOff = h.readUInt16BE(6);
      // "Ignore any traffic with MF or non-zero fragment offset specified."
      if ((flagsOff & 0x3fff) !== 0) return false;
      // RFC 3168 §5: the low two bits of the old TOS byte are ECN.
      if (((h[1] as number) & 0x03) !== 0) quirks |= Quirk.ECN;
      if ((flagsOff & 0x8000) !== 0) quirks |= Quirk.NZ_MBZ;
      const id = h.readUInt16BE(4);
      if ((flagsOff & 0x4000) !== 0) {
        quirks |= Quirk.DF;
        if (id !== 0) quirks |= Quirk.NZ_ID;
      } else if (id === 0) quirks |= Quirk.ZERO_ID;
      this.olen = ip.headerLength - 20;
    } else {
      if (h.length < 4) return false;
      const verTos = h.readUInt32BE(0);
      if ((verTos & 0xfffff) !== 0) quirks |= Quirk.FLOW;
      if (((verTos >>> 20) & 0x03) !== 0) quirks |= Quirk.ECN;
      // p0f takes no IPv6 extension headers as "IP options": v6 signatures all say 0.
      this.olen = 0;
    }
    // ECE/CWR (RFC 3168 §6.1.1) and the NS bit (RFC 3540) in the reserved nibble's low bit.
    if ((flags & (TCP_ECE | TCP_CWR)) !== 0 || ((tcp[12] as number) & 0x01) !== 0) quirks |= Quirk.ECN;
    if (tcp.readUInt32BE(4) === 0) quirks |= Quirk.ZERO_SEQ;
    if ((flags & TCP_ACK) !== 0) {
      if (tcp.readUInt32BE(8) === 0) quirks |= Quirk.ZERO_ACK;
    } else if (((tcp[8] as number) & 0x01) !== 0) {
      // p0f tests `RD32(tcp->ack) & !(flags & RST)`: a bitwise AND with 1 of the ACK field as the
      // little-endian CPU loads it, i.e. the low bit of its first byte. That (not "non-zero") is what
      // the 'ack+' in Debian's amd64 p0f logs, and in the database built from them.
      quirks |= Quirk.NZ_ACK;
    }
    if ((flags & TCP_URG) !== 0) quirks |= Quirk.URG;
    else if (tcp.readUInt16BE(18) !== 0) quirks |= Quirk.NZ_URG;
    if ((flags & TCP_PSH) !== 0) quirks |= Quirk.PUSH;
    parseTcpOptions(tcp, doff, (flags & TCP_ACK) === 0, this.opts);
    this.quirks = quirks | this.opts.quirks;
    this.version = ip.version;
    this.ttl = ip.ttl;
    this.win = tcp.readUInt16BE(14);
    this.pclass = ip.totalLength - ip.headerLength - doff > 0 ? 1 : 0;
    this.totHdr = ip.headerLength + doff;
    this.synMss = synMss;
    this.synAck = synAck;
    return true;
  }

  /** A hash of all of the above: equal hashes, equal signatures (barring collisions: a missed repeat report). */
  hash(): number {
    const o = this.opts;
    let h = 0x811c9dc5;
    h = Math.imul(h ^ this.version, 0x01000193);
    h = Math.imul(h ^ this.ttl, 0x01000193);
    h = Math.imul(h ^ this.olen, 0x01000193);
    h = Math.imul(h ^ this.win, 0x01000193);
    h = Math.imul(h ^ this.quirks, 0x01000193);
    h = Math.imul(h ^ this.pclass, 0x01000193);
    h = Math.imul(h ^ this.totHdr, 0x01000193);
    h = Math.imul(h ^ this.synMss, 0x01000193);
    h = Math.imul(h ^ (this.synAck ? 1 : 0), 0x01000193);
    h = Math.imul(h ^ o.mss, 0x01000193);
    h = Math.imul(h ^ o.wscale, 0x01000193);
    h = Math.imul(h ^ o.eolPad, 0x01000193);
    h = Math.imul(h ^ (o.ts1 === 0 ? 0 : 1), 0x01000193);
    h = Math.imul(h ^ o.count, 0x01000193);
    for (let i = 0; i < o.count; i++) h = Math.imul(h ^ (o.kinds[i] as number), 0x01000193);
    return h >>> 0;
  }

  observation(): TcpObservation {
    const o = this.opts;
    return {
      ipVersion: this.version,
      ttl: this.ttl,
      olen: this.olen,
      mss: o.mss,
      win: this.win,
      wscale: o.wscale,
      olayout: layoutText(o),
      eolPad: o.eolPad,
      quirks: this.quirks,
      pclass: this.pclass,
      totHdr: this.totHdr,
      synMss: this.synMss,
      ts1: o.ts1 !== 0,
      synAck: this.synAck,
    };
  }
}

/** Builds what p0f observes from a SYN or SYN+ACK (undefined for what p0f would skip). */
export function observeSyn(ip: SynIpInfo, tcp: Buffer, synAck: boolean, synMss: number): TcpObservation | undefined {
  const s = new SynShape();
  return s.read(ip, tcp, synAck, synMss) ? s.observation() : undefined;
}

/** Raw signatures repeat endlessly (every connection of a host): remember their matches, within a bound. */
const MAX_CACHE = 20_000;
const MAX_SUBJECTS = 200_000;
const MAX_SYN_MSS = 50_000;

/** Confidence of the `os` value: p0f's exact matches are decent evidence, generic and fuzzy ones less. */
const CONF_EXACT = 0.5;
const CONF_GENERIC = 0.4;
const CONF_FUZZY = 0.3;

class TcpFingerprinter implements SynDissector {
  readonly name = 'tcp';
  /** Match per (kind, raw signature, raw window): the raw window decides "mss*N" matches p0f prints alike. */
  private readonly cache = new Map<string, P0fMatch | null>();
  /** Signatures already reported, by host address (the flow's own string: its hash is cached). */
  private readonly reported = new Map<string, Set<number> | number>();
  private reportedCount = 0;
  /** The client's MSS per flow, for matching the server's SYN+ACK window ("mss*N" of the peer). */
  private readonly synMss = new Map<number, number>();
  private readonly shape = new SynShape();

  syn(ip: SynIpInfo, tcp: Buffer, synAck: boolean, ctx: DissectContext): void {
    let peerMss = 0;
    if (synAck) {
      peerMss = this.synMss.get(ctx.flowId) ?? 0;
      this.synMss.delete(ctx.flowId);
    }
    const s = this.shape;
    if (!s.read(ip, tcp, synAck, peerMss)) return;
    if (!synAck) {
      if (this.synMss.size >= MAX_SYN_MSS) this.synMss.clear();
      this.synMss.set(ctx.flowId, s.opts.mss);
    }
    // Every connection of a host repeats its signature: stop here unless this one is new for the host.
    const host = synAck ? ctx.serverIp : ctx.clientIp;
    // 30 bits (a small integer, unboxed), and the SYN/SYN+ACK kind in the lowest bit.
    const sig = ((s.hash() & 0x1fffffff) << 1) | (synAck ? 1 : 0);
    // Most hosts show one signature: keep a number, and a set only for the few with several.
    const seen = this.reported.get(host);
    if (seen === sig || (typeof seen === 'object' && seen.has(sig))) return;
    if (this.reportedCount >= MAX_SUBJECTS) {
      this.reported.clear();
      this.reportedCount = 0;
    }
    if (seen === undefined) this.reported.set(host, sig);
    else if (typeof seen === 'number') this.reported.set(host, new Set([seen, sig]));
    else seen.add(sig);
    this.reportedCount++;

    const o = s.observation();
    const raw = rawSignature(o);
    const side = synAck ? 'server' : 'client';
    ctx.emit({ side, attribute: 'tcp.fingerprint', value: raw, confidence: 0.6, evidence: synAck ? 'SYN+ACK' : 'SYN' });
    const cacheKey = `${synAck ? 'r' : 'q'}${o.win}|${raw}`;
    let m = this.cache.get(cacheKey);
    if (m === undefined) {
      const db = p0fDatabase();
      m = matchTcp(synAck ? db.response : db.request, o) ?? null;
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(cacheKey, m);
    }
    if (m === null) return;
    const kind = m.fuzzy ? 'fuzzy' : m.sig.generic ? 'generic' : 'exact';
    const ev = `p0f ${kind} match of ${raw} (p0f.fp line ${m.sig.line})`;
    ctx.emit({ side, attribute: 'tcp.p0f_label', value: m.sig.label, confidence: m.fuzzy ? CONF_FUZZY : CONF_EXACT, evidence: ev });
    if (m.sig.tool) {
      // Class "!" labels name tools (NMap's SYN scan), not operating systems; `sys` says what they run on.
      ctx.emit({ side, attribute: 'tcp.tool', value: m.sig.name, confidence: CONF_EXACT, evidence: `${ev}; runs on ${m.sig.sys.join(',') || '?'}` });
    } else {
      ctx.emit({ side, attribute: 'os', value: m.sig.name, confidence: m.fuzzy ? CONF_FUZZY : m.sig.generic ? CONF_GENERIC : CONF_EXACT, evidence: ev });
    }
    // A tool that randomises its TTL ("64-") gives no distance, only a bound (p0f: "dist=<= N").
    if (!m.sig.badTtl) ctx.emit({ side, attribute: 'tcp.distance', value: String(m.distance), confidence: 0.5, evidence: ev });
  }
}

/** A fingerprinter with its own memory of what it reported: one per analysis (see synDissectors()). */
export function createTcpFingerprinter(): SynDissector {
  // Load the signature database now: a missing file is a clear error at start, not one per SYN.
  p0fDatabase();
  return new TcpFingerprinter();
}

let shared: SynDissector | undefined;

/**
 * One process-wide fingerprinter, for callers that want a plain SynDissector value. Its memory of
 * reported signatures spans analyses; the sensor uses createTcpFingerprinter() per analysis instead.
 */
export const tcpFingerprint: SynDissector = {
  name: 'tcp',
  syn(ip, tcp, synAck, ctx) {
    shared ??= createTcpFingerprinter();
    shared.syn(ip, tcp, synAck, ctx);
  },
};
