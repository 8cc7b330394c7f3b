/**
 * HTTP/1.x (RFC 9112) on any port: requests and responses parsed as byte streams, with pipelining
 * (responses paired with requests in order), Content-Length and chunked bodies skipped without
 * buffering, and read-until-close responses.
 *
 * Identity: Host, User-Agent, Server, X-Powered-By, X-AspNet(Mvc)-Version and friends, the page
 * <title> of a device's web UI, the realm of its login prompt, session-cookie names (ASP.NET_SessionId,
 * JSESSIONID, PHPSESSID name the framework). For the error-disclosure detector: the status of error
 * responses and the first bytes of their bodies (de-chunked, decompressed). Credentials: the user of
 * Basic auth is reported (the password never), and NTLM inside Authorization goes to ntlmssp.ts.
 *
 * Only error bodies and the head of HTML pages are ever looked at; other bodies are skipped by length.
 */
import { gunzipSync, inflateSync, inflateRawSync, constants as zc } from 'node:zlib';
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { emitNtlmssp, parseNtlmssp } from './ntlmssp.ts';
import { cleanText, maskPersonal, printable } from './redact.ts';

/** A header block larger than this is not HTTP we can use. */
const MAX_HEAD = 16 * 1024;
/**
 * Bytes of an error body kept (what the leak detector reads). An ASP.NET error page puts its
 * "Version Information" line after the stack trace, 2–4 KiB in.
 */
const ERROR_BODY = 4096;
/** Bytes of a 200 HTML page read for its <title>. */
const TITLE_BODY = 2048;
/** Compressed bytes inflated at most, and the output cap. */
const MAX_COMPRESSED = 16 * 1024;
const MAX_INFLATED = 64 * 1024;
/** Transactions per connection: keep-alive connections can be long, and a late error page matters. */
const MAX_TRANSACTIONS = 1000;
/** Request lines reported per connection (the rest are repeats of the same client). */
const MAX_REQUEST_LINES = 8;

const METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE ', 'PROPFIND ', 'PROPPATCH ', 'MKCOL ', 'COPY ', 'MOVE ', 'LOCK ', 'UNLOCK ', 'SEARCH ', 'REPORT '];
const METHOD_BYTES = METHODS.map((m) => Buffer.from(m, 'latin1'));

/** Server-identifying response headers reported as `http.<name>`. */
const IDENTITY_HEADERS: Record<string, string> = {
  server: 'http.server',
  'x-powered-by': 'http.x_powered_by',
  'x-aspnet-version': 'http.x_aspnet_version',
  'x-aspnetmvc-version': 'http.x_aspnetmvc_version',
  'x-generator': 'http.x_generator',
  'x-runtime': 'http.x_runtime',
  'x-owa-version': 'http.x_owa_version',
  'ms-author-via': 'http.ms_author_via',
  'microsoftsharepointteamservices': 'http.sharepoint_version',
};

/** Session cookies that name the server-side framework. */
const FRAMEWORK_COOKIES = /^(ASP\.NET_SessionId|ASPSESSIONID\w*|JSESSIONID|PHPSESSID|CFID|CFTOKEN|laravel_session|ci_session|connect\.sid|_rails_session|django_csrftoken|csrftoken|sessionid|JSESSIONIDSSO|SAP\w*|BIGipServer\w*)$/i;

interface Head {
  startLine: string;
  headers: Map<string, string>;
  length: number;
}

function parseHead(b: Buffer, end: number): Head {
  // Header values are ISO-8859-1 by the letter of RFC 9110 but UTF-8 in practice (server names with emoji exist).
  const text = b.toString('utf8', 0, end);
  const lines = text.split(/\r?\n/);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length && i < 128; i++) {
    const line = lines[i] as string;
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase();
    const v = line.slice(c + 1).trim();
    // Repeated headers (Set-Cookie) are joined with a newline so names can be recovered.
    const prev = headers.get(k);
    headers.set(k, prev === undefined ? v : `${prev}\n${v}`);
  }
  return { startLine: lines[0] ?? '', headers, length: end };
}

