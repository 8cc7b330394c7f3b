/**
 * The p0f v3 signature database (data/p0f.fp) and its matcher, following p0f 3.09b's
 * fp_tcp.c: a signature is `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`; candidates must
 * have the same option layout; quirks may differ only by 'df'/'id+' disappearing or 'id-'/'ecn'
 * appearing (a fuzzy match); a TTL further than 35 hops from the signature's is fuzzy; specific
 * signatures win over generic ones.
 */
import { readFileSync } from 'node:fs';
import { dataFile } from '../knowledge/paths.ts';

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

export const QUIRK_NAMES: ReadonlyArray<[string, number]> = [
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

export const enum WinType {
  Any = 0,
  Normal = 1,
  Mod = 2,
  Mss = 3,
  Mtu = 4,
}

export interface P0fSignature {
  label: string;
  /** "Linux 3.11 and newer", "Windows 7 or 8". */
  name: string;
  generic: boolean;
  ipVersion: number; // 4, 6, or -1 for any
  ttl: number;
  badTtl: boolean;
  olen: number;
  mss: number; // -1 any
  winType: WinType;
  winMulti: number;
  wscale: number; // -1 any
  olayout: string;
  quirks: number;
  pclass: number; // -1 any, 0 none, 1 payload
  eolPad: number;
  line: number;
}

export interface P0fDatabase {
  request: P0fSignature[];
  response: P0fSignature[];
}

/** The option layout without eol padding, and the padding count ("eol+3" → 3). */
function splitLayout(layout: string): { olayout: string; eolPad: number } {
  const parts = layout === '' ? [] : layout.split(',');
  let eolPad = 0;
  const last = parts[parts.length - 1];
  if (last !== undefined && last.startsWith('eol+')) {
    eolPad = Number(last.slice(4));
    parts[parts.length - 1] = 'eol';
  }
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

export function parseSignature(sig: string, label: string, line: number): P0fSignature {
  const f = sig.split(':');
  if (f.length !== 8) throw new Error(`line ${line}: a TCP signature has 8 fields: ${sig}`);
  const [ver, ittl, olen, mss, win, layout, quirks, pclass] = f as [string, string, string, string, string, string, string, string];
  const [wsize = '*', scale = '*'] = win.split(',');
  let winType = WinType.Normal;
  let winMulti = 0;
  if (wsize === '*') winType = WinType.Any;
  else if (wsize.startsWith('mss*')) {
    winType = WinType.Mss;
    winMulti = Number(wsize.slice(4));
  } else if (wsize.startsWith('mtu*')) {
    winType = WinType.Mtu;
    winMulti = Number(wsize.slice(4));
  } else if (wsize.startsWith('%')) {
    winType = WinType.Mod;
    winMulti = Number(wsize.slice(1));
  } else winMulti = Number(wsize);
  const lp = label.split(':');
  const { olayout, eolPad } = splitLayout(layout);
  return {
    label,
    name: `${lp[2] ?? ''}${lp[3] !== undefined && lp[3] !== '' ? ` ${lp.slice(3).join(':')}` : ''}`,
    generic: lp[0] === 'g',
    ipVersion: ver === '*' ? -1 : Number(ver),
    ttl: Number(ittl.replace(/-$/, '')),
    badTtl: ittl.endsWith('-'),
    olen: Number(olen),
    mss: mss === '*' ? -1 : Number(mss),
    winType,
    winMulti,
    wscale: scale === '*' ? -1 : Number(scale),
    olayout,
    quirks: parseQuirks(quirks),
    pclass: pclass === '*' ? -1 : pclass === '0' ? 0 : 1,
    eolPad,
    line,
  };
}

export function parseP0f(text: string): P0fDatabase {
  const db: P0fDatabase = { request: [], response: [] };
  let section: 'request' | 'response' | undefined;
  let label = '';
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
    if (key === 'label') label = value;
    else if (key === 'sig') db[section].push(parseSignature(value, label, i + 1));
  });
  return db;
}

