/**
 * SNMP v1 (RFC 1157), v2c (RFC 1901, PDUs RFC 3416) and the v3 message header (RFC 3412, USM
 * RFC 3414). Agents answer with the system group (RFC 3418): sysDescr (often the exact OS, firmware
 * and model), sysObjectID (the vendor's enterprise number and product) and sysName; traps name
 * the agent's enterprise; a v3 engine ID carries the vendor's IANA enterprise number.
 *
 * The community string is a credential: its value is never emitted or kept — only the finding that
 * an agent answers to a factory default ("public" / "private").
 */
import { isUtf8 } from 'node:buffer';
import type { DissectContext, Dissector, Side } from './dissector.ts';
import { children, hex, integer, oid, readTlv, type Tlv } from './ber.ts';
import { macFromBytes } from '../packet/address.ts';
import { windowsName } from './ntlmssp.ts';
import { cleanText } from './redact.ts';

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const SYS_LOCATION = '1.3.6.1.2.1.1.6.0';
/** snmpTrapOID.0 (RFC 3418): the second varbind of every v2 notification. */
const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';

/** PDU tags, context-specific constructed [0]..[8] (RFC 3416 §3; v1 Trap-PDU RFC 1157 §4.1.6). */
const enum Pdu {
  Get = 0xa0,
  GetNext = 0xa1,
  Response = 0xa2,
  Set = 0xa3,
  TrapV1 = 0xa4,
  GetBulk = 0xa5,
  Inform = 0xa6,
  TrapV2 = 0xa7,
  Report = 0xa8,
}
const PDU_NAMES = ['get-request', 'get-next-request', 'get-response', 'set-request', 'trap', 'get-bulk-request', 'inform-request', 'snmpV2-trap', 'report'];

/** The caps on what one message may make us walk. */
const MAX_VARBINDS = 64;
const MAX_TEXT = 255;

/** Universal tags used here (X.690 §8.1.2, RFC 2578 §7.1 for the application ones). */
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const OBJECT_ID = 0x06;
const SEQUENCE = 0x30;

/**
 * The message starts SEQUENCE { INTEGER version (0, 1 or 3), OCTET STRING community | SEQUENCE
 * msgGlobalData … }. Checked byte by byte, without allocating; off the SNMP ports BER is too
 * generic a shape to claim a flow on.
 */
function looksLikeSnmp(p: Buffer): boolean {
  if (p.length < 12 || p[0] !== SEQUENCE) return false;
  const l = p[1] as number;
  let i = 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    if (n === 0 || n > 2) return false; // a UDP datagram is < 64 KiB
    i += n;
  }
  if (p.length < i + 4 || p[i] !== INTEGER || p[i + 1] !== 1) return false;
  const v = p[i + 2] as number;
  const next = p[i + 3];
  return ((v === 0 || v === 1) && next === OCTET_STRING) || (v === 3 && next === SEQUENCE);
}

/** Text of an OCTET STRING: UTF-8 when it is valid UTF-8, else Latin-1; control characters dropped. */
function text(b: Buffer, t: Tlv): string {
  const v = b.subarray(t.start, Math.min(t.end, t.start + 1024));
  return cleanText(v.toString(isUtf8(v) ? 'utf8' : 'latin1'), MAX_TEXT);
}

/**
 * The OS that a sysDescr states outright, in the forms the common agents write it:
 * Windows' SNMP service ("Hardware: … Software: Windows Version 6.1 (Build 7601 Multiprocessor
 * Free)"), Net-SNMP's default (`uname -a`: "Linux host 4.9.206 #1 SMP …"), Cisco IOS / IOS XE /
 * NX-OS ("Cisco IOS Software, C2960 Software (…), Version 15.0(2)SE4, RELEASE SOFTWARE").
 */
