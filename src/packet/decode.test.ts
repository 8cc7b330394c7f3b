import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LinkType, newCaptureRecord, type CaptureRecord } from '../capture/record.ts';
import { ipv4ToString, ipv6ToString, macToString } from './address.ts';
import { ethernet, ipv4, ipv6, tcp, tcpFrame, udp, udpFrame } from './build.ts';
import { PacketDecoder, Skip } from './decode.ts';
import { Packet } from './packet.ts';

function rec(data: Buffer, linkType: number = LinkType.ETHERNET, frame = 1, tsSec = 100): CaptureRecord {
  const r = newCaptureRecord();
  Object.assign(r, { data, linkType, frame, tsSec, origLen: data.length });
  return r;
}

const E = { src: '00:1b:21:aa:bb:cc', dst: '00:50:56:01:02:03' };

test('Ethernet / IPv4 / TCP: addresses, ports, flags, payload view', () => {
  const frame = tcpFrame(E, { src: '10.1.2.3', dst: '10.9.8.7', ttl: 128, df: true, id: 77 }, { srcPort: 49152, dstPort: 104, seq: 1000, ack: 5, flags: 0x18 }, Buffer.from('hello'));
  const d = new PacketDecoder();
  const p = new Packet();
  assert.equal(d.decode(rec(frame), p), undefined);
  assert.equal(macToString(p.srcMac), E.src);
  assert.equal(macToString(p.dstMac), E.dst);
  assert.equal(ipv4ToString(p.src4), '10.1.2.3');
  assert.equal(ipv4ToString(p.dst4), '10.9.8.7');
  assert.deepEqual([p.proto, p.srcPort, p.dstPort, p.seq, p.ack, p.tcpFlags, p.ttl, p.dontFragment, p.ipId], [6, 49152, 104, 1000, 5, 0x18, 128, true, 77]);
  assert.equal(p.payload().toString(), 'hello');
  // zero-copy: the payload is a view into the frame
  assert.equal(p.payload().buffer, frame.buffer);
});

test('802.1Q and QinQ tags: inner VLAN is the device VLAN, outer kept', () => {
  const d = new PacketDecoder();
  const p = new Packet();
  const one = udpFrame({ ...E, vlans: [20] }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1, dstPort: 2 }, Buffer.from('x'));
  assert.equal(d.decode(rec(one), p), undefined);
  assert.deepEqual([p.vlan, p.vlanOuter, p.srcPort], [20, -1, 1]);
  const two = udpFrame({ ...E, vlans: [300, 42] }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1, dstPort: 2 }, Buffer.from('x'));
  assert.equal(d.decode(rec(two), p), undefined);
  assert.deepEqual([p.vlan, p.vlanOuter, p.payload().toString()], [42, 300, 'x']);
});

test('Linux cooked SLL and SLL2, raw IP, BSD loopback', () => {
  const ip = ipv4({ src: '192.168.1.5', dst: '192.168.1.1', proto: 17 }, udp({ srcPort: 68, dstPort: 67 }, Buffer.from('dhcp'), '192.168.1.5', '192.168.1.1'));
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(4, 0); // sent by us
  sll.writeUInt16BE(1, 2); // ARPHRD_ETHER
  sll.writeUInt16BE(6, 4);
  Buffer.from('0a0b0c0d0e0f', 'hex').copy(sll, 6);
  sll.writeUInt16BE(0x0800, 14);
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x0800, 0);
  sll2.writeUInt32BE(3, 4);
  sll2.writeUInt16BE(1, 8);
  sll2[10] = 0;
  sll2[11] = 6;
  Buffer.from('0a0b0c0d0e0f', 'hex').copy(sll2, 12);
  const nul = Buffer.alloc(4);
  nul.writeUInt32LE(2, 0);
  const d = new PacketDecoder();
  const p = new Packet();
  for (const [data, lt, mac] of [
    [Buffer.concat([sll, ip]), LinkType.LINUX_SLL, '0a:0b:0c:0d:0e:0f'],
    [Buffer.concat([sll2, ip]), LinkType.LINUX_SLL2, '0a:0b:0c:0d:0e:0f'],
    [ip, LinkType.RAW, undefined],
    [ip, LinkType.IPV4, undefined],
    [Buffer.concat([nul, ip]), LinkType.NULL, undefined],
  ] as const) {
    assert.equal(d.decode(rec(data, lt), p), undefined, `link type ${lt}`);
    assert.equal(p.payload().toString(), 'dhcp');
    assert.equal(p.srcMac >= 0 ? macToString(p.srcMac) : undefined, mac);
  }
  assert.equal(d.decode(rec(ip, 147), p), Skip.linkType);
});

test('IPv6 with hop-by-hop and destination options before TCP', () => {
  const src = 'fe80::1';
  const dst = '2001:db8::42';
  const t = tcp({ srcPort: 5000, dstPort: 443, seq: 1, flags: 2 }, Buffer.alloc(0), src, dst);
  const hbh = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]); // next: dest opts, len 0 (8 bytes), PadN
  const dopt = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]); // next: TCP
  const pkt6 = ipv6({ src, dst, next: 0, hopLimit: 255 }, Buffer.concat([hbh, dopt, t]));
  const d = new PacketDecoder();
  const p = new Packet();
  assert.equal(d.decode(rec(ethernet(E, 0x86dd, pkt6)), p), undefined);
  assert.equal(p.ipVersion, 6);
  assert.equal(ipv6ToString(p.buf, p.src6), 'fe80::1');
  assert.equal(ipv6ToString(p.buf, p.dst6), '2001:db8::42');
  assert.deepEqual([p.proto, p.srcPort, p.dstPort, p.tcpFlags, p.ttl], [6, 5000, 443, 2, 255]);
});