let cached: P0fDatabase | undefined;

/** The shipped database, parsed once. */
export function p0fDatabase(): P0fDatabase {
  cached ??= parseP0f(readFileSync(dataFile('p0f.fp'), 'utf8'));
  return cached;
}

/** What was observed in one SYN or SYN+ACK. */
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
  /** The client's MSS, when matching a SYN+ACK. */
  synMss: number;
  ts1: boolean;
}

/** p0f's guess of the initial TTL. */
export function guessIttl(ttl: number): number {
  return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

/** p0f's detect_win_multi(): is the window a multiple of the MSS or MTU, and which. */
export function winMulti(o: TcpObservation): { multi: number; mtu: boolean } {
  const win = o.win;
  const mss = o.mss;
  if (win === 0 || mss < 100) return { multi: 0, mtu: false };
  const tries: Array<[number, boolean]> = [[mss, false]];
  if (o.ts1) tries.push([mss - 12, false]);
  tries.push([1500 - 40, false], [1500 - 52, false]);
  if (o.ipVersion === 6) tries.push([1500 - 60, false], [1500 - 72, false]);
  tries.push([mss + 40, true], [mss + o.totHdr, true]);
  if (o.ipVersion === 6) tries.push([mss + 60, true]);
  tries.push([1500, true]);
  if (o.synMss > 0) tries.push([o.synMss, false], [o.synMss - 12, false]);
  for (const [div, mtu] of tries) if (div > 0 && win % div === 0) return { multi: win / div, mtu };
  return { multi: 0, mtu: false };
}

export function quirkText(q: number): string {
  return QUIRK_NAMES.filter(([, bit]) => (q & bit) !== 0)
    .map(([n]) => n)
    .join(',');
}

/** The raw signature as p0f prints it ("4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0"). */
export function rawSignature(o: TcpObservation): string {
  const ittl = guessIttl(o.ttl);
  const { multi, mtu } = winMulti(o);
  const win = multi > 0 ? `${mtu ? 'mtu' : 'mss'}*${multi}` : String(o.win);
  const layout = o.olayout.replace(/eol$/, `eol+${o.eolPad}`);
  return `${o.ipVersion}:${o.ttl}+${ittl - o.ttl}:${o.olen}:${o.mss}:${win},${o.wscale}:${layout}:${quirkText(o.quirks)}:${o.pclass}`;
}

const MAX_DIST = 35;

export interface P0fMatch {
  sig: P0fSignature;
  fuzzy: boolean;
  distance: number;
}

/** tcp_find_match() from p0f 3.09b. */
export function matchTcp(list: readonly P0fSignature[], o: TcpObservation): P0fMatch | undefined {
  const { multi, mtu } = winMulti(o);
  let generic: P0fSignature | undefined;
  let fuzzyHit: P0fSignature | undefined;
  for (const ref of list) {
    if (ref.olayout !== o.olayout) continue;
    let refQuirks = ref.quirks;
    // A version-agnostic signature drops the other version's quirks.
    if (ref.ipVersion === -1) refQuirks &= o.ipVersion === 4 ? ~Quirk.FLOW : ~(Quirk.DF | Quirk.NZ_ID | Quirk.ZERO_ID);
    else if (ref.ipVersion !== o.ipVersion) continue;
    let fuzzy = false;
    if (refQuirks !== o.quirks) {
      const deleted = (refQuirks ^ o.quirks) & refQuirks;
      const added = (refQuirks ^ o.quirks) & o.quirks;
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
        if (ref.winMulti === 0 || o.win % ref.winMulti !== 0) continue;
        break;
      case WinType.Mss:
        if (mtu || ref.winMulti !== multi) continue;
        break;
      case WinType.Mtu:
        if (!mtu || ref.winMulti !== multi) continue;
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
  if (fuzzyHit !== undefined) return { sig: fuzzyHit, fuzzy: true, distance: guessIttl(o.ttl) - o.ttl };
  return undefined;
}
