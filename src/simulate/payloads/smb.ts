/**
 * SMB2 (MS-SMB2) sessions authenticated with NTLMSSP (MS-NLMP) inside SPNEGO (RFC 4178), and the
 * SMB1 (MS-CIFS) negotiate and session setup that old Windows still speaks. Every message carries
 * what a passive sensor reads: offered and chosen dialects, the NTLMSSP VERSION of both ends, the
 * server's names in the CHALLENGE target info, and the client's user and workstation names.
 */
import type { Rng } from '../rng.ts';

/** NetBIOS session service framing (RFC 1002 §4.3.1). */
export function nbss(msg: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(msg.length & 0xffffff);
  return Buffer.concat([h, msg]);
}

function utf16(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}

// ---- DER for SPNEGO ------------------------------------------------------------------------

function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const SPNEGO_OID = Buffer.from('06062b0601050502', 'hex');
const NTLMSSP_OID = Buffer.from('060a2b06010401823702020a', 'hex');

export function spnegoInit(ntlm: Buffer | undefined): Buffer {
  const parts = [der(0xa0, der(0x30, NTLMSSP_OID))];
  if (ntlm !== undefined) parts.push(der(0xa2, der(0x04, ntlm)));
  return der(0x60, Buffer.concat([SPNEGO_OID, der(0xa0, der(0x30, Buffer.concat(parts)))]));
}

/** negTokenResp; state 0 accept-completed, 1 accept-incomplete. */
export function spnegoResp(state: number, ntlm: Buffer | undefined, withMech: boolean): Buffer {
  const parts = [der(0xa0, der(0x0a, Buffer.from([state])))];
  if (withMech) parts.push(der(0xa1, NTLMSSP_OID));
  if (ntlm !== undefined) parts.push(der(0xa2, der(0x04, ntlm)));
  return der(0xa1, der(0x30, Buffer.concat(parts)));
}

// ---- NTLMSSP -------------------------------------------------------------------------------

const NTLM_FLAGS = 0xe2888235; // 56 | KEY_EXCH | 128 | VERSION | TARGET_INFO | EXT_SESSIONSEC | ALWAYS_SIGN | NTLM | SIGN | REQUEST_TARGET | UNICODE (as Windows 7+ sends)

/** MS-NLMP 2.2.2.10 VERSION from "major.minor.build". */
export function ntlmVersion(v: string): Buffer {
  const [maj = '6', min = '1', build = '7601'] = v.split('.');
  const b = Buffer.alloc(8);
  b[0] = Number(maj);
  b[1] = Number(min);
  b.writeUInt16LE(Number(build), 2);
  b[7] = 0x0f; // NTLMSSP_REVISION_W2K3
  return b;
}

/** Lays out (fields, payload) where each field is len, maxlen, offset into the message. */
function withPayload(head: Buffer, fieldOffsets: number[], values: Buffer[]): Buffer {
  let off = head.length;
  fieldOffsets.forEach((fo, i) => {
    const v = values[i] as Buffer;
    head.writeUInt16LE(v.length, fo);
    head.writeUInt16LE(v.length, fo + 2);
    head.writeUInt32LE(off, fo + 4);
    off += v.length;
  });
  return Buffer.concat([head, ...values]);
}

export function ntlmNegotiate(version: string): Buffer {
  const h = Buffer.alloc(40);
  h.write('NTLMSSP\0', 0, 'latin1');
  h.writeUInt32LE(1, 8);
  h.writeUInt32LE(NTLM_FLAGS, 12);
  // Domain and workstation fields empty (offsets point at the payload end).
  h.writeUInt32LE(40, 20);
  h.writeUInt32LE(40, 28);
  ntlmVersion(version).copy(h, 32);
  return h;
}

export interface NtlmServer {
  version: string;
  nbComputer: string;
  nbDomain: string;
  dnsComputer: string;
  dnsDomain: string;
}

