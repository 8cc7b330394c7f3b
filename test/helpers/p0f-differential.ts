/**
 * Test helper (not part of the product): generates SYN / SYN+ACK packets for the differential test
 * against Debian's p0f — most built to fit a signature of the database (so matching, fuzzy rules and
 * window multiples are exercised), some mutated, some with random option bytes (the parser's edge
 * cases) — and runs p0f over them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapHeader, pcapRecord } from '../../src/capture/writer.ts';
import type { SynDissector, SynIpInfo } from '../../src/protocols/dissector.ts';
import { FakeContext } from './dissect.ts';
import { quirkText, WinType, type P0fDatabase, type P0fSignature } from '../../src/protocols/p0f-db.ts';

export function hasP0f(): boolean {
  try {
    execFileSync('p0f', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // p0f -h exits non-zero after printing its usage: only "not found" means absent.
    const err = e as NodeJS.ErrnoException & { status?: number | null };
    return err.code !== 'ENOENT' && err.status !== 127;
  }
}

export type Rng = () => number;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;

export interface PacketSpec {
  v6: boolean;
  src: Buffer;
  dst: Buffer;
  ttl: number;
  ecnBits: number;
  flow: number;
  df: boolean;
  mbz: boolean;
  fragOff: number;
  id: number;
  ipOpts: Buffer;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Low nibble of the data-offset byte (NS and reserved bits). */
  resv: number;
  flags: number;
  win: number;
  urg: number;
  opts: Buffer;
  payload: number;
}

/** Ethernet frame of a spec; also the offsets our fingerprinter needs. */
export function frame(s: PacketSpec): { frame: Buffer; ip: SynIpInfo; tcp: Buffer } {
  const optLen = s.opts.length;
  const tcpLen = 20 + optLen + s.payload;
  const tcp = Buffer.alloc(tcpLen);
  tcp.writeUInt16BE(s.sport, 0);
  tcp.writeUInt16BE(s.dport, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.ack >>> 0, 8);
  tcp[12] = (((20 + optLen) / 4) << 4) | (s.resv & 0x0f);
  tcp[13] = s.flags;
  tcp.writeUInt16BE(s.win, 14);
  tcp.writeUInt16BE(s.urg, 18);
  s.opts.copy(tcp, 20);
  tcp.fill(0x41, 20 + optLen);
  let ipHdr: Buffer;
  if (s.v6) {
    ipHdr = Buffer.alloc(40);
    ipHdr.writeUInt32BE(((6 << 28) | ((s.ecnBits & 3) << 20) | (s.flow & 0xfffff)) >>> 0, 0);
    ipHdr.writeUInt16BE(tcpLen, 4);
    ipHdr[6] = 6;
    ipHdr[7] = s.ttl;
    s.src.copy(ipHdr, 8);
    s.dst.copy(ipHdr, 24);
  } else {
    const hl = 20 + s.ipOpts.length;
    ipHdr = Buffer.alloc(hl);
    ipHdr[0] = 0x40 | (hl / 4);
    ipHdr[1] = s.ecnBits & 3;
    ipHdr.writeUInt16BE(hl + tcpLen, 2);
    ipHdr.writeUInt16BE(s.id, 4);
    ipHdr.writeUInt16BE((s.mbz ? 0x8000 : 0) | (s.df ? 0x4000 : 0) | s.fragOff, 6);
    ipHdr[8] = s.ttl;
    ipHdr[9] = 6;
    s.src.copy(ipHdr, 12);
    s.dst.copy(ipHdr, 16);
    s.ipOpts.copy(ipHdr, 20);
  }
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, s.v6 ? 0x86 : 0x08, s.v6 ? 0xdd : 0x00]);
  const f = Buffer.concat([eth, ipHdr, tcp]);
  const ipView = f.subarray(14);
  const ip: SynIpInfo = {
    version: s.v6 ? 6 : 4,
    ttl: s.ttl,
    headerLength: ipHdr.length,
    dontFragment: s.df,
    ipId: s.v6 ? 0 : s.id,
    ipOptions: s.ipOpts.length > 0,
    header: ipView.subarray(0, ipHdr.length),
    totalLength: ipView.length,
  };
  return { frame: f, ip, tcp: ipView.subarray(ipHdr.length, ipHdr.length + 20 + optLen) };
}

