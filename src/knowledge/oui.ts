/**
 * MAC address → the organisation IEEE assigned its prefix to (MA-L 24-bit, MA-M 28-bit, MA-S 36-bit
 * blocks), from the `oui-data` npm package: IEEE's registries as JSON, kept current by its
 * maintainer (BSD-2-Clause). Read at first use, not bundled, so updating the package updates Vigil.
 *
 * Cost: the registry is 5.6 MB of JSON (53,000 entries) and a capture names a few hundred prefixes
 * at most, so it is not parsed (JSON.parse alone took ~80 ms of every `vigil analyze`, indexing its
 * lines ~30 ms), nor even read whole (~20 ms): oui-data writes one entry per line, ordered by prefix
 * length and then by prefix (all MA-L, then MA-M, then MA-S), so a lookup binary-searches the file
 * for its line (as look(1) does), reading only the 4 KiB blocks its probes land in (kept for the
 * next lookups, whose first probes are the same), and decodes only that line. A file laid out
 * otherwise is parsed whole, as before: a sample of lines is checked for order at load, and a line
 * of another shape met by a search switches to parsing; the tests check every prefix of the shipped
 * package against the parsed registry.
 *
 * Faster still: `npm run build` writes the registry as a binary index (oui-index.ts), used whenever
 * it was made from the oui-data file installed now; this search is what runs without it.
 */
import { fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BLOCKS, OuiIndex, organisationOf, type RegistryFile } from './oui-index.ts';
import { installRoot } from './paths.ts';

const BLOCK_BITS = 12;
const BLOCK = 1 << BLOCK_BITS;

/**
 * A file read by 4 KiB blocks as they are first needed, with the few Buffer reads the search makes.
 * Its descriptor stays open for the life of the process, as a loaded library's would (opening it
 * for each block costs four times the read); every block once read is kept.
 */
class BlockFile {
  private readonly blocks: (Buffer | undefined)[];
  private readonly fd: number;
  readonly length: number;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'r');
    this.length = fstatSync(this.fd).size;
    this.blocks = new Array<Buffer | undefined>(Math.ceil(this.length / BLOCK));
  }

  private block(n: number): Buffer {
    let b = this.blocks[n];
    if (b === undefined) {
      b = Buffer.allocUnsafe(Math.min(BLOCK, this.length - n * BLOCK));
      let got = 0;
      while (got < b.length) {
        const r = readSync(this.fd, b, got, b.length - got, n * BLOCK + got);
        if (r === 0) throw new Error(`${this.path}: shorter than it was`);
        got += r;
      }
      this.blocks[n] = b;
    }
    return b;
  }

  /** The byte at i (i < length). */
  at(i: number): number {
    return this.block(i >>> BLOCK_BITS)[i & (BLOCK - 1)] as number;
  }

  /** The first position ≥ from holding `byte`, or -1. */
  indexOf(byte: number, from: number): number {
    for (let n = from >>> BLOCK_BITS; n * BLOCK < this.length; n++) {
      const b = this.block(n);
      const i = b.indexOf(byte, n * BLOCK < from ? from - n * BLOCK : 0);
      if (i >= 0) return n * BLOCK + i;
    }
    return -1;
  }

  /** The text of [start, end) as UTF-8. */
  text(start: number, end: number): string {
    const first = start >>> BLOCK_BITS;
    const last = (end - 1) >>> BLOCK_BITS;
    if (first === last) return this.block(first).toString('utf8', start - first * BLOCK, end - first * BLOCK);
    const parts: Buffer[] = [];
    for (let n = first; n <= last; n++) parts.push(this.block(n).subarray(n === first ? start - n * BLOCK : 0, n === last ? end - n * BLOCK : BLOCK));
    return Buffer.concat(parts).toString('utf8');
  }
}

/** The registry file, searched by blocks, or parsed whole when it is not laid out as expected. */
type Registry = { file: BlockFile } | { parsed: Map<string, string> };

let registry: Registry | undefined;

function registryFile(): string {
  return createRequire(import.meta.url).resolve('oui-data');
}

/** Where `npm run build` writes the binary index (scripts/build-oui-index.ts). */
export function ouiIndexFile(): string {
  return join(installRoot(), 'dist', 'oui.idx');
}

/** The prebuilt index, when there is one made from the installed registry (null: search the text). */
let prebuilt: OuiIndex | null | undefined;
function index(): OuiIndex | null {
  if (prebuilt === undefined) {
    // The file the index was made from, if it is still there (what resolving the package would most
    // likely name, without the cost of resolving it); else the package's file as installed now.
    const statOf = (path: string) => {
      try {
        const st = statSync(path);
        return { size: st.size, mtimeMs: st.mtimeMs };
      } catch {
        return undefined;
      }
    };
    prebuilt = OuiIndex.open(ouiIndexFile(), (recorded) => (recorded !== '' ? statOf(recorded) : undefined) ?? statOf(registryFile())) ?? null;
  }
  return prebuilt;
}

