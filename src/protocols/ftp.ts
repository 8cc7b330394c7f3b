/**
 * FTP control connections (RFC 959; FEAT per RFC 2389; the RFC 3659 extensions; AUTH per RFC 4217).
 *
 * What a server says about itself: its greeting (220: "ProFTPD 1.3.5 Server (Debian)", "Microsoft
 * FTP Service", "(vsFTPd 3.0.3)"), its SYST answer (215: "UNIX Type: L8", "Windows_NT"), and its
 * error replies (4xx/5xx), which the error-disclosure detector reads. What a client says: the USER
 * name, its software (the widespread CLNT command), and — a finding of its own — that it sent a PASS
 * in clear text. The password itself is never decoded: only the command verb of a PASS line is read.
 *
 * Replies (RFC 959 §4.2): "xyz text" or a multi-line "xyz-text" … "xyz text"; lines in between may
 * be anything (FEAT's " EPRT"). Commands: a verb of letters, a space, an argument, CRLF. Either is
 * parsed in whichever direction it is found, so a flow oriented the wrong way round (no SYN seen)
 * still reads right; observations are always about the sender of the line.
 *
 * After a successful AUTH (234) the connection is TLS: the session ends there.
 *
 * Bounds: one line per direction is buffered, at most MAX_LINE bytes (a longer one ends parsing of
 * that direction); a reply keeps at most MAX_TEXT characters; a connection is read for MAX_LINES lines.
 */
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { cleanText, maskPersonal } from './redact.ts';

/** RFC 959 sets no limit; real servers and clients stay far below. */
const MAX_LINE = 2048;
/** Characters of reply text kept: an error reply's (multi-line ones can carry a stack trace for the leak detector). */
const MAX_TEXT = 1024;
/** Characters of a banner (or SYST answer) reported. */
const MAX_BANNER = 300;
/** Lines read per connection, both directions together; then the session is done. */
const MAX_LINES = 10_000;
/** Error replies reported per connection (each is an event: a brute force shows as many). */
const MAX_ERRORS = 200;
/** Lines that are neither reply nor command tolerated before a direction is given up as not FTP. */
const MAX_JUNK = 8;

/** Commands a client opens with mid-stream (RFC 959 §4.1, RFC 2389, RFC 3659, RFC 4217). */
const COMMANDS = new Set(['USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'QUIT', 'REIN', 'PORT', 'PASV', 'TYPE', 'STRU', 'MODE', 'RETR', 'STOR', 'STOU', 'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'MKD', 'PWD', 'LIST', 'NLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP', 'FEAT', 'OPTS', 'MDTM', 'SIZE', 'MLST', 'MLSD', 'EPRT', 'EPSV', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'CLNT', 'XPWD', 'XCWD', 'XMKD', 'XRMD', 'LANG', 'HOST']);
/** User names of anonymous FTP (RFC 1635): their "password" is by convention an e-mail address, not a secret. */
const ANONYMOUS = new Set(['anonymous', 'ftp']);

/** Does `b` start with a reply code: three digits, the first 1–5, then a space, a hyphen or the line end? */
function replyCode(b: Buffer): boolean {
  const c0 = b[0] ?? 0;
  const c1 = b[1] ?? 0;
  const c2 = b[2] ?? 0;
  const c3 = b[3] ?? 0;
  return c0 >= 0x31 && c0 <= 0x35 && c1 >= 0x30 && c1 <= 0x39 && c2 >= 0x30 && c2 <= 0x39 && (c3 === 0x20 || c3 === 0x2d || c3 === 0x0d || c3 === 0x0a);
}

/** Length of the leading verb (letters only, up to 8), or 0. */
function verbLength(b: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && i - start < 9) {
    const c = b[i] as number;
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) break;
    i++;
  }
  const n = i - start;
  if (n < 3 || n > 8) return 0;
  return i === end || b[i] === 0x20 ? n : 0;
}

/** Start of a command after any Telnet commands (RFC 959 §4.1.3: ABOR is sent after IAC IP, IAC DM). */
function skipTelnet(b: Buffer, end: number): number {
  let i = 0;
  while (i < end && i < 16 && ((b[i] as number) >= 0x80 || b[i] === 0x00)) i++;
  return i;
}

