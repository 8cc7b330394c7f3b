/**
 * Telnet (RFC 854, option negotiation per RFC 855): the login banner and the clear-text login.
 *
 * The byte stream mixes NVT text with commands: IAC (255) followed by a command byte, WILL/WONT/DO/
 * DONT and an option byte, or a subnegotiation IAC SB option … IAC SE; IAC IAC is a data byte 255.
 * Commands are skipped (an AUTHENTICATION subnegotiation, RFC 2941, is searched for NTLMSSP, which
 * Microsoft's Telnet Service uses: it names the Windows version); ANSI escape sequences are dropped.
 *
 * What a server says about itself: its first printable text — the login banner ("Ubuntu 14.04 LTS",
 * "Welcome to Microsoft Telnet Service", "BusyBox v1.20.2 built-in shell", a device's own prompt) —
 * up to and including the login prompt, at most MAX_BANNER characters. What a client says: the line
 * it typed at a login prompt (the user name), and that it answered a password prompt
 * (`telnet.cleartext_credentials`). Bytes typed at a password prompt are counted, never kept.
 *
 * A prompt is the server's current line when the client starts typing a line, so the server's echo
 * of the typed characters does not hide it. The session ends once the password prompt has been
 * answered, or after MAX_CLIENT_LINES client lines or MAX_SERVER_BYTES server bytes without one.
 *
 * Bounds: no stream bytes are buffered (a byte-at-a-time state machine per direction); text kept is
 * the banner (MAX_BANNER), the server's current line and the client's (MAX_LINE), a subnegotiation
 * (MAX_SB).
 */
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { emitNtlmssp, findNtlmssp } from './ntlmssp.ts';
import { cleanText, maskPersonal } from './redact.ts';

const IAC = 255;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;
const ESC = 0x1b;
/** RFC 2941 AUTHENTICATION option. */
const OPT_AUTHENTICATION = 37;

/** Banner characters kept (the login banner is rarely longer; a motd is not wanted). */
const MAX_BANNER = 300;
/** Characters of the current line kept, per direction. */
const MAX_LINE = 128;
/** Subnegotiation bytes kept (an NTLMSSP AUTHENTICATE fits; longer ones are cut). */
const MAX_SB = 4096;
const MAX_CLIENT_LINES = 16;
const MAX_SERVER_BYTES = 64 * 1024;

/** A login prompt at the end of the server's line: "login:", "Username:", "User Name :", "Benutzername:" … */
const LOGIN_PROMPT = /(?:\blog ?in|\buser(?: ?name| ?id)?|\baccount|benutzername|utilisateur|usuario)\s*:\s*$/i;
/** A password prompt: "Password:", "Passcode:", "Kennwort:", "Mot de passe:" … */
const PASSWORD_PROMPT = /(?:pass ?word|passcode|passwd|\bpin|kennwort|passwort|mot de passe|contrase(?:\u00f1|n)a)\s*:\s*$/i;

type Parse = 'data' | 'iac' | 'option' | 'sb-option' | 'sb' | 'sb-iac' | 'cr' | 'esc' | 'csi';

/** One direction's parser state: NVT data is handed to `text`, commands skipped. */
class Nvt {
  state: Parse = 'data';
  sbOption = -1;
  sb: Buffer | undefined;
  sbLength = 0;
  bytes = 0;
}

type Prompt = 'none' | 'login' | 'password';

