/**
 * DNS (RFC 1035) over UDP: the names a device resolves say who it talks to — a pump phoning its
 * vendor's cloud, a workstation's update servers — and the answers bind names to addresses.
 */
import type { DissectContext, Dissector } from './dissector.ts';
import { DnsType, parseDns, probeDnsFormat, rdataIpv4, rdataIpv6 } from './dns-wire.ts';
import { cleanText } from './redact.ts';

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

export const dns: Dissector = {
  name: 'dns',
  transport: 'udp',
  ports: [53],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined) return;
    if (!m.response) {
      for (const q of m.questions.slice(0, 4)) {
        const name = cleanText(q.name, 255);
        if (name !== '') ctx.emit({ side: 'client', attribute: 'dns.query', value: name, confidence: 0.7, evidence: `${TYPE_NAMES[q.type] ?? q.type} ${name}` });
      }
      return;
    }
    ctx.emit({ side: 'server', attribute: 'dns.server', value: 'resolver', confidence: 0.8 });
    let n = 0;
    for (const a of m.answers) {
      if (n >= 4) break;
      const addr = a.type === DnsType.A ? rdataIpv4(p, a) : a.type === DnsType.AAAA ? rdataIpv6(p, a) : undefined;
      if (addr === undefined) continue;
      n++;
      ctx.emit({ side: 'client', attribute: 'dns.resolved', value: `${cleanText(a.name, 255)} ${addr}`, confidence: 0.7 });
    }
  },
};
