/**
 * NetBIOS name service (RFC 1001/1002, UDP 137): Windows machines register their computer name
 * (<00>, <20> with file sharing), workgroup or domain (group <00>, <1E>), and answer node-status
 * queries with all their names and their MAC address.
 */
import { sender, type DissectContext, type Dissector } from './dissector.ts';
import { parseDns, probeDnsFormat } from './dns-wire.ts';
import { macFromBytes } from '../packet/address.ts';
import { cleanText } from './redact.ts';

/** A first-level encoded name label (32 letters A–P) → "NAME<xx>". */
export function decodeNbName(label: string): { name: string; suffix: number } | undefined {
  const enc = label.split('.')[0] ?? '';
  if (enc.length !== 32) return undefined;
  let s = '';
  for (let i = 0; i < 32; i += 2) {
    const hi = enc.charCodeAt(i) - 0x41;
    const lo = enc.charCodeAt(i + 1) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    s += String.fromCharCode((hi << 4) | lo);
  }
  const name = cleanText(s.slice(0, 15).replace(/\s+$/, ''), 15);
  return name === '' ? undefined : { name, suffix: s.charCodeAt(15) };
}

function fmt(n: { name: string; suffix: number }): string {
  return `${n.name}<${n.suffix.toString(16).padStart(2, '0')}>`;
}

export const netbios: Dissector = {
  name: 'netbios',
  transport: 'udp',
  ports: [137],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined) return;
    const subject = sender(ctx);
    const side = ctx.dir === 0 ? 'client' : 'server';
    const emit = (attribute: string, value: string, confidence: number) => ctx.emit({ side, attribute, value, confidence, ...subject });
    // Opcode 5: registration, 8: refresh; their additional record carries the NB flags (group bit 0x8000).
    if (!m.response && (m.opcode === 5 || m.opcode === 8 || m.opcode === 9)) {
      for (const r of m.additional.slice(0, 4)) {
        const n = decodeNbName(r.name);
        if (n === undefined || r.rdlength < 6) continue;
        const group = (p.readUInt16BE(r.rdata) & 0x8000) !== 0;
        emit(group ? 'netbios.domain' : 'netbios.name', fmt(n), 0.85);
      }
      return;
    }
    if (!m.response) {
      for (const q of m.questions.slice(0, 4)) {
        const n = decodeNbName(q.name);
        if (n !== undefined && n.name !== '*') emit('netbios.query', fmt(n), 0.5);
      }
      return;
    }
    for (const r of m.answers.slice(0, 4)) {
      if (r.type === 0x21 && r.rdlength >= 1) {
        // NBSTAT: a name table, then the unit id (the MAC address).
        const count = p[r.rdata] as number;
        let q = r.rdata + 1;
        const end = r.rdata + r.rdlength;
        for (let i = 0; i < count && i < 64 && q + 18 <= end; i++) {
          const name = cleanText(p.toString('latin1', q, q + 15).replace(/\s+$/, ''), 15);
          const suffix = p[q + 15] as number;
          const group = (p.readUInt16BE(q + 16) & 0x8000) !== 0;
          if (name !== '') emit(group ? 'netbios.domain' : 'netbios.name', `${name}<${suffix.toString(16).padStart(2, '0')}>`, 0.9);
          q += 18;
        }
        if (q + 6 <= end) {
          const mac = macFromBytes(p, q);
          if (mac !== '00:00:00:00:00:00') emit('netbios.mac', mac, 0.9);
        }
      } else if (r.type === 0x20) {
        const n = decodeNbName(r.name);
        if (n !== undefined && r.rdlength >= 6) {
          // A positive answer: the responder owns the name (or is a WINS server answering for it).
          ctx.emit({ side, attribute: 'netbios.resolved', value: `${fmt(n)} ${p[r.rdata + 2]}.${p[r.rdata + 3]}.${p[r.rdata + 4]}.${p[r.rdata + 5]}`, confidence: 0.6 });
        }
      }
    }
  },
};