/** Option bytes for a p0f layout ("mss,nop,ws,sok,ts,eol+1"). */
function optionsFor(r: Rng, layout: string[], mss: number, ws: number, quirks: Set<string>): Buffer {
  const b: number[] = [];
  const badAt = quirks.has('bad') ? int(r, 0, Math.max(0, layout.length - 1)) : -1;
  layout.forEach((name, i) => {
    const bad = i === badAt;
    if (name === 'nop') b.push(1);
    else if (name === 'mss') b.push(2, bad ? 5 : 4, mss >> 8, mss & 0xff);
    else if (name === 'ws') b.push(3, bad ? 4 : 3, ws);
    else if (name === 'sok') b.push(4, bad ? 3 : 2);
    else if (name === 'sack') b.push(5, 10, ...Array.from({ length: 8 }, () => int(r, 0, 255)));
    else if (name === 'ts') {
      const ts1 = quirks.has('ts1-') ? 0 : int(r, 1, 0xffffffff);
      const ts2 = quirks.has('ts2+') ? int(r, 1, 0xffffffff) : 0;
      b.push(8, bad ? 9 : 10, ts1 >>> 24, (ts1 >>> 16) & 255, (ts1 >>> 8) & 255, ts1 & 255, ts2 >>> 24, (ts2 >>> 16) & 255, (ts2 >>> 8) & 255, ts2 & 255);
    } else if (name.startsWith('eol+')) {
      const pad = Number(name.slice(4));
      const p = Array<number>(pad).fill(0);
      if (quirks.has('opt+') && pad > 0) p[int(r, 0, pad - 1)] = int(r, 1, 255);
      b.push(0, ...p);
    } else if (name.startsWith('?')) b.push(Number(name.slice(1)), 2);
  });
  while (b.length % 4 !== 0) b.push(0);
  return Buffer.from(b.slice(0, 40));
}

/** A plain SYN (or SYN+ACK) of case `i` with the given fields changed. */
export function specOf(i: number, synAck: boolean, over: Partial<PacketSpec> = {}): PacketSpec {
  return { ...baseSpec(rng(i), i, synAck, over.v6 ?? false), ...over };
}

function baseSpec(r: Rng, i: number, synAck: boolean, v6: boolean): PacketSpec {
  const cli = v6 ? Buffer.from(`fd000000000000000000000000${(i & 0xffff).toString(16).padStart(4, '0')}0001`, 'hex') : Buffer.from([10, (i >> 8) & 255, i & 255, 1]);
  const srv = v6 ? Buffer.from(`fd000000000000000000000000${(i & 0xffff).toString(16).padStart(4, '0')}0002`, 'hex') : Buffer.from([172, 16 + ((i >> 16) & 15), (i >> 8) & 255, i & 255]);
  return {
    v6,
    src: synAck ? srv : cli,
    dst: synAck ? cli : srv,
    ttl: 64,
    ecnBits: 0,
    flow: 0,
    df: false,
    mbz: false,
    fragOff: 0,
    id: int(r, 1, 65535),
    ipOpts: Buffer.alloc(0),
    sport: synAck ? 80 : 1024 + (i % 60000),
    dport: synAck ? 1024 + (i % 60000) : 80,
    seq: int(r, 1, 0xffffffff),
    ack: synAck ? int(r, 1, 0xffffffff) : 0,
    resv: 0,
    flags: synAck ? 0x12 : 0x02,
    win: 65535,
    urg: 0,
    opts: Buffer.alloc(0),
    payload: 0,
  };
}