/** End of the header block: offset just past CRLFCRLF (or LFLF), or -1. */
function headEnd(b: Buffer): number {
  const crlf = b.indexOf('\r\n\r\n', 0, 'latin1');
  const lf = b.indexOf('\n\n', 0, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

type BodyMode = 'none' | 'length' | 'chunked' | 'close';

interface Capture {
  /** Why the body is kept: an error page or a title. */
  kind: 'error' | 'title';
  limit: number;
  parts: Buffer[];
  size: number;
  status: number;
  encoding: string;
  contentType: string;
  request: string;
}

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close';

class Direction {
  state: State = 'head';
  remaining = 0;
  capture: Capture | undefined;
  readonly framer = new Framer(MAX_HEAD + TITLE_BODY);
}

class HttpSession implements StreamSession {
  private readonly dirs: [Direction, Direction] = [new Direction(), new Direction()];
  /** Requests awaiting their response (method and request line), for pipelining. */
  private readonly pending: Array<{ method: string; line: string }> = [];
  private transactions = 0;
  private requestLines = 0;

  get bufferedBytes(): number {
    return this.dirs[0].framer.buffered + this.dirs[1].framer.buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    const d = this.dirs[ctx.dir];
    d.framer.feed(chunk, (b) => this.take(d, b, ctx));
    if (this.transactions >= MAX_TRANSACTIONS) return StreamVerdict.Done;
    return this.dirs[0].framer.broken && this.dirs[1].framer.broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  skippable(dir: 0 | 1): number {
    return this.dirs[dir].framer.skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.dirs[dir].framer.skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    // Lost bytes: the framing is gone for this direction. (A resync on the next request line is
    // possible but rarely worth it: identity headers repeat on the next connection anyway.)
    this.dirs[dir].framer.gap();
    return this.dirs[0].framer.broken && this.dirs[1].framer.broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  end(ctx: DissectContext): void {
    // A read-until-close body ends with the connection.
    const d = this.dirs[1];
    if (d.state === 'close' && d.capture !== undefined) this.finish(d.capture, ctx);
  }

  private take(d: Direction, b: Buffer, ctx: DissectContext): number {
    switch (d.state) {
      case 'head': {
        const end = headEnd(b);
        if (end < 0) return b.length > MAX_HEAD ? -1 : 0;
        return ctx.dir === 0 ? this.request(d, b, end, ctx) : this.response(d, b, end, ctx);
      }
      case 'body': {
        // A Content-Length body: keep the head of it if wanted, skip the rest without reading it.
        const cap = d.capture;
        if (cap === undefined) {
          const n = d.remaining;
          d.remaining = 0;
          d.state = 'head';
          return n;
        }
        const n = Math.min(b.length, d.remaining);
        this.keep(cap, b.subarray(0, n));
        d.remaining -= n;
        if (cap.size >= cap.limit || d.remaining === 0) {
          this.finish(cap, ctx);
          d.capture = undefined;
          if (d.remaining === 0) d.state = 'head';
        }
        return n;
      }
      case 'chunk-size': {
        const nl = b.indexOf(0x0a);
        if (nl < 0) return b.length > 1024 ? -1 : 0;
        const size = parseInt(b.toString('latin1', 0, nl).split(';')[0]?.trim() ?? '', 16);
        if (!Number.isFinite(size) || size < 0) return -1;
        if (size === 0) d.state = 'trailer';
        else {
          d.state = 'chunk-data';
          d.remaining = size;
        }
        return nl + 1;
      }
      case 'chunk-data': {
        const cap = d.capture;
        if (cap === undefined || cap.size >= cap.limit) {
          // Not kept: skip the rest of the chunk in one step (the framer drops it as it arrives).
          const n = d.remaining;
          d.state = 'chunk-crlf';
          d.remaining = 0;
          return n;
        }
        const n = Math.min(b.length, d.remaining);
        this.keep(cap, b.subarray(0, n));
        d.remaining -= n;
        if (d.remaining === 0) d.state = 'chunk-crlf';
        return n;
      }
      case 'chunk-crlf': {
        if (b.length < 1) return 0;
        if (b[0] === 0x0a) {
          d.state = 'chunk-size';
          return 1;
        }
        if (b.length < 2) return 0;
        d.state = 'chunk-size';
        return b[0] === 0x0d && b[1] === 0x0a ? 2 : -1;
      }
      case 'trailer': {
        const nl = b.indexOf(0x0a);
        if (nl < 0) return b.length > MAX_HEAD ? -1 : 0;
        if (nl === 0 || (nl === 1 && b[0] === 0x0d)) {
          d.state = 'head';
          if (d.capture !== undefined) this.finish(d.capture, ctx);
          d.capture = undefined;
        }
        return nl + 1;
      }
      case 'close': {
        const cap = d.capture;
        if (cap !== undefined && cap.size < cap.limit) this.keep(cap, b.subarray(0, cap.limit - cap.size));
        return b.length;
      }
    }
  }

  private keep(cap: Capture, piece: Buffer): void {
    const n = Math.min(piece.length, cap.limit - cap.size);
    if (n <= 0) return;
    cap.parts.push(Buffer.from(piece.subarray(0, n)));
    cap.size += n;
  }

  private request(d: Direction, b: Buffer, end: number, ctx: DissectContext): number {
    const head = parseHead(b, end);
    const [method = '', target = ''] = head.startLine.split(' ');
    if (!/^[A-Z-]{3,12}$/.test(method) || !/HTTP\/1\.[01]$/.test(head.startLine)) return -1;
    // The path alone: query strings can carry patient identifiers and credentials.
    const path = maskPersonal(cleanText(target.split('?')[0] ?? '', 200));
    const line = `${method} ${path}`;
    this.pending.push({ method, line });
    if (this.pending.length > 64) this.pending.shift();
    this.transactions++;
    const h = head.headers;
    if (this.requestLines++ < MAX_REQUEST_LINES) ctx.emit({ side: 'client', attribute: 'http.request', value: line, confidence: 0.6 });
    const host = h.get('host');
    if (host !== undefined) ctx.emit({ side: 'server', attribute: 'http.host', value: cleanText(host, 255), confidence: 0.6, evidence: line });
    const ua = h.get('user-agent');
    if (ua !== undefined) ctx.emit({ side: 'client', attribute: 'http.user_agent', value: cleanText(ua, 255), confidence: 0.8, evidence: line });
    const auth = h.get('authorization');
    if (auth !== undefined) this.authorization(auth, line, ctx);
    return end + this.body(d, h, 'request', undefined, ctx);
  }

  private authorization(auth: string, line: string, ctx: DissectContext): void {
    const [scheme = '', token = ''] = auth.split(/\s+/, 2);
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(token, 'base64').toString('latin1');
      const user = cleanText(decoded.split(':')[0] ?? '', 64);
      ctx.emit({ side: 'client', attribute: 'http.cleartext_credentials', value: 'basic', confidence: 0.95, evidence: `${line} with Authorization: Basic (user "${user}")` });
      if (user !== '') ctx.emit({ side: 'client', attribute: 'http.basic_auth_user', value: user, confidence: 0.9 });
    } else if (/^(ntlm|negotiate)$/i.test(scheme)) {
      const blob = Buffer.from(token, 'base64');
      const at = blob.indexOf('NTLMSSP\0', 0, 'latin1');
      const msg = at >= 0 ? parseNtlmssp(blob.subarray(at)) : undefined;
      if (msg !== undefined) emitNtlmssp(msg, 'client', ctx, 'HTTP Authorization');
    }
  }

  private response(d: Direction, b: Buffer, end: number, ctx: DissectContext): number {
    const head = parseHead(b, end);
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(head.startLine);
    if (m === null) return -1;
    const status = Number(m[1]);
    const reason = cleanText(m[2] ?? '', 64);
    // 1xx are interim: the real response follows for the same request.
    const req = status >= 200 ? this.pending.shift() : this.pending[0];
    const line = req?.line ?? REQUEST_NOT_SEEN;
    const h = head.headers;
    for (const [name, attribute] of Object.entries(IDENTITY_HEADERS)) {
      const v = h.get(name);
      if (v !== undefined) ctx.emit({ side: 'server', attribute, value: cleanText(v.split('\n')[0] ?? '', 255), confidence: 0.9, evidence: `${head.startLine} to ${line}` });
    }
    const www = h.get('www-authenticate');
    if (www !== undefined) {
      const realm = /realm="([^"]*)"/i.exec(www)?.[1];
      ctx.emit({ side: 'server', attribute: 'http.www_authenticate', value: cleanText(realm !== undefined ? `${www.split(' ')[0]} realm="${realm}"` : www.split(/[\s,]/)[0] ?? www, 200), confidence: 0.85 });
    }
    const cookies = h.get('set-cookie');
    if (cookies !== undefined) {
      for (const c of cookies.split('\n').slice(0, 16)) {
        const name = c.split('=')[0]?.trim() ?? '';
        if (FRAMEWORK_COOKIES.test(name)) ctx.emit({ side: 'server', attribute: 'http.cookie_name', value: name, confidence: 0.8 });
      }
    }
    if (status >= 400) ctx.emit({ side: 'server', attribute: 'http.status', value: `${status}${reason !== '' ? ` ${reason}` : ''}`, confidence: 0.95, evidence: errorStatusEvidence(req?.line, status) });
    const type = (h.get('content-type') ?? '').toLowerCase();
    let capture: Capture | undefined;
    if (status >= 400) capture = { kind: 'error', limit: ERROR_BODY, parts: [], size: 0, status, encoding: (h.get('content-encoding') ?? '').toLowerCase(), contentType: type, request: line };
    else if (status === 200 && type.includes('html')) capture = { kind: 'title', limit: TITLE_BODY, parts: [], size: 0, status, encoding: (h.get('content-encoding') ?? '').toLowerCase(), contentType: type, request: line };
    if (capture !== undefined && capture.encoding !== '' && capture.encoding !== 'identity') capture.limit = MAX_COMPRESSED;
    const noBody = req?.method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304 || (req?.method === 'CONNECT' && status < 300);
    return end + this.body(d, h, noBody ? 'none' : 'response', capture, ctx);
  }

  /** Plans the body that follows a head; returns bytes to consume beyond the head now (always 0: the states read it). */
  private body(d: Direction, h: Map<string, string>, kind: 'none' | 'request' | 'response', capture: Capture | undefined, ctx: DissectContext): number {
    let mode: BodyMode = 'none';
    const te = (h.get('transfer-encoding') ?? '').toLowerCase();
    const cl = h.get('content-length');
    let length = 0;
    if (kind !== 'none') {
      if (te.includes('chunked')) mode = 'chunked';
      else if (cl !== undefined && /^\d{1,15}$/.test(cl.trim())) {
        length = Number(cl.trim());
        mode = length > 0 ? 'length' : 'none';
      } else if (kind === 'response') mode = 'close';
    }
    d.capture = capture;
    switch (mode) {
      case 'none':
        if (capture !== undefined) this.finish(capture, ctx);
        d.capture = undefined;
        return 0;
      case 'length':
        d.state = 'body';
        d.remaining = length;
        return 0;
      case 'chunked':
        d.state = 'chunk-size';
        return 0;
      case 'close':
        d.state = 'close';
        return 0;
    }
  }

  private finish(cap: Capture, ctx: DissectContext): void {
    let body = Buffer.concat(cap.parts);
    let note = '';
    if (cap.encoding.includes('gzip') || cap.encoding.includes('deflate')) {
      const opts = { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: MAX_INFLATED };
      try {
        body = cap.encoding.includes('gzip') ? gunzipSync(body, opts) : inflateSync(body, opts);
      } catch {
        try {
          body = inflateRawSync(body, opts);
        } catch {
          return; // not decodable: say nothing rather than report compressed bytes
        }
      }
      note = ` (${cap.encoding}, decompressed)`;
    }
    if (cap.kind === 'title') {
      const text = body.toString('latin1', 0, Math.min(body.length, TITLE_BODY));
      const t = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text)?.[1];
      if (t !== undefined) {
        const title = maskPersonal(cleanText(t.replace(/\s+/g, ' '), 200));
        if (title !== '') ctx.emit({ side: 'server', attribute: 'http.title', value: title, confidence: 0.8, evidence: `<title> of ${cap.request}` });
      }
      return;
    }
    if (body.length === 0) return;
    const snippet = maskPersonal(printable(body, 0, Math.min(body.length, ERROR_BODY), ERROR_BODY));
    ctx.emit({ side: 'server', attribute: 'http.error_body', value: snippet, confidence: 0.9, evidence: `${cap.status} to ${cap.request}${note}` });
  }
}

