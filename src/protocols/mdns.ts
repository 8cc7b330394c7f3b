/**
 * Multicast DNS and DNS-SD (RFC 6762, RFC 6763): devices announce their hostname, the services they
 * offer (_ipp._tcp, _http._tcp, _axis-video._tcp …) and TXT records that often carry the vendor,
 * model and firmware (ty=, product=, usb_MFG=, md= …).
 *
 * The subject is the packet's sender: an mDNS responder answers only for records it owns (RFC 6762
 * §6), so the records in a response — and the records a host proposes in the authority section of
 * a probe (§8.2) — are claims about itself. Records in a query's answer section are known answers
 * (§7.1), i.e. what the querier has *heard*: not claims, skipped.
 */
import type { DissectContext, Dissector, ObservationDraft, Side } from './dissector.ts';
import { DnsType, parseDns, probeDnsFormat, rdataHinfo, rdataName, rdataSrv, rdataTxt, type DnsRecord } from './dns-wire.ts';
import { cleanText } from './redact.ts';

/**
 * TXT keys that identify a device (vendor, model, firmware, kind, serial); the rest (paper sizes,
 * PDLs, rotating Bluetooth addresses, key material) is skipped. RFC 6763 §6.4: keys are
 * case-insensitive. Printer keys: IPP Everywhere / Bonjour Printing 1.2; md/fn: Google Cast;
 * model/osxvers: Apple _device-info.
 */
const TXT_KEYS = new Set([
  'ty', 'product', 'usb_mfg', 'usb_mdl', 'mfg', 'mdl', 'md', 'model', 'modelname', 'manufacturer', 'vendor',
  'fv', 'fw', 'firmware', 'fwversion', 'swversion', 'version', 'vers', 'srcvers', 'osxvers', 'am', 'rpmd',
  'deviceid', 'serial', 'serialnumber', 'sn', 'fn', 'note', 'adminurl',
]);
/** A TXT pair longer than this is a blob (keys, certificates, bitmaps), not identity. */
const MAX_TXT = 120;
/** Apple devices ask for ~20 service types in one query; what a device browses for hints at what it is. */
const MAX_QUESTIONS = 24;
/** Records looked at per packet (answers + authority + additional). */
const MAX_RECORDS = 48;

const SERVICE = /^(?:[^.]+\._sub\.)?(_[^.]+\._(?:tcp|udp)\..+)$/i;
const REVERSE = /\.(?:in-addr|ip6)\.arpa$/i;

/** Darwin major version → macOS release (Darwin 5–19 are Mac OS X 10.1–10.15, 20 is macOS 11 …). */
function macosFromDarwin(v: number): string | undefined {
  if (v >= 5 && v <= 19) return `macOS 10.${v - 4} (Darwin ${v})`;
  if (v >= 20 && v <= 40) return `macOS ${v - 9} (Darwin ${v})`;
  return undefined;
}

/** Collects one packet's drafts, each (attribute, value) once. */
class Claims {
  private readonly seen = new Set<string>();
  private readonly side: Side;
  private readonly ip: string;
  private readonly mac: string | undefined;
  constructor(
    private readonly ctx: DissectContext,
    /** Confidence factor: 1 for a response, less for a probe's proposed records. */
    private readonly weight: number,
  ) {
    this.side = ctx.dir === 0 ? 'client' : 'server';
    this.ip = ctx.srcIp;
    this.mac = ctx.srcMac;
  }
  emit(attribute: string, raw: string, confidence: number, evidence?: string): void {
    const value = cleanText(raw, 255);
    if (value === '') return;
    const key = attribute + value;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    // The subject is the sender (see the header comment): ip and mac overrides, as sender() gives them.
    const d: ObservationDraft = { side: this.side, attribute, value, confidence: this.weight === 1 ? confidence : Math.round(confidence * this.weight * 100) / 100, ip: this.ip };
    if (this.mac !== undefined) d.mac = this.mac;
    if (evidence !== undefined) d.evidence = cleanText(evidence, 120);
    this.ctx.emit(d);
  }
}

