/**
 * The IEEE registry as a compact binary index: what `npm run build` makes of the installed oui-data
 * (scripts/build-oui-index.ts → dist/oui.idx), so that a lookup is three binary searches over typed
 * arrays instead of a search through 5.6 MB of JSON text. Searching the text (oui.ts) reads a few
 * hundred 4 KiB blocks and runs its byte-by-byte probes cold on every `vigil analyze`: ~40 ms for a
 * hospital's two hundred MACs, against ~2 ms to read this file whole and search it.
 *
 * The index records the size and modification time of the registry file it was made from: when
 * oui-data is updated (or the index is damaged), it is not used and the lookups search the text
 * again until the next build. It holds, per prefix, only the organisation (the first line of IEEE's
 * text), which is all a lookup returns.
 *
 * Layout (little-endian), sections in this order, each aligned for its type:
 *   header  48 bytes: magic 'VOUI', version, entries of MA-L, MA-M, MA-S, distinct names,
 *           source size (f64), source mtime in ms (f64), length of the source's path, 4 reserved
 *   MA-S    Float64 × nS   36-bit prefixes, ascending (beyond 32 bits, hence doubles; exact)
 *   MA-L    Uint32 × nL    24-bit prefixes, ascending
 *   MA-M    Uint32 × nM    28-bit prefixes, ascending
 *   names   Uint32 × (nL + nM + nS)  name number of each entry (MA-L, then MA-M, then MA-S)
 *   starts  Uint32 × (names + 1)     byte offsets of each name in the text
 *   text    UTF-8, the names one after another
 *   path    UTF-8, the registry file it was made from (checked without resolving the package, which
 *           alone costs a few milliseconds at first use)
 */
import { readFileSync } from 'node:fs';

/** The bytes 'V' 'O' 'U' 'I', read as a little-endian number. */
const MAGIC = 0x49554f56;
const VERSION = 1;
const HEADER = 48;

export interface RegistrySource {
  size: number;
  mtimeMs: number;
}

/** The registry file an index is made from. */
export interface RegistryFile extends RegistrySource {
  path: string;
}

/** Prefix lengths in hex digits, most specific first, with IEEE's name for the block. */
export const BLOCKS = [
  [9, 'MA-S'],
  [7, 'MA-M'],
  [6, 'MA-L'],
] as const;
export type BlockName = (typeof BLOCKS)[number][1];

/** The organisation IEEE lists first in an entry's text ("GE Healthcare\n…address…" → "GE Healthcare"). */
export function organisationOf(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}

/** The index of `entries` (prefix in 6, 7 or 9 upper-case hex digits → IEEE's text), made from `source`. */
export function buildOuiIndex(entries: Iterable<[string, string]>, source: RegistryFile): Uint8Array {
  const byLength = new Map<number, [number, string][]>([
    [6, []],
    [7, []],
    [9, []],
  ]);
  for (const [hex, text] of entries) {
    const list = byLength.get(hex.length);
    if (list === undefined || !/^[0-9A-F]+$/.test(hex)) throw new Error(`oui index: not a registry prefix: ${JSON.stringify(hex)}`);
    list.push([Number.parseInt(hex, 16), organisationOf(text)]);
  }
  for (const list of byLength.values()) list.sort((a, b) => a[0] - b[0]);
  const mal = byLength.get(6) as [number, string][];
  const mam = byLength.get(7) as [number, string][];
  const mas = byLength.get(9) as [number, string][];
  const names = new Map<string, number>();
  const nameOf: number[] = [];
  for (const list of [mal, mam, mas]) {
    for (const [, name] of list) {
      let n = names.get(name);
      if (n === undefined) names.set(name, (n = names.size));
      nameOf.push(n);
    }
  }
  const text = Buffer.from([...names.keys()].join(''), 'utf8');
  const starts: number[] = [0];
  let at = 0;
  for (const name of names.keys()) starts.push((at += Buffer.byteLength(name, 'utf8')));
  const path = Buffer.from(source.path, 'utf8');
  const size = HEADER + 8 * mas.length + 4 * (mal.length + mam.length + nameOf.length + starts.length) + text.length + path.length;
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, mal.length, true);
  view.setUint32(12, mam.length, true);
  view.setUint32(16, mas.length, true);
  view.setUint32(20, names.size, true);
  view.setFloat64(24, source.size, true);
  view.setFloat64(32, source.mtimeMs, true);
  view.setUint32(40, path.length, true);
  let off = HEADER;
  new Float64Array(buf, off, mas.length).set(mas.map((e) => e[0]));
  off += 8 * mas.length;
  new Uint32Array(buf, off, mal.length).set(mal.map((e) => e[0]));
  off += 4 * mal.length;
  new Uint32Array(buf, off, mam.length).set(mam.map((e) => e[0]));
  off += 4 * mam.length;
  new Uint32Array(buf, off, nameOf.length).set(nameOf);
  off += 4 * nameOf.length;
  new Uint32Array(buf, off, starts.length).set(starts);
  off += 4 * starts.length;
  new Uint8Array(buf, off, text.length).set(text);
  new Uint8Array(buf, off + text.length).set(path);
  return new Uint8Array(buf);
}

