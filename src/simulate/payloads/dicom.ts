/**
 * DICOM upper-layer PDUs (PS3.8 §9.3) and DIMSE command sets (PS3.7 §9, §E) for the simulator:
 * associations, C-ECHO, C-FIND (modality worklist, study root) and C-STORE with a synthetic image.
 * Datasets use Implicit VR Little Endian (PS3.5 §A.1), the default transfer syntax every SCP
 * accepts. The image's patient is obviously fake.
 */
import type { Rng } from '../rng.ts';

export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const VERIFICATION = '1.2.840.10008.1.1';
export const MWL_FIND = '1.2.840.10008.5.1.4.31';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';

export const Command = { C_STORE_RQ: 0x0001, C_STORE_RSP: 0x8001, C_FIND_RQ: 0x0020, C_FIND_RSP: 0x8020, C_ECHO_RQ: 0x0030, C_ECHO_RSP: 0x8030 } as const;

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function uidItem(type: number, uid: string): Buffer {
  return item(type, Buffer.from(uid, 'ascii'));
}

function ae(title: string): Buffer {
  return Buffer.from(title.slice(0, 16).padEnd(16, ' '), 'ascii');
}

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

export interface AssociationParty {
  aeTitle: string;
  implementationClassUid: string;
  implementationVersion?: string;
}

function userInfo(p: AssociationParty, maxLength: number): Buffer {
  const max = Buffer.alloc(4);
  max.writeUInt32BE(maxLength);
  const parts = [item(0x51, max), uidItem(0x52, p.implementationClassUid)];
  if (p.implementationVersion !== undefined) parts.push(uidItem(0x55, p.implementationVersion));
  return item(0x50, Buffer.concat(parts));
}

function assocHeader(called: string, calling: string): Buffer {
  const h = Buffer.alloc(68);
  h.writeUInt16BE(1, 0); // protocol version
  ae(called).copy(h, 4);
  ae(calling).copy(h, 20);
  return h;
}

/** A-ASSOCIATE-RQ proposing each abstract syntax with implicit and explicit VR little endian. */
export function associateRq(calling: AssociationParty, called: string, abstractSyntaxes: readonly string[], maxLength = 16384): Buffer {
  const pcs = abstractSyntaxes.map((as, i) => {
    const head = Buffer.from([1 + 2 * i, 0, 0, 0]);
    return item(0x20, Buffer.concat([head, uidItem(0x30, as), uidItem(0x40, EXPLICIT_LE), uidItem(0x40, IMPLICIT_LE)]));
  });
  return pdu(0x01, Buffer.concat([assocHeader(called, calling.aeTitle), uidItem(0x10, APPLICATION_CONTEXT), ...pcs, userInfo(calling, maxLength)]));
}

/** A-ASSOCIATE-AC accepting every proposed context with implicit VR little endian. */
export function associateAc(called: AssociationParty, calling: string, contexts: number, maxLength = 16384): Buffer {
  const pcs = Array.from({ length: contexts }, (_, i) => item(0x21, Buffer.concat([Buffer.from([1 + 2 * i, 0, 0, 0]), uidItem(0x40, IMPLICIT_LE)])));
  return pdu(0x02, Buffer.concat([assocHeader(called.aeTitle, calling), uidItem(0x10, APPLICATION_CONTEXT), ...pcs, userInfo(called, maxLength)]));
}

/** A-ASSOCIATE-RJ (PS3.8 table 9-21): result 1 permanent; source 1 user; reason 7 called AE title not recognised. */
export function associateRj(result = 1, source = 1, reason = 7): Buffer {
  return pdu(0x03, Buffer.from([0, result, source, reason]));
}

export const releaseRq = (): Buffer => pdu(0x05, Buffer.alloc(4));
export const releaseRp = (): Buffer => pdu(0x06, Buffer.alloc(4));
/** A-ABORT: source 0 (service user), reason 0. */
export const abort = (source = 0, reason = 0): Buffer => pdu(0x07, Buffer.from([0, 0, source, reason]));

