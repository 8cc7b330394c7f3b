/**
 * The simulator's device catalogue: what kinds of device a hospital has, who makes them, what they
 * run and what they say on the wire. Kept as data (data/simulator/*.json) so a user can add a kind
 * without touching code; validated here with zod so a mistake in the file gets a clear message.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const Category = z.enum(['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it']);
export const Criticality = z.enum(['life-sustaining', 'diagnostic', 'support']);

/** How an operating system shows itself on the wire; devices refer to one by key. */
export const OsProfile = z.object({
  /** Human name and version as the ground truth states it: "Windows 7 SP1", "6.1.7601". */
  name: z.string(),
  version: z.string(),
  family: z.enum(['windows', 'linux', 'rtos', 'vxworks', 'qnx', 'android', 'ios', 'macos', 'embedded']),
  /** Initial TTL (64, 128, 255). */
  ttl: z.number().int().min(1).max(255),
  /** TCP SYN as this stack sends it (so p0f-style fingerprints match a real signature). */
  tcp: z.object({
    window: z.number().int().min(0).max(65535),
    mss: z.number().int().min(0).max(65535),
    /** Window scale; omit when the stack sends none. */
    wscale: z.number().int().min(0).max(14).optional(),
    /** Option layout in p0f notation: "mss,nop,ws,nop,nop,sok" or "mss,sok,ts,nop,ws". */
    options: z.string(),
    df: z.boolean(),
    /** The p0f label this SYN should match, e.g. "s:win:Windows:7 or 8" (documentation and test oracle). */
    p0f: z.string().optional(),
  }),
  dhcp: z
    .object({
      /** Option 55 as Fingerbank writes it: "1,15,3,6,44,46,47,31,33,121,249,43". */
      paramList: z.string(),
      vendorClass: z.string().optional(),
      /** Options in the order the client sends them (after 53), e.g. [61, 50, 12, 81, 60, 55]. */
      optionOrder: z.array(z.number().int()).optional(),
      maxMessageSize: z.number().int().optional(),
    })
    .optional(),
  /** NTLMSSP VERSION this OS sends: "6.1.7601". Windows only. */
  ntlmVersion: z.string().optional(),
  /** SMB1 Native OS / LAN Manager strings (old Windows and Samba). */
  smbNativeOs: z.string().optional(),
  smbNativeLanman: z.string().optional(),
  /** SMB2 dialects the client offers, e.g. ["2.0.2","2.1"] for Windows 7. */
  smbDialects: z.array(z.string()).optional(),
  /** HTTP User-Agent of the OS's own web client (updates, browsers). */
  userAgent: z.string().optional(),
  /** SNMP sysDescr template for agents on this OS. */
  snmpSysDescr: z.string().optional(),
  /** TLS ClientHello style: which stack (affects cipher list and extensions). */
  tlsClient: z.enum(['schannel-legacy', 'schannel-modern', 'openssl', 'java', 'embedded', 'apple']).optional(),
});
export type OsProfile = z.infer<typeof OsProfile>;

const Dicom = z.object({
  /** AE title pattern; {n} is the device's number within its kind, {n:02} zero-padded. */
  aeTitle: z.string().max(16),
  implementationClassUid: z.string().regex(/^[0-9.]+$/).max(64),
  implementationVersion: z.string().max(16).optional(),
  /** What it does in DICOM: a modality stores to PACS and queries the worklist; PACS is an SCP. */
  role: z.enum(['modality', 'pacs', 'worklist', 'workstation', 'printer']),
  /** SOP Class UIDs it proposes or accepts. */
  sopClasses: z.array(z.string().regex(/^[0-9.]+$/)).min(1),
  /** Port it listens on (SCPs). */
  port: z.number().int().optional(),
});

const Hl7 = z.object({
  sendingApplication: z.string(),
  sendingFacility: z.string(),
  role: z.enum(['sender', 'receiver', 'engine']),
  /** Message types it sends: "ADT^A01", "ORM^O01", "ORU^R01". */
  messages: z.array(z.string()),
  version: z.string(),
  port: z.number().int().optional(),
});