export function osFromSysDescr(d: string): string | undefined {
  const w = /Software: Windows(?: 2000)? Version (\d+)\.(\d+) \(Build (\d+)/.exec(d);
  if (w !== null) {
    // Windows 10 and later still report "Version 6.3" here (the SNMP service is not manifested for
    // 10.0): the build number is what tells them apart.
    const build = Number(w[3]);
    return build >= 10240 ? windowsName({ major: 10, minor: 0, build }) : windowsName({ major: Number(w[1]), minor: Number(w[2]), build });
  }
  const l = /^Linux \S+ (\d+\.\d+[\w.+~-]*)/.exec(d);
  if (l !== null) return `Linux ${l[1] as string}`;
  const c = /\bCisco (IOS(?: XE| XR)?|NX-OS)\b.*?\bVersion ([\w.()]+)/.exec(d);
  if (c !== null) return `Cisco ${c[1] as string} ${c[2] as string}`;
  return undefined;
}

/**
 * SnmpEngineID (RFC 3411 §5 SNMP-FRAMEWORK-MIB TC): with the top bit set, the first 4 octets are
 * the IANA enterprise number of the engine's vendor and the fifth says what follows (3 = a MAC).
 * (Wireshark's packet-snmp.c reads the Cisco variant the same way.)
 */
function engineId(b: Buffer, t: Tlv): { enterprise?: number; mac?: string } {
  const n = t.end - t.start;
  if (n < 5 || ((b[t.start] as number) & 0x80) === 0) return {};
  const enterprise = b.readUInt32BE(t.start) & 0x7fffffff;
  if (b[t.start + 4] !== 3) return { enterprise };
  // Format 3 is the 6-octet MAC; Cisco puts a type octet (0 agent, 1 manager) before it.
  if (n === 11) return { enterprise, mac: macFromBytes(b, t.start + 5) };
  if (n === 12 && enterprise === 9) return { enterprise, mac: macFromBytes(b, t.start + 6) };
  return { enterprise };
}

type Emit = (attribute: string, value: string, confidence: number, evidence?: string) => void;

/** Reads the variable bindings of a PDU from an agent and emits the system group and trap OID. */
function varbinds(b: Buffer, pdu: Tlv, emit: Emit, pduName: string): void {
  // The bindings are the PDU's last field: 4th of a Response/Trap/Report, 6th of a v1 Trap.
  const fields = children(b, pdu, 6);
  if (pdu.tag === Pdu.TrapV1) {
    // RFC 1157 §4.1.6: enterprise is "the type of object generating the trap" (its sysObjectID).
    const ent = fields[0];
    const o = ent !== undefined && ent.tag === OBJECT_ID ? oid(b, ent) : undefined;
    if (o !== undefined) emit('snmp.trap_oid', o, 0.8, `trap enterprise ${o}`);
  }
  const vbl = fields[pdu.tag === Pdu.TrapV1 ? 5 : 3];
  if (vbl === undefined || vbl.tag !== SEQUENCE) return;
  let p = vbl.start;
  for (let n = 0; n < MAX_VARBINDS && p < vbl.end; n++) {
    const vb = readTlv(b, p, vbl.end);
    if (vb === undefined || vb.tag !== SEQUENCE) return;
    p = vb.end;
    const name = readTlv(b, vb.start, vb.end);
    if (name === undefined || name.tag !== OBJECT_ID) continue;
    const value = readTlv(b, name.end, vb.end);
    if (value === undefined) continue;
    // Only the system-group instances and snmpTrapOID.0 matter: compare the OID text only when the
    // encoded name is as short as theirs (1.3.6.1.2.1.1.x.0 is 8 octets, snmpTrapOID.0 is 10).
    const len = name.end - name.start;
    if (len !== 8 && len !== 10) continue;
    const id = oid(b, name);
    const ev = `${pduName} ${id}`;
    if (value.tag === OCTET_STRING) {
      const attr = id === SYS_DESCR ? 'snmp.sys_descr' : id === SYS_NAME ? 'snmp.sys_name' : id === SYS_LOCATION ? 'snmp.sys_location' : undefined;
      if (attr === undefined) continue;
      const v = text(b, value);
      if (v === '') continue;
      emit(attr, v, attr === 'snmp.sys_location' ? 0.8 : 0.9, ev);
      if (attr === 'snmp.sys_descr') {
        const os = osFromSysDescr(v);
        if (os !== undefined) emit('os', os, 0.8, `sysDescr: ${v.slice(0, 120)}`);
      }
    } else if (value.tag === OBJECT_ID && (id === SYS_OBJECT_ID || id === SNMP_TRAP_OID)) {
      const o = oid(b, value);
      if (o !== undefined) emit(id === SYS_OBJECT_ID ? 'snmp.sys_object_id' : 'snmp.trap_oid', o, 0.9, ev);
    }
  }
}

/** Messages an agent (or a notification originator) sends about itself; Response to an Inform excepted. */
function fromAgent(tag: number, ctx: DissectContext): boolean {
  if (tag === Pdu.Response) return ctx.srcPort !== 162; // on 162 the manager acknowledges an Inform
  return tag === Pdu.TrapV1 || tag === Pdu.TrapV2 || tag === Pdu.Inform || tag === Pdu.Report;
}

function makeEmit(ctx: DissectContext, side: Side): Emit {
  return (attribute, value, confidence, evidence) => ctx.emit({ side, attribute, value, confidence, ...(evidence !== undefined ? { evidence } : {}) });
}

/** v3 (RFC 3412 §6): SEQUENCE { msgVersion, msgGlobalData, msgSecurityParameters, msgData }. */
function v3(b: Buffer, parts: Tlv[], ctx: DissectContext): void {
  const [, global, secParams, data] = parts;
  if (global === undefined || global.tag !== SEQUENCE || secParams === undefined || secParams.tag !== OCTET_STRING) return;
  // msgGlobalData: msgID, msgMaxSize, msgFlags (1 octet: auth 1, priv 2, reportable 4), msgSecurityModel.
  const g = children(b, global, 4);
  const flagsT = g[2];
  if (flagsT === undefined || flagsT.tag !== OCTET_STRING || flagsT.end - flagsT.start !== 1) return;
  const flags = b[flagsT.start] as number;
  const senderSide: Side = ctx.dir === 0 ? 'client' : 'server';
  const receiverSide: Side = ctx.dir === 0 ? 'server' : 'client';
  // §6.1 / RFC 3414 §1.5.1: a confirmed-class message (reportable: Get, Set, Inform) is addressed
  // to an authoritative receiver; Responses, Reports and Traps come from an authoritative sender.
  const reportable = (flags & 0x04) !== 0;
  if (!reportable) ctx.emit({ side: senderSide, attribute: 'snmp.version', value: '3', confidence: 0.9 });
  const model = g[3] !== undefined && g[3].tag === INTEGER ? integer(b, g[3]) : undefined;
  if (model === 3) {
    // USM parameters (RFC 3414 §2.4): SEQUENCE { msgAuthoritativeEngineID, boots, time, userName, … }.
    const usm = readTlv(b, secParams.start, secParams.end);
    const eid = usm !== undefined && usm.tag === SEQUENCE ? readTlv(b, usm.start, usm.end) : undefined;
    // An empty engine ID is the discovery probe (RFC 3414 §4): it names nobody.
    if (eid !== undefined && eid.tag === OCTET_STRING && eid.end - eid.start >= 5 && eid.end - eid.start <= 32) {
      const side = reportable ? receiverSide : senderSide;
      const ev = `SNMPv3 msgAuthoritativeEngineID`;
      ctx.emit({ side, attribute: 'snmp.engine_id', value: hex(b, eid), confidence: 0.85, evidence: ev });
      const e = engineId(b, eid);
      if (e.enterprise !== undefined) ctx.emit({ side, attribute: 'snmp.engine_enterprise', value: String(e.enterprise), confidence: 0.8, evidence: ev });
      if (e.mac !== undefined) ctx.emit({ side, attribute: 'snmp.engine_mac', value: e.mac, confidence: 0.6, evidence: ev });
    }
  }
  // A plaintext ScopedPDU (noAuthNoPriv / authNoPriv): SEQUENCE { contextEngineID, contextName, PDU }.
  if ((flags & 0x02) !== 0 || data === undefined || data.tag !== SEQUENCE) return;
  const pdu = children(b, data, 3)[2];
  if (pdu !== undefined && !reportable && fromAgent(pdu.tag, ctx)) varbinds(b, pdu, makeEmit(ctx, senderSide), PDU_NAMES[pdu.tag - Pdu.Get] ?? 'pdu');
}

export const snmp: Dissector = {
  name: 'snmp',
  transport: 'udp',
  ports: [161, 162],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    return portMatch && looksLikeSnmp(p);
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    if (!looksLikeSnmp(p)) return;
    const msg = readTlv(p, 0);
    if (msg === undefined) return;
    const parts = children(p, msg, 4);
    const verT = parts[0];
    if (verT === undefined || verT.tag !== INTEGER || verT.end - verT.start !== 1) return;
    const version = p[verT.start] as number;
    if (version === 3) return v3(p, parts, ctx);
    // v1/v2c (RFC 1157 §4, RFC 1901 §3): SEQUENCE { version, community, PDU }.
    const [, community, pdu] = parts;
    if (community === undefined || pdu === undefined || pdu.tag < Pdu.Get || pdu.tag > Pdu.Report) return;
    // Requests say nothing certain about the receiver (a scan hits non-agents too): only what an
    // agent sends is about the agent, and the agent is this packet's sender.
    if (!fromAgent(pdu.tag, ctx)) return;
    const emit = makeEmit(ctx, ctx.dir === 0 ? 'client' : 'server');
    const pduName = PDU_NAMES[pdu.tag - Pdu.Get] as string;
    emit('snmp.version', version === 0 ? '1' : '2c', 0.9, pduName);
    // An agent answers only requests carrying a community it accepts (RFC 1157 §4.1) and echoes it
    // in the response; a trap carries the agent's configured trap community. Either way the agent
    // runs with a factory default. The value is compared in place and only these two are named.
    const cl = community.end - community.start;
    if (community.tag === OCTET_STRING && (cl === 6 || cl === 7)) {
      const c = p.toString('latin1', community.start, community.end);
      if (c === 'public' || c === 'private') emit('snmp.community_default', c, pdu.tag === Pdu.Response ? 0.95 : 0.8, `${pduName} with default community "${c}"`);
    }
    varbinds(p, pdu, emit, pduName);
  },
};