test('IPv4 fragments out of order, with an overlap, are reassembled into one UDP datagram', () => {
  const payload = Buffer.from('A'.repeat(30) + 'B'.repeat(30) + 'C'.repeat(12));
  const whole = udp({ srcPort: 161, dstPort: 40000 }, payload, '10.0.0.1', '10.0.0.2'); // 80 bytes
  const frag = (off: number, len: number, more: boolean) =>
    ethernet(E, 0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 999, fragOffset: off, more }, whole.subarray(off, off + len)));
  const d = new PacketDecoder();
  const p = new Packet();
  assert.equal(d.decode(rec(frag(64, 16, false)), p), Skip.fragmentHeld);
  assert.equal(d.decode(rec(frag(0, 32, true)), p), Skip.fragmentHeld);
  assert.equal(d.decode(rec(frag(24, 48, true)), p), undefined); // overlaps 24..32, fills the rest
  assert.equal(p.reassembled, true);
  assert.deepEqual([p.srcPort, p.dstPort], [161, 40000]);
  assert.equal(p.payload().toString(), payload.toString());
  assert.equal(d.fragments.stats.reassembled, 1);
  assert.ok(d.fragments.stats.overlaps >= 1);
  assert.equal(d.fragments.heldBytes, 0);
});

test('IPv6 fragment header: two fragments reassembled', () => {
  const src = '2001:db8::1';
  const dst = '2001:db8::2';
  const body = udp({ srcPort: 5353, dstPort: 5353 }, Buffer.alloc(100, 0x61), src, dst); // 108 bytes
  const fh = (off: number, more: boolean) => {
    const b = Buffer.alloc(8);
    b[0] = 17;
    b.writeUInt16BE(off | (more ? 1 : 0), 2);
    b.writeUInt32BE(0xabcdef, 4);
    return b;
  };
  const d = new PacketDecoder();
  const p = new Packet();
  const f1 = ethernet(E, 0x86dd, ipv6({ src, dst, next: 44 }, Buffer.concat([fh(0, true), body.subarray(0, 56)])));
  const f2 = ethernet(E, 0x86dd, ipv6({ src, dst, next: 44 }, Buffer.concat([fh(56, false), body.subarray(56)])));
  assert.equal(d.decode(rec(f1), p), Skip.fragmentHeld);
  assert.equal(d.decode(rec(f2), p), undefined);
  assert.equal(p.proto, 17);
  assert.equal(p.payloadLength, 100);
  assert.equal(ipv6ToString(p.buf, p.src6), src);
});

test('fragment floods stay within the byte and datagram limits', () => {
  const d = new PacketDecoder();
  const p = new Packet();
  for (let i = 0; i < 20000; i++) {
    const f = ethernet(E, 0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: i & 0xffff, fragOffset: 8, more: true }, Buffer.alloc(1000)));
    d.decode(rec(f, 1, i + 1, 100 + Math.floor(i / 1000)), p);
  }
  assert.ok(d.fragments.heldBytes <= 32 * 1024 * 1024);
  assert.ok(d.fragments.stats.dropped + d.fragments.stats.timedOut > 0);
});

test('truncated and malformed headers are reported, not thrown', () => {
  const frame = tcpFrame(E, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1, dstPort: 2, seq: 0, flags: 2 });
  const d = new PacketDecoder();
  const p = new Packet();
  assert.equal(d.decode(rec(frame.subarray(0, 10)), p), Skip.linkShort);
  assert.equal(d.decode(rec(frame.subarray(0, 20)), p), Skip.ipMalformed);
  assert.equal(d.decode(rec(frame.subarray(0, 40)), p), Skip.tcpMalformed);
  const arp = ethernet(E, 0x0806, Buffer.alloc(28));
  assert.equal(d.decode(rec(arp), p), Skip.nonIp);
});

test('random and mutated frames never throw, on every link type', () => {
  const seeds = [
    tcpFrame({ ...E, vlans: [5, 6] }, { src: '10.0.0.1', dst: '10.0.0.2' }, { srcPort: 1, dstPort: 2, seq: 0, flags: 2, options: Buffer.from('020405b4', 'hex') }, Buffer.from('GET / HTTP/1.1\r\n')),
    ethernet(E, 0x86dd, ipv6({ src: '::1', dst: '::2', next: 44 }, Buffer.concat([Buffer.from([17, 0, 0, 1, 0, 0, 0, 1]), Buffer.alloc(40)]))),
    ethernet(E, 0x0800, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, fragOffset: 0, more: true, id: 3 }, Buffer.alloc(16))),
  ];
  const d = new PacketDecoder();
  const p = new Packet();
  const linkTypes = [0, 1, 12, 101, 108, 113, 228, 229, 276, 999];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat()).map(([s, edits, cut]) => {
          const b = Buffer.from(s);
          for (const [at, v] of edits) b[at % b.length] = v;
          return b.subarray(0, (cut % b.length) + 1);
        }),
      ),
      fc.constantFrom(...linkTypes),
      (data, lt) => {
        d.decode(rec(data, lt), p);
        if (p.payloadLength > 0) assert.ok(p.payloadOffset + p.payloadLength <= p.buf.length);
      },
    ),
    { numRuns: 3000 },
  );
});
