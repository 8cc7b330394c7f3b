/** Address classes the inventory needs to decide what is a device, what is a peer, and what is noise. */

function ipv4Int(ip: string): number | undefined {
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
  return ipv4Int(ip) !== undefined;
}

/** Private, loopback, link-local, CGNAT (IPv4); unique-local, link-local, loopback (IPv6): not the Internet. */
export function isInternalIp(ip: string): boolean {
  const n = ipv4Int(ip);
  if (n !== undefined) {
    const a = Math.floor(n / 0x1000000);
    const b = Math.floor(n / 0x10000) & 0xff;
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const l = ip.toLowerCase();
  if (l.startsWith('::ffff:')) return isInternalIp(l.slice(7));
  return l === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(l) || /^fe[89ab][0-9a-f]?:/.test(l);
}

/** Addresses that never name one device: unspecified, broadcast, multicast. */
export function isUnicastIp(ip: string): boolean {
  const n = ipv4Int(ip);
  if (n !== undefined) {
    const a = Math.floor(n / 0x1000000);
    return n !== 0 && n !== 0xffffffff && !(a >= 224 && a <= 239) && a !== 0;
  }
  const l = ip.toLowerCase();
  return l !== '::' && !l.startsWith('ff');
}
