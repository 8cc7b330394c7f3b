/**
 * Real third-party captures, read and decoded by Vigil and by tshark: every frame's time, addresses
 * and ports must agree. Covers pcap and pcapng, Ethernet, VLANs, Linux SLL, BSD loopback and raw IP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CaptureReader } from '../src/capture/reader.ts';
import { ipv4ToString, ipv6ToString } from '../src/packet/address.ts';
import { PacketDecoder } from '../src/packet/decode.ts';
import { Packet } from '../src/packet/packet.ts';
import { corpus, hasTshark, tsharkFields } from './helpers/observe.ts';

const FILES = [
  'pcaps/identity/ndpi/os_detected.pcapng',
  'pcaps/identity/ndpi/anydesk.pcapng',
  'pcaps/identity/ndpi/sonos.pcapng',
  'pcaps/identity/ndpi/dhcp-fuzz.pcapng',
  'pcaps/identity/ndpi/merakicloud.pcapng',
  'pcaps/leaks/ndpi/tcp_scan.pcapng',
  'peer/zeek/traces/http__cooper-grill-dvwa.pcapng',
  'pcaps/identity/ndpi/rdp.pcap', // BSD loopback (null)
  'pcaps/ics/ndpi/opc-ua.pcap', // null
  'pcaps/leaks/ndpi/log4j-webapp-exploit.pcap', // Linux SLL
  'pcaps/medical/iomt-consumer/withingsbpm/withingsbpm__wifi__1_3.pcap', // raw IP
  'pcaps/medical/iomt-consumer/kardiamobile/kardiamobile__2_3.pcap',
  'pcaps/medical/hl7/ndpi-hl7.pcap',
  'pcaps/medical/dicom/dicom-dcmtk-loopback.pcap',
  'pcaps/identity/ndpi/netbios.pcap',
  'pcaps/identity/ndpi/smbv1.pcap',
  'pcaps/identity/ndpi/iphone.pcap',
  'pcaps/identity/ndpi/android.pcap',
  'peer/suricata-verify/krb5-request-frag-log/krb5-frag.pcap',
  'peer/zeek/traces/dns__mdns.pcap',
];

function ours(path: string): Map<number, string[]> {
  const rows = new Map<number, string[]>();
  const dec = new PacketDecoder();
  const p = new Packet();
  const reader = new CaptureReader((rec) => {
    dec.decode(rec, p);
    const time = `${rec.tsSec}.${String(rec.tsNsec).padStart(9, '0')}`;
    const ip = p.ipVersion === 4 ? [ipv4ToString(p.src4), ipv4ToString(p.dst4)] : p.ipVersion === 6 ? [ipv6ToString(p.buf, p.src6), ipv6ToString(p.buf, p.dst6)] : ['', ''];
    const ports = p.proto === 6 || p.proto === 17 ? [String(p.srcPort), String(p.dstPort)] : ['', ''];
    rows.set(rec.frame, [time, ...ip, ...ports]);
  });
  reader.push(readFileSync(path));
  reader.end();
  return rows;
}

for (const rel of FILES) {
  test(`decode agrees with tshark: ${rel}`, { skip: !hasTshark() && 'tshark not installed' }, () => {
    const path = corpus(rel);
    const mine = ours(path);
    const theirs = tsharkFields(path, ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'ip.flags.mf', 'ip.frag_offset', 'icmp.type', 'icmpv6.type']);
    assert.equal(mine.size, theirs.length, 'frame count');
    let compared = 0;
    for (const t of theirs) {
      const first = (s: string | undefined) => (s ?? '').split(',')[0] as string;
      const [num, time, ip4s, ip4d, ip6s, ip6d, ts, td, us, ud, mf, fo] = t.map(first);
      const m = mine.get(Number(num));
      assert.ok(m !== undefined, `frame ${num}`);
      assert.equal(m[0], time, `frame ${num} time`);
      // Only the outer IP header: tshark lists inner headers (tunnels, ICMP errors) after it.
      const src = ip4s !== '' ? ip4s : ip6s;
      const dst = ip4s !== '' ? ip4d : ip6d;
      if (src !== '' && m[1] !== '') {
        assert.equal(m[1], src, `frame ${num} src`);
        assert.equal(m[2], dst, `frame ${num} dst`);
        compared++;
      }
      const fragment = mf === '1' || (fo !== '' && fo !== '0');
      const sp = ts !== '' ? ts : us;
      const dp = ts !== '' ? td : ud;
      if (!fragment && sp !== '' && m[3] !== '' && t[12] === '' && t[13] === '') {
        assert.equal(m[3], sp, `frame ${num} src port`);
        assert.equal(m[4], dp, `frame ${num} dst port`);
      }
    }
    assert.ok(compared > 0, 'compared some IP packets');
  });
}