interface Reply {
  code: string;
  texts: string[];
  size: number;
  lines: number;
}

class FtpSession implements StreamSession {
  private framers: [Framer, Framer] = [new Framer(MAX_LINE), new Framer(MAX_LINE)];
  /** Drop bytes up to the next line end (after a gap). */
  private readonly resync: [boolean, boolean] = [false, false];
  private readonly junk: [number, number] = [0, 0];
  /** Which direction carries replies: learnt from the first line of either. */
  private replyDir: 0 | 1 | undefined;
  private reply: Reply | undefined;
  /** Final (non-1xx) replies seen: the first one, if 220, is the greeting. */
  private replies = 0;
  private lastCommand = '';
  private user = '';
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
    // Lines resynchronise at the next line end; a reply cut in half is dropped.
    if (!this.framers[dir].broken) {
      this.framers[dir] = new Framer(MAX_LINE);
      this.resync[dir] = true;
    }
    if (dir === this.replyDir) this.reply = undefined;
    return this.verdict();
  }

  private verdict(): StreamVerdict {
    if (this.done || this.lines >= MAX_LINES) return StreamVerdict.Done;
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  private take(dir: 0 | 1, b: Buffer, ctx: DissectContext): number {
    if (this.done) return -1;
    const nl = b.indexOf(0x0a);
    if (nl < 0) return b.length > MAX_LINE ? -1 : 0;
    if (this.resync[dir]) {
      this.resync[dir] = false;
      return nl + 1;
    }
    const end = nl > 0 && b[nl - 1] === 0x0d ? nl - 1 : nl;
    this.lines++;
    if (this.replyDir === undefined) {
      const s = skipTelnet(b, end);
      if (replyCode(b)) this.replyDir = dir;
      else if (verbLength(b, s, end) > 0) this.replyDir = dir === 0 ? 1 : 0;
      else if (end === 0) return nl + 1;
      else return ++this.junk[dir] > MAX_JUNK ? -1 : nl + 1;
    }
    const ok = dir === this.replyDir ? this.replyLine(b, end, ctx) : this.command(b, end, ctx);
    if (!ok) {
      if (++this.junk[dir] > MAX_JUNK) return -1;
    } else this.junk[dir] = 0;
    return this.done ? -1 : nl + 1;
  }

  /** One line of the reply direction; false when it is neither a reply nor part of one. */
  private replyLine(b: Buffer, end: number, ctx: DissectContext): boolean {
    const r = this.reply;
    if (r === undefined) {
      if (end < 3 || !replyCode(b)) return end === 0;
      const next: Reply = { code: b.toString('latin1', 0, 3), texts: [], size: 0, lines: 1 };
      this.keep(next, b, 4, end);
      if (end === 3 || b[3] === 0x20) this.finish(next, ctx);
      else this.reply = next;
      return true;
    }
    r.lines++;
    // The last line repeats the code and a space; SMTP-style "xyz-" continuation lines lose their code.
    const sameCode = end >= 3 && b.toString('latin1', 0, 3) === r.code;
    const last = sameCode && (end === 3 || b[3] === 0x20);
    this.keep(r, b, sameCode && (end === 3 || b[3] === 0x20 || b[3] === 0x2d) ? 4 : 0, end);
    if (last || r.lines > 1000) {
      this.reply = undefined;
      this.finish(r, ctx);
    }
    return true;
  }

  private keep(r: Reply, b: Buffer, start: number, end: number): void {
    if (r.size >= MAX_TEXT || start >= end) return;
    const t = cleanText(b.toString('latin1', start, Math.min(end, start + MAX_TEXT)), MAX_TEXT);
    if (t === '') return;
    r.texts.push(t);
    r.size += t.length + 3;
  }

  private finish(r: Reply, ctx: DissectContext): void {
    const side = ctx.dir === 0 ? 'client' : 'server';
    const text = maskPersonal(cleanText(r.texts.join(' | '), MAX_TEXT));
    const preliminary = r.code[0] === '1';
    const greeting = !preliminary && this.replies === 0;
    if (!preliminary) this.replies++;
    const to = greeting ? 'greeting' : this.lastCommand !== '' ? `reply to ${this.lastCommand}` : 'reply';
    if (r.code === '220' && greeting && text !== '') {
      const banner = cleanText(text, MAX_BANNER);
      ctx.emit({ side, attribute: 'ftp.banner', value: banner, confidence: 0.9, evidence: `220 ${banner}` });
    } else if (r.code === '215' && text !== '') {
      const system = cleanText(text, MAX_BANNER);
      ctx.emit({ side, attribute: 'ftp.system', value: system, confidence: 0.9, evidence: `215 ${to}: ${system}` });
    } else if ((r.code[0] === '4' || r.code[0] === '5') && this.errors < MAX_ERRORS) {
      this.errors++;
      const value = text === '' ? r.code : `${r.code} ${text}`;
      ctx.emit({ side, attribute: 'ftp.error', value, confidence: 0.9, evidence: `${r.code} ${to}` });
    } else if (r.code === '234') {
      // RFC 4217: the TLS handshake follows on this connection; nothing more is readable.
      this.done = true;
    }
  }

  /** One command line; false when it is not one. The argument is read only for USER and CLNT. */
  private command(b: Buffer, end: number, ctx: DissectContext): boolean {
    const s = skipTelnet(b, end);
    const n = verbLength(b, s, end);
    if (n === 0) return end === 0;
    const verb = b.toString('latin1', s, s + n).toUpperCase();
    this.lastCommand = verb;
    const side = ctx.dir === 0 ? 'client' : 'server';
    if (verb === 'USER') {
      const user = cleanText(b.toString('utf8', s + n + 1, Math.min(end, s + n + 1 + 256)), 64);
      this.user = user;
      if (user !== '') ctx.emit({ side, attribute: 'ftp.user', value: user, confidence: 0.9, evidence: `USER ${user}` });
    } else if (verb === 'PASS') {
      // Only the verb was read: the password stays in the frame.
      const anonymous = ANONYMOUS.has(this.user.toLowerCase());
      const who = this.user === '' ? 'no USER seen' : `user "${this.user}"${anonymous ? ', anonymous login' : ''}`;
      ctx.emit({ side, attribute: 'ftp.cleartext_credentials', value: 'true', confidence: anonymous ? 0.6 : 0.95, evidence: `PASS sent in clear text (${who})` });
    } else if (verb === 'CLNT') {
      const client = cleanText(b.toString('utf8', s + n + 1, Math.min(end, s + n + 1 + 256)), 128);
      if (client !== '') ctx.emit({ side, attribute: 'ftp.client', value: client, confidence: 0.8, evidence: `CLNT ${client}` });
    }
    return true;
  }
}

