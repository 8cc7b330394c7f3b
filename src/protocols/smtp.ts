/**
 * SMTP (RFC 5321), with AUTH (RFC 4954) and its PLAIN (RFC 4616) and LOGIN mechanisms, STARTTLS
 * (RFC 3207), PIPELINING (RFC 2920) and CHUNKING (RFC 3030).
 *
 * What a server says about itself: its greeting (220: host name and software, "mail.example.org
 * ESMTP Postfix (Debian/GNU)", "Microsoft ESMTP MAIL Service, Version: 8.5.9600.16384 ready") and
 * its error replies (4xx/5xx, for the error-disclosure detector). What a client says: the name it
 * gives in EHLO/HELO, and — a finding of its own — that it authenticated with PLAIN or LOGIN in clear
 * text (the user name is reported; the password is never decoded into a string). AUTH NTLM is read
 * by ntlmssp.ts (the client's Windows version, domain and workstation; the server's names).
 *
 * Privacy: a message may carry patient data. Client bytes are never read past the DATA (or BDAT)
 * command; the server direction is read only until its reply to that command, then the session is
 * done. After STARTTLS is accepted (220) the connection is TLS: done too.
 *
 * Replies (RFC 5321 §4.2): "xyz-text" lines, the last "xyz text". Replies and commands are told
 * apart by their syntax, so a flow oriented the wrong way round still reads right; observations are
 * always about the sender of the line.
 *
 * Bounds: one line per direction buffered, at most MAX_LINE bytes (RFC 4954 allows 12,288 for an
 * AUTH line); a longer one ends parsing of that direction. A connection is read for MAX_LINES lines.
 */
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { emitNtlmssp, findNtlmssp } from './ntlmssp.ts';
import { cleanText, maskPersonal } from './redact.ts';

const MAX_LINE = 16 * 1024;
/** Characters of reply text kept: an error reply's (multi-line ones can carry a stack trace for the leak detector). */
const MAX_TEXT = 1024;
/** Characters of a banner (or SYST answer) reported. */
const MAX_BANNER = 300;
const MAX_LINES = 10_000;
/** Error replies reported per connection (each is an event). */
const MAX_ERRORS = 200;
/** Lines that are neither reply nor command tolerated in a row before a direction is given up. */
const MAX_JUNK = 8;
/** Commands awaiting their reply (pipelining), oldest first. */
const MAX_PENDING = 64;

const COMMANDS = new Set(['EHLO', 'HELO', 'LHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'VRFY', 'EXPN', 'HELP', 'NOOP', 'QUIT', 'AUTH', 'STARTTLS', 'ETRN', 'TURN', 'ATRN', 'XCLIENT', 'XFORWARD']);

/**
 * A date-time in a greeting (RFC 5322 §3.3, as Sendmail and Exchange append it: "; Sat, 7 Aug 1999
 * 08:20:11 -0400", "ready at  Mon, 12 Feb 2018 10:00:00 +0100"): it changes with every connection,
 * so it is cut from the value (the evidence keeps the line whole).
 */
const GREETING_DATE = /[;,]?\s*(?:at\s+)?(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[+-]\d{4}|[A-Z]{1,5}))?(?:\s*\([^)]{0,40}\))?/;

function replyCode(b: Buffer): boolean {
  const c0 = b[0] ?? 0;
  const c1 = b[1] ?? 0;
  const c2 = b[2] ?? 0;
  const c3 = b[3] ?? 0;
  return c0 >= 0x32 && c0 <= 0x35 && c1 >= 0x30 && c1 <= 0x39 && c2 >= 0x30 && c2 <= 0x39 && (c3 === 0x20 || c3 === 0x2d || c3 === 0x0d || c3 === 0x0a);
}

/** Length of the leading verb (letters, up to 8, then a space or the end), or 0. */
function verbLength(b: Buffer, end: number): number {
  let i = 0;
  while (i < end && i < 9) {
    const c = b[i] as number;
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) break;
    i++;
  }
  if (i < 4 || i > 8) return 0;
  return i === end || b[i] === 0x20 ? i : 0;
}

