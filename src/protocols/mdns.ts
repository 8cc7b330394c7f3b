/**
 * Multicast DNS and DNS-SD (RFC 6762, RFC 6763): devices announce their hostname, the services they
 * offer (_ipp._tcp, _http._tcp, _axis-video._tcp …) and TXT records that often carry the vendor,
 * model and firmware (ty=, product=, usb_MFG=, md= …). The subject is the packet's sender.
 */
import { sender, type DissectContext, type Dissector } from './dissector.ts';
import { DnsType, parseDns, probeDnsFormat, rdataName, rdataSrv, rdataTxt, type DnsRecord } from './dns-wire.ts';
import { cleanText } from './redact.ts';

/** TXT keys that identify a device (vendor, model, firmware, kind); others are skipped. */
const TXT_KEYS = /^(ty|product|usb_mfg|usb_mdl|mfg|mdl|md|model|manufacturer|vendor|fv|fw|firmware|version|vers|osxvers|am|rpmd|deviceid|serialnumber|sn|name|fn|note|adminurl|ui)$/i;

export const mdns: Dissector = {
  name: 'mdns',
  transport: 'udp',
  ports: [5353],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined) return;
    const subject = sender(ctx);
    const emit = (attribute: string, value: string, confidence: number, evidence?: string) => {
      const v = cleanText(value, 255);
      if (v !== '') ctx.emit({ side: ctx.dir === 0 ? 'client' : 'server', attribute, value: v, confidence, ...subject, ...(evidence !== undefined ? { evidence } : {}) });
    };
    if (!m.response) {
      for (const q of m.questions.slice(0, 8)) if (!/\.arpa\.?$/i.test(q.name)) emit('mdns.query', q.name, 0.5);
      return;
    }
    const records: DnsRecord[] = [...m.answers, ...m.additional];
    let n = 0;
    for (const r of records) {
      if (n++ >= 48) break;
      if (r.type === DnsType.A || r.type === DnsType.AAAA) emit('mdns.hostname', r.name.replace(/\.local\.?$/i, ''), 0.85, `${r.name} ${r.type === 1 ? 'A' : 'AAAA'}`);
      else if (r.type === DnsType.PTR) {
        const target = rdataName(p, r);
        if (target === undefined) continue;
        if (/^_services\._dns-sd\._udp\./i.test(r.name)) emit('mdns.service', target, 0.8);
        else if (/^_[^.]+\._(tcp|udp)\./i.test(r.name)) {
          emit('mdns.service', r.name, 0.8);
          emit('mdns.instance', target, 0.8, `PTR ${r.name} → ${target}`);
        }
      } else if (r.type === DnsType.SRV) {
        const srv = rdataSrv(p, r);
        if (srv !== undefined) emit('mdns.hostname', srv.target.replace(/\.local\.?$/i, ''), 0.7, `SRV ${r.name} → ${srv.target}:${srv.port}`);
      } else if (r.type === DnsType.TXT) {
        for (const kv of rdataTxt(p, r)) {
          const eq = kv.indexOf('=');
          if (eq <= 0) continue;
          const key = kv.slice(0, eq);
          if (TXT_KEYS.test(key) && kv.length <= 200) emit('mdns.txt', kv, 0.8, `TXT ${r.name}`);
        }
      }
    }
  },
};