/** One P-DATA-TF PDU carrying one PDV fragment. */
export function pData(pcid: number, command: boolean, last: boolean, fragment: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x04;
  h.writeUInt32BE(6 + fragment.length, 2);
  h.writeUInt32BE(2 + fragment.length, 6);
  h[10] = pcid;
  h[11] = (command ? 1 : 0) | (last ? 2 : 0);
  return Buffer.concat([h, fragment]);
}

// ---- Implicit VR Little Endian elements ------------------------------------------------------

function element(group: number, elem: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

/** UI values pad with NUL, text with a space, to an even length (PS3.5 §6.2). */
function text(s: string, pad = ' '): Buffer {
  return Buffer.from(s.length % 2 === 0 ? s : s + pad, 'latin1');
}
const uid = (s: string) => text(s, '\0');
function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function ul(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A command set with its group length (0000,0000) first. */
export function commandSet(fields: Array<[number, Buffer]>): Buffer {
  const body = Buffer.concat(fields.sort((a, b) => a[0] - b[0]).map(([el, v]) => element(0x0000, el, v)));
  return Buffer.concat([element(0x0000, 0x0000, ul(body.length)), body]);
}

export function echoRq(id: number): Buffer {
  return commandSet([[0x0002, uid(VERIFICATION)], [0x0100, us(Command.C_ECHO_RQ)], [0x0110, us(id)], [0x0800, us(0x0101)]]);
}
export function echoRsp(id: number, status = 0): Buffer {
  return commandSet([[0x0002, uid(VERIFICATION)], [0x0100, us(Command.C_ECHO_RSP)], [0x0120, us(id)], [0x0800, us(0x0101)], [0x0900, us(status)]]);
}
export function storeRq(id: number, sopClass: string, sopInstance: string): Buffer {
  return commandSet([[0x0002, uid(sopClass)], [0x0100, us(Command.C_STORE_RQ)], [0x0110, us(id)], [0x0700, us(0)], [0x0800, us(0x0000)], [0x1000, uid(sopInstance)]]);
}
export function storeRsp(id: number, sopClass: string, sopInstance: string, status = 0): Buffer {
  return commandSet([[0x0002, uid(sopClass)], [0x0100, us(Command.C_STORE_RSP)], [0x0120, us(id)], [0x0800, us(0x0101)], [0x0900, us(status)], [0x1000, uid(sopInstance)]]);
}
export function findRq(id: number, sopClass: string): Buffer {
  return commandSet([[0x0002, uid(sopClass)], [0x0100, us(Command.C_FIND_RQ)], [0x0110, us(id)], [0x0700, us(0)], [0x0800, us(0x0000)]]);
}
export function findRsp(id: number, sopClass: string, status: number): Buffer {
  return commandSet([[0x0002, uid(sopClass)], [0x0100, us(Command.C_FIND_RSP)], [0x0120, us(id)], [0x0800, us(status === 0xff00 ? 0x0000 : 0x0101)], [0x0900, us(status)]]);
}

/** A dataset from (group, element, value) triples, sorted as PS3.5 requires. */
export function dataset(els: Array<[number, number, Buffer]>): Buffer {
  return Buffer.concat(els.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([g, e, v]) => element(g, e, v)));
}

/** A modality worklist query (the keys a modality asks for) and one matching scheduled step. */
export function mwlQuery(modality: string, aeTitle: string): Buffer {
  return dataset([
    [0x0008, 0x0050, text('')],
    [0x0010, 0x0010, text('')],
    [0x0010, 0x0020, text('')],
    [0x0040, 0x0100, sequence([dataset([[0x0008, 0x0060, text(modality)], [0x0040, 0x0001, text(aeTitle)], [0x0040, 0x0002, text('')]])])],
  ]);
}

export function mwlMatch(modality: string, aeTitle: string, rng: Rng, date: string): Buffer {
  const n = rng.range(1, 99999);
  return dataset([
    [0x0008, 0x0050, text(`ACC${rng.range(100000, 999999)}`)],
    [0x0010, 0x0010, text(`TEST^SIMULATED${n}`)],
    [0x0010, 0x0020, text(`SIM${String(n).padStart(6, '0')}`)],
    [0x0040, 0x0100, sequence([dataset([[0x0008, 0x0060, text(modality)], [0x0040, 0x0001, text(aeTitle)], [0x0040, 0x0002, text(date)]])])],
  ]);
}

/** A sequence of undefined length with item and sequence delimiters (PS3.5 §7.5). */
function sequence(items: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(it.length, 4);
    parts.push(h, it);
  }
  return Buffer.concat(parts);
}