/** Position of `key` in the ascending `keys`, or -1. */
function find(keys: Float64Array | Uint32Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid] as number;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export class OuiIndex {
  private constructor(
    private readonly mal: Uint32Array,
    private readonly mam: Uint32Array,
    private readonly mas: Float64Array,
    private readonly nameOf: Uint32Array,
    private readonly starts: Uint32Array,
    private readonly text: Buffer,
  ) {}

  /**
   * The index in `bytes`, if it is one made from `source` (same size and modification time) and whole;
   * otherwise undefined, and the caller searches the registry itself.
   */
  static from(bytes: Uint8Array, source: RegistrySource): OuiIndex | undefined {
    if (bytes.length < HEADER) return undefined;
    // Typed arrays need their sections aligned: a copy when the bytes start off an 8-byte boundary.
    const b = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) return undefined;
    if (view.getFloat64(24, true) !== source.size || view.getFloat64(32, true) !== source.mtimeMs) return undefined;
    const nL = view.getUint32(8, true);
    const nM = view.getUint32(12, true);
    const nS = view.getUint32(16, true);
    const nNames = view.getUint32(20, true);
    const textAt = HEADER + 8 * nS + 4 * (nL + nM + (nL + nM + nS) + nNames + 1);
    const pathLength = view.getUint32(40, true);
    if (textAt + pathLength > b.length) return undefined;
    let off = b.byteOffset + HEADER;
    const mas = new Float64Array(b.buffer, off, nS);
    off += 8 * nS;
    const mal = new Uint32Array(b.buffer, off, nL);
    off += 4 * nL;
    const mam = new Uint32Array(b.buffer, off, nM);
    off += 4 * nM;
    const nameOf = new Uint32Array(b.buffer, off, nL + nM + nS);
    off += 4 * (nL + nM + nS);
    const starts = new Uint32Array(b.buffer, off, nNames + 1);
    const text = Buffer.from(b.buffer, b.byteOffset + textAt, b.length - textAt - pathLength);
    if ((starts[nNames] as number) !== text.length) return undefined;
    return new OuiIndex(mal, mam, mas, nameOf, starts, text);
  }

  /** The path of the registry file the index in `bytes` was made from ('' when it is not an index). */
  static sourcePath(bytes: Uint8Array): string {
    if (bytes.length < HEADER) return '';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = view.getUint32(40, true);
    return view.getUint32(0, true) !== MAGIC || n > bytes.length - HEADER ? '' : Buffer.from(bytes.buffer, bytes.byteOffset + bytes.length - n, n).toString('utf8');
  }

  /**
   * The index file at `path`, if it is one made from the registry as `registry` finds it now (given
   * the path the index was made from, it returns that file's size and time, or undefined); undefined
   * when absent, stale or damaged.
   */
  static open(path: string, registry: (recordedPath: string) => RegistrySource | undefined): OuiIndex | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    const source = registry(OuiIndex.sourcePath(bytes));
    return source === undefined ? undefined : OuiIndex.from(bytes, source);
  }

  /**
   * The most specific entry for a MAC's 12 hex digits (upper or lower case): its organisation (''
   * when IEEE lists none) and block, or undefined when no block lists it.
   */
  lookup(hex12: string): { organisation: string; digits: 6 | 7 | 9; block: BlockName } | undefined {
    for (const [digits, block] of BLOCKS) {
      // Each block's keys, and where its entries start among the names (MA-L, then MA-M, then MA-S).
      const keys = digits === 9 ? this.mas : digits === 7 ? this.mam : this.mal;
      const first = digits === 9 ? this.mal.length + this.mam.length : digits === 7 ? this.mal.length : 0;
      const i = find(keys, Number.parseInt(hex12.slice(0, digits), 16));
      if (i < 0) continue;
      const n = this.nameOf[first + i] as number;
      // (Checked here, not when opened: walking every entry at first use would cost more than the lookups.)
      if (n >= this.starts.length - 1) return undefined;
      return { organisation: this.text.toString('utf8', this.starts[n] as number, this.starts[n + 1] as number), digits, block };
    }
    return undefined;
  }

  get entries(): number {
    return this.mal.length + this.mam.length + this.mas.length;
  }
}
