import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hl7, Hl7Session } from './hl7.ts';
import { corpus, hasTshark, observeCapture, tsharkFields } from '../../test/helpers/observe.ts';
import { runStream, split } from '../../test/helpers/dissect.ts';
import { hl7Ack, hl7Message, mllp } from '../simulate/payloads/hl7.ts';
import { Rng } from '../simulate/rng.ts';

const CAPTURE = corpus('pcaps/medical/hl7/ndpi-hl7.pcap');

test('real ADT^A01 and its ACK on port 6661: MSH fields as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { observations } = await observeCapture(CAPTURE, { dissectors: [hl7], allObservations: true });
  const rows = tsharkFields(CAPTURE, ['frame.number', 'hl7.message.type', 'hl7.event.type'], { decodeAs: ['tcp.port==6661,hl7'], filter: 'hl7' });
  assert.ok(rows.length >= 2);
  for (const [frame, type, event] of rows) {
    const got = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'hl7.message_type').map((o) => o.value);
    const expected = event !== undefined && event !== '' ? `${type}^${event}` : type;
    assert.deepEqual(got, [expected], `frame ${frame}`);
  }
  const by = (a: string) => observations.filter((o) => o.attribute === a).map((o) => `${o.ip} ${o.value}`);
  assert.deepEqual(by('hl7.sending_application'), ['10.0.0.155 SENDING_APPLICATION', '10.0.0.126 RECEIVING_APPLICATION']);
  assert.deepEqual(by('hl7.version'), ['10.0.0.155 2.3', '10.0.0.126 2.3']);
  // The ADT carries a PID segment; none of it may leave the dissector.
  assert.ok(!observations.some((o) => /PID|\^\^\^/.test(`${o.value}${o.evidence ?? ''}`)));
});

test('error ACKs: code and ERR text, masked; patient segments never read', () => {
  const rng = new Rng('hl7');
  const lab = { application: 'COBAS', facility: 'LAB' };
  const eng = { application: 'CLOVERLEAF', facility: 'SIMHOSP' };
  const m = hl7Message('ORU^R01', lab, eng, 1_795_435_200, '2.5.1', rng);
  const ack = hl7Ack(m, eng, lab, 1_795_435_201, '2.5.1', 'AE', 'Unknown patient born 19450312 in table PATIENTS');
  const { ctx } = runStream(hl7, [
    [0, mllp(m.text)],
    [1, mllp(ack)],
  ]);
  assert.deepEqual(ctx.values('hl7.message_type'), ['ORU^R01', 'ACK^R01']);
  assert.deepEqual(ctx.values('hl7.ack_code'), ['AE']);
  const err = ctx.values('hl7.error')[0] ?? '';
  assert.match(err, /Unknown patient born \[DATE\] in table PATIENTS/);
  assert.ok(!ctx.drafts.some((d) => /SIMULATED|SIM\d{6}|HEMOGLOBIN/.test(`${d.value} ${d.evidence ?? ''}`)));
});

test('a huge message is not buffered whole, and frames survive any segmentation', () => {
  const big = `MSH|^~\\&|PACS|RAD|EMR|HOSP|20261123||ORU^R01|1|P|2.5\rOBX|1|ED|PDF^Report||${'A'.repeat(300_000)}\r`;
  const pieces = split(mllp(big), [1000, 7, 64000]);
  const { ctx, session } = runStream(hl7, pieces.slice(0, -1).map((p) => [0, p] as [0, Buffer]));
  // Mid-message, with 300 kB sent: what is held stays under the frame cap.
  assert.ok((session as Hl7Session).bufferedBytes <= 64 * 1024, `${(session as Hl7Session).bufferedBytes}`);
  assert.deepEqual(ctx.values('hl7.message_type'), ['ORU^R01']);
});

test('property: random and mutated frames never throw', () => {
  const rng = new Rng('p');
  const seed = mllp(hl7Message('ADT^A08', { application: 'A', facility: 'B' }, { application: 'C', facility: 'D' }, 1, '2.5.1', rng).text);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }).map((e) => {
      const b = Buffer.from(seed);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), { maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (msgs, sizes) => {
      const pieces: Array<[0 | 1, Buffer]> = [];
      msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
      runStream(hl7, pieces);
      hl7.probe(msgs[0] ?? Buffer.alloc(0), 0, false);
    }),
    { numRuns: 500 },
  );
});