function avPair(id: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(id, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

function filetime(t: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(Math.floor((t + 11644473600) * 1e7)));
  return b;
}

export function ntlmChallenge(s: NtlmServer, rng: Rng, t: number): Buffer {
  const h = Buffer.alloc(56);
  h.write('NTLMSSP\0', 0, 'latin1');
  h.writeUInt32LE(2, 8);
  h.writeUInt32LE((NTLM_FLAGS | 0x00020000) >>> 0, 20); // + TARGET_TYPE_DOMAIN
  for (let i = 0; i < 8; i++) h[24 + i] = rng.int(256);
  ntlmVersion(s.version).copy(h, 48);
  const info = Buffer.concat([
    avPair(2, utf16(s.nbDomain)),
    avPair(1, utf16(s.nbComputer)),
    avPair(4, utf16(s.dnsDomain)),
    avPair(3, utf16(s.dnsComputer)),
    avPair(5, utf16(s.dnsDomain)),
    avPair(7, filetime(t)),
    avPair(0, Buffer.alloc(0)),
  ]);
  return withPayload(h, [12, 40], [utf16(s.nbDomain), info]);
}

export interface NtlmClient {
  version: string;
  user: string;
  domain: string;
  workstation: string;
}

export function ntlmAuthenticate(c: NtlmClient, s: NtlmServer, rng: Rng, t: number): Buffer {
  const h = Buffer.alloc(88);
  h.write('NTLMSSP\0', 0, 'latin1');
  h.writeUInt32LE(3, 8);
  h.writeUInt32LE(NTLM_FLAGS, 60);
  ntlmVersion(c.version).copy(h, 64);
  for (let i = 0; i < 16; i++) h[72 + i] = rng.int(256); // MIC
  const rand = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(256)));
  // NTLMv2 response: NTProofStr, then the blob (MS-NLMP 2.2.2.7) — random proof, real structure.
  const blobHead = Buffer.alloc(28);
  blobHead[0] = 1;
  blobHead[1] = 1;
  filetime(t).copy(blobHead, 8);
  rand(8).copy(blobHead, 16);
  const blob = Buffer.concat([blobHead, avPair(2, utf16(s.nbDomain)), avPair(1, utf16(s.nbComputer)), avPair(0, Buffer.alloc(0)), Buffer.alloc(4)]);
  const nt = Buffer.concat([rand(16), blob]);
  const lm = Buffer.alloc(24);
  return withPayload(h, [12, 20, 28, 36, 44, 52], [lm, nt, utf16(c.domain), utf16(c.user), utf16(c.workstation), rand(16)]);
}

// ---- SMB2 ----------------------------------------------------------------------------------

export const Smb2Cmd = { NEGOTIATE: 0, SESSION_SETUP: 1, LOGOFF: 2, TREE_CONNECT: 3, TREE_DISCONNECT: 4 } as const;
const STATUS_MORE_PROCESSING = 0xc0000016;

export interface Smb2Header {
  command: number;
  messageId: number;
  response: boolean;
  status?: number;
  sessionId?: bigint;
  treeId?: number;
}

function smb2Header(h: Smb2Header): Buffer {
  const b = Buffer.alloc(64);
  b.write('\xfeSMB', 0, 'latin1');
  b.writeUInt16LE(64, 4);
  b.writeUInt16LE(1, 6); // credit charge
  b.writeUInt32LE(h.status ?? 0, 8);
  b.writeUInt16LE(h.command, 12);
  b.writeUInt16LE(h.response ? 1 : 31, 14); // credits
  b.writeUInt32LE(h.response ? 1 : 0, 16);
  b.writeBigUInt64LE(BigInt(h.messageId), 24);
  b.writeUInt32LE(h.response ? 0 : 0xfeff, 32);
  b.writeUInt32LE(h.treeId ?? 0, 36);
  b.writeBigUInt64LE(h.sessionId ?? 0n, 40);
  return b;
}

