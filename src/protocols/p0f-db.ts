/**
 * The p0f v3 signature database (data/p0f.fp) and its matcher, following p0f 3.09b (readfp.c,
 * fp_tcp.c) so that a SYN gets the label Debian's p0f would give it:
 *
 * - a signature is `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass` (p0f README, "TCP
 *   signatures"); `*` is a wildcard, `ittl-` marks tools that randomise the TTL, wsize may be
 *   `mss*N`, `mtu*N` or `%N`;
 * - candidates must have the same option layout (p0f buckets them by a hash of it; we index by it);
 * - quirks may differ only by 'df'/'id+' disappearing or 'id-'/'ecn' appearing (fuzzy), and a TTL
 *   below the signature's or more than 35 hops from it is fuzzy too;
 * - the first exact specific ('s:') signature wins, else the first exact generic ('g:') one, else the
 *   first fuzzy one, except that userland tools (class '!') are never matched fuzzily.
 */
import { readFileSync } from 'node:fs';
import { dataFile } from '../knowledge/paths.ts';

/** p0f's QUIRK_* bits (process.h), in the order p0f prints them. */
export const Quirk = {
  DF: 1 << 0,
  NZ_ID: 1 << 1,
  ZERO_ID: 1 << 2,
  ECN: 1 << 3,
  NZ_MBZ: 1 << 4,
  FLOW: 1 << 5,
  ZERO_SEQ: 1 << 6,
  NZ_ACK: 1 << 7,
  ZERO_ACK: 1 << 8,
  NZ_URG: 1 << 9,
  URG: 1 << 10,
  PUSH: 1 << 11,
  OPT_ZERO_TS1: 1 << 12,
  OPT_NZ_TS2: 1 << 13,
  OPT_EOL_NZ: 1 << 14,
  OPT_EXWS: 1 << 15,
  OPT_BAD: 1 << 16,
} as const;

export const QUIRK_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['df', Quirk.DF],
  ['id+', Quirk.NZ_ID],
  ['id-', Quirk.ZERO_ID],
  ['ecn', Quirk.ECN],
  ['0+', Quirk.NZ_MBZ],
  ['flow', Quirk.FLOW],
  ['seq-', Quirk.ZERO_SEQ],
  ['ack+', Quirk.NZ_ACK],
  ['ack-', Quirk.ZERO_ACK],
  ['uptr+', Quirk.NZ_URG],
  ['urgf+', Quirk.URG],
  ['pushf+', Quirk.PUSH],
  ['ts1-', Quirk.OPT_ZERO_TS1],
  ['ts2+', Quirk.OPT_NZ_TS2],
  ['opt+', Quirk.OPT_EOL_NZ],
  ['exws', Quirk.OPT_EXWS],
  ['bad', Quirk.OPT_BAD],
];

/** config.h: beyond this many hops a TTL match is fuzzy and the raw signature prints "+?". */
export const MAX_DIST = 35;
/** config.h: p0f-sendsyn's probe values; a SYN+ACK echoing this MSS prints it as "*". */
export const SPECIAL_MSS = 1331;

export const enum WinType {
  Any = 0,
  Normal = 1,
  Mod = 2,
  Mss = 3,
  Mtu = 4,
}

export interface P0fSignature {
  /** The full label, "s:win:Windows:7 or 8". */
  label: string;
  /** OS (or tool) name and flavour as p0f prints them: "Windows 7 or 8", "NMap SYN scan". */
  name: string;
  generic: boolean;
  /** Class '!': a userland tool (NMap, p0f-sendsyn), not an operating system. */
  tool: boolean;
  /** The label's `sys` line: the systems a tool runs on ("@unix", "@win", "Linux"…); empty for OSes. */
  sys: readonly string[];
  ipVersion: number; // 4, 6, or -1 for any
  ttl: number;
  badTtl: boolean;
  olen: number;
  mss: number; // -1 any
  winType: WinType;
  winMulti: number;
  wscale: number; // -1 any
  /** Option names joined by commas, EOL as plain "eol" (its padding is `eolPad`). */
  olayout: string;
  quirks: number;
  pclass: number; // -1 any, 0 none, 1 payload
  eolPad: number;
  line: number;
}

export interface P0fDatabase {
  /** [tcp:request]: SYN signatures, in file order. */
  request: P0fSignature[];
  /** [tcp:response]: SYN+ACK signatures, in file order. */
  response: P0fSignature[];
}

const OPTION_NAMES = new Set(['eol', 'nop', 'mss', 'ws', 'sok', 'sack', 'ts']);