class TelnetSession implements StreamSession {
  private readonly nvt: [Nvt, Nvt] = [new Nvt(), new Nvt()];
  /** Which direction is the server's (flow orientation; the sender is always the observation's subject). */
  private readonly serverDir: 0 | 1 = 1;
  private banner = '';
  private bannerStarted = false;
  private bannerDone = false;
  /** The server's current (last, unfinished) line. */
  private serverLine = '';
  /** The client's line being typed, and the prompt it answers (fixed at its first character). */
  private clientLine = '';
  private clientTyped = 0;
  private answering: Prompt = 'none';
  private clientLines = 0;
  private credentials = false;
  private done = false;

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    if (this.done) return StreamVerdict.Done;
    const dir = ctx.dir;
    const nvt = this.nvt[dir];
    const server = dir === this.serverDir;
    for (let i = 0; i < chunk.length && !this.done; i++) {
      const c = chunk[i] as number;
      const data = this.step(nvt, c, ctx);
      if (data < 0) continue;
      if (server) this.serverByte(data, ctx);
      else this.clientByte(data, ctx);
    }
    nvt.bytes += chunk.length;
    // A prompt is a line without its end: decide at the end of each server chunk.
    if (server && !this.bannerDone && this.bannerStarted && (LOGIN_PROMPT.test(this.serverLine) || PASSWORD_PROMPT.test(this.serverLine))) this.emitBanner(ctx);
    if (this.nvt[this.serverDir].bytes > MAX_SERVER_BYTES || this.clientLines >= MAX_CLIENT_LINES) this.done = true;
    return this.done ? StreamVerdict.Done : StreamVerdict.More;
  }

  gap(dir: 0 | 1): StreamVerdict {
    // Lost bytes: the command state and the current line are unknown; restart at the next byte.
    this.nvt[dir].state = 'data';
    this.nvt[dir].sb = undefined;
    if (dir === this.serverDir) this.serverLine = '';
    else this.resetClientLine();
    return StreamVerdict.More;
  }

  end(ctx: DissectContext): void {
    if (!this.bannerDone && this.bannerStarted) this.emitBanner(ctx);
  }

  /** Advances the command parser by one byte; returns the NVT data byte, or -1 for a command byte. */
  private step(n: Nvt, c: number, ctx: DissectContext): number {
    switch (n.state) {
      case 'data':
        if (c === IAC) {
          n.state = 'iac';
          return -1;
        }
        if (c === ESC) {
          n.state = 'esc';
          return -1;
        }
        if (c === 0x0d) n.state = 'cr';
        return c;
      case 'cr':
        // CR LF is a newline, CR NUL a carriage return (RFC 854): either way the CR already ended the line.
        n.state = 'data';
        if (c === 0x0a || c === 0x00) return -1;
        return this.step(n, c, ctx);
      case 'iac':
        if (c === IAC) {
          n.state = 'data';
          return c;
        }
        if (c >= WILL && c <= DONT) n.state = 'option';
        else if (c === SB) n.state = 'sb-option';
        else n.state = 'data';
        return -1;
      case 'option':
        n.state = 'data';
        return -1;
      case 'sb-option':
        n.sbOption = c;
        n.sb = c === OPT_AUTHENTICATION ? Buffer.alloc(MAX_SB) : undefined;
        n.sbLength = 0;
        n.state = 'sb';
        return -1;
      case 'sb':
        if (c === IAC) n.state = 'sb-iac';
        else this.sbByte(n, c);
        return -1;
      case 'sb-iac':
        if (c === IAC) {
          this.sbByte(n, c);
          n.state = 'sb';
        } else if (c === SE) {
          this.sbEnd(n, ctx);
          n.state = 'data';
        } else {
          // A command inside a subnegotiation: the SB was not terminated; resume as data.
          n.sb = undefined;
          n.state = c >= WILL && c <= DONT ? 'option' : 'data';
        }
        return -1;
      case 'esc':
        n.state = c === 0x5b ? 'csi' : 'data';
        return -1;
      case 'csi':
        // ESC [ parameters intermediates final (0x40–0x7e).
        if ((c >= 0x40 && c <= 0x7e) || c < 0x20 || c === IAC) n.state = 'data';
        return -1;
    }
  }

  private sbByte(n: Nvt, c: number): void {
    if (n.sb !== undefined && n.sbLength < n.sb.length) n.sb[n.sbLength++] = c;
  }

  private sbEnd(n: Nvt, ctx: DissectContext): void {
    const sb = n.sb;
    n.sb = undefined;
    if (sb === undefined || n.sbOption !== OPT_AUTHENTICATION) return;
    const msg = findNtlmssp(sb.subarray(0, n.sbLength));
    if (msg !== undefined) emitNtlmssp(msg, ctx.dir === 0 ? 'client' : 'server', ctx, 'Telnet AUTHENTICATION');
  }

  private serverByte(c: number, ctx: DissectContext): void {
    if (c === 0x0d || c === 0x0a) {
      if (this.bannerStarted && !this.bannerDone) this.addBanner('\n', ctx);
      this.serverLine = '';
      return;
    }
    if (c === 0x08 || c === 0x7f) {
      this.serverLine = this.serverLine.slice(0, -1);
      return;
    }
    if (c < 0x20 && c !== 0x09) return;
    const ch = c === 0x09 ? ' ' : c < 0x7f ? String.fromCharCode(c) : '';
    if (ch === '') return;
    if (this.serverLine.length < MAX_LINE) this.serverLine += ch;
    else this.serverLine = this.serverLine.slice(1) + ch;
    if (!this.bannerDone) {
      if (!this.bannerStarted && ch !== ' ') this.bannerStarted = true;
      if (this.bannerStarted) this.addBanner(ch, ctx);
    }
  }

  private addBanner(ch: string, ctx: DissectContext): void {
    this.banner += ch;
    if (this.banner.length >= MAX_BANNER) this.emitBanner(ctx);
  }

  private emitBanner(ctx: DissectContext): void {
    if (this.bannerDone) return;
    this.bannerDone = true;
    const lines = this.banner
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' ').trim())
      .filter((l) => l !== '');
    const value = maskPersonal(cleanText(lines.join(' | '), MAX_BANNER));
    this.banner = '';
    if (value === '') return;
    const side = this.serverDir === 0 ? 'client' : 'server';
    ctx.emit({ side, attribute: 'telnet.banner', value, confidence: 0.85, evidence: `server text before login: ${value.slice(0, 120)}` });
  }

  private clientByte(c: number, ctx: DissectContext): void {
    if (c === 0x0d || c === 0x0a) {
      this.endClientLine(ctx);
      return;
    }
    if (c === 0x00) return;
    if (this.clientTyped === 0) {
      // The client starts a line: what the server last showed is the prompt it answers.
      this.answering = PASSWORD_PROMPT.test(this.serverLine) ? 'password' : LOGIN_PROMPT.test(this.serverLine) ? 'login' : 'none';
      // Whatever the server said so far is its banner.
      if (this.bannerStarted && !this.bannerDone) this.emitBanner(ctx);
    }
    this.clientTyped++;
    if (this.answering !== 'login') return; // only a user name is ever kept
    if (c === 0x08 || c === 0x7f) {
      this.clientLine = this.clientLine.slice(0, -1);
      return;
    }
    if (c >= 0x20 && c < 0x7f && this.clientLine.length < MAX_LINE) this.clientLine += String.fromCharCode(c);
  }

  private endClientLine(ctx: DissectContext): void {
    const answering = this.clientTyped > 0 ? this.answering : PASSWORD_PROMPT.test(this.serverLine) ? 'password' : LOGIN_PROMPT.test(this.serverLine) ? 'login' : 'none';
    const prompt = cleanText(this.serverLine, 40);
    const side = ctx.dir === 0 ? 'client' : 'server';
    this.clientLines++;
    if (answering === 'login') {
      const user = cleanText(this.clientLine, 64);
      if (user !== '') ctx.emit({ side, attribute: 'telnet.user', value: user, confidence: 0.8, evidence: `typed at the server's "${prompt}" prompt` });
    } else if (answering === 'password' && !this.credentials) {
      this.credentials = true;
      ctx.emit({ side, attribute: 'telnet.cleartext_credentials', value: 'true', confidence: 0.9, evidence: `password typed in clear text at the server's "${prompt}" prompt (not kept)` });
      this.done = this.bannerDone;
    }
    this.resetClientLine();
    // The client's newline moved the cursor too (local echo): the server's next text starts a new line.
    this.serverLine = '';
  }

  private resetClientLine(): void {
    this.clientLine = '';
    this.clientTyped = 0;
    this.answering = 'none';
  }
}

