/**
 * DICOM upper layer (PS3.8 §9) and the DIMSE command set (PS3.7 §9, §E).
 *
 * What identifies a device: the AE titles of both ends, the Implementation Class UID and Version
 * Name (the DICOM "User-Agent": they name the vendor's software and release), the SOP classes it
 * proposes (CT Image Storage says "CT scanner"), and the commands it issues. Rejections, aborts and
 * failure statuses are reported too (misconfiguration, or someone probing).
 *
 * Privacy: only association items and command sets are read. Data sets — pixel data and every
 * patient attribute — are skipped by length, never buffered or looked at.
 */
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { ascii, Framer } from './framer.ts';
import { cleanText } from './redact.ts';
import registry from '../../data/dicom-uids.json' with { type: 'json' };

const UIDS: Record<string, { name: string; kind: string; modality?: string }> = registry.uids;

/** A-ASSOCIATE PDUs larger than this are not real: stop instead of buffering. */
const MAX_ASSOC = 64 * 1024;
/** P-DATA PDUs holding a command are buffered whole up to this size (command sets are tiny). */
const MAX_COMMAND_PDU = 64 * 1024;
/** Longest PDU we accept before calling the stream something else (PS3.8 allows 2^32-1; no real peer sends that). */
const MAX_PDU = 64 * 1024 * 1024;

export const DIMSE: Record<number, string> = {
  0x0001: 'C-STORE-RQ',
  0x8001: 'C-STORE-RSP',
  0x0010: 'C-GET-RQ',
  0x8010: 'C-GET-RSP',
  0x0020: 'C-FIND-RQ',
  0x8020: 'C-FIND-RSP',
  0x0021: 'C-MOVE-RQ',
  0x8021: 'C-MOVE-RSP',
  0x0030: 'C-ECHO-RQ',
  0x8030: 'C-ECHO-RSP',
  0x0100: 'N-EVENT-REPORT-RQ',
  0x8100: 'N-EVENT-REPORT-RSP',
  0x0110: 'N-GET-RQ',
  0x8110: 'N-GET-RSP',
  0x0120: 'N-SET-RQ',
  0x8120: 'N-SET-RSP',
  0x0130: 'N-ACTION-RQ',
  0x8130: 'N-ACTION-RSP',
  0x0140: 'N-CREATE-RQ',
  0x8140: 'N-CREATE-RSP',
  0x0150: 'N-DELETE-RQ',
  0x8150: 'N-DELETE-RSP',
  0x0fff: 'C-CANCEL-RQ',
};

/** PS3.8 table 9-21: A-ASSOCIATE-RJ result, source and reason. */
export function rejectText(result: number, source: number, reason: number): string {
  const res = result === 1 ? 'rejected-permanent' : result === 2 ? 'rejected-transient' : `result-${result}`;
  let why: string;
  if (source === 1) {
    why =
      ({ 1: 'no-reason-given', 2: 'application-context-name-not-supported', 3: 'calling-AE-title-not-recognized', 7: 'called-AE-title-not-recognized' } as Record<number, string>)[reason] ??
      `reason-${reason}`;
  } else if (source === 2) {
    why = ({ 1: 'no-reason-given', 2: 'protocol-version-not-supported' } as Record<number, string>)[reason] ?? `reason-${reason}`;
  } else if (source === 3) {
    why = ({ 1: 'temporary-congestion', 2: 'local-limit-exceeded' } as Record<number, string>)[reason] ?? `reason-${reason}`;
  } else why = `source-${source}-reason-${reason}`;
  return `${res}: ${why}`;
}

/** PS3.7 Annex C: the status classes a response carries. */
export function statusText(status: number): string {
  const s = `0x${status.toString(16).padStart(4, '0')}`;
  if (status === 0) return `${s} Success`;
  if (status === 0xff00 || status === 0xff01) return `${s} Pending`;
  if (status === 0xfe00) return `${s} Cancel`;
  if (status === 0x0107) return `${s} Warning: attribute list error`;
  if ((status & 0xf000) === 0xb000) return `${s} Warning`;
  if ((status & 0xff00) === 0xa700) return `${s} Refused: out of resources`;
  if ((status & 0xff00) === 0xa900) return `${s} Error: data set does not match SOP class`;
  if ((status & 0xf000) === 0xc000) return `${s} Error: cannot understand`;
  if (status === 0x0122) return `${s} Refused: SOP class not supported`;
  if (status === 0x0124) return `${s} Refused: not authorized`;
  if (status === 0x0110) return `${s} Processing failure`;
  if (status === 0x0211) return `${s} Unrecognized operation`;
  return `${s} Failure`;
}

