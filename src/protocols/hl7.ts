/**
 * HL7 v2 over MLLP (HL7 v2.5.1 ch. 2; MLLP per the HL7 Transport Specification, release 2).
 *
 * The MSH segment names the application and facility at each end, the message type and the HL7
 * version — which system, from which vendor, sends what to whom. ACKs (MSA) carry the accept or
 * error code and, with ERR, error text: disclosures of their own.
 *
 * Privacy: HL7 is patient data. Only MSH, MSA and ERR are read; every other segment (PID, NK1, PV1,
 * OBR, OBX …) is skipped by its name and never copied out of the frame.
 */
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { cleanText, maskPersonal } from './redact.ts';

const VT = 0x0b;
const FS = 0x1c;
/** Messages longer than this are skipped to their end byte rather than buffered (lab results with embedded PDFs). */
const MAX_FRAME = 64 * 1024;

/** Splits a segment into fields by the message's field separator. */
function fields(seg: string, sep: string): string[] {
  return seg.split(sep, 24);
}

/** First component of a field (before the component separator). */
function first(field: string | undefined, comp: string): string {
  return (field ?? '').split(comp)[0] ?? '';
}

class Hl7Session implements StreamSession {
  private readonly framers: [Framer, Framer] = [new Framer(MAX_FRAME), new Framer(MAX_FRAME)];
  private messages = 0;

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    this.framers[ctx.dir].feed(chunk, (b) => this.frame(b, ctx));
    // After a few hundred messages the partners and types are known; the rest is more of the same.
    if (this.messages > 500) return StreamVerdict.Done;
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    // MLLP resynchronises on the next start byte: drop what was pending and carry on.
    this.framers[dir] = new Framer(MAX_FRAME);
    return StreamVerdict.More;
  }

  /** One MLLP frame at the start of `b` (after skipping noise up to a start byte). */
  private frame(b: Buffer, ctx: DissectContext): number {
    const start = b.indexOf(VT);
    if (start < 0) return b.length; // no frame start here: discard
    if (start > 0) return start;
    const end = b.indexOf(FS, 1);
    if (end < 0) {
      if (b.length >= MAX_FRAME) {
        // Too long to hold: read the header from what we have, then drop bytes until the end byte.
        this.message(b.subarray(1, Math.min(b.length, 4096)), ctx);
        return b.length;
      }
      return 0;
    }
    this.message(b.subarray(1, end), ctx);
    // Skip the trailing CR if present.
    return end + 1 < b.length && b[end + 1] === 0x0d ? end + 2 : end + 1;
  }

  private message(m: Buffer, ctx: DissectContext): void {
    if (m.length < 8 || m.toString('latin1', 0, 3) !== 'MSH') return;
    this.messages++;
    const fieldSep = String.fromCharCode(m[3] as number);
    const compSep = String.fromCharCode(m[4] as number);
    // Read segments one by one, looking only at MSH, MSA and ERR.
    let off = 0;
    let msh: string[] | undefined;
    let msa: string[] | undefined;
    let err: string[] | undefined;
    let n = 0;
    while (off < m.length && n++ < 200) {
      let eol = m.indexOf(0x0d, off);
      if (eol < 0) eol = m.length;
      const name = m.toString('latin1', off, Math.min(off + 3, eol));
      if (name === 'MSH') msh = fields(m.toString('latin1', off, eol), fieldSep);
      else if (name === 'MSA') msa = fields(m.toString('latin1', off, eol), fieldSep);
      else if (name === 'ERR' && err === undefined) err = fields(m.toString('latin1', off, eol), fieldSep);
      off = eol + 1;
      if (m[off] === 0x0a) off++;
    }
    if (msh === undefined) return;
    // MSH-1 is the separator itself, so MSH-n is index n-1 after splitting.
    const sendingApp = cleanText(first(msh[2], compSep), 64);
    const sendingFac = cleanText(first(msh[3], compSep), 64);
    const receivingApp = cleanText(first(msh[4], compSep), 64);
    const receivingFac = cleanText(first(msh[5], compSep), 64);
    const type = cleanText((msh[8] ?? '').split(compSep).slice(0, 2).join('^'), 32);
    const version = cleanText(first(msh[11], compSep), 16);
    const sender = ctx.dir === 0 ? 'client' : 'server';
    const receiver = ctx.dir === 0 ? 'server' : 'client';
    const ev = `MSH ${sendingApp}|${sendingFac} → ${receivingApp}|${receivingFac} ${type} v${version}`;
    if (sendingApp !== '') ctx.emit({ side: sender, attribute: 'hl7.sending_application', value: sendingApp, confidence: 0.9, evidence: ev });
    if (sendingFac !== '') ctx.emit({ side: sender, attribute: 'hl7.sending_facility', value: sendingFac, confidence: 0.9 });
    if (receivingApp !== '') ctx.emit({ side: receiver, attribute: 'hl7.receiving_application', value: receivingApp, confidence: 0.7 });
    if (receivingFac !== '') ctx.emit({ side: receiver, attribute: 'hl7.receiving_facility', value: receivingFac, confidence: 0.7 });
    if (type !== '') ctx.emit({ side: sender, attribute: 'hl7.message_type', value: type, confidence: 0.9 });
    if (version !== '') ctx.emit({ side: sender, attribute: 'hl7.version', value: version, confidence: 0.9 });
    if (msa !== undefined) {
      const code = cleanText(msa[1] ?? '', 2);
      if (code !== '' && code !== 'AA' && code !== 'CA') {
        ctx.emit({ side: sender, attribute: 'hl7.ack_code', value: code, confidence: 0.95, evidence: ev });
        const text = [msa[3], err !== undefined ? err.slice(1).filter((x) => x !== '').join(' | ') : undefined].filter((x) => x !== undefined && x !== '').join(' | ');
        if (text !== '') ctx.emit({ side: sender, attribute: 'hl7.error', value: maskPersonal(cleanText(text, 200)), confidence: 0.9 });
      }
    }
  }
}

export const hl7: Dissector = {
  name: 'hl7',
  transport: 'tcp',
  ports: [2575, 6661, 6662, 6663, 5000, 7777],
  probe(p: Buffer): boolean {
    // MLLP start byte, then a segment named MSH with its field separator and encoding characters.
    return p.length >= 9 && p[0] === VT && p[1] === 0x4d && p[2] === 0x53 && p[3] === 0x48 && (p[4] as number) > 0x20 && (p[4] as number) < 0x7f && (p[5] as number) > 0x20 && (p[5] as number) < 0x7f;
  },
  openStream(): StreamSession {
    return new Hl7Session();
  },
};

export { Hl7Session };