/** A packet built to fit `sig` (its wildcards filled at random), for direction `synAck`. */
function fromSignature(r: Rng, i: number, sig: P0fSignature, synAck: boolean, synMss: number): PacketSpec {
  const v6 = sig.ipVersion === 6 || (sig.ipVersion === -1 && r() < 0.2 && !/df|id/.test(quirkText(sig.quirks)));
  const s = baseSpec(r, i, synAck, v6);
  const q = new Set(quirkText(sig.quirks).split(',').filter((x) => x !== ''));
  const dist = r() < 0.85 ? int(r, 0, 20) : int(r, -3, 60);
  s.ttl = Math.max(1, Math.min(255, sig.ttl - dist));
  s.ipOpts = v6 ? Buffer.alloc(0) : Buffer.alloc(Math.min(40, sig.olen - (sig.olen % 4)), 1);
  const mss = sig.mss >= 0 ? sig.mss : pick(r, [1460, 1440, 1380, 536, 1360, 8960]);
  const ws = sig.wscale >= 0 ? sig.wscale : int(r, 0, 14);
  const layout = sig.olayout === '' ? [] : sig.olayout.split(',').map((n) => (n === 'eol' ? `eol+${sig.eolPad}` : n));
  s.opts = optionsFor(r, layout, mss, q.has('exws') ? int(r, 15, 255) : ws, q);
  const hdr = (v6 ? 40 : 20 + s.ipOpts.length) + 20 + s.opts.length;
  const m = sig.winMulti;
  let win: number;
  switch (sig.winType) {
    case WinType.Normal:
      win = m;
      break;
    case WinType.Mss:
      win = m * (synAck && synMss > 0 && r() < 0.3 ? synMss : r() < 0.2 ? 1460 : mss);
      break;
    case WinType.Mtu:
      // p0f's "MTU (actual size)" (MSS plus these headers) or "MTU (IPv4)" (MSS + 40).
      win = m * (r() < 0.3 ? mss + hdr : mss + 40);
      break;
    case WinType.Mod:
      win = m * int(r, 1, Math.max(1, Math.floor(65535 / m)));
      break;
    default:
      win = int(r, 0, 65535);
  }
  s.win = win > 65535 ? int(r, 1, 65535) : win;
  if (q.has('df')) s.df = true;
  if (q.has('id-')) s.id = 0;
  else if (s.df && !q.has('id+')) s.id = 0;
  if (q.has('ecn')) {
    if (r() < 0.5) s.ecnBits = int(r, 1, 3);
    else s.flags |= 0x40;
  }
  if (q.has('0+')) s.mbz = true;
  if (q.has('flow') || (v6 && r() < 0.5)) s.flow = int(r, 1, 0xfffff);
  if (q.has('seq-')) s.seq = 0;
  if (q.has('ack+')) s.ack = int(r, 1, 0xffffffff) | 0x01000000;
  if (q.has('ack-')) s.ack = 0;
  if (q.has('uptr+')) s.urg = int(r, 1, 65535);
  if (q.has('urgf+')) s.flags |= 0x20;
  if (q.has('pushf+')) s.flags |= 0x08;
  if (sig.pclass === 1 || (sig.pclass === -1 && r() < 0.5)) s.payload = int(r, 1, 20);
  return s;
}

/** Small changes that move a packet off its signature: a quirk more or less, another TTL, window… */
function mutate(r: Rng, s: PacketSpec): void {
  const n = int(r, 1, 3);
  for (let k = 0; k < n; k++) {
    switch (int(r, 0, 13)) {
      case 0:
        s.df = !s.df;
        break;
      case 1:
        s.id = s.id === 0 ? int(r, 1, 65535) : 0;
        break;
      case 2:
        s.ecnBits = int(r, 0, 3);
        break;
      case 3:
        s.ttl = int(r, 1, 255);
        break;
      case 4:
        s.win = (s.win + int(r, 1, 3)) & 0xffff;
        break;
      case 5:
        s.resv = int(r, 0, 15);
        break;
      case 6:
        s.flags |= pick(r, [0x08, 0x20, 0x40, 0x80]);
        break;
      case 7:
        s.ack = (s.flags & 0x10) !== 0 ? 0 : int(r, 1, 0xffffffff);
        break;
      case 8:
        s.urg = int(r, 0, 65535);
        break;
      case 9:
        if (s.opts.length > 0) {
          const o = Buffer.from(s.opts);
          o[int(r, 0, o.length - 1)] = int(r, 0, 255);
          s.opts = o;
        }
        break;
      case 10:
        s.seq = 0;
        break;
      case 11:
        s.payload = s.payload > 0 ? 0 : int(r, 1, 10);
        break;
      case 12:
        s.mbz = !s.mbz;
        break;
      default:
        if (!s.v6) s.ipOpts = Buffer.alloc(4 * int(r, 0, 2), 1);
    }
  }
}

