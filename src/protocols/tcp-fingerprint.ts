/**
 * Passive TCP/IP stack fingerprints in the p0f v3 style: every SYN and SYN+ACK says how its
 * sender's stack was built (initial TTL, window, MSS, window scale, option order, quirks), and p0f's
 * database (data/p0f.fp) maps that to an OS family. Weaker evidence than NTLMSSP or DHCP — it
 * survives NAT poorly and names families, not versions — but it is there for every device that
 * opens or accepts a TCP connection, including those that say nothing else.
 */
import type { DissectContext, SynDissector, SynIpInfo } from './dissector.ts';
import { guessIttl, matchTcp, p0fDatabase, Quirk, rawSignature, type P0fMatch, type TcpObservation } from './p0f-db.ts';

const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_URG = 0x20;
const TCP_ECE = 0x40;
const TCP_CWR = 0x80;

/** Reads the TCP header's options into p0f's olayout, MSS, window scale and option quirks. */
export function readTcpOptions(tcp: Buffer, synAck: boolean): { olayout: string; eolPad: number; mss: number; wscale: number; quirks: number; ts1: boolean } {
  const hlen = Math.min(tcp.length, ((tcp[12] as number) >> 4) * 4);
  const names: string[] = [];
  let mss = 0;
  let wscale = 0;
  let quirks = 0;
  let eolPad = 0;
  let ts1 = false;
  let p = 20;
  while (p < hlen && names.length < 40) {
    const kind = tcp[p] as number;
    if (kind === 0) {
      names.push('eol');
      eolPad = hlen - p - 1;
      for (let i = p + 1; i < hlen; i++) if (tcp[i] !== 0) quirks |= Quirk.OPT_EOL_NZ;
      break;
    }
    if (kind === 1) {
      names.push('nop');
      p++;
      continue;
    }
    if (p + 1 >= hlen) {
      quirks |= Quirk.OPT_BAD;
      break;
    }
    const len = tcp[p + 1] as number;
    if (len < 2 || p + len > hlen) {
      quirks |= Quirk.OPT_BAD;
      break;
    }
    switch (kind) {
      case 2:
        names.push('mss');
        if (len !== 4) quirks |= Quirk.OPT_BAD;
        else mss = tcp.readUInt16BE(p + 2);
        break;
      case 3:
        names.push('ws');
        if (len !== 3) quirks |= Quirk.OPT_BAD;
        else {
          wscale = tcp[p + 2] as number;
          if (wscale > 14) quirks |= Quirk.OPT_EXWS;
        }
        break;
      case 4:
        names.push('sok');
        if (len !== 2) quirks |= Quirk.OPT_BAD;
        break;
      case 5:
        names.push('sack');
        break;
      case 8:
        names.push('ts');
        if (len !== 10) quirks |= Quirk.OPT_BAD;
        else {
          if (tcp.readUInt32BE(p + 2) === 0) {
            quirks |= Quirk.OPT_ZERO_TS1;
            ts1 = false;
          } else ts1 = true;
          // The echoed timestamp must be zero in a SYN (there is nothing to echo yet).
          if (!synAck && tcp.readUInt32BE(p + 6) !== 0) quirks |= Quirk.OPT_NZ_TS2;
        }
        break;
      default:
        names.push(`?${kind}`);
    }
    p += len;
  }
  return { olayout: names.join(','), eolPad, mss, wscale, quirks, ts1 };
}