const DIALECT_CODES: Record<string, number> = { '2.0.2': 0x0202, '2.1': 0x0210, '3.0': 0x0300, '3.0.2': 0x0302, '3.1.1': 0x0311 };

function pad8(b: Buffer): Buffer {
  return b.length % 8 === 0 ? b : Buffer.concat([b, Buffer.alloc(8 - (b.length % 8))]);
}

/** SMB 3.1.1 negotiate contexts: preauth integrity (SHA-512) and encryption (AES-128-GCM, -CCM). */
function negotiateContexts(rng: Rng): Buffer {
  const preauth = Buffer.alloc(38);
  preauth.writeUInt16LE(1, 0);
  preauth.writeUInt16LE(32, 2);
  preauth.writeUInt16LE(1, 4); // SHA-512
  for (let i = 0; i < 32; i++) preauth[6 + i] = rng.int(256);
  const enc = Buffer.alloc(6);
  enc.writeUInt16LE(2, 0);
  enc.writeUInt16LE(2, 2);
  enc.writeUInt16LE(1, 4);
  const ctx = (type: number, data: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(type, 0);
    h.writeUInt16LE(data.length, 2);
    return Buffer.concat([h, data]);
  };
  return Buffer.concat([pad8(ctx(1, preauth)), ctx(2, enc)]);
}

export function smb2NegotiateRequest(dialects: readonly string[], clientGuid: Buffer, rng: Rng): Buffer {
  const codes = dialects.map((d) => DIALECT_CODES[d] ?? 0x0202);
  const body = Buffer.alloc(36 + codes.length * 2);
  body.writeUInt16LE(36, 0);
  body.writeUInt16LE(codes.length, 2);
  body.writeUInt16LE(1, 4); // signing enabled
  body.writeUInt32LE(0x7f, 8);
  clientGuid.copy(body, 12, 0, 16);
  codes.forEach((c, i) => body.writeUInt16LE(c, 36 + i * 2));
  let msg: Buffer = Buffer.concat([smb2Header({ command: Smb2Cmd.NEGOTIATE, messageId: 0, response: false }), body]);
  if (codes.includes(0x0311)) {
    msg = pad8(msg);
    msg.writeUInt32LE(msg.length, 64 + 28);
    msg.writeUInt16LE(2, 64 + 32);
    msg = Buffer.concat([msg, negotiateContexts(rng)]);
  }
  return nbss(msg);
}

export function smb2NegotiateResponse(dialect: string, serverGuid: Buffer, t: number, rng: Rng, signingRequired: boolean): Buffer {
  const token = spnegoInit(undefined);
  const body = Buffer.alloc(64);
  body.writeUInt16LE(65, 0);
  body.writeUInt16LE(signingRequired ? 3 : 1, 2);
  const code = DIALECT_CODES[dialect] ?? 0x0210;
  body.writeUInt16LE(code, 4);
  serverGuid.copy(body, 8, 0, 16);
  body.writeUInt32LE(0x2f, 24);
  body.writeUInt32LE(8388608, 28);
  body.writeUInt32LE(8388608, 32);
  body.writeUInt32LE(8388608, 36);
  filetime(t).copy(body, 40);
  filetime(t - 86400 * 12).copy(body, 48);
  body.writeUInt16LE(64 + 64, 56);
  body.writeUInt16LE(token.length, 58);
  let msg: Buffer = Buffer.concat([smb2Header({ command: Smb2Cmd.NEGOTIATE, messageId: 0, response: true }), body, token]);
  if (code === 0x0311) {
    msg = pad8(msg);
    msg.writeUInt16LE(2, 64 + 6);
    msg.writeUInt32LE(msg.length, 64 + 60);
    msg = Buffer.concat([msg, negotiateContexts(rng)]);
  }
  return nbss(msg);
}

