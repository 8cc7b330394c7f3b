import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CaptureReader } from './reader.ts';
import { CaptureError, LinkType, type CaptureRecord } from './record.ts';
import {
  pcapHeader,
  pcapRecord,
  pcapngCustomBlock,
  pcapngInterface,
  pcapngPacket,
  pcapngSectionHeader,
  pcapngSimplePacket,
} from './writer.ts';

interface Got {
  frame: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
  interfaceId: number;
  data: string;
}

function readAll(bytes: Buffer, chunkSize = bytes.length): { got: Got[]; reader: CaptureReader } {
  const got: Got[] = [];
  const reader = new CaptureReader((r: CaptureRecord) =>
    got.push({ frame: r.frame, linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, origLen: r.origLen, interfaceId: r.interfaceId, data: r.data.toString('hex') }),
  );
  for (let i = 0; i < bytes.length; i += chunkSize) reader.push(bytes.subarray(i, i + chunkSize));
  reader.end();
  return { got, reader };
}

const F1 = Buffer.from('00112233445566778899aabb0800', 'hex');
const F2 = Buffer.from('ffeeddccbbaa', 'hex');

for (const bigEndian of [false, true]) {
  for (const nanos of [false, true]) {
    test(`pcap ${bigEndian ? 'big' : 'little'}-endian ${nanos ? 'nanosecond' : 'microsecond'}`, () => {
      const o = { linkType: LinkType.ETHERNET, bigEndian, nanos };
      const file = Buffer.concat([pcapHeader(o), pcapRecord(o, 1700000000, 123456789, F1), pcapRecord(o, 1700000001, 500_000_000, F2, 1514)]);
      const { got, reader } = readAll(file);
      assert.equal(reader.format, 'pcap');
      assert.equal(got.length, 2);
      assert.deepEqual(got[0], { frame: 1, linkType: 1, tsSec: 1700000000, tsNsec: nanos ? 123456789 : 123456000, origLen: F1.length, interfaceId: 0, data: F1.toString('hex') });
      assert.equal(got[1]?.tsNsec, 500000000);
      assert.equal(got[1]?.origLen, 1514);
    });
  }
}

test('pcapng: several interfaces with their own link types, resolutions and offsets; SPB; unknown blocks skipped', () => {
  const file = Buffer.concat([
    pcapngSectionHeader(false, [{ code: 4, value: Buffer.from('vigil test') }]),
    pcapngInterface(LinkType.ETHERNET, { name: 'eth0' }), // µs default
    pcapngInterface(LinkType.RAW, { tsresol: 9 }), // ns
    pcapngInterface(LinkType.LINUX_SLL, { tsresol: 0x80 | 10, tsoffset: 100 }), // 2^-10 s, +100 s
    pcapngCustomBlock(0x00000bad, Buffer.from('a block nobody knows')),
    pcapngCustomBlock(4, Buffer.from('name resolution block')),
    pcapngPacket(0, 1700000000_250000n, F1, { comment: 'first' }),
    pcapngPacket(1, 1700000000_000000123n, F2),
    pcapngPacket(2, 1024n * 5n + 512n, F1),
    pcapngSimplePacket(F2),
  ]);
  const { got, reader } = readAll(file);
  assert.equal(reader.format, 'pcapng');
  assert.equal(got.length, 4);
  assert.deepEqual(got.map((g) => [g.linkType, g.interfaceId, g.tsSec, g.tsNsec]), [
    [1, 0, 1700000000, 250000000],
    [101, 1, 1700000000, 123],
    [113, 2, 105, 500000000],
    [1, 0, 0, 0],
  ]);
  assert.equal(got[3]?.data, F2.toString('hex'));
});

test('pcapng: big-endian section, then a second little-endian section that redefines interfaces', () => {
  const file = Buffer.concat([
    pcapngSectionHeader(true),
    pcapngInterface(LinkType.ETHERNET, { bigEndian: true }),
    pcapngPacket(0, 5_000_000n, F1, { bigEndian: true }),
    pcapngSectionHeader(false),
    pcapngInterface(LinkType.RAW),
    pcapngPacket(0, 6_000_000n, F2),
  ]);
  const { got } = readAll(file);
  assert.deepEqual(got.map((g) => [g.frame, g.linkType, g.tsSec]), [
    [1, 1, 5],
    [2, 101, 6],
  ]);
});

test('any chunking of the input gives the same frames (streaming from pipes)', () => {
  const o = { linkType: LinkType.ETHERNET };
  const pcap = Buffer.concat([pcapHeader(o), ...Array.from({ length: 20 }, (_, i) => pcapRecord(o, 1000 + i, 0, Buffer.alloc(i * 7 + 1, i)))]);
  const ng = Buffer.concat([pcapngSectionHeader(), pcapngInterface(1), ...Array.from({ length: 20 }, (_, i) => pcapngPacket(0, BigInt(i) * 1000n, Buffer.alloc(i * 5 + 3, i)))]);
  for (const file of [pcap, ng]) {
    const whole = readAll(file).got;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (size) => {
        assert.deepEqual(readAll(file, size).got, whole);
      }),
      { numRuns: 60 },
    );
  }
});

function errorOf(bytes: Buffer): CaptureError {
  try {
    readAll(bytes);
  } catch (e) {
    assert.ok(e instanceof CaptureError, `expected CaptureError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('not a capture, empty, truncated, absurd lengths: a clear error with offset and frame', () => {
  assert.match(errorOf(Buffer.from('{"name": "not a capture at all"}')).message, /not a pcap or pcapng capture/);
  assert.match(errorOf(Buffer.alloc(0)).message, /empty input/);
  assert.match(errorOf(Buffer.from('abc')).message, /capture header truncated/);
  assert.match(errorOf(Buffer.from('short text')).message, /not a pcap or pcapng capture/);
  const o = { linkType: 1 };
  const good = Buffer.concat([pcapHeader(o), pcapRecord(o, 1, 0, F1)]);
  const cut = Buffer.concat([good, pcapRecord(o, 2, 0, F2).subarray(0, 19)]);
  const e1 = errorOf(cut);
  assert.match(e1.message, /truncated/);
  assert.equal(e1.offset, good.length);
  assert.equal(e1.frame, 2);
  const absurd = Buffer.concat([good, pcapRecord(o, 2, 0, F2)]);
  absurd.writeUInt32LE(0x7fffffff, good.length + 8);
  const e2 = errorOf(absurd);
  assert.match(e2.message, /captured length 2147483647/);
  assert.equal(e2.offset, good.length);
  const ngBad = Buffer.concat([pcapngSectionHeader(), pcapngInterface(1), pcapngPacket(0, 1n, F1)]);
  ngBad.writeUInt32LE(13, ngBad.length - 4); // trailer disagrees
  assert.match(errorOf(ngBad).message, /trailing length/);
});

test('random and mutated bytes never crash the reader with anything but a CaptureError', () => {
  const o = { linkType: 1 };
  const seeds = [
    Buffer.concat([pcapHeader(o), pcapRecord(o, 1, 0, F1), pcapRecord(o, 2, 0, F2)]),
    Buffer.concat([pcapngSectionHeader(), pcapngInterface(1, { tsresol: 9 }), pcapngPacket(0, 1n, F1), pcapngSimplePacket(F2)]),
  ];
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat())
    .map(([seed, edits, cut]) => {
      const b = Buffer.from(seed);
      for (const [at, v] of edits) b[at % b.length] = v;
      return b.subarray(0, (cut % b.length) + 1);
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), mutated), (bytes) => {
      try {
        readAll(bytes, 17);
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