const Http = z.object({
  port: z.number().int(),
  /** Server header, X-Powered-By etc. exactly as the device sends them. */
  headers: z.record(z.string(), z.string()),
  title: z.string().optional(),
  /** What an error page from it looks like when provoked (reconnaissance incidents): a framework name. */
  errorStyle: z.enum(['aspnet', 'java', 'php', 'python', 'node', 'iis', 'tomcat', 'plain']).optional(),
  tls: z.boolean().optional(),
});

export const DeviceKind = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  category: Category,
  /** What a clinician would call it: "CT scanner", "Infusion pump". */
  type: z.string(),
  criticality: Criticality,
  vendor: z.string(),
  model: z.string(),
  /** Real IEEE MA-L prefixes of the NIC vendor ("00:1B:21"); checked against the registry in tests. */
  oui: z.array(z.string().regex(/^[0-9A-F]{2}(:[0-9A-F]{2}){2}$/)).min(1),
  /** Key into the OS profiles. */
  os: z.string(),
  /** Devices of this kind per 100 devices in the hospital (the simulator scales and rounds, at least `min`). */
  per100: z.number().min(0),
  min: z.number().int().min(0).default(0),
  /** Hostname pattern: {n}, {n:02}. */
  hostname: z.string(),
  /** Network zone: decides the subnet/VLAN. */
  zone: z.enum(['imaging', 'clinical', 'lab', 'biomed', 'it', 'servers', 'building', 'voice', 'guest']),
  dicom: Dicom.optional(),
  hl7: Hl7.optional(),
  http: Http.optional(),
  /** SNMP agent: sysDescr and sysObjectID it answers with. */
  snmp: z.object({ sysDescr: z.string(), sysObjectId: z.string().regex(/^[0-9.]+$/) }).optional(),
  /** TLS server names it connects to (vendor clouds, update servers). */
  tlsSni: z.array(z.string()).optional(),
  /** DNS names it resolves. */
  dnsNames: z.array(z.string()).optional(),
  ssdp: z.object({ server: z.string(), deviceType: z.string() }).optional(),
  mdns: z.object({ service: z.string(), txt: z.record(z.string(), z.string()) }).optional(),
  /** Speaks SMB2 to file servers / domain controllers (Windows devices). */
  smb: z.boolean().optional(),
  ntp: z.boolean().optional(),
  /** Network services this kind provides to the others (infrastructure servers). */
  serves: z.array(z.enum(['dhcp', 'dns', 'ntp', 'smb', 'domain', 'snmp-manager', 'backup', 'syslog'])).optional(),
  /** Hours (local) when it is busy: [start, end). Outside them activity drops to `nightFactor`. */
  activeHours: z.tuple([z.number().min(0).max(24), z.number().min(0).max(24)]).default([7, 19]),
  nightFactor: z.number().min(0).max(1).default(0.2),
  /** Short note on where the facts come from (vendor docs, DICOM conformance statement …). */
  source: z.string().optional(),
});
export type DeviceKind = z.infer<typeof DeviceKind>;

export const Catalogue = z.object({
  osProfiles: z.record(z.string(), OsProfile),
  devices: z.array(DeviceKind).min(1),
});
export type Catalogue = z.infer<typeof Catalogue>;

/** Loads and validates a catalogue file; every problem is reported with its JSON path. */
export function loadCatalogue(path: string): Catalogue {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not readable JSON: ${(e as Error).message}`);
  }
  const r = Catalogue.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${path}: invalid device catalogue:\n${issues.join('\n')}`);
  }
  const cat = r.data;
  const ids = new Set<string>();
  for (const d of cat.devices) {
    if (ids.has(d.id)) throw new Error(`${path}: device kind "${d.id}" appears twice`);
    ids.add(d.id);
    if (cat.osProfiles[d.os] === undefined) throw new Error(`${path}: device kind "${d.id}" refers to unknown OS profile "${d.os}"`);
  }
  return cat;
}