export function smb2SessionSetupRequest(messageId: number, sessionId: bigint, token: Buffer): Buffer {
  const body = Buffer.alloc(24);
  body.writeUInt16LE(25, 0);
  body[3] = 1; // signing enabled
  body.writeUInt32LE(1, 4); // DFS
  body.writeUInt16LE(64 + 24, 12);
  body.writeUInt16LE(token.length, 14);
  return nbss(Buffer.concat([smb2Header({ command: Smb2Cmd.SESSION_SETUP, messageId, response: false, sessionId }), body, token]));
}

export function smb2SessionSetupResponse(messageId: number, sessionId: bigint, token: Buffer, done: boolean): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(9, 0);
  body.writeUInt16LE(64 + 8, 4);
  body.writeUInt16LE(token.length, 6);
  return nbss(Buffer.concat([smb2Header({ command: Smb2Cmd.SESSION_SETUP, messageId, response: true, sessionId, status: done ? 0 : STATUS_MORE_PROCESSING }), body, token]));
}

export function smb2TreeConnectRequest(messageId: number, sessionId: bigint, path: string): Buffer {
  const p = utf16(path);
  const body = Buffer.alloc(8);
  body.writeUInt16LE(9, 0);
  body.writeUInt16LE(64 + 8, 4);
  body.writeUInt16LE(p.length, 6);
  return nbss(Buffer.concat([smb2Header({ command: Smb2Cmd.TREE_CONNECT, messageId, response: false, sessionId }), body, p]));
}

export function smb2TreeConnectResponse(messageId: number, sessionId: bigint, treeId: number, ipc: boolean): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(16, 0);
  body[2] = ipc ? 2 : 1; // pipe or disk
  body.writeUInt32LE(0x1f01ff, 12);
  return nbss(Buffer.concat([smb2Header({ command: Smb2Cmd.TREE_CONNECT, messageId, response: true, sessionId, treeId }), body]));
}

export function smb2Simple(command: number, messageId: number, sessionId: bigint, treeId: number, response: boolean): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16LE(4, 0);
  return nbss(Buffer.concat([smb2Header({ command, messageId, response, sessionId, treeId }), body]));
}

// ---- SMB1 (old Windows) --------------------------------------------------------------------

function smb1Header(command: number, response: boolean, uid = 0, mid = 1): Buffer {
  const b = Buffer.alloc(32);
  b.write('\xffSMB', 0, 'latin1');
  b[4] = command;
  b[9] = response ? 0x98 : 0x18; // flags: case-insensitive, canonicalised paths (+ reply)
  b.writeUInt16LE(0xc853, 10); // flags2: unicode, NT status, extended security, long names
  b.writeUInt16LE(0xfeff, 26); // PID
  b.writeUInt16LE(uid, 28);
  b.writeUInt16LE(mid, 30);
  return b;
}

/** SMB1 NEGOTIATE offering the classic dialect list (and SMB2 for newer stacks). */
export function smb1NegotiateRequest(withSmb2: boolean): Buffer {
  const dialects = ['PC NETWORK PROGRAM 1.0', 'LANMAN1.0', 'Windows for Workgroups 3.1a', 'LM1.2X002', 'LANMAN2.1', 'NT LM 0.12', ...(withSmb2 ? ['SMB 2.002', 'SMB 2.???'] : [])];
  const data = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d, 'latin1'), Buffer.from([0])])));
  const params = Buffer.alloc(3);
  params[0] = 0; // word count
  params.writeUInt16LE(data.length, 1);
  return nbss(Buffer.concat([smb1Header(0x72, false), params, data]));
}

