/**
 * MAC address → the organisation IEEE assigned its prefix to (MA-L 24-bit, MA-M 28-bit, MA-S 36-bit
 * blocks), from the `oui-data` npm package: IEEE's registries as JSON, kept current by its
 * maintainer (BSD-2-Clause). Read at first use, not bundled, so updating the package updates Vigil.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let registry: Record<string, string> | undefined;

function load(): Record<string, string> {
  if (registry === undefined) {
    const file = createRequire(import.meta.url).resolve('oui-data');
    registry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  }
  return registry;
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
  const r = load();
  let found: OuiAssignment | undefined;
  for (const [len, block] of [
    [9, 'MA-S'],
    [7, 'MA-M'],
    [6, 'MA-L'],
  ] as const) {
    const text = r[hex.slice(0, len)];
    if (text !== undefined) {
      const organisation = text.split('\n', 1)[0]?.trim() ?? '';
      if (organisation !== '') found = { organisation, prefix: hex.slice(0, len).replace(/(..)(?=.)/g, '$1:'), block };
      break;
    }
  }
  if (cache.size > 100_000) cache.clear();
  cache.set(key, found ?? null);
  return found;
}