/** For the tests: lookups with this index (null: searching the text; undefined: as installed). Clears the lookup cache. */
export function useOuiIndexForTest(idx: OuiIndex | null | undefined): void {
  prebuilt = idx;
  cache.clear();
}

/** The installed registry's entries and its size and modification time: what the build indexes. */
export function registryForIndex(): { entries: [string, string][]; source: RegistryFile } {
  const path = registryFile();
  const st = statSync(path);
  return { entries: [...(parseWhole() as { parsed: Map<string, string> }).parsed], source: { path, size: st.size, mtimeMs: st.mtimeMs } };
}

function load(): Registry {
  if (registry === undefined) {
    const file = new BlockFile(registryFile());
    registry = looksSorted(file) ? { file } : parseWhole();
  }
  return registry;
}

function parseWhole(): Registry {
  return { parsed: new Map(Object.entries(JSON.parse(readFileSync(registryFile(), 'utf8')) as Record<string, string>)) };
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;
/** The order of a line: an entry's (prefix length, prefix); the opening brace first, the closing brace (or an empty line) last. */
const FIRST = -1;
const LAST = Number.POSITIVE_INFINITY;

/** Not a line of the expected shape: the search gives way to parsing. */
class Layout extends Error {}

/** A hex digit's value (upper case, as the registry writes prefixes), or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Sort key of the line [start, end): prefix length × 2^40 + prefix, FIRST, LAST; throws Layout otherwise. */
function lineKey(bytes: BlockFile, start: number, end: number): number {
  let i = start;
  while (i < end && (bytes.at(i) === 0x20 || bytes.at(i) === 0x09 || bytes.at(i) === 0x0d)) i++;
  if (i === end) return LAST;
  const c = bytes.at(i);
  if (c === 0x7b) return FIRST;
  if (c === 0x7d) return LAST;
  if (c !== QUOTE) throw new Layout();
  let key = 0;
  let j = i + 1;
  for (; j < end; j++) {
    const v = hexValue(bytes.at(j));
    if (v < 0) break;
    key = key * 16 + v;
  }
  const len = j - i - 1;
  if (j + 1 >= end || bytes.at(j) !== QUOTE || bytes.at(j + 1) !== 0x3a || len < 6 || len > 9) throw new Layout();
  return len * 2 ** 40 + key;
}

function lineEnd(bytes: BlockFile, start: number): number {
  const e = bytes.indexOf(NEWLINE, start);
  return e < 0 ? bytes.length : e;
}

/** The start of the first line that starts at or after p. */
function lineStartFrom(bytes: BlockFile, p: number): number {
  if (p === 0 || bytes.at(p - 1) === NEWLINE) return p;
  const e = bytes.indexOf(NEWLINE, p);
  return e < 0 ? bytes.length : e + 1;
}

/** 65 lines spread over the file in ascending order: the layout the search relies on, in a few microseconds. */
function looksSorted(bytes: BlockFile): boolean {
  try {
    let prev = -Infinity;
    for (let s = 0; s <= 64; s++) {
      const start = lineStartFrom(bytes, Math.floor((bytes.length * s) / 65));
      if (start >= bytes.length) break;
      const k = lineKey(bytes, start, lineEnd(bytes, start));
      if (k < prev) return false;
      prev = k;
    }
    return lineKey(bytes, 0, lineEnd(bytes, 0)) === FIRST;
  } catch (e) {
    if (e instanceof Layout) return false;
    throw e;
  }
}

/** The first line whose sort key is at least `target` (look(1)'s search), or undefined. */
function seek(bytes: BlockFile, target: number): { start: number; end: number; key: number } | undefined {
  let found: { start: number; end: number; key: number } | undefined;
  // Invariant: the answer is `found` or a line starting in [lo, hi).
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const start = lineStartFrom(bytes, mid);
    if (start >= hi) {
      hi = mid;
      continue;
    }
    const end = lineEnd(bytes, start);
    const key = lineKey(bytes, start, end);
    if (key >= target) {
      // No line starts in [mid, start): an earlier answer starts before mid.
      found = { start, end, key };
      hi = mid;
    } else lo = end + 1;
  }
  return found;
}

/** The text of the entry for `hex` (6 to 9 upper-case hex digits), or undefined. */
function search(bytes: BlockFile, hex: string): string | undefined {
  const target = hex.length * 2 ** 40 + Number.parseInt(hex, 16);
  const line = seek(bytes, target);
  if (line === undefined || line.key !== target) return undefined;
  // `"HEX": "text",` as the JSON it is.
  const text = bytes.text(line.start, line.end).trim().replace(/,$/, '');
  return Object.values(JSON.parse(`{${text}}`) as Record<string, string>)[0];
}

