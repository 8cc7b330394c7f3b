/** NTPv4 (RFC 5905) client request and server reply, 48 bytes each. */

const NTP_EPOCH_OFFSET = 2208988800; // seconds from 1900 to 1970

function writeTimestamp(b: Buffer, off: number, t: number): void {
  const sec = Math.floor(t) + NTP_EPOCH_OFFSET;
  b.writeUInt32BE(sec >>> 0, off);
  b.writeUInt32BE(Math.floor((t - Math.floor(t)) * 4294967296) >>> 0, off + 4);
}

export function ntpRequest(t: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
  writeTimestamp(b, 40, t);
  return b;
}

export function ntpReply(request: Buffer, t: number, stratum = 2, refId = 'GPS'): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (4 << 3) | 4; // mode 4 (server)
  b[1] = stratum;
  b[2] = 6; // poll 64 s
  b[3] = 0xec; // precision ~2^-20
  b.writeUInt32BE(0x00000010, 4); // root delay
  b.writeUInt32BE(0x00000020, 8); // root dispersion
  Buffer.from(refId.padEnd(4, '\0').slice(0, 4), 'latin1').copy(b, 12);
  writeTimestamp(b, 16, t - 30); // reference
  request.copy(b, 24, 40, 48); // origin = client's transmit
  writeTimestamp(b, 32, t); // receive
  writeTimestamp(b, 40, t + 0.00002); // transmit
  return b;
}