const REQUEST_NOT_SEEN = '(request not seen)';
const ANSWERED = ' → ';

/** The evidence of an error status: the request it answered, then the status (`GET /admin → 404`). */
function errorStatusEvidence(request: string | undefined, status: number): string {
  return `${request ?? REQUEST_NOT_SEEN}${ANSWERED}${status}`;
}

/**
 * The request an error status answered, read back from its evidence (undefined when the request was
 * not seen): what the reconnaissance ledger counts as a request that drew an error.
 */
export function requestOfErrorStatus(evidence: string | undefined): string | undefined {
  if (evidence === undefined) return undefined;
  const at = evidence.lastIndexOf(ANSWERED);
  if (at <= 0) return undefined;
  const request = evidence.slice(0, at);
  return request === REQUEST_NOT_SEEN ? undefined : request;
}

export const http: Dissector = {
  name: 'http',
  transport: 'tcp',
  ports: [80, 8080, 8000, 8008, 8081, 8888, 3128, 631, 5985],
  probe(p: Buffer, dir: 0 | 1): boolean {
    if (dir === 1) return p.length >= 12 && p[0] === 0x48 && p[1] === 0x54 && p[2] === 0x54 && p[3] === 0x50 && p[4] === 0x2f && p[5] === 0x31 && p[6] === 0x2e;
    for (const m of METHOD_BYTES) {
      if (p.length > m.length && p.compare(m, 0, m.length, 0, m.length) === 0) {
        // A request line: method, a target, and "HTTP/1." before the first line ends.
        const nl = p.indexOf(0x0a, m.length);
        const lineEnd = nl < 0 ? Math.min(p.length, 8192) : nl;
        return p.lastIndexOf('HTTP/1.', lineEnd, 'latin1') > m.length;
      }
    }
    return false;
  },
  openStream(): StreamSession {
    return new HttpSession();
  },
};

export { HttpSession };
