/**
 * DNS (RFC 1035) over UDP and TCP: the names a device resolves say who it talks to — a pump phoning
 * its vendor's cloud, a workstation's update servers — the answers bind those names to addresses,
 * and a dynamic update (RFC 2136) is a host, or the DHCP server on its behalf, registering its name.
 *
 * Sides follow the packet, not the flow: the sender of a query is the client of that exchange and
 * the sender of a response the server, even when the capture began with the response.
 */
import { StreamVerdict, type DissectContext, type Dissector, type Side, type StreamSession } from './dissector.ts';
import { DnsType, parseDns, plausibleDnsHeader, probeDnsFormat, rdataAddress, rdataName, typeName, type DnsMessage } from './dns-wire.ts';
import { Framer } from './framer.ts';
import { cleanText } from './redact.ts';

/** Questions and answers reported per message: enough for any real exchange, bounded for a hostile one. */
const MAX_QUESTIONS = 4;
const MAX_ANSWERS = 8;
const OPCODE_UPDATE = 5;

/** Reports one DNS message; `m` was parsed from `p`. */
function report(m: DnsMessage, p: Buffer, ctx: DissectContext): void {
  const senderSide: Side = ctx.dir === 0 ? 'client' : 'server';
  const receiverSide: Side = ctx.dir === 0 ? 'server' : 'client';
  if (!m.response) {
    if (m.opcode === OPCODE_UPDATE) {
      reportUpdate(m, p, ctx, senderSide);
      return;
    }
    const n = Math.min(m.questions.length, MAX_QUESTIONS);
    for (let i = 0; i < n; i++) {
      const q = m.questions[i] as DnsMessage['questions'][number];
      const name = cleanText(q.name, 255);
      if (name !== '') ctx.emit({ side: senderSide, attribute: 'dns.query', value: name, confidence: 0.7, evidence: `${typeName(q.type)} ${name}` });
    }
    return;
  }
  // RA (recursion available, RFC 1035 §4.1.1) tells a resolver from an authoritative-only server.
  const role = (m.flags & 0x0080) !== 0 ? 'recursive' : (m.flags & 0x0400) !== 0 ? 'authoritative' : 'dns';
  ctx.emit({ side: senderSide, attribute: 'dns.server', value: role, confidence: 0.8, evidence: `rcode ${m.rcode}, ${m.answers.length} answers` });
  if (m.rcode !== 0 || m.opcode !== 0) return;
  const n = Math.min(m.answers.length, MAX_ANSWERS);
  for (let i = 0; i < n; i++) {
    const a = m.answers[i] as DnsMessage['answers'][number];
    // A CNAME says which provider really serves a vendor's name (x.vendor.com → x.cloudfront.net).
    const target = a.type === DnsType.CNAME ? rdataName(p, a) : rdataAddress(p, a);
    if (target === undefined) continue;
    const value = `${cleanText(a.name, 255)} ${typeName(a.type)} ${cleanText(target, 255)}`;
    ctx.emit({ side: receiverSide, attribute: 'dns.resolved', value, confidence: 0.7 });
  }
}

/**
 * RFC 2136 §2.5: the update section (the authority section's place) adds records. An A/AAAA record
 * added under class IN names a host and its address; Windows clients register themselves, DHCP
 * servers register their clients — so the subject is the address in the record.
 */
function reportUpdate(m: DnsMessage, p: Buffer, ctx: DissectContext, senderSide: Side): void {
  let n = 0;
  for (const r of m.authority) {
    if (n >= MAX_ANSWERS) break;
    if ((r.cls & 0x7fff) !== 1) continue; // class ANY / NONE: deletions (RFC 2136 §2.5.2–2.5.4)
    const addr = rdataAddress(p, r);
    if (addr === undefined) continue;
    n++;
    const name = cleanText(r.name, 255);
    if (name === '') continue;
    const self = addr === ctx.srcIp;
    const subject = self && ctx.srcMac !== undefined ? { ip: addr, mac: ctx.srcMac } : { ip: addr };
    ctx.emit({ side: senderSide, attribute: 'dns.hostname', value: name, confidence: self ? 0.85 : 0.65, evidence: `UPDATE ${name} ${typeName(r.type)} ${addr}`, ...subject });
  }
}

export const dns: Dissector = {
  name: 'dns',
  transport: 'udp',
  ports: [53],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m !== undefined) report(m, p, ctx);
  },
};

/** A TCP message is at most 64 KiB; hold this much of one while it arrives, skip the rest of bigger ones. */
const TCP_HOLD = 4096;
/** Messages read per direction: a zone transfer (AXFR) is thousands of them, all of it the same zone. */
const TCP_MESSAGES = 8;

/** RFC 1035 §4.2.2 (and RFC 7766): over TCP each message has a two-byte length prefix. */
class DnsTcpSession implements StreamSession {
  private readonly framers = [new Framer(TCP_HOLD), new Framer(TCP_HOLD)] as const;
  private readonly counts: [number, number] = [0, 0];

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    const dir = ctx.dir;
    const f = this.framers[dir];
    f.feed(chunk, (b) => {
      if (b.length < 2) return 0;
      const len = b.readUInt16BE(0);
      if (len < 12) return -1;
      // Wait for the whole message, or for as much of a big one as is held: its start has the questions.
      if (b.length < Math.min(2 + len, TCP_HOLD)) return 0;
      const body = b.subarray(2, Math.min(b.length, 2 + len));
      const m = parseDns(body);
      if (m === undefined || this.counts[dir]++ >= TCP_MESSAGES) return -1;
      report(m, body, ctx);
      return 2 + len;
    });
    return this.finished() ? StreamVerdict.Done : StreamVerdict.More;
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    this.framers[dir].gap();
    return this.finished() ? StreamVerdict.Done : StreamVerdict.More;
  }

  private finished(): boolean {
    return this.framers[0].broken && this.framers[1].broken;
  }
}

export const dnsTcp: Dissector = {
  name: 'dns',
  transport: 'tcp',
  ports: [53],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (!portMatch || p.length < 19) return false;
    const len = p.readUInt16BE(0);
    return len >= 17 && plausibleDnsHeader(p.subarray(2));
  },
  openStream(): StreamSession {
    return new DnsTcpSession();
  },
};