/** Builds what p0f observes from a SYN or SYN+ACK. */
export function observeSyn(ip: SynIpInfo, tcp: Buffer, synAck: boolean, synMss: number): TcpObservation | undefined {
  if (tcp.length < 20) return undefined;
  const opts = readTcpOptions(tcp, synAck);
  let quirks = opts.quirks;
  const h = ip.header;
  if (ip.version === 4) {
    if (h.length < 20) return undefined;
    if (ip.dontFragment) {
      quirks |= Quirk.DF;
      if (ip.ipId !== 0) quirks |= Quirk.NZ_ID;
    } else if (ip.ipId === 0) quirks |= Quirk.ZERO_ID;
    if (((h[1] as number) & 0x03) !== 0) quirks |= Quirk.ECN;
    if (((h[6] as number) & 0x80) !== 0) quirks |= Quirk.NZ_MBZ;
  } else {
    if (h.length < 4) return undefined;
    if ((h.readUInt32BE(0) & 0x000fffff) !== 0) quirks |= Quirk.FLOW;
    if ((((h[1] as number) >> 4) & 0x03) !== 0) quirks |= Quirk.ECN;
  }
  const flags = tcp[13] as number;
  if (tcp.readUInt32BE(4) === 0) quirks |= Quirk.ZERO_SEQ;
  const ack = tcp.readUInt32BE(8);
  if ((flags & TCP_ACK) !== 0) {
    if (ack === 0) quirks |= Quirk.ZERO_ACK;
  } else if (ack !== 0) quirks |= Quirk.NZ_ACK;
  if ((flags & TCP_URG) !== 0) quirks |= Quirk.URG;
  else if (tcp.readUInt16BE(18) !== 0) quirks |= Quirk.NZ_URG;
  if ((flags & TCP_PSH) !== 0) quirks |= Quirk.PUSH;
  if ((flags & (TCP_ECE | TCP_CWR)) !== 0) quirks |= Quirk.ECN;
  const tcpHeader = ((tcp[12] as number) >> 4) * 4;
  const payload = ip.totalLength - ip.headerLength - tcpHeader;
  return {
    ipVersion: ip.version,
    ttl: ip.ttl,
    olen: ip.version === 4 ? ip.headerLength - 20 : ip.headerLength - 40,
    mss: opts.mss,
    win: tcp.readUInt16BE(14),
    wscale: opts.wscale,
    olayout: opts.olayout,
    eolPad: opts.eolPad,
    quirks,
    pclass: payload > 0 ? 1 : 0,
    totHdr: ip.headerLength + tcpHeader,
    synMss,
    ts1: opts.ts1,
  };
}

/** Raw signatures repeat endlessly (every connection of a host): remember their matches, within a bound. */
const MAX_CACHE = 20_000;
const MAX_SUBJECTS = 200_000;
const MAX_SYN_MSS = 50_000;

/**
 * A hash of everything a p0f signature depends on, read straight from the header bytes without
 * allocating (timestamp values are left out: they change every connection, the signature does
 * not). Equal hashes, equal signatures, barring collisions, which only cost a repeat report.
 * Also returns the MSS option's value in `mssOut[0]`.
 */
function shapeHash(ip: SynIpInfo, tcp: Buffer, synMss: number, mssOut: Int32Array): number {
  let h = 0x811c9dc5;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 0x01000193);
  };
  const hd = ip.header;
  mix(ip.version);
  mix(ip.ttl);
  mix(ip.headerLength);
  mix(ip.dontFragment ? 1 : 0);
  mix(ip.ipId === 0 ? 1 : 0);
  if (ip.version === 4) {
    mix((hd[1] ?? 0) & 0x03);
    mix((hd[6] ?? 0) & 0x80);
  } else if (hd.length >= 4) {
    mix((hd.readUInt32BE(0) & 0x000fffff) === 0 ? 0 : 1);
    mix(((hd[1] ?? 0) >> 4) & 0x03);
  }
  const hlen = Math.min(tcp.length, ((tcp[12] ?? 0) >> 4) * 4);
  mix(hlen);
  mix(tcp[13] ?? 0);
  mix(tcp.length >= 16 ? tcp.readUInt16BE(14) : 0);
  mix(tcp.length >= 8 && tcp.readUInt32BE(4) === 0 ? 1 : 0);
  mix(tcp.length >= 12 && tcp.readUInt32BE(8) === 0 ? 1 : 0);
  mix(tcp.length >= 20 && tcp.readUInt16BE(18) === 0 ? 1 : 0);
  mix(ip.totalLength - ip.headerLength - hlen > 0 ? 1 : 0);
  mix(synMss);
  let mss = 0;
  let p = 20;
  for (let n = 0; p < hlen && n < 40; n++) {
    const kind = tcp[p] as number;
    mix(kind);
    if (kind === 0) {
      // EOL: the padding's length and whether any of it is non-zero.
      mix(hlen - p);
      for (let i = p + 1; i < hlen; i++) if (tcp[i] !== 0) mix(0x100);
      break;
    }
    if (kind === 1) {
      p++;
      continue;
    }
    const len = p + 1 < hlen ? (tcp[p + 1] as number) : 0;
    mix(len);
    if (len < 2 || p + len > hlen) break;
    if (kind === 2 && len === 4) mix((mss = tcp.readUInt16BE(p + 2)));
    else if (kind === 3 && len === 3) mix(tcp[p + 2] as number);
    else if (kind === 8 && len === 10) {
      mix(tcp.readUInt32BE(p + 2) === 0 ? 1 : 0);
      mix(tcp.readUInt32BE(p + 6) === 0 ? 1 : 0);
    }
    p += len;
  }
  mssOut[0] = mss;
  return h >>> 0;
}