/** Base64 text of a line (an AUTH exchange) decoded; undefined when it is not base64. */
function base64(b: Buffer, start: number, end: number): Buffer | undefined {
  const t = b.toString('latin1', start, end).trim();
  if (t === '' || t === '=' || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

interface Reply {
  code: string;
  texts: string[];
  size: number;
  lines: number;
}

/** Where an AUTH exchange stands: which client line comes next. */
type Auth = 'none' | 'plain' | 'login-user' | 'login-pass' | 'ntlm' | 'other';

class SmtpSession implements StreamSession {
  private framers: [Framer, Framer] = [new Framer(MAX_LINE), new Framer(MAX_LINE)];
  private readonly resync: [boolean, boolean] = [false, false];
  private readonly junk: [number, number] = [0, 0];
  private replyDir: 0 | 1 | undefined;
  private reply: Reply | undefined;
  private replies = 0;
  /** Command verbs awaiting their reply, oldest first. */
  private readonly pending: string[] = [];
  private auth: Auth = 'none';
  /** The client sent DATA/BDAT: its direction is closed to us; the server's closes at the reply. */
  private body = false;
  private lines = 0;
  private errors = 0;
  private done = false;

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    if (this.done) return StreamVerdict.Done;
    const dir = ctx.dir;
    this.framers[dir].feed(chunk, (b) => this.take(dir, b, ctx));
    return this.verdict();
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    if (!this.framers[dir].broken) {
      this.framers[dir] = new Framer(MAX_LINE);
      this.resync[dir] = true;
    }
    // Which reply answers which command is no longer known.
    if (dir === this.replyDir) this.reply = undefined;
    this.pending.length = 0;
    this.auth = 'none';
    return this.verdict();
  }

  private verdict(): StreamVerdict {
    if (this.done || this.lines >= MAX_LINES) return StreamVerdict.Done;
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  private take(dir: 0 | 1, b: Buffer, ctx: DissectContext): number {
    if (this.done) return -1;
    if (this.body && dir !== this.replyDir) return -1; // the message: never read
    const nl = b.indexOf(0x0a);
    if (nl < 0) return b.length > MAX_LINE ? -1 : 0;
    if (this.resync[dir]) {
      this.resync[dir] = false;
      return nl + 1;
    }
    const end = nl > 0 && b[nl - 1] === 0x0d ? nl - 1 : nl;
    this.lines++;
    if (this.replyDir === undefined) {
      if (replyCode(b)) this.replyDir = dir;
      else if (verbLength(b, end) > 0) this.replyDir = dir === 0 ? 1 : 0;
      else if (end === 0) return nl + 1;
      else return ++this.junk[dir] > MAX_JUNK ? -1 : nl + 1;
    }
    const ok = dir === this.replyDir ? this.replyLine(b, end, ctx) : this.clientLine(b, end, ctx);
    if (!ok) {
      if (++this.junk[dir] > MAX_JUNK) return -1;
    } else this.junk[dir] = 0;
    return this.done || (this.body && dir !== this.replyDir) ? -1 : nl + 1;
  }

  private replyLine(b: Buffer, end: number, ctx: DissectContext): boolean {
    if (end < 3 || !replyCode(b)) return end === 0;
    const code = b.toString('latin1', 0, 3);
    // An NTLM CHALLENGE (longer than the text kept) is read from the line itself: it names the server.
    if (this.auth === 'ntlm' && code === '334') this.ntlm(b.subarray(4, end), ctx.dir === 0 ? 'client' : 'server', ctx);
    const r = this.reply ?? { code, texts: [], size: 0, lines: 0 };
    r.lines++;
    if (r.size < MAX_TEXT && end > 4) {
      const t = cleanText(b.toString('latin1', 4, Math.min(end, 4 + MAX_TEXT)), MAX_TEXT);
      if (t !== '') {
        r.texts.push(t);
        r.size += t.length + 3;
      }
    }
    const last = end === 3 || b[3] !== 0x2d;
    if (!last && r.lines < 1000) {
      this.reply = r;
      return true;
    }
    this.reply = undefined;
    this.finish(r, ctx);
    return true;
  }

  private finish(r: Reply, ctx: DissectContext): void {
    const side = ctx.dir === 0 ? 'client' : 'server';
    // The greeting answers no command: the first reply, if it has a greeting's code (§4.3.1), before any command.
    const greeting = this.replies === 0 && this.pending.length === 0 && (r.code === '220' || r.code === '554');
    this.replies++;
    const command = greeting ? undefined : this.pending.shift();
    const to = greeting ? 'greeting' : command !== undefined ? `reply to ${command}` : 'reply';
    const full = maskPersonal(cleanText(r.texts.join(' | '), MAX_TEXT));
    if (greeting && r.code === '220' && full !== '') {
      const value = cleanText(full.replace(GREETING_DATE, ''), MAX_BANNER);
      ctx.emit({ side, attribute: 'smtp.banner', value: value === '' ? cleanText(full, MAX_BANNER) : value, confidence: 0.9, evidence: `220 ${cleanText(full, MAX_BANNER)}` });
    } else if ((r.code[0] === '4' || r.code[0] === '5') && this.errors < MAX_ERRORS) {
      this.errors++;
      ctx.emit({ side, attribute: 'smtp.error', value: full === '' ? r.code : `${r.code} ${full}`, confidence: 0.9, evidence: `${r.code} ${to}` });
    }
    if (this.auth !== 'none') {
      // 334: a challenge, the AUTH is still in progress; anything else ends it.
      if (r.code === '334') {
        if (command !== undefined) this.pending.unshift(command);
      } else this.auth = 'none';
    }
    // RFC 3207: after "220" to STARTTLS the TLS handshake follows; nothing more is readable.
    if (command === 'STARTTLS' && r.code === '220') this.done = true;
    if (command === 'DATA' || command === 'BDAT' || (this.body && command === undefined)) this.done = true;
  }

  private ntlm(text: Buffer, side: 'client' | 'server', ctx: DissectContext): void {
    const blob = base64(text, 0, text.length);
    const msg = blob !== undefined ? findNtlmssp(blob) : undefined;
    if (msg !== undefined) emitNtlmssp(msg, side, ctx, 'SMTP AUTH NTLM');
  }

  /** One client line: a command, or a line of an AUTH exchange. */
  private clientLine(b: Buffer, end: number, ctx: DissectContext): boolean {
    const side = ctx.dir === 0 ? 'client' : 'server';
    if (this.auth !== 'none') return this.authLine(b, end, side, ctx);
    const n = verbLength(b, end);
    if (n === 0) return end === 0;
    const verb = b.toString('latin1', 0, n).toUpperCase();
    if (this.pending.length < MAX_PENDING) this.pending.push(verb);
    if (verb === 'EHLO' || verb === 'HELO' || verb === 'LHLO') {
      const name = cleanText(b.toString('latin1', n + 1, Math.min(end, n + 1 + 512)).trim().split(/\s+/)[0] ?? '', 255);
      if (name !== '') ctx.emit({ side, attribute: 'smtp.helo', value: name, confidence: 0.85, evidence: `${verb} ${name}` });
    } else if (verb === 'AUTH') this.authCommand(b, n, end, side, ctx);
    else if (verb === 'DATA' || verb === 'BDAT') this.body = true;
    return true;
  }

  /** AUTH mechanism [initial-response] (RFC 4954 §4). */
  private authCommand(b: Buffer, n: number, end: number, side: 'client' | 'server', ctx: DissectContext): void {
    const rest = b.toString('latin1', n + 1, Math.min(end, n + 1 + 64));
    const mech = (rest.trim().split(/\s+/)[0] ?? '').toUpperCase();
    const sp = b.indexOf(0x20, n + 1);
    const initial = sp >= 0 && sp < end ? sp + 1 : end;
    const hasInitial = initial < end;
    if (mech === 'PLAIN') {
      if (hasInitial) this.plain(b, initial, end, side, ctx);
      else this.auth = 'plain';
    } else if (mech === 'LOGIN') {
      if (hasInitial) {
        this.loginUser(b, initial, end, side, ctx);
        this.auth = 'login-pass';
      } else this.auth = 'login-user';
    } else if (mech === 'NTLM') {
      if (hasInitial) this.ntlm(b.subarray(initial, end), side, ctx);
      this.auth = 'ntlm';
    } else this.auth = 'other';
  }

  private authLine(b: Buffer, end: number, side: 'client' | 'server', ctx: DissectContext): boolean {
    // "*" cancels the exchange (RFC 4954 §4).
    if (end === 1 && b[0] === 0x2a) {
      this.auth = 'none';
      return true;
    }
    switch (this.auth) {
      case 'plain':
        this.plain(b, 0, end, side, ctx);
        this.auth = 'other';
        break;
      case 'login-user':
        this.loginUser(b, 0, end, side, ctx);
        this.auth = 'login-pass';
        break;
      case 'login-pass':
        // The password line: only its presence is noted.
        ctx.emit({ side, attribute: 'smtp.cleartext_credentials', value: 'login', confidence: 0.95, evidence: 'AUTH LOGIN: password sent base64-encoded in clear text' });
        this.auth = 'other';
        break;
      case 'ntlm':
        this.ntlm(b.subarray(0, end), side, ctx);
        break;
      default:
        break;
    }
    return true;
  }

  /** PLAIN (RFC 4616): authzid NUL authcid NUL passwd. Only the authcid is turned into text. */
  private plain(b: Buffer, start: number, end: number, side: 'client' | 'server', ctx: DissectContext): void {
    const blob = base64(b, start, end);
    if (blob === undefined) return;
    const a = blob.indexOf(0);
    const z = a >= 0 ? blob.indexOf(0, a + 1) : -1;
    const user = a >= 0 && z > a ? cleanText(blob.toString('utf8', a + 1, z), 64) : '';
    blob.fill(0);
    ctx.emit({ side, attribute: 'smtp.cleartext_credentials', value: 'plain', confidence: 0.95, evidence: `AUTH PLAIN: credentials sent base64-encoded in clear text${user !== '' ? ` (user "${user}")` : ''}` });
    if (user !== '') ctx.emit({ side, attribute: 'smtp.user', value: user, confidence: 0.9, evidence: 'AUTH PLAIN authcid' });
  }

  private loginUser(b: Buffer, start: number, end: number, side: 'client' | 'server', ctx: DissectContext): void {
    const blob = base64(b, start, end);
    if (blob === undefined) return;
    const user = cleanText(blob.toString('utf8', 0, Math.min(blob.length, 256)), 64);
    if (user !== '') ctx.emit({ side, attribute: 'smtp.user', value: user, confidence: 0.9, evidence: 'AUTH LOGIN user name' });
  }
}

function greetingLine(p: Buffer, portMatch: boolean): boolean {
  if (p.length < 5 || !replyCode(p)) return false;
  let end = p.indexOf(0x0a);
  if (end < 0) end = Math.min(p.length, 512);
  for (let i = 4; i < end; i++) {
    const c = p[i] as number;
    if (c < 0x20 && c !== 0x0d && c !== 0x09) return false;
  }
  if (portMatch) return true;
  if (p.toString('latin1', 0, 3) !== '220') return false;
  const line = p.toString('latin1', 4, Math.min(end, 512));
  return /\bE?SMTP\b|\b(sendmail|postfix|exim|qmail)\b/i.test(line) && !/ftp/i.test(line);
}

export const smtp: Dissector = {
  name: 'smtp',
  transport: 'tcp',
  ports: [25, 587],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (greetingLine(p, portMatch)) return true;
    if (!portMatch) return false;
    const nl = p.indexOf(0x0a);
    if (nl < 0) return false;
    const end = nl > 0 && p[nl - 1] === 0x0d ? nl - 1 : nl;
    const n = verbLength(p, end);
    return n > 0 && COMMANDS.has(p.toString('latin1', 0, n).toUpperCase());
  },
  openStream(): StreamSession {
    return new SmtpSession();
  },
};

export { SmtpSession };