/** IAC WILL/WONT/DO/DONT option, or IAC SB: the start of a negotiation. */
function negotiation(p: Buffer, i: number): number {
  if (p[i] !== IAC) return 0;
  const c = p[i + 1] ?? 0;
  if (c >= WILL && c <= DONT) return i + 2 < p.length ? 3 : 0;
  if (c === SB) {
    // IAC SB option … IAC SE
    for (let j = i + 3; j + 1 < p.length && j < i + 512; j++) if (p[j] === IAC && p[j + 1] === SE) return j + 2 - i;
  }
  return 0;
}

export const telnet: Dissector = {
  name: 'telnet',
  transport: 'tcp',
  ports: [23],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (p.length === 0) return false;
    if (portMatch) {
      if (negotiation(p, 0) > 0) return true;
      // Devices that skip negotiation and print a banner or prompt straight away.
      const n = Math.min(p.length, 64);
      for (let i = 0; i < n; i++) {
        const c = p[i] as number;
        if ((c < 0x20 && c !== 0x0d && c !== 0x0a && c !== 0x09 && c !== ESC && c !== 0x00) || c >= 0x7f) return false;
      }
      return true;
    }
    // Elsewhere: the payload is nothing but well-formed negotiations, at least two of them.
    let i = 0;
    let k = 0;
    while (i < p.length && k < 64) {
      const n = negotiation(p, i);
      if (n === 0) return false;
      i += n;
      k++;
    }
    return k >= 2 && i === p.length;
  },
  openStream(): StreamSession {
    return new TelnetSession();
  },
};

export { TelnetSession };