export function uidText(uid: string): string {
  const e = UIDS[uid];
  return e === undefined ? uid : `${uid} (${e.name})`;
}

function printableAe(b: Buffer, off: number): boolean {
  let nonSpace = 0;
  for (let i = off; i < off + 16; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
    if (c !== 0x20) nonSpace++;
  }
  return nonSpace > 0;
}

class DicomSession implements StreamSession {
  private readonly framers = [new Framer(MAX_ASSOC), new Framer(MAX_ASSOC)] as const;
  /** Command bytes of a command split across PDVs, per direction. */
  private readonly command: [Buffer[], Buffer[]] = [[], []];
  private finished = false;

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    const f = this.framers[ctx.dir];
    const ok = f.feed(chunk, (b) => this.pdu(b, ctx));
    if (this.finished) return StreamVerdict.Done;
    return ok || !this.framers[ctx.dir === 0 ? 1 : 0].broken ? StreamVerdict.More : StreamVerdict.Done;
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    this.framers[dir].gap();
    this.command[dir] = [];
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  /** Frames one PDU at the start of `b`; returns bytes consumed (0: need more, <0: not DICOM). */
  private pdu(b: Buffer, ctx: DissectContext): number {
    if (b.length < 6) return 0;
    const type = b[0] as number;
    const len = b.readUInt32BE(2);
    if (type < 1 || type > 7 || b[1] !== 0 || len > MAX_PDU) return -1;
    const total = len + 6;
    switch (type) {
      case 1:
      case 2:
        if (total > MAX_ASSOC || len < 68) return -1;
        if (b.length < total) return 0;
        this.associate(b.subarray(0, total), type === 1, ctx);
        return total;
      case 3:
        if (b.length < 10) return 0;
        ctx.emit({
          side: 'server',
          attribute: 'dicom.reject',
          value: rejectText(b[7] as number, b[8] as number, b[9] as number),
          confidence: 0.95,
        });
        this.finished = true;
        return total;
      case 4:
        return this.pData(b, total, ctx);
      case 5:
      case 6:
        if (type === 6) this.finished = true;
        return total;
      case 7: {
        if (b.length < 10) return 0;
        const source = b[8] as number;
        const reason = b[9] as number;
        const src = source === 0 ? 'service-user' : source === 2 ? 'service-provider' : `source-${source}`;
        ctx.emit({ side: ctx.dir === 0 ? 'client' : 'server', attribute: 'dicom.abort', value: `${src}, reason ${reason}`, confidence: 0.9 });
        this.finished = true;
        return total;
      }
    }
    return -1;
  }

  private associate(p: Buffer, request: boolean, ctx: DissectContext): void {
    // Bytes 10–25: called AE; 26–41: calling AE (PS3.8 §9.3.2); items from 74.
    const called = ascii(p, 10, 26);
    const calling = ascii(p, 26, 42);
    if (request) {
      if (calling !== '') ctx.emit({ side: 'client', attribute: 'dicom.calling_ae', value: cleanText(calling, 16), confidence: 0.95 });
      if (called !== '') ctx.emit({ side: 'server', attribute: 'dicom.called_ae', value: cleanText(called, 16), confidence: 0.7, evidence: `A-ASSOCIATE-RQ ${calling} → ${called}` });
    }
    const side = request ? 'client' : 'server';
    let off = 74;
    let items = 0;
    while (off + 4 <= p.length && items++ < 512) {
      const itype = p[off] as number;
      const ilen = p.readUInt16BE(off + 2);
      const body = off + 4;
      const end = body + ilen;
      if (end > p.length) break;
      if (itype === 0x20 && request) {
        // Presentation context: id, 3 reserved, then sub-items (0x30 abstract syntax, 0x40 transfer syntaxes).
        let s = body + 4;
        while (s + 4 <= end) {
          const stype = p[s] as number;
          const slen = p.readUInt16BE(s + 2);
          if (s + 4 + slen > end) break;
          if (stype === 0x30) {
            const uid = ascii(p, s + 4, s + 4 + slen);
            if (/^[0-9.]{1,64}$/.test(uid)) ctx.emit({ side: 'client', attribute: 'dicom.abstract_syntax', value: uidText(uid), confidence: 0.9 });
          }
          s += 4 + slen;
        }
      } else if (itype === 0x50) {
        let s = body;
        while (s + 4 <= end) {
          const stype = p[s] as number;
          const slen = p.readUInt16BE(s + 2);
          if (s + 4 + slen > end) break;
          const v = s + 4;
          if (stype === 0x52) {
            const uid = ascii(p, v, v + slen);
            if (/^[0-9.]{1,64}$/.test(uid)) ctx.emit({ side, attribute: 'dicom.implementation_class_uid', value: uid, confidence: 0.95 });
          } else if (stype === 0x55) {
            const name = cleanText(ascii(p, v, v + slen), 16);
            if (name !== '') ctx.emit({ side, attribute: 'dicom.implementation_version', value: name, confidence: 0.95 });
          } else if (stype === 0x58 && request && slen >= 1) {
            // User identity negotiation: the type says how users log in (never keep the secret).
            const t = p[v] as number;
            const kind = ({ 1: 'username', 2: 'username+passcode', 3: 'kerberos', 4: 'saml', 5: 'jwt' } as Record<number, string>)[t] ?? `type-${t}`;
            ctx.emit({ side: 'client', attribute: 'dicom.user_identity', value: kind, confidence: 0.9 });
          }
          s += 4 + slen;
        }
      }
      off = end;
    }
  }

