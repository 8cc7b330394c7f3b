/**
 * Labelled incidents injected into the simulated hospital: each is a one-shot activity whose
 * conversations carry the incident's tag, so the ground truth can name the exact frames it spans.
 * They are placed after the first 60 % of the capture, leaving a clean learning period before them.
 */
import type { Behaviour, External } from './behaviour.ts';
import { DeviceKind, type OsProfile } from './catalogue.ts';
import type { Activity, Conversation } from './engine.ts';
import type { Hospital, SimDevice } from './hospital.ts';
import { ipBytes, macFrom } from './hospital.ts';
import { udpExchange, type Message } from './conversation.ts';
import type { Rng } from './rng.ts';
import { dnsAnswer, dnsQuery } from './payloads/dns.ts';
import * as dicom from './payloads/dicom.ts';
import { errorPage, type ErrorStyle } from './payloads/errors.ts';
import { httpRequest, httpResponse } from './payloads/http.ts';
import * as smb from './payloads/smb.ts';

export const INCIDENT_KINDS = [
  'recon-error-pages',
  'port-scan',
  'exfiltration',
  'dicom-unknown-destination',
  'rogue-device',
  'cleartext-credentials',
  'smb-lateral-movement',
  'eternalblue',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface Incident {
  id: string;
  kind: IncidentKind;
  description: string;
  start: number;
  end: number;
  /** Ground-truth device ids (hostnames) or external addresses involved. */
  attacker: string;
  victims: string[];
  /** What a detector should find (leaked facts, credentials kind …). */
  expect: Record<string, unknown>;
  firstFrame: number;
  lastFrame: number;
  packets: number;
}

/** Parses "all", "none" or a comma list of kinds. */
export function parseIncidents(spec: string): IncidentKind[] {
  if (spec === 'all') return [...INCIDENT_KINDS];
  if (spec === 'none' || spec === '') return [];
  const kinds = spec.split(',').map((s) => s.trim());
  for (const k of kinds) if (!(INCIDENT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown incident kind "${k}" (known: ${INCIDENT_KINDS.join(', ')})`);
  return kinds as IncidentKind[];
}

class Once implements Activity {
  constructor(
    public next: number,
    private readonly make: (now: number) => Conversation[],
  ) {}
  fire(now: number): Conversation[] {
    this.next = Infinity;
    return this.make(now);
  }
}

/** A Raspberry Pi plugged into a clinical wall port: the rogue device. */
const ROGUE_KIND = DeviceKind.parse({
  id: 'rogue-raspberry-pi',
  category: 'general-it',
  type: 'Unknown single-board computer',
  criticality: 'support',
  vendor: 'Raspberry Pi Foundation',
  model: 'Raspberry Pi 3',
  oui: ['B8:27:EB'],
  os: 'linux',
  per100: 0,
  hostname: 'kali',
  zone: 'clinical',
});

export class IncidentPlanner {
  readonly incidents: Incident[] = [];
  readonly activities: Activity[] = [];
  /** Devices that only exist because of an incident (the rogue). */
  readonly extraDevices: SimDevice[] = [];

  constructor(
    private readonly h: Hospital,
    private readonly b: Behaviour,
    private readonly rng: Rng,
    private readonly start: number,
    private readonly end: number,
  ) {}

  plan(kinds: readonly IncidentKind[]): void {
    const span = this.end - this.start;
    const from = this.start + span * 0.6;
    const slot = (span * 0.35) / Math.max(1, kinds.length);
    kinds.forEach((kind, i) => {
      const at = from + slot * i + this.rng.next() * slot * 0.5;
      const inc = this.make(kind, `incident-${i + 1}`, at);
      if (inc !== undefined) this.incidents.push(inc);
    });
  }

  /** Records a frame written for an incident's conversation. */
  frame(tag: string, frame: number, time: number): void {
    const inc = this.incidents.find((x) => x.id === tag);
    if (inc === undefined) return;
    if (inc.firstFrame === 0) {
      inc.firstFrame = frame;
      inc.start = time;
    }
    inc.lastFrame = frame;
    inc.end = time;
    inc.packets++;
  }

  private record(id: string, kind: IncidentKind, at: number, attacker: string, victims: string[], description: string, expect: Record<string, unknown> = {}): Incident {
    return { id, kind, description, start: at, end: at, attacker, victims, expect, firstFrame: 0, lastFrame: 0, packets: 0 };
  }

  private pick(filter: (d: SimDevice) => boolean): SimDevice | undefined {
    const list = this.h.devices.filter(filter);
    return list.length > 0 ? this.rng.pick(list) : undefined;
  }

  /**
   * The device resolves the destination's name first, as a modality configured with an archive's host
   * name or malware with its drop server's would. Drawn from the incident's own random stream, so the
   * rest of the capture is as before.
   */
  private lookup(d: SimDevice, ext: External, now: number, rng: Rng, tag: string): Conversation[] {
    const dns = this.h.withRole('dns')[0];
    if (dns === undefined || dns === d) return [];
    const id = rng.int(65536);
    const clientPort = (d.os.family === 'windows' ? 49152 : 32768) + rng.int(16384);
    const link = this.h.link(d.host, d.zone, dns.host, dns.zone);
    const datagrams = [
      { from: 0 as const, data: dnsQuery(id, ext.name) },
      { from: 1 as const, data: dnsAnswer(id, ext.name, [ext.ip]), delay: 0.002 },
    ];
    return [{ packets: udpExchange({ client: d.host, server: dns.host, link, clientPort, serverPort: 53, start: now, rng }, datagrams), tag }];
  }

  private workstation(): SimDevice | undefined {
    return this.pick((d) => d.os.family === 'windows' && (d.kind.category === 'general-it' || d.kind.category === 'clinical-it') && d.kind.serves === undefined);
  }

  private make(kind: IncidentKind, id: string, at: number): Incident | undefined {
    const rng = this.rng.fork(id);
    switch (kind) {
      case 'recon-error-pages': {
        // One attacker, up to three web interfaces whose frameworks leak differently (ASP.NET, Java with
        // Oracle, PHP or IIS with SQL Server): what reconnaissance against a hospital's devices looks like.
        const informative = ['aspnet', 'java', 'tomcat', 'php', 'iis', 'python', 'node'];
        const candidates = this.h.devices.filter((d) => d.kind.http !== undefined && d.kind.http.tls !== true);
        const victims: SimDevice[] = [];
        for (const style of informative) {
          const v = candidates.find((d) => d.kind.http?.errorStyle === style && !victims.includes(d));
          if (v !== undefined && victims.length < 3) victims.push(v);
        }
        if (victims.length === 0 && candidates.length > 0) victims.push(this.rng.pick(candidates));
        const attacker = this.workstation();
        if (victims.length === 0 || attacker === undefined) return undefined;
        const probes = ['/admin', '/login.aspx?user=%27', "/status?id=1'", '/api/v1/devices/../../etc/passwd', '/cgi-bin/test.cgi', "/report?from=2026-01-01'--"];
        const leaks: Record<string, Record<string, string>> = {};
        this.activities.push(
          new Once(at, (now) =>
            victims.flatMap((victim, vi) => {
              const http = victim.kind.http as NonNullable<SimDevice['kind']['http']>;
              const style = (http.errorStyle ?? 'aspnet') as ErrorStyle;
              const page = errorPage(style, '/', victim.kind.model.replace(/\W+/g, ''));
              return probes.map((path, k) => {
                const provokes = path.includes("'") || path.includes('%27');
                const res = provokes
                  ? httpResponse(page.status, { ...http.headers, 'Content-Type': page.contentType }, page.body, now)
                  : httpResponse(404, { ...http.headers, 'Content-Type': 'text/html' }, '<html><body><h1>404 Not Found</h1></body></html>', now);
                const req = httpRequest('GET', victim.host.ipText, path, { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) sqlmap/1.7.2' });
                return this.b.tcp(attacker, victim.host, victim.zone, http.port, now + vi * 20 + k * 1.5, [{ from: 0, data: req }, { from: 1, data: res, delay: 0.02 }], id);
              });
            }),
          ),
        );
        for (const v of victims) leaks[v.id] = errorPage((v.kind.http?.errorStyle ?? 'aspnet') as ErrorStyle, '/', v.kind.model.replace(/\W+/g, '')).leaks;
        return this.record(id, kind, at, attacker.id, victims.map((v) => v.id), `${attacker.id} probes the web interfaces of ${victims.map((v) => `${v.id} (${v.kind.http?.errorStyle ?? 'aspnet'})`).join(', ')} with injection strings; they answer with error pages`, { leaks, userAgent: 'sqlmap/1.7.2' });
      }
      case 'port-scan': {
        const attacker = this.workstation();
        const zone = this.rng.pick([...this.h.zones.values()].filter((z) => z.name !== 'guest' && this.h.devices.some((d) => d.zone === z)));
        const targets = this.h.devices.filter((d) => d.zone === zone && d !== attacker).slice(0, 12);
        if (attacker === undefined || targets.length === 0) return undefined;
        const ports = [21, 22, 23, 25, 80, 104, 135, 139, 443, 445, 1433, 2575, 3389, 5900, 8080, 11112];
        this.activities.push(
          new Once(at, (now) => {
            const convs: Conversation[] = [];
            let t = now;
            for (const target of targets) {
              for (const port of ports) {
                // Open ports answer SYN+ACK (and the scanner resets); closed ones answer RST.
                const open = port === (target.kind.dicom?.port ?? (target.kind.dicom !== undefined ? 104 : -1)) || port === (target.kind.http?.port ?? -1) || (port === 445 && target.os.family === 'windows');
                convs.push(this.b.tcp(attacker, target.host, target.zone, port, t, [], id, open ? { halfOpen: true } : { refuse: 'rst' }));
                t += 0.002 + rng.next() * 0.002;
              }
            }
            return convs;
          }),
        );
        return this.record(id, kind, at, attacker.id, targets.map((d) => d.id), `${attacker.id} SYN-scans ${targets.length} hosts in the ${zone.name} zone on ${ports.length} ports`, { ports });
      }
      case 'exfiltration': {
        const victim = this.pick((d) => d.kind.category === 'imaging' && d.os.family === 'windows') ?? this.workstation();
        if (victim === undefined) return undefined;
        const ext = this.b.external(`exfil-${rng.u32().toString(16)}.example.net`);
        const size = 40 * 1024 * 1024;
        const bulk = { length: size, slice: (off: number, n: number) => dicom.PIXELS.subarray(off % (dicom.PIXELS.length - n), (off % (dicom.PIXELS.length - n)) + n) };
        this.activities.push(new Once(at, (now) => [...this.lookup(victim, ext, now, rng, id), this.b.tcp(victim, ext, undefined, 443, now + 0.02, [{ from: 0, data: bulk }, { from: 1, data: Buffer.from('OK'), delay: 0.1 }], id)]));
        return this.record(id, kind, at, victim.id, [ext.ipText], `${victim.id} uploads ${size / 1024 / 1024} MB to a never-seen external address ${ext.ipText}`, { bytes: size, destination: ext.ipText });
      }
      case 'dicom-unknown-destination': {
        const victim = this.pick((d) => d.kind.dicom?.role === 'modality');
        if (victim === undefined) return undefined;
        const dc = victim.kind.dicom as NonNullable<SimDevice['kind']['dicom']>;
        const ext = this.b.external('pacs-cloud.example.org');
        const sop = dc.sopClasses[0] as string;
        const me: dicom.AssociationParty = { aeTitle: victim.aeTitle ?? 'SIM', implementationClassUid: dc.implementationClassUid };
        const them: dicom.AssociationParty = { aeTitle: 'EXT_ARCHIVE', implementationClassUid: '1.2.826.0.1.3680043.2.1143.107.104.103.115' };
        const messages = function* (): Generator<Message> {
          yield { from: 0, data: dicom.associateRq(me, them.aeTitle, [sop]) };
          yield { from: 1, data: dicom.associateAc(them, me.aeTitle, 1), delay: 0.05 };
          for (let k = 0; k < 5; k++) {
            const s: dicom.ImageSpec = { sopClass: sop, sopInstance: dicom.makeUid('1.2.826.0.1.3680043.9.7604', at, k), studyUid: dicom.makeUid('1.2.826.0.1.3680043.9.7604', at), seriesUid: dicom.makeUid('1.2.826.0.1.3680043.9.7604', at, 1), modality: 'OT', manufacturer: victim.kind.vendor, model: victim.kind.model, softwareVersion: '1', rows: 256, columns: 256, patientNumber: 1, stationName: victim.hostname };
            yield { from: 0, data: dicom.pData(1, true, true, dicom.storeRq(k + 1, sop, s.sopInstance)) };
            for (const p of dicom.datasetPdus(1, dicom.imageHeader(s, '20261123'), 256 * 256 * 2, 16372)) yield { from: 0, data: p, delay: 0.0001 };
            yield { from: 1, data: dicom.pData(1, true, true, dicom.storeRsp(k + 1, sop, s.sopInstance)), delay: 0.05 };
          }
          yield { from: 0, data: dicom.releaseRq() };
          yield { from: 1, data: dicom.releaseRp(), delay: 0.05 };
        };
        this.activities.push(new Once(at, (now) => [...this.lookup(victim, ext, now, rng, id), this.b.tcp(victim, ext, undefined, 11112, now + 0.02, messages(), id)]));
        return this.record(id, kind, at, victim.id, [ext.ipText], `${victim.id} sends 5 images by DICOM C-STORE to an unknown archive ${ext.ipText} (AE EXT_ARCHIVE)`, { calledAe: 'EXT_ARCHIVE', destination: ext.ipText });
      }
      case 'rogue-device': {
        // Kali on a Raspberry Pi: a modern Linux stack, whatever the catalogue calls it.
        const os = (this.h.catalogue.osProfiles[ROGUE_KIND.os] as OsProfile | undefined) ?? Object.values(this.h.catalogue.osProfiles).find((p) => p.family === 'linux');
        const zone = this.h.zones.get('clinical');
        if (os === undefined || zone === undefined) return undefined;
        const ipText = `10.${zone.octet}.9.${200 + rng.int(50)}`;
        const dev: SimDevice = {
          id: 'kali',
          kind: ROGUE_KIND,
          os,
          n: 1,
          hostname: 'kali',
          host: { mac: macFrom('B8:27:EB', rng), ip: ipBytes(ipText), ipText, ttl: os.ttl, os },
          zone,
          joins: at,
        };
        this.extraDevices.push(dev);
        const near = this.h.devices.filter((d) => d.zone === zone || d.kind.category === 'infusion' || d.kind.category === 'patient-monitoring');
        const targets = (near.length > 0 ? near : this.h.devices).slice(0, 20);
        this.activities.push(
          new Once(at + 5, (now) =>
            targets.map((t, k) => this.b.tcp(dev, t.host, t.zone, 80, now + k * 0.01, [], id, t.kind.http?.port === 80 ? { halfOpen: true } : { refuse: 'rst' })),
          ),
        );
        this.activities.push(this.b.dhcpActivity(dev, rng.fork('dhcp'), id));
        return this.record(id, kind, at, dev.id, targets.map((d) => d.id), `an unknown ${ROGUE_KIND.model} (${ipText}) joins the clinical network and probes ${targets.length} devices`, { mac: [...dev.host.mac].map((x) => x.toString(16).padStart(2, '0')).join(':') });
      }
      case 'cleartext-credentials': {
        const web = this.pick((d) => d.kind.http !== undefined && d.kind.http.tls !== true);
        const user = this.workstation();
        const telnetVictim = this.pick((d) => d.kind.category === 'laboratory' || d.kind.category === 'building-iot') ?? web;
        if (web === undefined || user === undefined || telnetVictim === undefined) return undefined;
        const http = web.kind.http as NonNullable<SimDevice['kind']['http']>;
        const basic = Buffer.from('admin:admin').toString('base64');
        this.activities.push(
          new Once(at, (now) => [
            this.b.tcp(user, web.host, web.zone, http.port, now, [
              { from: 0, data: httpRequest('GET', web.host.ipText, '/config', { Authorization: `Basic ${basic}`, 'User-Agent': user.os.userAgent ?? 'Mozilla/5.0' }) },
              { from: 1, data: httpResponse(200, { ...http.headers, 'Content-Type': 'text/html' }, '<html><body>Configuration</body></html>', now), delay: 0.02 },
            ], id),
            this.b.tcp(user, telnetVictim.host, telnetVictim.zone, 23, now + 30, [
              { from: 1, data: Buffer.from(`\r\n${telnetVictim.kind.model}\r\nlogin: `), delay: 0.01 },
              { from: 0, data: Buffer.from('service\r\n'), delay: 1.2 },
              { from: 1, data: Buffer.from('Password: '), delay: 0.01 },
              { from: 0, data: Buffer.from('service123\r\n'), delay: 1.5 },
              { from: 1, data: Buffer.from('\r\nLast login: Mon Nov 23 08:12:44 2026\r\n$ '), delay: 0.05 },
              { from: 0, data: Buffer.from('exit\r\n'), delay: 2 },
            ], id),
            this.b.tcp(user, telnetVictim.host, telnetVictim.zone, 21, now + 60, [
              { from: 1, data: Buffer.from('220 Service FTP ready\r\n'), delay: 0.01 },
              { from: 0, data: Buffer.from('USER service\r\n'), delay: 0.5 },
              { from: 1, data: Buffer.from('331 Password required for service\r\n'), delay: 0.01 },
              { from: 0, data: Buffer.from('PASS service123\r\n'), delay: 0.5 },
              { from: 1, data: Buffer.from('230 User service logged in\r\n'), delay: 0.01 },
              { from: 0, data: Buffer.from('QUIT\r\n'), delay: 1 },
              { from: 1, data: Buffer.from('221 Goodbye\r\n'), delay: 0.01 },
            ], id),
          ]),
        );
        return this.record(id, kind, at, user.id, [web.id, telnetVictim.id], `${user.id} logs in with clear-text credentials: HTTP basic auth to ${web.id}, telnet and FTP to ${telnetVictim.id}`, { protocols: ['http-basic', 'telnet', 'ftp'], users: ['admin', 'service'] });
      }
      case 'smb-lateral-movement': {
        const attacker = this.workstation();
        const victims = this.h.devices.filter((d) => d !== attacker && d.os.family === 'windows' && d.kind.serves === undefined).slice(0, 8);
        if (attacker === undefined || victims.length === 0) return undefined;
        // One administrator account, every workstation's ADMIN$ and C$ in a few minutes: what PsExec-style spreading looks like.
        this.activities.push(new Once(at, (now) => victims.map((v, k) => this.b.smbSession(attacker, v, 'adm_helpdesk', now + k * 12 + rng.next() * 5, id, ['ADMIN$', 'C$']))));
        return this.record(id, kind, at, attacker.id, victims.map((d) => d.id), `${attacker.id} opens ADMIN$ and C$ on ${victims.length} Windows hosts with one administrator account`, { user: 'adm_helpdesk', shares: ['ADMIN$', 'C$'] });
      }
      case 'eternalblue': {
        const attacker = this.workstation();
        const victim = this.pick((d) => d.os.family === 'windows' && /^(5\.|6\.[01])/.test(d.os.ntlmVersion ?? d.os.version) && d !== attacker);
        if (attacker === undefined || victim === undefined) return undefined;
        const fill = dicom.PIXELS.subarray(0, 4096);
        const uid = 2048;
        const tid = 2049;
        const nativeOs = victim.os.smbNativeOs ?? `Windows 7 Professional ${victim.os.version.split('.').pop() ?? ''} Service Pack 1`;
        const messages = function* (): Generator<Message> {
          yield { from: 0, data: smb.smb1NegotiateRequest(false) };
          yield { from: 1, data: smb.smb1NegotiateResponse(5, Buffer.concat([victim.host.mac, victim.host.mac, Buffer.alloc(4)]), at), delay: 0.001 };
          yield { from: 0, data: smb.smb1AnonymousSessionSetup() };
          yield { from: 1, data: smb.smb1SessionSetupAnonResponse(uid, nativeOs, victim.os.smbNativeLanman ?? victim.os.name), delay: 0.002 };
          yield { from: 0, data: smb.smb1TreeConnect(`\\\\${victim.host.ipText}\\IPC$`, uid) };
          yield { from: 1, data: smb.smb1TreeConnectResponse(uid, tid), delay: 0.001 };
          yield { from: 0, data: smb.smb1PeekNamedPipe(uid, tid) };
          yield { from: 1, data: smb.smb1StatusResponse(0x25, uid, tid, 0xc0000205, 0x41), delay: 0.001 };
          yield { from: 0, data: smb.smb1NtTransact(uid, tid, 1000, fill), delay: 0.05 };
          yield { from: 1, data: smb.smb1StatusResponse(0xa0, uid, tid, 0, 0x41), delay: 0.001 };
          for (let k = 0; k < 16; k++) yield { from: 0, data: smb.smb1Trans2Secondary(uid, tid, 1000 + k * 4096, fill), delay: 0.001 };
        };
        this.activities.push(new Once(at, (now) => [this.b.tcp(attacker, victim.host, victim.zone, 445, now, messages(), id, { close: 'rst' })]));
        return this.record(id, kind, at, attacker.id, [victim.id], `${attacker.id} probes ${victim.id} (${victim.os.name}) for MS17-010 and sends an EternalBlue-style NT_TRANSACT / TRANS2_SECONDARY sequence`, { cve: 'CVE-2017-0144', probeStatus: 'STATUS_INSUFF_SERVER_RESOURCES' });
      }
    }
  }
}
