/**
 * Builds the benchmark capture from the real third-party captures in ../shared/corpus: every
 * capture, replayed as many times as needed to reach the target packet count, each copy moved to
 * its own addresses (so flows do not collide) and its own time window (so time only moves forward).
 * Non-Ethernet captures (raw IP, Linux SLL, BSD loopback) are given an Ethernet header so the result
 * is one Ethernet pcap that tshark, Suricata and Vigil all read.
 *
 * Address rewriting patches IPv4/IPv6 addresses in place and fixes the IP, TCP and UDP checksums
 * incrementally (RFC 1624), so checksum-validating peers see valid packets where the original was.
 *
 *   node --import tsx bench/make-capture.ts OUT.pcap [--packets 1000000] [--bytes N]
 */
import { createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaptureReader } from '../src/capture/reader.ts';
import { LinkType } from '../src/capture/record.ts';
import { pcapHeader } from '../src/capture/writer.ts';
import { PacketDecoder } from '../src/packet/decode.ts';
import { Packet } from '../src/packet/packet.ts';

interface Frame {
  time: number;
  data: Buffer; // Ethernet frame
  /** Offsets (in data) of the IPv4/IPv6 address bytes to move per copy, and of the checksums to fix. */
  addr: number[];
  ipCsum: number;
  l4Csum: number;
}

function findCaptures(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findCaptures(p, out);
    else if (name.endsWith('.pcap') || name.endsWith('.pcapng')) out.push(p);
  }
  return out;
}

function ethernetFor(ipVersion: number): Buffer {
  const h = Buffer.from('020000000002020000000001' + (ipVersion === 6 ? '86dd' : '0800'), 'hex');
  return h;
}

/** Loads one capture as Ethernet frames with the offsets needed for rewriting. */
function load(path: string): Frame[] {
  const frames: Frame[] = [];
  const dec = new PacketDecoder();
  const p = new Packet();
  const reader = new CaptureReader((rec) => {
    const why = dec.decode(rec, p);
    let data: Buffer;
    // Decoder offsets are absolute in rec.buf; `shift` maps them into the frame we write.
    let shift = -rec.start;
    if (rec.linkType === LinkType.ETHERNET) data = Buffer.from(rec.data);
    else {
      if (p.ipVersion === 0 || p.reassembled) return; // nothing to carry over without a link layer
      const ip = rec.buf.subarray(p.netOffset, rec.start + rec.capLen);
      data = Buffer.concat([ethernetFor(p.ipVersion), ip]);
      shift = 14 - p.netOffset;
    }
    const f: Frame = { time: rec.tsSec + rec.tsNsec / 1e9, data, addr: [], ipCsum: -1, l4Csum: -1 };
    if (p.ipVersion !== 0 && !p.reassembled && why !== 'malformed IP header') {
      const net = p.netOffset + shift;
      if (p.ipVersion === 4) {
        f.addr.push(net + 12, net + 16);
        f.ipCsum = net + 10;
      } else f.addr.push(net + 8, net + 24);
      const fragment = p.ipVersion === 4 && (data.readUInt16BE(net + 6) & 0x3fff) !== 0;
      const l4 = p.l4Offset + shift;
      if (!fragment && why === undefined && !p.truncated) {
        if (p.proto === 6 && l4 + 18 <= data.length) f.l4Csum = l4 + 16;
        else if (p.proto === 17 && l4 + 8 <= data.length && data.readUInt16BE(l4 + 6) !== 0) f.l4Csum = l4 + 6;
      }
    }
    frames.push(f);
  });
  try {
    reader.push(readFileSync(path));
    reader.end();
  } catch {
    // A corrupt corpus file contributes what it had.
  }
  return frames;
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
function fixChecksum(buf: Buffer, at: number, oldWord: number, newWord: number): void {
  const hc = buf.readUInt16BE(at);
  let sum = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, at);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const out = args[0];
  if (out === undefined) throw new Error('usage: make-capture.ts OUT.pcap [--packets N] [--bytes N]');
  const num = (flag: string, dflt: number) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const targetPackets = num('--packets', 1_000_000);
  const targetBytes = num('--bytes', 0);
  const root = resolve(new URL('.', import.meta.url).pathname, '../../shared/corpus');
  const files = findCaptures(root);
  const base: Frame[] = [];
  for (const f of files) {
    const frames = load(f);
    if (frames.length === 0) continue;
    // Each file's packets keep their spacing but start 1 s after the previous file's end.
    const t0 = (frames[0] as Frame).time;
    const start = base.length > 0 ? (base[base.length - 1] as Frame).time + 1 : 1_700_000_000;
    for (const fr of frames) {
      fr.time = start + Math.max(0, Math.min(fr.time - t0, 3600));
      base.push(fr);
    }
  }
  const span = (base[base.length - 1] as Frame).time - (base[0] as Frame).time + 10;
  const ws = createWriteStream(out);
  ws.write(pcapHeader({ linkType: LinkType.ETHERNET }));
  let packets = 0;
  let bytes = 24;
  let copy = 0;
  const chunk: Buffer[] = [];
  while (targetBytes > 0 ? bytes < targetBytes : packets < targetPackets) {
    for (const fr of base) {
      if (targetBytes > 0 ? bytes >= targetBytes : packets >= targetPackets) break;
      const d = Buffer.from(fr.data);
      if (copy > 0) {
        // Move both addresses by `copy` in their second 16-bit word (IPv4: the last two octets), a
        // checksum-aligned word so the incremental fix stays exact.
        for (const addr of fr.addr) {
          const at = addr + 2;
          const w = d.readUInt16BE(at);
          const nw = (w + copy * 0x0101) & 0xffff;
          d.writeUInt16BE(nw, at);
          if (fr.ipCsum >= 0) fixChecksum(d, fr.ipCsum, w, nw);
          if (fr.l4Csum >= 0) fixChecksum(d, fr.l4Csum, w, nw);
        }
      }
      const t = fr.time + copy * span;
      const sec = Math.floor(t);
      const rec = Buffer.allocUnsafe(16 + d.length);
      rec.writeUInt32LE(sec, 0);
      rec.writeUInt32LE(Math.min(999_999, Math.round((t - sec) * 1e6)), 4);
      rec.writeUInt32LE(d.length, 8);
      rec.writeUInt32LE(d.length, 12);
      d.copy(rec, 16);
      chunk.push(rec);
      packets++;
      bytes += rec.length;
      if (chunk.length >= 4096) {
        if (!ws.write(Buffer.concat(chunk.splice(0)))) await new Promise<void>((r) => ws.once('drain', () => r()));
      }
    }
    copy++;
  }
  ws.write(Buffer.concat(chunk));
  await new Promise<void>((r) => ws.end(r));
  process.stderr.write(`${out}: ${packets} packets, ${(bytes / 1e6).toFixed(1)} MB from ${files.length} corpus captures × ${copy}\n`);
}

await main();
