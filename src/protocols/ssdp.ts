/**
 * SSDP (UPnP Device Architecture 1.1 §1): devices announce themselves (NOTIFY) and answer searches
 * (HTTP/1.1 200) with SERVER ("OS/version UPnP/1.0 product/version"), USN and LOCATION; searchers
 * send their USER-AGENT. HTTP-over-UDP, one message per datagram.
 */
import { sender, type DissectContext, type Dissector } from './dissector.ts';
import { cleanText } from './redact.ts';

const START = /^(NOTIFY \* HTTP\/1\.[01]|M-SEARCH \* HTTP\/1\.[01]|HTTP\/1\.[01] 200)/;

function headers(text: string): Map<string, string> {
  const h = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length && i < 64; i++) {
    const line = lines[i] as string;
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toUpperCase();
    if (!h.has(k)) h.set(k, line.slice(c + 1).trim());
  }
  return h;
}

export const ssdp: Dissector = {
  name: 'ssdp',
  transport: 'udp',
  ports: [1900],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (p.length < 16) return false;
    const head = p.toString('latin1', 0, 24);
    return START.test(head) && (portMatch || head.startsWith('NOTIFY *') || head.startsWith('M-SEARCH *'));
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    const text = p.toString('latin1', 0, Math.min(p.length, 4096));
    const first = text.slice(0, text.indexOf('\n') >>> 0);
    if (!START.test(first)) return;
    const h = headers(text);
    const subject = sender(ctx);
    const side = ctx.dir === 0 ? 'client' : 'server';
    const emit = (attribute: string, value: string | undefined, confidence: number) => {
      if (value === undefined) return;
      const v = cleanText(value, 255);
      if (v !== '') ctx.emit({ side, attribute, value: v, confidence, ...subject, evidence: cleanText(first, 80) });
    };
    if (first.startsWith('M-SEARCH')) {
      emit('ssdp.user_agent', h.get('USER-AGENT'), 0.7);
      emit('ssdp.search', h.get('ST'), 0.4);
      return;
    }
    // NOTIFY or a search response: the sender describes itself.
    emit('ssdp.server', h.get('SERVER'), 0.85);
    emit('ssdp.usn', h.get('USN'), 0.7);
    emit('ssdp.location', h.get('LOCATION'), 0.7);
    emit('ssdp.type', h.get('NT') ?? h.get('ST'), 0.6);
  },
};
