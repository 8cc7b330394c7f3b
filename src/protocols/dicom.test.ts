import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dicom, DicomSession, rejectText } from './dicom.ts';
import { StreamVerdict } from './dissector.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';
import * as build from '../simulate/payloads/dicom.ts';

const CAPTURE = corpus('pcaps/medical/dicom/dicom-dcmtk-loopback.pcap');

test('real dcmtk associations: AE titles, implementation UID and version, commands and the reject, as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { observations } = await observeCapture(CAPTURE, { dissectors: [dicom], allObservations: true });
  const rows = tsharkFields(CAPTURE, ['frame.number', 'dicom.pdu.type', 'dicom.assoc.ae.calling', 'dicom.assoc.ae.called', 'dicom.userinfo.uid', 'dicom.userinfo.version'], {
    decodeAs: ['tcp.port==11112,dicom'],
    filter: 'dicom.pdu.type == 1 || dicom.pdu.type == 2',
  });
  assert.ok(rows.length >= 8);
  for (const [frame, type, calling, called, uid, version] of rows) {
    const at = observations.filter((o) => o.frame === Number(frame));
    const get = (a: string) => at.filter((o) => o.attribute === a).map((o) => o.value);
    if (type === '0x01') {
      assert.deepEqual(get('dicom.calling_ae'), [calling?.trim()], `frame ${frame} calling AE`);
      assert.deepEqual(get('dicom.called_ae'), [called?.trim()], `frame ${frame} called AE`);
    }
    assert.deepEqual(get('dicom.implementation_class_uid'), [uid], `frame ${frame} implementation UID`);
    assert.deepEqual(get('dicom.implementation_version'), [version], `frame ${frame} implementation version`);
  }
  const cmds = new Set(values(observations, 'dicom.command'));
  for (const c of ['C-ECHO-RQ', 'C-ECHO-RSP', 'C-STORE-RQ', 'C-STORE-RSP', 'C-FIND-RQ', 'C-FIND-RSP']) assert.ok(cmds.has(c), c);
  assert.deepEqual(values(observations, 'dicom.reject'), ['rejected-permanent: called-AE-title-not-recognized']);
  // Both the port-104 and the port-11112 associations were found (the latter by signature alone).
  assert.ok(observations.some((o) => o.value === 'MR_SCANNER02'));
  // Never a patient attribute: the C-STORE carried PHANTOM^TEST, and no observation may hold it.
  assert.ok(!observations.some((o) => JSON.stringify(o).includes('PHANTOM')));
});

test('a C-STORE of a large image is skipped by length: the session never buffers the data set', () => {
  const me = { aeTitle: 'CT01', implementationClassUid: '1.2.840.113619.6.374', implementationVersion: 'REV_CT_1' };
  const rq = build.associateRq(me, 'PACS', ['1.2.840.10008.5.1.4.1.1.2']);
  const ac = build.associateAc({ aeTitle: 'PACS', implementationClassUid: '1.2.3.4' }, 'CT01', 1);
  const spec: build.ImageSpec = { sopClass: '1.2.840.10008.5.1.4.1.1.2', sopInstance: '1.2.3.4.5', studyUid: '1.2.3', seriesUid: '1.2.3.4', modality: 'CT', manufacturer: 'GE', model: 'X', softwareVersion: '1', rows: 1024, columns: 1024, patientNumber: 7, stationName: 'CT01' };
  const pdus = [...build.datasetPdus(1, build.imageHeader(spec, '20261123'), 1024 * 1024 * 2, 65536)];
  const session = new DicomSession();
  const ctx = new FakeContext();
  let peak = 0;
  const feed = (dir: 0 | 1, b: Buffer) => {
    ctx.dir = dir;
    for (const piece of split(b, [1460])) {
      assert.equal(session.data(piece, ctx), StreamVerdict.More);
      peak = Math.max(peak, session.bufferedBytes);
    }
  };
  feed(0, rq);
  feed(1, ac);
  feed(0, build.pData(1, true, true, build.storeRq(1, spec.sopClass, spec.sopInstance)));
  for (const p of pdus) feed(0, p);
  feed(1, build.pData(1, true, true, build.storeRsp(1, spec.sopClass, spec.sopInstance, 0xa700)));
  assert.ok(peak < 2048, `peak buffered ${peak} bytes`);
  assert.deepEqual(ctx.values('dicom.command'), ['C-STORE-RQ', 'C-STORE-RSP']);
  assert.deepEqual(ctx.values('dicom.status'), ['0xa700 Refused: out of resources']);
  assert.ok(!ctx.drafts.some((d) => d.value.includes('SIMULATED')));
});

test('probe: requests, accepts and port-bound rejects; not HTTP, TLS or random bytes', () => {
  const rq = build.associateRq({ aeTitle: 'US1', implementationClassUid: '1.2.3' }, 'PACS', [build.VERIFICATION]);
  assert.ok(dicom.probe(rq, 0, false));
  assert.ok(!dicom.probe(rq, 1, false));
  assert.ok(dicom.probe(build.associateRj(), 1, true));
  assert.ok(!dicom.probe(build.associateRj(), 1, false));
  assert.ok(!dicom.probe(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 0, true));
  assert.ok(!dicom.probe(Buffer.from('16030100a5010000a10303', 'hex'), 0, true));
  assert.equal(rejectText(2, 3, 1), 'rejected-transient: temporary-congestion');
});

test('property: random and mutated PDUs, in any segmentation, never throw and stay bounded', () => {
  const rq = build.associateRq({ aeTitle: 'MR2', implementationClassUid: '1.3.12.2.1107.5.2', implementationVersion: 'SYNGO' }, 'PACS', [build.MWL_FIND, build.VERIFICATION]);
  const seeds = [rq, build.pData(1, true, true, build.echoRq(1)), build.associateRj(), build.abort()];
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([s, e]) => {
        const b = Buffer.from(s);
        for (const [i, v] of e) b[i % b.length] = v;
        return b;
      })), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      (messages, sizes) => {
        const pieces: Array<[0 | 1, Buffer]> = [];
        messages.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
        const { session } = runStream(dicom, pieces);
        assert.ok((session as DicomSession).bufferedBytes <= 2 * 64 * 1024);
        dicom.probe(messages[0] ?? Buffer.alloc(0), 0, true);
      },
    ),
    { numRuns: 600 },
  );
});