class TcpFingerprinter implements SynDissector {
  readonly name = 'tcp';
  private readonly cache = new Map<string, P0fMatch | null>();
  /** Signatures already reported, by host address (the flow's own string: its hash is cached). */
  private readonly reported = new Map<string, Set<number> | number>();
  private reportedCount = 0;
  /** The client's MSS per flow, for matching the server's SYN+ACK window ("mss*N" of the peer). */
  private readonly synMss = new Map<number, number>();

  private readonly mss = new Int32Array(1);

  syn(ip: SynIpInfo, tcp: Buffer, synAck: boolean, ctx: DissectContext): void {
    let peerMss = 0;
    if (synAck) {
      peerMss = this.synMss.get(ctx.flowId) ?? 0;
      this.synMss.delete(ctx.flowId);
    }
    // Every connection of a host repeats its signature: decide from the bytes whether this one is new.
    const shape = shapeHash(ip, tcp, peerMss, this.mss);
    if (!synAck) {
      if (this.synMss.size >= MAX_SYN_MSS) this.synMss.clear();
      this.synMss.set(ctx.flowId, this.mss[0] as number);
    }
    const host = synAck ? ctx.serverIp : ctx.clientIp;
    // 30 bits (a small integer, unboxed), and the SYN/SYN+ACK kind in the lowest bit.
    const sig = ((shape & 0x1fffffff) << 1) | (synAck ? 1 : 0);
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
    const o = observeSyn(ip, tcp, synAck, peerMss);
    if (o === undefined) return;
    const raw = rawSignature(o);
    const side = synAck ? 'server' : 'client';
    ctx.emit({ side, attribute: 'tcp.fingerprint', value: raw, confidence: 0.6, evidence: synAck ? 'SYN+ACK' : 'SYN' });
    const cacheKey = `${synAck ? 'r' : 'q'}${o.synMss}|${raw}`;
    let m = this.cache.get(cacheKey);
    if (m === undefined) {
      const db = p0fDatabase();
      m = matchTcp(synAck ? db.response : db.request, o) ?? null;
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(cacheKey, m);
    }
    if (m === null) return;
    const ev = `p0f ${m.fuzzy ? 'fuzzy ' : ''}match of ${raw} (p0f.fp line ${m.sig.line})`;
    ctx.emit({ side, attribute: 'tcp.p0f_label', value: m.sig.label, confidence: m.fuzzy ? 0.3 : 0.5, evidence: ev });
    // Class "!" labels name tools, not operating systems (NMap's SYN scan, for one).
    const isTool = m.sig.label.split(':')[1] === '!';
    ctx.emit({ side, attribute: isTool ? 'tcp.tool' : 'os', value: m.sig.name, confidence: m.fuzzy ? 0.25 : m.sig.generic ? 0.35 : 0.45, evidence: ev });
    ctx.emit({ side, attribute: 'tcp.distance', value: String(m.fuzzy ? guessIttl(o.ttl) - o.ttl : m.distance), confidence: 0.5 });
  }
}

/** A fingerprinter with its own memory of what it reported: one per analysis (see synDissectors()). */
export function createTcpFingerprinter(): SynDissector {
  // Load the signature database now: a missing file is a clear error at start, not one per SYN.
  p0fDatabase();
  return new TcpFingerprinter();
}
