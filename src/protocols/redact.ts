/**
 * Helpers that turn protocol bytes into evidence safe to store and log.
 *
 * Evidence exists so an analyst can see *why* Vigil believes something; it must never carry
 * patient data. Dissectors pass only device- and software-identifying bytes here, and these
 * helpers bound the length and neutralise anything unprintable.
 */

/** Default cap on an evidence snippet, in characters. */
export const MAX_EVIDENCE = 200;

/**
 * Printable text from bytes: ASCII 0x20–0x7e kept, CR/LF/TAB shown as \r \n \t, anything else as
 * \xNN; cut at `max` characters with an ellipsis.
 */
export function printable(buf: Buffer, start = 0, end = buf.length, max = MAX_EVIDENCE): string {
  let out = '';
  const stop = Math.min(end, buf.length);
  for (let i = Math.max(0, start); i < stop; i++) {
    if (out.length >= max) return `${out}…`;
    const c = buf[i] as number;
    if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Cleans a decoded string field (hostname, header value …): control characters dropped, length capped. */
export function cleanText(s: string, max = MAX_EVIDENCE): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\x00-\x1f\x7f]/g, '').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Patterns that look like personal data in free text: replaced before evidence leaves a dissector. */
const PERSONAL: ReadonlyArray<[RegExp, string]> = [
  [/\b\d{3}-\d{2}-\d{4}\b/g, '[SSN]'], // US social security numbers
  [/\b[\w.+-]+@[\w-]+\.[\w.-]+\b/g, '[EMAIL]'],
  [/\b(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b/g, '[DATE]'], // HL7/DICOM dates (birth dates)
];

/** Masks things that look like personal data (SSNs, e-mail addresses, birth dates) in a text snippet. */
export function maskPersonal(s: string): string {
  let out = s;
  for (const [re, sub] of PERSONAL) out = out.replace(re, sub);
  return out;
}