function claim(p: Buffer, r: DnsRecord, out: Claims): void {
  switch (r.type) {
    case DnsType.A:
    case DnsType.AAAA:
      if (!REVERSE.test(r.name)) out.emit('mdns.hostname', r.name, 0.85, `${r.type === DnsType.A ? 'A' : 'AAAA'} ${r.name}`);
      return;
    case DnsType.PTR: {
      const target = rdataName(p, r);
      if (target === undefined) return;
      if (REVERSE.test(r.name)) {
        // Reverse mapping of its own address (RFC 6762 §4): the hostname again.
        out.emit('mdns.hostname', target, 0.8, `PTR ${r.name}`);
      } else if (/^_services\._dns-sd\._udp\./i.test(r.name)) {
        // Service type enumeration (RFC 6763 §9).
        out.emit('mdns.service', target, 0.8, `PTR ${r.name}`);
      } else {
        const s = SERVICE.exec(r.name);
        if (s === null) return;
        out.emit('mdns.service', s[1] as string, 0.8, `PTR ${r.name}`);
        out.emit('mdns.instance', target, 0.8, `PTR ${r.name}`);
      }
      return;
    }
    case DnsType.SRV: {
      const srv = rdataSrv(p, r);
      if (srv === undefined) return;
      if (SERVICE.test(r.name)) out.emit('mdns.instance', r.name, 0.8, `SRV ${r.name}`);
      out.emit('mdns.hostname', srv.target, 0.75, `SRV ${r.name} ${srv.target}:${srv.port}`);
      return;
    }
    case DnsType.TXT:
      for (const kv of rdataTxt(p, r)) {
        const eq = kv.indexOf('=');
        // An empty value says nothing; a long one is a blob.
        if (eq <= 0 || eq === kv.length - 1 || kv.length > MAX_TXT) continue;
        const key = kv.slice(0, eq).toLowerCase();
        if (!TXT_KEYS.has(key)) continue;
        out.emit('mdns.txt', kv, 0.8, `TXT ${r.name}`);
        if (key === 'osxvers') {
          const os = macosFromDarwin(Number(kv.slice(eq + 1)));
          if (os !== undefined) out.emit('os', os, 0.7, `TXT ${r.name} ${kv}`);
        }
      }
      return;
    case DnsType.HINFO: {
      // RFC 1035 §3.3.2; Avahi publishes it by default ("X86_64" "LINUX").
      const h = rdataHinfo(p, r);
      if (h === undefined) return;
      out.emit('mdns.hinfo', `${h.cpu} ${h.os}`, 0.8, `HINFO ${r.name}`);
      const os = h.os.trim();
      if (os !== '') out.emit('os', /^linux$/i.test(os) ? 'Linux' : os, 0.6, `HINFO ${r.name} ${h.cpu} ${h.os}`);
      return;
    }
    default:
  }
}

export const mdns: Dissector = {
  name: 'mdns',
  transport: 'udp',
  ports: [5353],
  probe: probeDnsFormat,
  datagram(p: Buffer, ctx: DissectContext): void {
    const m = parseDns(p);
    if (m === undefined || m.opcode !== 0) return;
    if (!m.response) {
      const asked = new Claims(ctx, 1);
      const n = Math.min(m.questions.length, MAX_QUESTIONS);
      for (let i = 0; i < n; i++) {
        const q = m.questions[i] as (typeof m.questions)[number];
        if (!REVERSE.test(q.name)) asked.emit('mdns.query', q.name, 0.5);
      }
      // A probe proposes the records the host is about to claim (RFC 6762 §8.2): not yet won.
      if (m.authority.length > 0) {
        const proposed = new Claims(ctx, 0.9);
        for (let i = 0; i < m.authority.length && i < MAX_RECORDS; i++) claim(p, m.authority[i] as DnsRecord, proposed);
      }
      return;
    }
    const out = new Claims(ctx, 1);
    let n = 0;
    for (const section of [m.answers, m.additional]) {
      for (const r of section) {
        if (n++ >= MAX_RECORDS) return;
        claim(p, r, out);
      }
    }
  },
};
