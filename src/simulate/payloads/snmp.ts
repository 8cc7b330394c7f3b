/**
 * SNMPv2c GetRequest / GetResponse for the system group (RFC 3416, RFC 1213), BER-encoded
 * (X.690). The community is the default "public" — as on too many real devices.
 */

function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

function int(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(text: string): Buffer {
  const parts = text.split('.').map(Number);
  const out: number[] = [40 * (parts[0] ?? 1) + (parts[1] ?? 3)];
  for (const p of parts.slice(2)) {
    const enc: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      enc.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

export const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
export const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
export const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
export const SYS_NAME = '1.3.6.1.2.1.1.5.0';

type Value = { kind: 'null' } | { kind: 'string'; value: string } | { kind: 'oid'; value: string } | { kind: 'ticks'; value: number };

function encodeValue(v: Value): Buffer {
  switch (v.kind) {
    case 'null':
      return Buffer.from([0x05, 0x00]);
    case 'string':
      return tlv(0x04, Buffer.from(v.value, 'latin1'));
    case 'oid':
      return oid(v.value);
    case 'ticks': {
      const i = int(v.value);
      i[0] = 0x43; // TimeTicks [APPLICATION 3]
      return i;
    }
  }
}

function message(pduTag: number, requestId: number, community: string, binds: Array<[string, Value]>): Buffer {
  const vbl = tlv(0x30, Buffer.concat(binds.map(([o, v]) => tlv(0x30, Buffer.concat([oid(o), encodeValue(v)])))));
  const pdu = tlv(pduTag, Buffer.concat([int(requestId), int(0), int(0), vbl]));
  return tlv(0x30, Buffer.concat([int(1), tlv(0x04, Buffer.from(community, 'latin1')), pdu]));
}

/** GetRequest for sysDescr, sysObjectID, sysUpTime and sysName. */
export function snmpGetSystem(requestId: number, community = 'public'): Buffer {
  return message(0xa0, requestId, community, [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME].map((o) => [o, { kind: 'null' }] as [string, Value]));
}

export function snmpSystemResponse(requestId: number, sys: { descr: string; objectId: string; uptimeTicks: number; name: string }, community = 'public'): Buffer {
  return message(0xa2, requestId, community, [
    [SYS_DESCR, { kind: 'string', value: sys.descr }],
    [SYS_OBJECT_ID, { kind: 'oid', value: sys.objectId }],
    [SYS_UPTIME, { kind: 'ticks', value: sys.uptimeTicks }],
    [SYS_NAME, { kind: 'string', value: sys.name }],
  ]);
}
