/** Formatting of the integer and offset forms of addresses that Packet carries. */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * MAC texts already made: a network has a few thousand MACs, and every flow record and
 * observation names one — the same string instance also hashes once in the maps downstream.
 */
const macTexts = new Map<number, string>();

/** 48-bit MAC integer → "aa:bb:cc:dd:ee:ff". */
export function macToString(mac: number): string {
  let s = macTexts.get(mac);
  if (s === undefined) {
    s = formatMac(mac);
    if (macTexts.size >= 65_536) macTexts.clear();
    macTexts.set(mac, s);
  }
  return s;
}

function formatMac(mac: number): string {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  return `${HEX[(hi >>> 8) & 0xff]}:${HEX[hi & 0xff]}:${HEX[lo >>> 24]}:${HEX[(lo >>> 16) & 0xff]}:${HEX[(lo >>> 8) & 0xff]}:${HEX[lo & 0xff]}`;
}

/** Reads a 6-byte MAC at `off` as a 48-bit integer. */
export function readMac(buf: Buffer, off: number): number {
  return (((buf[off] as number) << 8) | (buf[off + 1] as number)) * 0x100000000 + ((((buf[off + 2] as number) << 24) | ((buf[off + 3] as number) << 16) | ((buf[off + 4] as number) << 8) | (buf[off + 5] as number)) >>> 0);
}

export function macFromBytes(buf: Buffer, off: number): string {
  return macToString(readMac(buf, off));
}

export function ipv4ToString(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** RFC 5952 text form of the IPv6 address at `buf[off..off+16)`: lower case, longest zero run as "::". */
export function ipv6ToString(buf: Buffer, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(off + i * 2));
  // IPv4-mapped addresses read better as ::ffff:a.b.c.d
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${ipv4ToString(buf.readUInt32BE(off + 12))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Is this IPv4 address in a private, loopback, link-local or CGNAT range (i.e. not the Internet)? */
export function isInternalIpv4(ip: number): boolean {
  const a = ip >>> 24;
  const b = (ip >>> 16) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}