/** SMB1 SESSION_SETUP_ANDX request (extended security) whose trailer names the client's OS and LAN manager. */
export function smb1SessionSetupRequest(token: Buffer, nativeOs: string, nativeLanman: string, uid = 0): Buffer {
  const words = Buffer.alloc(1 + 24);
  words[0] = 12;
  words[1] = 0xff; // no AndX
  words.writeUInt16LE(16644, 5); // max buffer
  words.writeUInt16LE(50, 7); // max mpx
  words.writeUInt16LE(token.length, 15);
  words.writeUInt32LE(0x800000d4, 21); // capabilities: extended security, NT status, unicode, large files
  // Unicode strings start 2-byte aligned relative to the SMB header; pad after the blob if needed.
  const headerLen = 32 + 1 + 24 + 2 + token.length;
  const pad = headerLen % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const strings = Buffer.concat([utf16(`${nativeOs}\0`), utf16(`${nativeLanman}\0`), utf16('\0')]);
  const data = Buffer.concat([token, pad, strings]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(data.length);
  return nbss(Buffer.concat([smb1Header(0x73, false, uid), words, bc, data]));
}

/** SMB1 NEGOTIATE response choosing "NT LM 0.12" with extended security (server GUID + SPNEGO blob). */
export function smb1NegotiateResponse(dialectIndex: number, serverGuid: Buffer, t: number): Buffer {
  const words = Buffer.alloc(1 + 34);
  words[0] = 17;
  words.writeUInt16LE(dialectIndex, 1);
  words[3] = 0x03; // user-level security, encrypted passwords
  words.writeUInt16LE(50, 4);
  words.writeUInt16LE(1, 6);
  words.writeUInt32LE(16644, 8);
  words.writeUInt32LE(65536, 12);
  words.writeUInt32LE(0x8001f3fd, 20); // capabilities incl. extended security
  filetime(t).copy(words, 24);
  const data = Buffer.concat([serverGuid.subarray(0, 16), spnegoInit(undefined)]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(data.length);
  return nbss(Buffer.concat([smb1Header(0x72, true), words, bc, data]));
}

/** SMB1 SESSION_SETUP_ANDX response: the blob, then the server's native OS and LAN manager. */
export function smb1SessionSetupResponse(token: Buffer, nativeOs: string, nativeLanman: string, domain: string, uid: number, more: boolean): Buffer {
  const words = Buffer.alloc(1 + 8);
  words[0] = 4;
  words[1] = 0xff;
  words.writeUInt16LE(token.length, 7);
  const headerLen = 32 + 1 + 8 + 2 + token.length;
  const pad = headerLen % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const data = Buffer.concat([token, pad, utf16(`${nativeOs}\0`), utf16(`${nativeLanman}\0`), utf16(`${domain}\0`)]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(data.length);
  const h = smb1Header(0x73, true, uid);
  if (more) h.writeUInt32LE(STATUS_MORE_PROCESSING, 5);
  return nbss(Buffer.concat([h, words, bc, data]));
}

// ---- SMB1 messages of the MS17-010 (EternalBlue) exchange -----------------------------------

function smb1(command: number, response: boolean, words: Buffer, data: Buffer, o: { uid?: number; tid?: number; mid?: number; status?: number } = {}): Buffer {
  const h = smb1Header(command, response, o.uid ?? 0, o.mid ?? 1);
  h.writeUInt16LE(o.tid ?? 0, 24);
  if (o.status !== undefined) h.writeUInt32LE(o.status >>> 0, 5);
  const wc = Buffer.from([words.length / 2]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(data.length);
  return nbss(Buffer.concat([h, wc, words, bc, data]));
}

/** Anonymous (null session) SESSION_SETUP_ANDX without extended security, as the exploit sends it. */
export function smb1AnonymousSessionSetup(): Buffer {
  const w = Buffer.alloc(26);
  w[0] = 0xff;
  w.writeUInt16LE(4356, 4);
  w.writeUInt16LE(10, 6);
  w.writeUInt32LE(0x40, 22); // capabilities: NT status only
  const data = Buffer.concat([Buffer.alloc(1), Buffer.from('Windows 2000 2195\0Windows 2000 5.0\0', 'latin1')]);
  // Non-unicode request: clear flags2's unicode bit is implied by the OEM strings; keep the header default.
  return smb1(0x73, false, w, data);
}

export function smb1SessionSetupAnonResponse(uid: number, nativeOs: string, lanman: string): Buffer {
  const w = Buffer.alloc(6);
  w[0] = 0xff;
  const data = Buffer.concat([Buffer.alloc(1), utf16(`${nativeOs}\0`), utf16(`${lanman}\0`), utf16('WORKGROUP\0')]);
  return smb1(0x73, true, w, data, { uid });
}

export function smb1TreeConnect(path: string, uid: number): Buffer {
  const w = Buffer.alloc(8);
  w[0] = 0xff;
  w.writeUInt16LE(1, 6); // password length
  const data = Buffer.concat([Buffer.alloc(1), utf16(`${path}\0`), Buffer.from('?????\0', 'latin1')]);
  return smb1(0x75, false, w, data, { uid });
}

export function smb1TreeConnectResponse(uid: number, tid: number): Buffer {
  const w = Buffer.alloc(6);
  w[0] = 0xff;
  return smb1(0x75, true, w, Buffer.from('IPC\0', 'latin1'), { uid, tid });
}

/** TRANSACTION PeekNamedPipe on FID 0: the MS17-010 probe. A vulnerable host answers STATUS_INSUFF_SERVER_RESOURCES. */
export function smb1PeekNamedPipe(uid: number, tid: number): Buffer {
  const w = Buffer.alloc(32);
  w.writeUInt16LE(0xffff, 2); // max parameter count
  w.writeUInt16LE(0xffff, 4); // max data count
  w.writeUInt16LE(74, 20); // parameter offset
  w.writeUInt16LE(74, 24); // data offset
  w[26] = 2; // setup count
  w.writeUInt16LE(0x23, 28); // PeekNamedPipe
  w.writeUInt16LE(0, 30); // FID 0
  const data = Buffer.concat([Buffer.alloc(1), utf16('\\PIPE\\\0')]);
  return smb1(0x25, false, w, data, { uid, tid, mid: 0x41 });
}

export function smb1StatusResponse(command: number, uid: number, tid: number, status: number, mid = 1): Buffer {
  return smb1(command, true, Buffer.alloc(0), Buffer.alloc(0), { uid, tid, status, mid });
}

/** NT_TRANSACT with a huge total data count, the start of the exploit's buffer grooming. */
export function smb1NtTransact(uid: number, tid: number, dataLen: number, fill: Buffer): Buffer {
  const w = Buffer.alloc(40);
  w[0] = 1; // max setup count
  w.writeUInt32LE(30, 3); // total parameter count
  w.writeUInt32LE(0x10fe8, 7); // total data count (the MS17-010 signature value)
  w.writeUInt32LE(30, 19); // parameter count
  w.writeUInt32LE(84, 23); // parameter offset
  w.writeUInt32LE(dataLen, 27);
  w.writeUInt32LE(116, 31);
  const data = Buffer.concat([Buffer.alloc(2), Buffer.alloc(30), fill.subarray(0, dataLen)]);
  return smb1(0xa0, false, w, data, { uid, tid, mid: 0x41 });
}

/** TRANSACTION2_SECONDARY carrying the next slice of the exploit's data. */
export function smb1Trans2Secondary(uid: number, tid: number, displacement: number, fill: Buffer): Buffer {
  const w = Buffer.alloc(18);
  w.writeUInt16LE(0, 0);
  w.writeUInt16LE(0x10fe8 & 0xffff, 2);
  w.writeUInt16LE(fill.length, 10);
  w.writeUInt16LE(70, 12);
  w.writeUInt16LE(displacement & 0xffff, 14);
  return smb1(0x33, false, w, Buffer.concat([Buffer.alloc(1), fill]), { uid, tid, mid: 0x41 });
}
