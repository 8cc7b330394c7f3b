/**
 * HL7 v2 messages over MLLP for the simulator (HL7 v2.5.1 ch. 2; MLLP per HL7 Transport
 * Specification). Patient data is obviously fake: "TEST^SIMULATED" names, SIM-prefixed ids, and
 * birth dates in 1900 — nobody real.
 */
import type { Rng } from '../rng.ts';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

export function mllp(message: string): Buffer {
  const body = Buffer.from(message, 'latin1');
  const b = Buffer.alloc(body.length + 3);
  b[0] = VT;
  body.copy(b, 1);
  b[b.length - 2] = FS;
  b[b.length - 1] = CR;
  return b;
}

/** HL7 TS format: YYYYMMDDHHMMSS. */
export function hl7Time(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export interface Hl7Party {
  application: string;
  facility: string;
}

export interface Hl7Message {
  text: string;
  controlId: string;
  type: string;
}

function msh(from: Hl7Party, to: Hl7Party, t: number, type: string, controlId: string, version: string): string {
  return `MSH|^~\\&|${from.application}|${from.facility}|${to.application}|${to.facility}|${hl7Time(t)}||${type}|${controlId}|P|${version}`;
}

/** An obviously synthetic patient. */
export function fakePatient(rng: Rng): string {
  const n = rng.range(1, 99999);
  return `PID|1||SIM${String(n).padStart(6, '0')}^^^SIMHOSP^MR||TEST^SIMULATED${n}||19000101|${rng.pick(['F', 'M', 'U'])}|||1 TEST STREET^^TESTTOWN`;
}

/** ADT^A01/A08, ORM^O01 or ORU^R01 with the segments such a message really carries. */
export function hl7Message(type: string, from: Hl7Party, to: Hl7Party, t: number, version: string, rng: Rng): Hl7Message {
  const controlId = `SIM${rng.u32().toString(36).toUpperCase()}`;
  const trigger = type.split('^')[1] ?? '';
  const segs = [msh(from, to, t, type, controlId, version), `EVN|${trigger}|${hl7Time(t)}`, fakePatient(rng)];
  if (type.startsWith('ADT')) segs.push(`PV1|1|I|WARD${rng.range(1, 9)}^${rng.range(100, 140)}^A|||||||MED`);
  if (type.startsWith('ORM')) {
    const acc = `ACC${rng.range(100000, 999999)}`;
    segs.push(`ORC|NW|${acc}|||SC`, `OBR|1|${acc}||${rng.pick(['CTCHEST^CT CHEST', 'MRBRAIN^MR BRAIN', 'XRCHEST^XR CHEST 2V', 'USABD^US ABDOMEN'])}|||${hl7Time(t)}`);
  }
  if (type.startsWith('ORU')) {
    segs.push(`OBR|1|ORD${rng.range(1000, 9999)}||CBC^COMPLETE BLOOD COUNT|||${hl7Time(t)}`);
    segs.push(`OBX|1|NM|718-7^HEMOGLOBIN^LN||${(12 + rng.next() * 4).toFixed(1)}|g/dL|12.0-16.0|N|||F`);
    segs.push(`OBX|2|NM|6690-2^WBC^LN||${(4 + rng.next() * 6).toFixed(1)}|10*3/uL|4.0-10.0|N|||F`);
  }
  return { text: segs.join('\r') + '\r', controlId, type };
}

/** The receiver's acknowledgement; code AA (accept), AE (error) or AR (reject) with an ERR segment. */
export function hl7Ack(msg: Hl7Message, from: Hl7Party, to: Hl7Party, t: number, version: string, code: 'AA' | 'AE' | 'AR' = 'AA', error?: string): string {
  const trigger = msg.type.split('^')[1] ?? '';
  const segs = [msh(from, to, t, `ACK^${trigger}^ACK`, `ACK${msg.controlId}`, version), `MSA|${code}|${msg.controlId}${error !== undefined ? `|${error}` : ''}`];
  if (code !== 'AA' && error !== undefined) segs.push(`ERR|||207^Application internal error^HL70357|E||||${error}`);
  return segs.join('\r') + '\r';
}