  private pData(b: Buffer, total: number, ctx: DissectContext): number {
    if (b.length < 12) return 0;
    // The first PDV's message control header: bit 0 set for a command fragment.
    const firstIsCommand = ((b[11] as number) & 1) === 1;
    if (!firstIsCommand) return total; // data set: skip it, unread and unbuffered
    if (total > MAX_COMMAND_PDU) return total;
    if (b.length < total) return 0;
    let off = 6;
    let pdvs = 0;
    while (off + 6 <= total && pdvs++ < 256) {
      const plen = b.readUInt32BE(off);
      if (plen < 2 || off + 4 + plen > total) break;
      const mch = b[off + 5] as number;
      if ((mch & 1) === 1) {
        const parts = this.command[ctx.dir];
        parts.push(Buffer.from(b.subarray(off + 6, off + 4 + plen)));
        if ((mch & 2) === 2 || parts.reduce((n, x) => n + x.length, 0) > 8192) {
          this.commandSet(Buffer.concat(parts), ctx);
          this.command[ctx.dir] = [];
        }
      }
      off += 4 + plen;
    }
    return total;
  }

  /** Reads (0000,0100) Command Field, (0000,0002) Affected SOP Class, (0000,0900) Status from an implicit-VR LE command set. */
  private commandSet(c: Buffer, ctx: DissectContext): void {
    let field = -1;
    let status = -1;
    let sopClass = '';
    let off = 0;
    let n = 0;
    while (off + 8 <= c.length && n++ < 64) {
      const group = c.readUInt16LE(off);
      const elem = c.readUInt16LE(off + 2);
      const len = c.readUInt32LE(off + 4);
      const v = off + 8;
      if (group !== 0 || v + len > c.length) break;
      if (elem === 0x0100 && len === 2) field = c.readUInt16LE(v);
      else if (elem === 0x0900 && len === 2) status = c.readUInt16LE(v);
      else if ((elem === 0x0002 || elem === 0x0003) && len <= 64) sopClass = ascii(c, v, v + len);
      off = v + len;
    }
    if (field < 0) return;
    const name = DIMSE[field] ?? `0x${field.toString(16)}`;
    const side = ctx.dir === 0 ? 'client' : 'server';
    const evidence = sopClass !== '' && /^[0-9.]+$/.test(sopClass) ? `${name} ${uidText(sopClass)}` : name;
    ctx.emit({ side, attribute: 'dicom.command', value: name, confidence: 0.95, evidence });
    if (status > 0 && status !== 0xff00 && status !== 0xff01) {
      ctx.emit({ side, attribute: 'dicom.status', value: statusText(status), confidence: 0.9, evidence });
    }
  }
}

const PORTS = [104, 11112, 4242, 2761, 2762, 5678, 3000];

export const dicom: Dissector = {
  name: 'dicom',
  transport: 'tcp',
  ports: PORTS,
  probe(p: Buffer, dir: 0 | 1, portMatch: boolean): boolean {
    if (p.length < 10 || p[1] !== 0) return false;
    const type = p[0] as number;
    const len = p.readUInt32BE(2);
    if (type === 1 || type === 2) {
      if (len < 68 || len > MAX_ASSOC || p.length < 42) return false;
      if (p.readUInt16BE(6) !== 1) return false;
      // The requester sends RQ, the acceptor AC; both carry printable AE titles.
      return (type === 1) === (dir === 0) && printableAe(p, 10) && printableAe(p, 26);
    }
    // A lone reject on a DICOM port (the request may be before the capture started).
    return type === 3 && len === 4 && dir === 1 && portMatch;
  },
  openStream(): StreamSession {
    return new DicomSession();
  },
};

export { DicomSession };