/** Options of random bytes: the parser's edge cases (truncated, bad lengths, EOL padding, unknown kinds). */
function randomOptions(r: Rng): Buffer {
  const len = 4 * int(r, 0, 10);
  const b = Buffer.alloc(len);
  if (r() < 0.5) {
    for (let i = 0; i < len; i++) b[i] = int(r, 0, 255);
  } else {
    // Plausible kinds with random lengths: more likely to hit the length checks than pure noise.
    let p = 0;
    while (p < len) {
      const kind = pick(r, [0, 1, 1, 2, 3, 4, 5, 8, 8, 30, 254]);
      b[p++] = kind;
      if (kind <= 1) continue;
      if (p < len) b[p++] = r() < 0.7 ? ({ 2: 4, 3: 3, 4: 2, 5: 10, 8: 10 } as Record<number, number>)[kind] ?? int(r, 2, 6) : int(r, 0, 45);
      const fill = int(r, 0, 9);
      for (let k = 0; k < fill && p < len; k++) b[p++] = r() < 0.5 ? 0 : int(r, 0, 255);
    }
  }
  return b;
}

export interface GenCase {
  /** Client port: p0f's log names it, so it keys the case. */
  port: number;
  packets: Array<{ spec: PacketSpec; synAck: boolean }>;
}

/** `n` cases, each a SYN, and for about a third of them the SYN+ACK that answers it. */
export function generate(db: P0fDatabase, seed: number, n: number): GenCase[] {
  const r = rng(seed);
  const out: GenCase[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    let syn: PacketSpec;
    if (kind < 0.6) {
      syn = fromSignature(r, i, pick(r, db.request), false, 0);
      if (r() < 0.35) mutate(r, syn);
    } else {
      syn = baseSpec(r, i, false, r() < 0.15);
      syn.ttl = int(r, 1, 255);
      syn.df = r() < 0.6;
      if (r() < 0.3) syn.id = 0;
      syn.win = int(r, 0, 65535);
      syn.opts = randomOptions(r);
      if (r() < 0.4) mutate(r, syn);
    }
    const c: GenCase = { port: syn.sport, packets: [{ spec: syn, synAck: false }] };
    if (r() < 0.35) {
      // The SYN's MSS as p0f would read it (for the "peer MSS" window multiples).
      const synMss = syn.opts[0] === 2 && syn.opts.length >= 4 ? syn.opts.readUInt16BE(2) : 0;
      const ack = fromSignature(r, i, pick(r, db.response), true, synMss);
      if (ack.v6 !== syn.v6) Object.assign(ack, { v6: syn.v6, src: syn.dst, dst: syn.src, ipOpts: Buffer.alloc(0) });
      ack.sport = syn.dport;
      ack.dport = syn.sport;
      if (r() < 0.3) mutate(r, ack);
      ack.flags |= 0x12;
      c.packets.push({ spec: ack, synAck: true });
    }
    out.push(c);
  }
  return out;
}

export interface P0fLine {
  mod: 'syn' | 'syn+ack';
  cli: string;
  port: number;
  /** OS or application label, '???' when unknown. */
  label: string;
  app: boolean;
  dist: string;
  params: string;
  raw: string;
}