/** Is any `len`-digit prefix in [from, to) listed? */
function listedIn(bytes: BlockFile, len: number, from: number, to: number): boolean {
  const line = seek(bytes, len * 2 ** 40 + from);
  return line !== undefined && line.key < len * 2 ** 40 + to;
}

/**
 * Whether IEEE carved MA-M (7-digit) or MA-S (9-digit) blocks out of a 24-bit prefix: only a few
 * hundred prefixes are, so most MACs need one search (MA-L) instead of three. Per prefix, cached.
 */
const carved = new Map<string, { mam: boolean; mas: boolean }>();
function carvedOut(hex6: string): { mam: boolean; mas: boolean } {
  let c = carved.get(hex6);
  if (c === undefined) {
    const r = load();
    const p = Number.parseInt(hex6, 16);
    c = { mam: true, mas: true };
    if ('file' in r) {
      try {
        c = { mam: listedIn(r.file, 7, p * 16, (p + 1) * 16), mas: listedIn(r.file, 9, p * 4096, (p + 1) * 4096) };
      } catch (e) {
        if (!(e instanceof Layout)) throw e;
        registry = parseWhole();
      }
    }
    if (carved.size >= 100_000) carved.clear();
    carved.set(hex6, c);
  }
  return c;
}

/** The registry's text for a prefix (6, 7 or 9 upper-case hex digits), or undefined. */
function entry(hex: string): string | undefined {
  const r = load();
  if ('parsed' in r) return r.parsed.get(hex);
  try {
    return search(r.file, hex);
  } catch (e) {
    if (!(e instanceof Layout)) throw e;
    registry = parseWhole();
    return entry(hex);
  }
}

/** The locally-administered bit (IEEE 802 §8.2.2): randomised phone MACs, virtual NICs. OUI says nothing then. */
export function isLocallyAdministered(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 0x02) !== 0;
}

/** Multicast/broadcast destination addresses are never a device. */
export function isGroupAddress(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 0x01) !== 0;
}

export interface OuiAssignment {
  /** The organisation's name as IEEE lists it ("GE Healthcare", "Baxter Healthcare"). */
  organisation: string;
  /** The registry block the prefix is in, for the evidence ("MA-L 00:1B:…"). */
  prefix: string;
  block: 'MA-L' | 'MA-M' | 'MA-S';
}

const cache = new Map<string, OuiAssignment | null>();

/** The IEEE assignment for a MAC ("00:1b:2c:…", any case), or undefined when unassigned or local. */
export function ouiLookup(mac: string): OuiAssignment | undefined {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  // 00:00:00 is Xerox's 1980s block, but on today's wire it is an anonymiser's or a broken stack's
  // placeholder far more often than a Xerox Alto: it names no maker.
  if (hex.length !== 12 || isLocallyAdministered(mac) || hex.startsWith('000000')) return undefined;
  const key = hex.slice(0, 9);
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let found: OuiAssignment | undefined;
  const idx = index();
  if (idx !== null) {
    const e = idx.lookup(hex);
    if (e !== undefined && e.organisation !== '') found = { organisation: e.organisation, prefix: hex.slice(0, e.digits).replace(/(..)(?=.)/g, '$1:'), block: e.block };
    if (cache.size > 100_000) cache.clear();
    cache.set(key, found ?? null);
    return found;
  }
  const sub = carvedOut(hex.slice(0, 6));
  for (const [len, block] of BLOCKS) {
    if ((len === 9 && !sub.mas) || (len === 7 && !sub.mam)) continue;
    const text = entry(hex.slice(0, len));
    if (text !== undefined) {
      const organisation = organisationOf(text);
      if (organisation !== '') found = { organisation, prefix: hex.slice(0, len).replace(/(..)(?=.)/g, '$1:'), block };
      break;
    }
  }
  if (cache.size > 100_000) cache.clear();
  cache.set(key, found ?? null);
  return found;
}

/** For the tests: the shipped registry searched (never parsed), and parsed whole, from the same file. */
export function ouiRegistriesForTest(): { searched: (hex: string) => string | undefined; parsed: (hex: string) => string | undefined; prefixes: string[]; sorted: boolean } {
  const file = new BlockFile(registryFile());
  const whole = parseWhole() as { parsed: Map<string, string> };
  return { searched: (hex) => search(file, hex), parsed: (hex) => whole.parsed.get(hex), prefixes: [...whole.parsed.keys()], sorted: looksSorted(file) };
}
