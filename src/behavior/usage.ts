/**
 * What a device does with its protocols, as the baseline learns it: the DNS names it resolves, the
 * DICOM commands it issues or answers and the SOP classes it proposes, the HL7 message types it
 * sends. Read from the dissectors' observations (already redacted: a name, a command, a SOP class
 * UID, MSH-9 — never a data set or a patient segment), and nothing else is kept.
 *
 * Pure functions: which observation is which usage, and when a later usage is new for a device and
 * its group — at the level where novelty means something:
 *  - DNS: the registrable domain (update.evil.example → evil.example), so a CDN's rotating hosts and
 *    an OS's many update servers are one habit; reverse lookups, .local, single labels and service
 *    discovery (_ldap._tcp…) are not names a device "talks to";
 *  - DICOM commands: exactly (C-MOVE-RQ is not C-STORE-RQ); a cancel is never new (it cancels
 *    something the device already does);
 *  - DICOM SOP classes: exactly, except storage — a device that already stores images proposing
 *    another image type is a new series, not a new behaviour (private classes count as storage:
 *    vendors' private objects are mostly that);
 *  - HL7: the message code (MSH-9.1: ADT, ORU …) — a new trigger of a message the device already
 *    sends (ADT^A40 from an ADT sender) is its routine; a message it never sent is not.
 */
import type { Observation } from '../protocols/observation.ts';

export type UsageKind = 'dns' | 'dicom-command' | 'dicom-sop' | 'hl7';
export const USAGE_KINDS: readonly UsageKind[] = ['dns', 'dicom-command', 'dicom-sop', 'hl7'];

/** What an observation tells the baseline, if anything. */
export type UsageFact =
  | { kind: 'use'; usage: UsageKind; value: string }
  /** The subject answers DNS: its own queries are forwarded ones, not its habits. */
  | { kind: 'resolver' }
  /** A registrable domain of the hospital's own (answered with an internal address, or registered by a host). */
  | { kind: 'local-domain'; domain: string };

/** A DNS name as a device "talks to" it, lower case; undefined for names that are not destinations. */
export function dnsName(raw: string): string | undefined {
  const n = raw.trim().toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > 253 || !n.includes('.')) return undefined;
  if (n.endsWith('.arpa') || n.endsWith('.local') || n.endsWith('.localdomain')) return undefined;
  // Service discovery (_ldap._tcp.dc._msdcs.corp.example) and anything not a host name.
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(n)) return undefined;
  return n;
}

/** Second-level labels under which country codes register (co.uk, com.au, ac.jp …): an approximation of the public suffix list. */
const GENERIC_SLD = new Set(['co', 'com', 'net', 'org', 'gov', 'gob', 'gouv', 'ac', 'edu', 'ne', 'or', 'go', 'mil', 'nhs', 'ltd', 'plc', 'med', 'sch', 'nic', 'info', 'biz']);

/** The domain an organisation registers: the last two labels, three under a country's generic second level. */
export function registrableDomain(name: string): string {
  // By index, not split/join: judgement runs this for every name of every device at each checkpoint.
  const last = name.lastIndexOf('.');
  const second = last <= 0 ? -1 : name.lastIndexOf('.', last - 1);
  if (second < 0) return name;
  if (name.length - last - 1 === 2 && GENERIC_SLD.has(name.slice(second + 1, last))) {
    const third = second === 0 ? -1 : name.lastIndexOf('.', second - 1);
    return third < 0 ? name : name.slice(third + 1);
  }
  return name.slice(second + 1);
}

/** One observation's meaning for the baseline (the sensor reports each value once per address, with its first time). */
export function usageOf(o: Observation): UsageFact | undefined {
  switch (o.attribute) {
    case 'dns.query': {
      const n = dnsName(o.value);
      return n === undefined ? undefined : { kind: 'use', usage: 'dns', value: n };
    }
    case 'dns.server':
      return { kind: 'resolver' };
    case 'dns.resolved': {
      // "name A address": a name answered with an internal address is one of the hospital's own.
      const [name, type, addr] = o.value.split(' ');
      if ((type !== 'A' && type !== 'AAAA') || name === undefined || addr === undefined || !isPrivate(addr)) return undefined;
      const n = dnsName(name);
      return n === undefined ? undefined : { kind: 'local-domain', domain: registrableDomain(n) };
    }
    case 'dns.hostname': {
      const n = dnsName(o.value);
      return n === undefined ? undefined : { kind: 'local-domain', domain: registrableDomain(n) };
    }
    case 'dicom.command':
      return /^[A-Z0-9-]{1,24}$/.test(o.value) || /^0x[0-9a-f]{1,4}$/.test(o.value) ? { kind: 'use', usage: 'dicom-command', value: o.value } : undefined;
    case 'dicom.abstract_syntax':
      return { kind: 'use', usage: 'dicom-sop', value: o.value.slice(0, 160) };
    case 'hl7.message_type':
      return o.value !== '' ? { kind: 'use', usage: 'hl7', value: o.value.slice(0, 32) } : undefined;
  }
  return undefined;
}

/** RFC 1918 / ULA (address.ts's isInternalIp also counts loopback and CGNAT: fine for a DNS answer too). */
function isPrivate(addr: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(addr) || /^f[cd][0-9a-f]{0,2}:/i.test(addr);
}

const STANDARD = '1.2.840.10008.';
const STORAGE = '1.2.840.10008.5.1.4.1.1.';

/** The UID of an abstract-syntax value ("1.2.840.10008.5.1.4.1.2.2.2 (Study Root … MOVE)"). */
export const sopUid = (value: string): string => value.split(' ', 1)[0] ?? value;
const storageLike = (uid: string): boolean => uid.startsWith(STORAGE) || !uid.startsWith(STANDARD);
/** The unit HL7 novelty is judged by: the message code. */
export const hl7Code = (value: string): string => value.split('^', 1)[0] ?? value;

/**
 * The key novelty is judged by, for one usage value: the registrable domain, the command, the SOP
 * class UID ("storage" for every storage-like class), the HL7 code; undefined when the value is never
 * news (a DICOM cancel).
 */
export function noveltyKey(kind: UsageKind, value: string): string | undefined {
  switch (kind) {
    case 'dns':
      return registrableDomain(value);
    case 'dicom-command':
      return value === 'C-CANCEL-RQ' ? undefined : value;
    case 'dicom-sop': {
      const uid = sopUid(value);
      return storageLike(uid) ? 'storage' : uid;
    }
    case 'hl7':
      return hl7Code(value);
  }
}

/** A DICOM usage in words: "sent DICOM C-MOVE requests", "answered DICOM C-FIND requests", "proposed DICOM Study Root … - MOVE". */
export function dicomWords(kind: 'dicom-command' | 'dicom-sop', value: string): string {
  if (kind === 'dicom-sop') {
    const m = /^\S+ \((.+)\)$/.exec(value);
    return `proposed DICOM ${m?.[1] ?? value}`;
  }
  if (value.endsWith('-RQ')) return `sent DICOM ${value.slice(0, -3)} requests`;
  if (value.endsWith('-RSP')) return `answered DICOM ${value.slice(0, -4)} requests`;
  return `sent DICOM command ${value}`;
}

/** An HL7 usage in words: "ADT^A01 messages", an acknowledgement by what it acknowledged. */
export function hl7Words(value: string): string {
  return hl7Code(value) === 'ACK' ? `${value} acknowledgements` : `${value} messages`;
}