/** Runs p0f over a capture and returns its SYN and SYN+ACK log lines. */
export function runP0f(pcapPath: string): P0fLine[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-p0f-'));
  try {
    const log = join(dir, 'p0f.log');
    execFileSync('p0f', ['-r', pcapPath, '-o', log], { stdio: 'ignore' });
    return parseP0fLog(log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const execFileAsync = promisify(execFile);

/**
 * The same, asynchronously (tests run several at once). Debian's libpcap reads pcapng itself; a
 * capture it cannot open (pcapng with several link types) is converted with editcap first.
 */
export async function runP0fAsync(capture: string): Promise<P0fLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-p0f-'));
  try {
    const log = join(dir, 'p0f.log');
    try {
      await execFileAsync('p0f', ['-r', capture, '-o', log]);
    } catch {
      const pcap = join(dir, 'in.pcap');
      await execFileAsync('editcap', ['-F', 'pcap', capture, pcap]);
      await execFileAsync('p0f', ['-r', pcap, '-o', log]);
    }
    return parseP0fLog(log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseP0fLog(log: string): P0fLine[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  const out: P0fLine[] = [];
  for (const line of text.split('\n')) {
    const f = new Map<string, string>();
    for (const kv of line.replace(/^\[[^\]]*\] /, '').split('|')) {
      const eq = kv.indexOf('=');
      if (eq > 0) f.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    // p0f-sendsyn's probes (window 1337, MSS 1331) and their answers are logged under other names.
    const m = f.get('mod');
    const mod = m === 'sendsyn probe' ? 'syn' : m === 'sendsyn response' ? 'syn+ack' : m;
    if (mod !== 'syn' && mod !== 'syn+ack') continue;
    const [cli = '', port = '0'] = (f.get('cli') ?? '').split('/');
    const [srv = ''] = (f.get('srv') ?? '').split('/');
    const os = f.get('os');
    const app = f.get('app');
    out.push({ mod, cli: f.get('subj') === 'cli' ? cli : srv, port: Number(port), label: os ?? app ?? '???', app: app !== undefined, dist: f.get('dist') ?? '', params: f.get('params') ?? '', raw: f.get('raw_sig') ?? '' });
  }
  return out;
}

/** Writes the cases as an Ethernet pcap and runs p0f over it. */
export function p0fOnCases(cases: GenCase[]): P0fLine[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-p0f-gen-'));
  try {
    const o = { linkType: 1 };
    const parts = [pcapHeader(o)];
    let t = 0;
    for (const c of cases) for (const p of c.packets) parts.push(pcapRecord(o, 1_700_000_000 + Math.floor(t / 1000), (t++ % 1000) * 1_000_000, frame(p.spec).frame));
    const path = join(dir, 'gen.pcap');
    writeFileSync(path, Buffer.concat(parts));
    return runP0f(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** IPv6 text as p0f prints it (eight groups, no compression): for comparing with ours. */
export function p0fAddress(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [a = '', b] = ip.split('::');
  const left = a === '' ? [] : a.split(':');
  const right = b === undefined || b === '' ? [] : b.split(':');
  const mid = b === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...mid, ...right].map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** One fingerprint in a form both sides can print: "raw | label | distance | fuzzy". */
export function p0fSummary(t: P0fLine): string {
  // A tool with a random TTL has only a bound ("<= 7"), which Vigil does not emit; unknown
  // signatures have a guessed distance, which Vigil leaves in the raw signature.
  const dist = t.label === '???' || t.dist.startsWith('<') ? '-' : t.dist;
  return `${t.raw} | ${t.label} | ${dist} | ${t.params.split(' ').includes('fuzzy') ? 'fuzzy' : 'exact'}`;
}

/** Runs a SYN dissector over the cases (flow id = case index); "port mod" → summary. */
export function oursOnCases(cases: GenCase[], dissector: SynDissector): Map<string, string> {
  const out = new Map<string, string>();
  const text = (b: Buffer): string => (b.length === 4 ? [...b].join('.') : p0fAddress((b.toString('hex').match(/.{4}/g) ?? []).join(':')));
  cases.forEach((c, i) => {
    for (const p of c.packets) {
      const { ip, tcp } = frame(p.spec);
      const ctx = new FakeContext();
      ctx.flowId = i;
      ctx.dir = p.synAck ? 1 : 0;
      ctx.clientIp = text(p.synAck ? p.spec.dst : p.spec.src);
      ctx.serverIp = text(p.synAck ? p.spec.src : p.spec.dst);
      dissector.syn(ip, tcp, p.synAck, ctx);
      const raw = ctx.values('tcp.fingerprint')[0];
      if (raw === undefined) continue;
      const label = ctx.values('os')[0] ?? ctx.values('tcp.tool')[0] ?? '???';
      const dist = label === '???' ? '-' : (ctx.values('tcp.distance')[0] ?? '-');
      const fuzzy = ctx.drafts.some((d) => d.attribute === 'tcp.p0f_label' && d.evidence?.includes('fuzzy') === true);
      out.set(`${c.port} ${p.synAck ? 'syn+ack' : 'syn'}`, `${raw} | ${label} | ${dist} | ${fuzzy ? 'fuzzy' : 'exact'}`);
    }
  });
  return out;
}
