/** SSDP (UPnP Device Architecture 1.1 §1): NOTIFY ssdp:alive announcements a device multicasts. */

export function ssdpNotify(o: { location: string; server: string; usn: string; nt: string; maxAge?: number }): Buffer {
  return Buffer.from(
    [
      'NOTIFY * HTTP/1.1',
      'HOST: 239.255.255.250:1900',
      `CACHE-CONTROL: max-age=${o.maxAge ?? 1800}`,
      `LOCATION: ${o.location}`,
      `NT: ${o.nt}`,
      'NTS: ssdp:alive',
      `SERVER: ${o.server}`,
      `USN: ${o.usn}`,
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}