/** Does the line at the start of `p` look like a greeting, and (without the port) like an FTP server's? */
function greetingLine(p: Buffer, portMatch: boolean): boolean {
  if (p.length < 5 || !replyCode(p)) return false;
  const code = p.toString('latin1', 0, 3);
  let end = p.indexOf(0x0a);
  if (end < 0) end = Math.min(p.length, 512);
  for (let i = 4; i < end; i++) {
    const c = p[i] as number;
    if (c < 0x20 && c !== 0x0d && c !== 0x09) return false;
  }
  if (portMatch) return true;
  if (code !== '220') return false;
  const line = p.toString('latin1', 4, Math.min(end, 512));
  return /ftp|filezilla|serv-u|wu-\d/i.test(line) && !/\bE?SMTP\b/i.test(line);
}

export const ftp: Dissector = {
  name: 'ftp',
  transport: 'tcp',
  ports: [21],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (greetingLine(p, portMatch)) return true;
    if (!portMatch) return false;
    // Mid-conversation on port 21: a command line.
    const nl = p.indexOf(0x0a);
    if (nl < 0) return false;
    const end = nl > 0 && p[nl - 1] === 0x0d ? nl - 1 : nl;
    const s = skipTelnet(p, end);
    const n = verbLength(p, s, end);
    return n > 0 && COMMANDS.has(p.toString('latin1', s, s + n).toUpperCase());
  },
  openStream(): StreamSession {
    return new FtpSession();
  },
};

export { FtpSession };
