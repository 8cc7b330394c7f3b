/**
 * LLMNR (RFC 4795): Windows asks its link neighbours for names DNS could not resolve, and the host
 * that owns the name answers (§2.1.1: "responders MUST only respond … for which they are
 * authoritative"). Queries reveal what a machine looks for (and are what poisoning tools such as
 * Responder answer — a sender that answers for many different names is one).
 *
 * Queries go to 224.0.0.252 / ff02::1:3, responses come back unicast from port 5355: either way the
 * subject is the packet's sender.
 */
import { sender, type DissectContext, type Dissector } from './dissector.ts';
import { parseDns, probeDnsFormat, rdataAddress, typeName } from './dns-wire.ts';
import { cleanText } from './redact.ts';

const MAX_NAMES = 4;

export const llmnr: Dissector = {
  name: 'llmnr',
  transport: 'udp',
  ports: [5355],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    // §2.1.1: opcode 0 only; other opcodes are silently discarded.
    if (m === undefined || m.opcode !== 0) return;
    const subject = sender(ctx);
    const side = ctx.dir === 0 ? 'client' : 'server';
    if (!m.response) {
      const n = Math.min(m.questions.length, MAX_NAMES);
      for (let i = 0; i < n; i++) {
        const q = m.questions[i] as (typeof m.questions)[number];
        const name = cleanText(q.name, 255);
        if (name !== '') ctx.emit({ side, attribute: 'llmnr.query', value: name, confidence: 0.6, evidence: `${typeName(q.type)} ${name}`, ...subject });
      }
      return;
    }
    if (m.rcode !== 0) return;
    // The answer records' owners are the names the responder claims (normally the question's name).
    let seen = '';
    const n = Math.min(m.answers.length, MAX_NAMES);
    for (let i = 0; i < n; i++) {
      const a = m.answers[i] as (typeof m.answers)[number];
      const addr = rdataAddress(p, a);
      if (addr === undefined) continue;
      const name = cleanText(a.name, 255);
      if (name === '' || name === seen) continue;
      seen = name;
      ctx.emit({ side, attribute: 'llmnr.hostname', value: name, confidence: 0.8, evidence: `${typeName(a.type)} ${name} ${addr}`, ...subject });
    }
  },
};
