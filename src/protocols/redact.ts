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
 *
 * Runs of printable bytes are copied in one piece: built a character at a time, a 200-character
 * snippet was a chain of ~190 string pieces, kept whole by whatever stored it (the inventory keeps
 * thousands of snippets).
 */
export function printable(buf: Buffer, start = 0, end = buf.length, max = MAX_EVIDENCE): string {
  let out = '';
  const stop = Math.min(end, buf.length);
  // The run of printable bytes not yet copied into `out` starts here.
  let run = Math.max(0, start);
  for (let i = run; i < stop; i++) {
    // The text so far is `out` and the pending run: cut there once it reaches `max`.
    if (out.length + (i - run) >= max) return `${out}${buf.toString('latin1', run, i)}…`;
    const c = buf[i] as number;
    if (c >= 0x20 && c < 0x7f) continue;
    if (i > run) out += buf.toString('latin1', run, i);
    run = i + 1;
    if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return stop > run ? out + buf.toString('latin1', run, stop) : out;
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
