/**
 * LLMNR (RFC 4795): Windows asks its neighbours for names DNS could not resolve, and a host answers
 * for its own name. Queries reveal what a machine looks for (and are what poisoning tools answer).
 */
import { sender, type DissectContext, type Dissector } from './dissector.ts';
import { parseDns, probeDnsFormat } from './dns-wire.ts';
import { cleanText } from './redact.ts';

export const llmnr: Dissector = {
  name: 'llmnr',
  transport: 'udp',
  ports: [5355],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined) return;
    const subject = sender(ctx);
    const side = ctx.dir === 0 ? 'client' : 'server';
    for (const q of m.questions.slice(0, 4)) {
      const name = cleanText(q.name, 255);
      if (name === '') continue;
      if (!m.response) ctx.emit({ side, attribute: 'llmnr.query', value: name, confidence: 0.6, ...subject });
      else if (m.answers.length > 0) ctx.emit({ side, attribute: 'llmnr.hostname', value: name, confidence: 0.8, ...subject });
    }
  },
};
