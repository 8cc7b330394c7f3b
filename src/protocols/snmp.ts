/**
 * SNMP v1/v2c (RFC 1157, RFC 3416) and the v3 header (RFC 3412). Agents answer with the system
 * group: sysDescr (often the exact OS, firmware and model), sysObjectID (the vendor's enterprise
 * number and product) and sysName. The community string is a credential: its value is never kept,
 * only whether it is a factory default.
 */
import type { DissectContext, Dissector } from './dissector.ts';
import { children, integer, oid, readTlv } from './ber.ts';
import { cleanText } from './redact.ts';

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const SYS_LOCATION = '1.3.6.1.2.1.1.6.0';
const DEFAULT_COMMUNITIES = new Set(['public', 'private', 'admin', 'manager', 'community']);
/** PDU tags: GetResponse (0xa2), SNMPv1 Trap (0xa4), SNMPv2 Trap (0xa7), Report (0xa8). */
const FROM_AGENT = new Set([0xa2, 0xa4, 0xa7, 0xa8]);

export const snmp: Dissector = {
  name: 'snmp',
  transport: 'udp',
  ports: [161, 162],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (!portMatch || p.length < 10 || p[0] !== 0x30) return false;
    const msg = readTlv(p, 0);
    if (msg === undefined) return false;
    const ver = readTlv(p, msg.start, msg.end);
    return ver !== undefined && ver.tag === 0x02 && ver.end - ver.start === 1 && (p[ver.start] as number) <= 3;
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    const msg = readTlv(p, 0);
    if (msg === undefined || msg.tag !== 0x30) return;
    const parts = children(p, msg, 4);
    const [verT, second, third] = parts;
    if (verT === undefined || second === undefined || third === undefined || verT.tag !== 0x02) return;
    const version = integer(p, verT);
    if (version === undefined) return;
    const sender = ctx.dir === 0 ? 'client' : 'server';
    const vname = version === 0 ? 'v1' : version === 1 ? 'v2c' : version === 3 ? 'v3' : `v${version}`;
    if (version === 3) {
      ctx.emit({ side: sender, attribute: 'snmp.version', value: vname, confidence: 0.9 });
      return;
    }
    // second: community (OCTET STRING); third: the PDU.
    const community = p.toString('latin1', second.start, Math.min(second.end, second.start + 64));
    const pdu = third;
    const isAgent = FROM_AGENT.has(pdu.tag);
    const side = isAgent ? sender : sender === 'client' ? 'server' : 'client';
    ctx.emit({ side: isAgent ? sender : side, attribute: 'snmp.version', value: vname, confidence: 0.9 });
    if (DEFAULT_COMMUNITIES.has(community.toLowerCase())) {
      // About the agent (the device accepting it), whichever direction shows it.
      ctx.emit({ side: isAgent ? sender : side, attribute: 'snmp.community_default', value: community.toLowerCase(), confidence: isAgent ? 0.95 : 0.6 });
    }
    if (!isAgent) return;
    // Variable bindings are the last child of the PDU (a v1 trap has more fields before them).
    const fields = children(p, pdu, 8);
    const vbl = fields[fields.length - 1];
    if (vbl === undefined || vbl.tag !== 0x30) return;
    for (const vb of children(p, vbl, 64)) {
      const [name, value] = children(p, vb, 2);
      if (name === undefined || value === undefined || name.tag !== 0x06) continue;
      const id = oid(p, name);
      if (id === SYS_DESCR && value.tag === 0x04) {
        const d = cleanText(p.toString('latin1', value.start, value.end), 255);
        if (d !== '') ctx.emit({ side: sender, attribute: 'snmp.sys_descr', value: d, confidence: 0.9 });
      } else if (id === SYS_OBJECT_ID && value.tag === 0x06) {
        const o = oid(p, value);
        if (o !== undefined) ctx.emit({ side: sender, attribute: 'snmp.sys_object_id', value: o, confidence: 0.9 });
      } else if (id === SYS_NAME && value.tag === 0x04) {
        const n = cleanText(p.toString('latin1', value.start, value.end), 255);
        if (n !== '') ctx.emit({ side: sender, attribute: 'snmp.sys_name', value: n, confidence: 0.9 });
      } else if (id === SYS_LOCATION && value.tag === 0x04) {
        const n = cleanText(p.toString('latin1', value.start, value.end), 255);
        if (n !== '') ctx.emit({ side: sender, attribute: 'snmp.sys_location', value: n, confidence: 0.8 });
      }
    }
  },
};
