/**
 * Builds samples/hospital-sample.pcap — the small capture the README's first command analyses —
 * from real third-party captures in ../shared/corpus (provenance in samples/SOURCES.md). Each
 * capture is placed two minutes after the previous one; one whose own clock jumps (years apart) is
 * re-spaced at 50 ms per packet so the sample reads as one short session.
 *
 *   node --import tsx scripts/build-sample.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaptureReader } from '../src/capture/reader.ts';
import { LinkType } from '../src/capture/record.ts';
import { pcapHeader, pcapRecord } from '../src/capture/writer.ts';

export const SAMPLE_SOURCES = [
  'pcaps/medical/dicom/dicom-dcmtk-loopback.pcap',
  'pcaps/medical/hl7/ndpi-hl7.pcap',
  'pcaps/identity/ndpi/smbv1.pcap',
  'pcaps/identity/ndpi/dos_win98_smb_netbeui.pcap',
  'peer/zeek/traces/dhcp__dhcp_time_and_nameserver.pcap',
  'peer/zeek/traces/dhcp__hw-type0.pcap',
  'pcaps/identity/ndpi/snmp.pcap',
  'pcaps/identity/ndpi/ssdp-m-search-ua.pcap',
  'pcaps/identity/ndpi/upnp.pcap',
  'pcaps/identity/ndpi/443-chrome.pcap',
  'peer/zeek/traces/http__cooper-grill-dvwa.pcapng',
  'pcaps/identity/ndpi/netbios.pcap',
  'peer/zeek/traces/dns__mdns.pcap',
  'pcaps/identity/ndpi/os_detected.pcapng',
  'peer/zeek/traces/tls__tls1_1.pcap',
];

const root = resolve(new URL('.', import.meta.url).pathname, '..');
const corpus = resolve(root, '..', 'shared', 'corpus');
const START = 1_795_435_200; // 2026-11-23 12:00 UTC

const o = { linkType: LinkType.ETHERNET };
const out: Buffer[] = [pcapHeader(o)];
SAMPLE_SOURCES.forEach((rel, i) => {
  const frames: Array<{ t: number; data: Buffer }> = [];
  const reader = new CaptureReader((rec) => {
    if (rec.linkType !== LinkType.ETHERNET) throw new Error(`${rel}: sample sources must be Ethernet`);
    frames.push({ t: rec.tsSec + rec.tsNsec / 1e9, data: Buffer.from(rec.data) });
  });
  reader.push(readFileSync(resolve(corpus, rel)));
  reader.end();
  const t0 = frames[0]?.t ?? 0;
  const span = (frames.at(-1)?.t ?? 0) - t0;
  frames.forEach((f, k) => {
    const rel0 = span > 600 || span < 0 ? k * 0.05 : f.t - t0;
    const t = START + i * 120 + rel0;
    const sec = Math.floor(t);
    out.push(pcapRecord(o, sec, Math.round((t - sec) * 1e6) * 1000, f.data));
  });
});
writeFileSync(resolve(root, 'samples/hospital-sample.pcap'), Buffer.concat(out));
