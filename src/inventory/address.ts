/** Address classes the inventory needs to decide what is a device, what is a peer, and what is noise. */

/**
 * A dotted-quad IPv4 address as a number (0 … 2³²−1), or undefined for anything else. Called for
 * every address of every flow (builder, baseline): plain "a.b.c.d" is read digit by digit without
 * allocating; anything else (IPv6 aside) goes the general way below, which decides every odd form.
 */
export function ipv4ToNumber(ip: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3) break;
    } else if (c === 46 && digits > 0 && dots < 3 && part <= 255) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c === 58) {
      // A colon: IPv6 (or an IPv4-mapped "::ffff:a.b.c.d"), never a dotted quad.
      return undefined;
    } else break;
  }
  // One way out to the general reading, whatever sent it there: "fe80::1" and "2001:db8::1" leave
  // by the same call (V8 recompiles a function the first time a call it never saw made runs).
  if (i < ip.length || dots !== 3 || digits === 0 || part > 255) return parsedIpv4(ip);
  return n * 256 + part;
}

/** The general reading: four dot-separated parts, each a number 0 … 255 as Number() reads it. */
function parsedIpv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 255 || p === '') return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function isIpv4(ip: string): boolean {
  return ipv4ToNumber(ip) !== undefined;
}

/** An IPv4 address (as ipv4ToNumber reads it) that is private, loopback, link-local or CGNAT. */
export function isInternalIpv4(n: number): boolean {
  const a = Math.floor(n / 0x1000000);
  const b = Math.floor(n / 0x10000) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** An IPv4 address (as ipv4ToNumber reads it) that names one host: not unspecified, broadcast or multicast. */
export function isUnicastIpv4(n: number): boolean {
  const a = Math.floor(n / 0x1000000);
  return n !== 0 && n !== 0xffffffff && !(a >= 224 && a <= 239) && a !== 0;
}

/** Private, loopback, link-local, CGNAT (IPv4); unique-local, link-local, loopback (IPv6): not the Internet. */
export function isInternalIp(ip: string): boolean {
  const n = ipv4ToNumber(ip);
  if (n !== undefined) return isInternalIpv4(n);
  const l = ip.toLowerCase();
  if (l.startsWith('::ffff:')) return isInternalIp(l.slice(7));
  return l === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(l) || /^fe[89ab][0-9a-f]?:/.test(l);
}

/** Addresses that never name one device: unspecified, broadcast, multicast. */
export function isUnicastIp(ip: string): boolean {
  const n = ipv4ToNumber(ip);
  if (n !== undefined) return isUnicastIpv4(n);
  const l = ip.toLowerCase();
  return l !== '::' && !l.startsWith('ff');
}

/** The first and last address of an IPv4 CIDR block ("10.2.0.0/16"; a bare address is a /32), or undefined. */
export function ipv4Range(cidr: string): { first: number; last: number } | undefined {
  const [addr, bits] = cidr.trim().split('/');
  const n = ipv4ToNumber(addr ?? '');
  const len = bits === undefined ? 32 : Number(bits);
  if (n === undefined || !Number.isInteger(len) || len < 0 || len > 32 || bits === '') return undefined;
  const size = 2 ** (32 - len);
  const first = Math.floor(n / size) * size;
  return { first, last: first + size - 1 };
}
