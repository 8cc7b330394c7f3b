/**
 * SSDP, the discovery half of UPnP (UPnP Device Architecture 1.1 §1; HTTPU/HTTPMU, one HTTP-like
 * message per datagram on UDP 1900). Devices announce themselves (NOTIFY … NT, USN, LOCATION,
 * SERVER) and answer searches (HTTP/1.1 200 OK … ST, USN, LOCATION, SERVER); control points search
 * (M-SEARCH … ST, USER-AGENT). SERVER and USER-AGENT are "OS/version UPnP/1.x product/version"
 * (§1.1.2 / §1.3.2) — often the firmware's OS, the UPnP stack and the product with its version.
 *
 * Every message is about its sender (the announcing device, the answering device, the searcher),
 * which for multicast and for replies to a multicast search need not be the flow's client: the
 * subject is always the packet's source address.
 */
import { sender, type DissectContext, type Dissector, type Side } from './dissector.ts';
import { windowsFamily } from './ntlmssp.ts';
import { cleanText } from './redact.ts';

/** What an SSDP message can be, told by its start line. */
const enum Kind {
  None = 0,
  Notify = 1,
  Search = 2,
  Response = 3,
}

const NOTIFY = Buffer.from('NOTIFY * HTTP/1.');
const M_SEARCH = Buffer.from('M-SEARCH * HTTP/1.');
const RESPONSE = Buffer.from('HTTP/1.');

/** How much of a datagram is read, and how many header lines: SSDP messages are a few hundred bytes. */
const MAX_BYTES = 4096;
const MAX_LINES = 48;

function startsWith(p: Buffer, prefix: Buffer): boolean {
  if (p.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (p[i] !== prefix[i]) return false;
  return true;
}

/** The message kind from the start line, without allocating (probe runs on every UDP flow). */
function kind(p: Buffer): Kind {
  if (startsWith(p, NOTIFY)) return Kind.Notify;
  if (startsWith(p, M_SEARCH)) return Kind.Search;
  // "HTTP/1.1 200": a search response (§1.3.3). Other status codes are not part of SSDP.
  if (startsWith(p, RESPONSE) && p.length >= 12 && (p[7] === 0x31 || p[7] === 0x30) && p[8] === 0x20 && p[9] === 0x32 && p[10] === 0x30 && p[11] === 0x30) return Kind.Response;
  return Kind.None;
}

/** The headers SSDP messages carry that identify the sender, by upper-case name. */
const WANTED = new Set(['SERVER', 'USER-AGENT', 'USN', 'LOCATION', 'NT', 'NTS', 'ST']);

/** Header values of interest; the first occurrence of each wins. Lines end in CRLF (or a bare LF). */
function headers(p: Buffer): Map<string, string> {
  const h = new Map<string, string>();
  const end = Math.min(p.length, MAX_BYTES);
  let line = p.indexOf(0x0a) + 1; // skip the start line
  for (let n = 0; line > 0 && line < end && n < MAX_LINES; n++) {
    let eol = p.indexOf(0x0a, line);
    if (eol < 0 || eol > end) eol = end;
    const stop = eol > line && p[eol - 1] === 0x0d ? eol - 1 : eol;
    if (stop === line) break; // the empty line ends the headers
    const colon = p.indexOf(0x3a, line);
    // A header name is a short token; longer "names" are garbage and not worth a string.
    if (colon > line && colon < stop && colon - line <= 16) {
      const name = p.toString('latin1', line, colon).trim().toUpperCase();
      if (WANTED.has(name) && !h.has(name)) h.set(name, p.toString('latin1', colon + 1, stop));
    }
    line = eol + 1;
  }
  return h;
}

/**
 * The OS named by the first product token of SERVER / USER-AGENT ("OS/version", §1.1.2), when it is
 * one of the well-known systems and gives a numeric version. Vendors often leave stale or
 * placeholder values here ("Linux/2.x.x", "Unspecified"), so those are not taken.
 */
export function osFromProductTokens(v: string): string | undefined {
  const w = /^(?:Microsoft-)?Windows(?:[-_ ]?NT)?\/(\d+)\.(\d+)\b/i.exec(v);
  if (w !== null) {
    const major = Number(w[1]);
    const minor = Number(w[2]);
    return `${windowsFamily(major, minor)} (${major}.${minor})`;
  }
  const o = /^(Linux|Android|Darwin|iOS|Mac OS X|macOS|FreeBSD|NetBSD|OpenBSD|VxWorks|QNX|SunOS|Tizen|webOS)\/v?(\d+(?:\.\d+)*)(?=[\s,;]|$)/i.exec(v);
  if (o === null) return undefined;
  return `${o[1] as string} ${o[2] as string}`;
}

export const ssdp: Dissector = {
  name: 'ssdp',
  transport: 'udp',
  ports: [1900],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    const k = kind(p);
    // Off port 1900 only the SSDP methods are distinctive enough; an HTTP 200 could be anything.
    return k !== Kind.None && (portMatch || k !== Kind.Response);
  },
  datagram(p: Buffer, ctx: DissectContext): void {
    const k = kind(p);
    if (k === Kind.None) return;
    const h = headers(p);
    if (h.size === 0) return;
    const subject = sender(ctx);
    const side: Side = ctx.dir === 0 ? 'client' : 'server';
    const nl = p.indexOf(0x0a);
    const startLine = cleanText(p.toString('latin1', 0, Math.min(nl < 0 ? p.length : nl, 80)), 80);
    const emit = (attribute: string, header: string, confidence: number): string | undefined => {
      const raw = h.get(header);
      if (raw === undefined) return undefined;
      const v = cleanText(raw, 255);
      if (v !== '') ctx.emit({ side, attribute, value: v, confidence, ...subject, evidence: `${startLine} ${header}: ${v.slice(0, 100)}` });
      return v === '' ? undefined : v;
    };
    const os = (v: string | undefined, header: string) => {
      const name = v === undefined ? undefined : osFromProductTokens(v);
      if (name !== undefined) ctx.emit({ side, attribute: 'os', value: name, confidence: 0.5, ...subject, evidence: `${header}: ${(v as string).slice(0, 100)}` });
    };
    if (k === Kind.Search) {
      // A control point searching: what it is (USER-AGENT, optional in UDA 1.0) and what it looks for.
      os(emit('ssdp.user_agent', 'USER-AGENT', 0.7), 'USER-AGENT');
      emit('ssdp.st', 'ST', 0.4);
      return;
    }
    // NOTIFY (alive / byebye / update) or a search response: the device describes itself.
    os(emit('ssdp.server', 'SERVER', 0.85), 'SERVER');
    emit('ssdp.usn', 'USN', 0.7);
    emit('ssdp.location', 'LOCATION', 0.7);
    if (k === Kind.Notify) emit('ssdp.nt', 'NT', 0.6);
    else emit('ssdp.st', 'ST', 0.6);
  },
};