/** The option layout without eol padding, and the padding count ("eol+3" → 3). */
function splitLayout(layout: string, line: number): { olayout: string; eolPad: number } {
  const parts = layout === '' ? [] : layout.split(',');
  let eolPad = 0;
  parts.forEach((p, i) => {
    if (p.startsWith('eol+')) {
      // readfp: "EOL must be the last option".
      if (i !== parts.length - 1 || !/^\d+$/.test(p.slice(4))) throw new Error(`line ${line}: malformed EOL option "${p}"`);
      eolPad = Number(p.slice(4));
      parts[i] = 'eol';
    } else if (!OPTION_NAMES.has(p) && !/^\?\d{1,3}$/.test(p)) throw new Error(`line ${line}: unrecognised TCP option "${p}"`);
  });
  return { olayout: parts.join(','), eolPad };
}

export function parseQuirks(text: string): number {
  let q = 0;
  for (const name of text.split(',')) {
    if (name === '') continue;
    const hit = QUIRK_NAMES.find(([n]) => n === name);
    if (hit === undefined) throw new Error(`unknown quirk "${name}"`);
    q |= hit[1];
  }
  return q;
}

function num(text: string, what: string, line: number, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`line ${line}: malformed ${what} "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new Error(`line ${line}: bogus ${what} ${n}`);
  return n;
}

/** One `sig = ...` line of a [tcp:*] section (tcp_register_sig() in fp_tcp.c). */
export function parseSignature(sig: string, label: string, line: number, sys: readonly string[] = []): P0fSignature {
  const f = sig.split(':');
  if (f.length !== 8) throw new Error(`line ${line}: a TCP signature has 8 fields: ${sig}`);
  const [ver, ittl, olen, mss, win, layout, quirks, pclass] = f as [string, string, string, string, string, string, string, string];
  if (ver !== '4' && ver !== '6' && ver !== '*') throw new Error(`line ${line}: unrecognised IP version "${ver}"`);
  // Initial TTL: "64", "64-" (the tool randomises it), or "64+3" (ittl plus a known distance).
  const badTtl = ittl.endsWith('-');
  const [base = '', add] = (badTtl ? ittl.slice(0, -1) : ittl).split('+');
  const ttl = num(base, 'initial TTL', line, 1, 255) + (add === undefined ? 0 : num(add, 'TTL distance', line, 0, 255));
  if (ttl > 255) throw new Error(`line ${line}: bogus initial TTL`);
  const comma = win.indexOf(',');
  if (comma < 0) throw new Error(`line ${line}: window size and scale need a comma: ${win}`);
  const wsize = win.slice(0, comma);
  const scale = win.slice(comma + 1);
  let winType = WinType.Normal;
  let winMulti = 0;
  if (wsize === '*') winType = WinType.Any;
  else if (wsize.startsWith('mss*') || wsize.startsWith('mtu*')) {
    winType = wsize[1] === 's' ? WinType.Mss : WinType.Mtu;
    winMulti = num(wsize.slice(4), 'MSS/MTU multiplier', line, 1, 1000);
  } else if (wsize.startsWith('%')) {
    winType = WinType.Mod;
    winMulti = num(wsize.slice(1), "'%' window", line, 2, 65535);
  } else winMulti = num(wsize, 'window size', line, 0, 65535);
  const lp = label.split(':');
  const { olayout, eolPad } = splitLayout(layout, line);
  const flavor = lp.slice(3).join(':');
  if (pclass !== '*' && pclass !== '0' && pclass !== '+') throw new Error(`line ${line}: malformed payload class "${pclass}"`);
  return {
    label,
    name: `${lp[2] ?? ''}${flavor !== '' ? ` ${flavor}` : ''}`,
    generic: lp[0] === 'g',
    tool: lp[1] === '!',
    sys,
    ipVersion: ver === '*' ? -1 : Number(ver),
    ttl,
    badTtl,
    olen: num(olen, 'IP option length', line, 0, 255),
    mss: mss === '*' ? -1 : num(mss, 'MSS', line, 0, 65535),
    winType,
    winMulti,
    wscale: scale === '*' ? -1 : num(scale, 'window scale', line, 0, 255),
    olayout,
    quirks: parseQuirks(quirks),
    pclass: pclass === '*' ? -1 : pclass === '0' ? 0 : 1,
    eolPad,
    line,
  };
}

/** The [tcp:request] and [tcp:response] sections of a p0f.fp file (other sections are skipped). */
export function parseP0f(text: string): P0fDatabase {
  const db: P0fDatabase = { request: [], response: [] };
  let section: 'request' | 'response' | undefined;
  let label = '';
  let sys: readonly string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) return;
    if (line.startsWith('[')) {
      section = line === '[tcp:request]' ? 'request' : line === '[tcp:response]' ? 'response' : undefined;
      return;
    }
    if (section === undefined) return;
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'label') {
      label = value;
      sys = [];
    } else if (key === 'sys') sys = value.split(',').map((s) => s.trim());
    else if (key === 'sig') db[section].push(parseSignature(value, label, i + 1, sys));
  });
  return db;
}

let cached: P0fDatabase | undefined;

/** The shipped database, parsed once. */
export function p0fDatabase(): P0fDatabase {
  cached ??= parseP0f(readFileSync(dataFile('p0f.fp'), 'utf8'));
  return cached;
}

/** What was observed in one SYN or SYN+ACK (p0f's struct tcp_sig for a packet). */
export interface TcpObservation {
  ipVersion: 4 | 6;
  ttl: number;
  olen: number;
  mss: number; // 0 when absent
  win: number;
  wscale: number; // 0 when absent
  olayout: string;
  eolPad: number;
  quirks: number;
  pclass: 0 | 1;
  /** Total IP + TCP header length (for "MTU (actual size)"). */
  totHdr: number;
  /** The client's MSS, when matching a SYN+ACK (0 otherwise). */
  synMss: number;
  /** Whether the timestamp option's own value (TSval) is non-zero. */
  ts1: boolean;
  /** A SYN+ACK (only changes how p0f-sendsyn's echoed MSS prints). */
  synAck?: boolean;
}

/** p0f's guess of the initial TTL: the next of 32, 64, 128, 255 at or above the observed one. */
export function guessIttl(ttl: number): number {
  return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

/** Scratch result of winMulti(), reused (the matcher runs for every new signature). */
const WM = { multi: -1, mtu: false };

/**
 * p0f's detect_win_multi(): is the window a multiple of the MSS or MTU, and which. `multi` is -1
 * when it is not (or p0f's integer quirks give a negative multiple: a peer MSS below 12).
 */
export function winMulti(o: TcpObservation): { multi: number; mtu: boolean } {
  detectWinMulti(o);
  return { multi: WM.multi, mtu: WM.mtu };
}

function detectWinMulti(o: TcpObservation): void {
  const win = o.win;
  const mss = o.mss;
  WM.multi = -1;
  WM.mtu = false;
  if (win === 0 || mss < 100) return;
  // The order of the tries is p0f's: the first divisor that fits decides.
  if (tryDiv(win, mss, false)) return;
  // "Some systems will sometimes subtract 12 bytes when timestamps are in use."
  if (o.ts1 && tryDiv(win, mss - 12, false)) return;
  // "Some systems use MTU on the wrong interface": MSS of a 1500-byte IPv4 (and IPv6) link.
  if (tryDiv(win, 1500 - 40, false) || tryDiv(win, 1500 - 40 - 12, false)) return;
  if (o.ipVersion === 6 && (tryDiv(win, 1500 - 60, false) || tryDiv(win, 1500 - 60 - 12, false))) return;
  // "Some systems use MTU instead of MSS".
  if (tryDiv(win, mss + 40, true) || tryDiv(win, mss + o.totHdr, true)) return;
  if (o.ipVersion === 6 && tryDiv(win, mss + 60, true)) return;
  if (tryDiv(win, 1500, true)) return;
  // "On SYN+ACKs, some systems use [the MSS] of the peer".
  if (o.synMss !== 0 && (tryDiv(win, o.synMss, false) || tryDiv(win, o.synMss - 12, false))) return;
}

function tryDiv(win: number, div: number, mtu: boolean): boolean {
  // C's % and / with a negative divisor behave as JS's do (sign of the dividend, truncation); a
  // zero divisor would crash p0f (a peer MSS of exactly 12): we skip it.
  if (div === 0 || win % div !== 0) return false;
  WM.multi = Math.trunc(win / div);
  WM.mtu = mtu;
  return true;
}

export function quirkText(q: number): string {
  let s = '';
  for (const [name, bit] of QUIRK_NAMES) if ((q & bit) !== 0) s = s === '' ? name : `${s},${name}`;
  return s;
}

/** The raw signature as p0f logs it (dump_sig() in fp_tcp.c): "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0". */
export function rawSignature(o: TcpObservation): string {
  const dist = guessIttl(o.ttl) - o.ttl;
  detectWinMulti(o);
  const win = WM.multi > 0 ? `${WM.mtu ? 'mtu' : 'mss'}*${WM.multi}` : String(o.win);
  const layout = o.olayout.endsWith('eol') ? `${o.olayout}+${o.eolPad}` : o.olayout;
  const mss = o.synAck === true && o.mss === SPECIAL_MSS ? '*' : String(o.mss);
  return `${o.ipVersion}:${o.ttl}+${dist > MAX_DIST ? '?' : dist}:${o.olen}:${mss}:${win},${o.wscale}:${layout}:${quirkText(o.quirks)}:${o.pclass === 1 ? "+" : "0"}`;
}

export interface P0fMatch {
  sig: P0fSignature;
  fuzzy: boolean;
  /** Hops: the signature's initial TTL minus the observed one (guessed for some fuzzy matches). */
  distance: number;
}

/** Signatures by option layout, per list (p0f's opt_hash buckets), built on first use. */
const indexes = new WeakMap<readonly P0fSignature[], Map<string, P0fSignature[]>>();

function byLayout(list: readonly P0fSignature[]): Map<string, P0fSignature[]> {
  let idx = indexes.get(list);
  if (idx === undefined) {
    idx = new Map();
    for (const s of list) {
      const bucket = idx.get(s.olayout);
      if (bucket === undefined) idx.set(s.olayout, [s]);
      else bucket.push(s);
    }
    indexes.set(list, idx);
  }
  return idx;
}

const NO_SIGS: readonly P0fSignature[] = [];

/** tcp_find_match() from p0f 3.09b's fp_tcp.c, against one section of the database. */
export function matchTcp(list: readonly P0fSignature[], o: TcpObservation): P0fMatch | undefined {
  detectWinMulti(o);
  const multi = WM.multi;
  const useMtu = WM.mtu;
  let generic: P0fSignature | undefined;
  let fuzzyHit: P0fSignature | undefined;
  for (const ref of byLayout(list).get(o.olayout) ?? NO_SIGS) {
    let refQuirks = ref.quirks;
    // "If the p0f.fp signature has no IP version specified, we need to remove IPv6-specific quirks
    // from it when matching IPv4 packets, and vice versa." (p0f never compares the version itself.)
    if (ref.ipVersion === -1) refQuirks &= o.ipVersion === 4 ? ~Quirk.FLOW : ~(Quirk.DF | Quirk.NZ_ID | Quirk.ZERO_ID);
    let fuzzy = false;
    if (refQuirks !== o.quirks) {
      const deleted = (refQuirks ^ o.quirks) & refQuirks;
      const added = (refQuirks ^ o.quirks) & o.quirks;
      // "'df' or 'id+' disappearing, or 'id-' or 'ecn' appearing": fuzzy, and only the first one counts.
      if (fuzzyHit !== undefined || (deleted & ~(Quirk.DF | Quirk.NZ_ID)) !== 0 || (added & ~(Quirk.ZERO_ID | Quirk.ECN)) !== 0) continue;
      fuzzy = true;
    }
    if (ref.eolPad !== o.eolPad || ref.olen !== o.olen) continue;
    if (ref.badTtl) {
      if (ref.ttl < o.ttl) continue;
    } else if (ref.ttl < o.ttl || ref.ttl - o.ttl > MAX_DIST) fuzzy = true;
    if (ref.mss !== -1 && ref.mss !== o.mss) continue;
    if (ref.wscale !== -1 && ref.wscale !== o.wscale) continue;
    if (ref.pclass !== -1 && ref.pclass !== o.pclass) continue;
    switch (ref.winType) {
      case WinType.Normal:
        if (ref.winMulti !== o.win) continue;
        break;
      case WinType.Mod:
        if (o.win % ref.winMulti !== 0) continue;
        break;
      case WinType.Mss:
        if (useMtu || ref.winMulti !== multi) continue;
        break;
      case WinType.Mtu:
        if (!useMtu || ref.winMulti !== multi) continue;
        break;
      case WinType.Any:
        break;
    }
    if (!fuzzy) {
      if (!ref.generic) return { sig: ref, fuzzy: false, distance: ref.ttl - o.ttl };
      generic ??= ref;
    } else fuzzyHit ??= ref;
  }
  if (generic !== undefined) return { sig: generic, fuzzy: false, distance: generic.ttl - o.ttl };
  // "No fuzzy matching for userland tools."
  if (fuzzyHit === undefined || fuzzyHit.tool) return undefined;
  // The signature's TTL gives the distance unless it is out of range; then p0f guesses.
  const outOfRange = fuzzyHit.ttl < o.ttl || (!fuzzyHit.badTtl && fuzzyHit.ttl - o.ttl > MAX_DIST);
  return { sig: fuzzyHit, fuzzy: true, distance: outOfRange ? guessIttl(o.ttl) - o.ttl : fuzzyHit.ttl - o.ttl };
}