export interface ImageSpec {
  sopClass: string;
  sopInstance: string;
  studyUid: string;
  seriesUid: string;
  modality: string;
  manufacturer: string;
  model: string;
  softwareVersion: string;
  rows: number;
  columns: number;
  patientNumber: number;
  stationName: string;
}

/** The header of a synthetic image, up to and including the Pixel Data element's tag and length. */
export function imageHeader(s: ImageSpec, studyDate: string): Buffer {
  const pixelBytes = s.rows * s.columns * 2;
  const head = dataset([
    [0x0008, 0x0016, uid(s.sopClass)],
    [0x0008, 0x0018, uid(s.sopInstance)],
    [0x0008, 0x0020, text(studyDate)],
    [0x0008, 0x0060, text(s.modality)],
    [0x0008, 0x0070, text(s.manufacturer)],
    [0x0008, 0x1010, text(s.stationName)],
    [0x0008, 0x1090, text(s.model)],
    [0x0010, 0x0010, text(`TEST^SIMULATED${s.patientNumber}`)],
    [0x0010, 0x0020, text(`SIM${String(s.patientNumber).padStart(6, '0')}`)],
    [0x0018, 0x1020, text(s.softwareVersion)],
    [0x0020, 0x000d, uid(s.studyUid)],
    [0x0020, 0x000e, uid(s.seriesUid)],
    [0x0028, 0x0002, us(1)],
    [0x0028, 0x0004, text('MONOCHROME2')],
    [0x0028, 0x0010, us(s.rows)],
    [0x0028, 0x0011, us(s.columns)],
    [0x0028, 0x0100, us(16)],
    [0x0028, 0x0101, us(12)],
    [0x0028, 0x0102, us(11)],
    [0x0028, 0x0103, us(0)],
  ]);
  const ph = Buffer.alloc(8);
  ph.writeUInt16LE(0x7fe0, 0);
  ph.writeUInt16LE(0x0010, 2);
  ph.writeUInt32LE(pixelBytes, 4);
  return Buffer.concat([head, ph]);
}

/** Synthetic 12-bit pixel data (a smooth ramp with noise), shared by all images: never patient data. */
export const PIXELS: Buffer = (() => {
  const b = Buffer.alloc(1 << 17);
  for (let i = 0; i < b.length; i += 2) b.writeUInt16LE((i * 7 + ((i * 2654435761) >>> 24)) & 0x0fff, i);
  return b;
})();

/** Yields the P-DATA-TF PDUs of a dataset of `headerBytes` + `pixelBytes`, fragments of at most `maxFragment`. */
export function* datasetPdus(pcid: number, header: Buffer, pixelBytes: number, maxFragment: number): Generator<Buffer> {
  const total = header.length + pixelBytes;
  for (let off = 0; off < total; off += maxFragment) {
    const n = Math.min(maxFragment, total - off);
    // One allocation per PDU: the 12 header bytes, then the fragment written in place.
    const pdu = Buffer.allocUnsafe(12 + n);
    pdu[0] = 0x04;
    pdu[1] = 0;
    pdu.writeUInt32BE(6 + n, 2);
    pdu.writeUInt32BE(2 + n, 6);
    pdu[10] = pcid;
    pdu[11] = off + n >= total ? 2 : 0;
    let w = 0;
    if (off < header.length) w = header.copy(pdu, 12, off, Math.min(header.length, off + n));
    while (w < n) {
      const pixOff = (off + w - header.length) % PIXELS.length;
      w += PIXELS.copy(pdu, 12 + w, pixOff, Math.min(PIXELS.length, pixOff + (n - w)));
    }
    yield pdu;
  }
}

/** A DICOM UID under `root`, unique by the given counters (≤ 64 characters, PS3.5 §9.1). */
export function makeUid(root: string, ...parts: number[]): string {
  return `${root}.${parts.map((p) => String(Math.abs(Math.floor(p)))).join('.')}`.slice(0, 64).replace(/\.$/, '');
}
