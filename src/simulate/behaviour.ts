/**
 * What each kind of device does, and when: the activities that give a simulated hospital its
 * rhythm (busy day shifts, quiet nights, shift changes at 07:00, 15:00 and 23:00) and its stable
 * peer sets (a modality always talks to the same PACS and worklist).
 */
import type { Activity, Conversation } from './engine.ts';
import type { Hospital, SimDevice, Zone } from './hospital.ts';
import { tcpConversation, udpExchange, type Host, type Message, type TcpOptions } from './conversation.ts';
import type { Rng } from './rng.ts';
import type { LinkView } from './wire.ts';
import { dnsAnswer, dnsQuery } from './payloads/dns.ts';
import { ntpReply, ntpRequest } from './payloads/ntp.ts';
import { htmlPage, httpRequest, httpResponse } from './payloads/http.ts';
import { DhcpType, dhcpClientMessage, dhcpServerMessage, type DhcpLease } from './payloads/dhcp.ts';
import type { Datagram } from './conversation.ts';
import * as dicom from './payloads/dicom.ts';
import { hl7Ack, hl7Message, mllp } from './payloads/hl7.ts';
import { snmpGetSystem, snmpSystemResponse } from './payloads/snmp.ts';
import { ssdpNotify } from './payloads/ssdp.ts';
import { mdnsAnnouncement } from './payloads/mdns.ts';
import * as smb from './payloads/smb.ts';
import * as tls from './payloads/tls.ts';

/** Hour of day (0–24, fractional) of a capture time; the hospital runs on UTC in the simulator. */
export function hourOf(t: number): number {
  return (((t / 3600) % 24) + 24) % 24;
}

/** Activity level of a device at time t: 1 in its active hours, its night factor outside them. */
export function level(d: SimDevice, t: number): number {
  const h = hourOf(t);
  const [a, b] = d.kind.activeHours;
  const active = a <= b ? h >= a && h < b : h >= a || h < b;
  return active ? 1 : d.kind.nightFactor;
}

/**
 * An activity that recurs with a mean interval at full activity, slowed by the device's level:
 * inter-arrival times are drawn by thinning a Poisson process, so quiet hours are really quiet.
 */
export class Recurring implements Activity {
  next: number;
  constructor(
    private readonly device: SimDevice,
    private readonly rng: Rng,
    private readonly mean: number,
    start: number,
    private readonly make: (now: number) => Conversation[],
  ) {
    this.next = start + rng.exp(mean);
  }
  fire(now: number): Conversation[] {
    this.next = now + this.rng.exp(this.mean);
    // Thinning: fire with probability equal to the current level.
    if (this.rng.next() >= level(this.device, now)) return [];
    return this.make(now);
  }
}

/** Fixed-period activity (pollers and announcements run day and night), with a little jitter. */
export class Periodic implements Activity {
  next: number;
  constructor(
    private readonly rng: Rng,
    private readonly period: number,
    start: number,
    private readonly make: (now: number) => Conversation[],
  ) {
    this.next = start + rng.next() * period;
  }
  fire(now: number): Conversation[] {
    this.next = now + this.period * (0.95 + this.rng.next() * 0.1);
    return this.make(now);
  }
}

/** Fires at given hours of every day (shift changes, nightly jobs), a few minutes either side. */
export class AtHours implements Activity {
  next: number;
  constructor(
    private readonly rng: Rng,
    private readonly hours: readonly number[],
    private readonly jitter: number,
    start: number,
    private readonly make: (now: number) => Conversation[],
  ) {
    this.next = this.after(start);
  }
  private after(t: number): number {
    const day = Math.floor(t / 86400) * 86400;
    let best = Infinity;
    for (let d = 0; d <= 1; d++) {
      for (const h of this.hours) {
        const at = day + d * 86400 + h * 3600 + this.rng.next() * this.jitter;
        if (at > t && at < best) best = at;
      }
    }
    return best;
  }
  fire(now: number): Conversation[] {
    this.next = this.after(now + this.jitter);
    return this.make(now);
  }
}

export interface NoiseEvent {
  kind: 'new-device' | 'firmware-update';
  device: string;
  time: number;
  description: string;
}

export interface External extends Host {
  name: string;
}

export class Behaviour {
  private readonly ports = new Map<string, number>();
  private readonly externals = new Map<string, External>();

  constructor(
    readonly h: Hospital,
    readonly rng: Rng,
  ) {}

  /** Next ephemeral port of a host, in its OS's range. */
  ephemeral(d: SimDevice | Host): number {
    const host = 'host' in d ? d.host : d;
    const key = host.ipText;
    const win = host.os.family === 'windows';
    const lo = win ? 49152 : 32768;
    const span = win ? 16384 : 28232;
    const cur = this.ports.get(key) ?? lo + this.rng.int(span);
    const next = lo + ((cur - lo + 1) % span);
    this.ports.set(key, next);
    return next;
  }

  /** A host on the Internet (vendor cloud, update server), stable per name. */
  external(name: string): External {
    let e = this.externals.get(name);
    if (e === undefined) {
      // Addresses in TEST-NET-3 (RFC 5737): never a real host.
      const n = this.externals.size;
      const ipText = `203.0.113.${1 + (n % 250)}`;
      // Internet servers run Linux: the catalogue's first Linux profile (servers first, by convention).
      const profiles = Object.values(this.h.catalogue.osProfiles);
      const os = profiles.find((p) => p.family === 'linux') ?? profiles[0];
      if (os === undefined) throw new Error('the catalogue has no OS profiles');
      e = { name, mac: Buffer.alloc(6), ip: Buffer.from(ipText.split('.').map(Number)), ipText, ttl: 64, os };
      this.externals.set(name, e);
    }
    return e;
  }

  tcp(
    client: SimDevice,
    server: Host,
    serverZone: Zone | undefined,
    serverPort: number,
    start: number,
    messages: Iterable<Message>,
    tag?: string,
    extra: Pick<TcpOptions, 'halfOpen' | 'refuse' | 'close'> = {},
  ): Conversation {
    const packets = tcpConversation(
      { client: client.host, server, link: this.h.link(client.host, client.zone, server, serverZone), clientPort: this.ephemeral(client), serverPort, start, rng: this.rng, ...extra },
      messages,
    );
    return tag === undefined ? { packets } : { packets, tag };
  }

  udp(client: SimDevice, server: Host, serverZone: Zone | undefined, clientPort: number, serverPort: number, start: number, datagrams: Iterable<Datagram>, tag?: string): Conversation {
    const packets = udpExchange(
      { client: client.host, server, link: this.h.link(client.host, client.zone, server, serverZone), clientPort, serverPort, start, rng: this.rng },
      datagrams,
    );
    return tag === undefined ? { packets } : { packets, tag };
  }

  /**
   * DHCP as the sensor sees it on the device's segment: the full exchange when the device joins
   * (broadcasts, answered by the zone router relaying for the DHCP server), then unicast renewals
   * at half the lease.
   */
  dhcpActivity(d: SimDevice, rng: Rng, tag?: string): Activity {
    const LEASE = 8 * 3600;
    const serverDev = this.h.withRole('dhcp')[0];
    const server = serverDev?.host ?? d.zone.gateway;
    const gw = d.zone.gateway;
    const bcast: Host = { mac: Buffer.alloc(6, 0xff), ip: Buffer.from([255, 255, 255, 255]), ipText: '255.255.255.255', ttl: 64, os: d.os };
    const unconfigured: Host = { ...d.host, ip: Buffer.alloc(4), ipText: '0.0.0.0' };
    const dnsDev = this.h.withRole('dns')[0];
    const lease: DhcpLease = {
      yiaddr: d.host.ip,
      serverId: server.ip,
      router: gw.ip,
      dns: dnsDev?.host.ip ?? gw.ip,
      mask: Buffer.from([255, 255, 0, 0]),
      domain: 'hospital.example',
      leaseSeconds: LEASE,
    };
    const self = this;
    let joined = false;
    return {
      next: d.joins + rng.next() * 30,
      fire(now: number): Conversation[] {
        const xid = rng.u32();
        const client = { mac: d.host.mac, hostname: d.hostname, os: d.os, xid };
        this.next = now + LEASE / 2;
        if (!joined) {
          joined = true;
          const out = { srcMac: d.host.mac, dstMac: bcast.mac, vlan: d.zone.vlan, hops: 0 };
          const back = { srcMac: gw.mac, dstMac: bcast.mac, vlan: d.zone.vlan, hops: 0 };
          const dgs: Datagram[] = [
            { from: 0, data: dhcpClientMessage(DhcpType.DISCOVER, { ...client, requested: d.host.ip }), src: unconfigured, dst: bcast, link: out },
            { from: 1, data: dhcpServerMessage(DhcpType.OFFER, xid, d.host.mac, lease), src: gw, dst: bcast, link: back, delay: 0.002 },
            { from: 0, data: dhcpClientMessage(DhcpType.REQUEST, { ...client, requested: d.host.ip, serverId: server.ip, secs: 1 }), src: unconfigured, dst: bcast, link: out, delay: 0.01 },
            { from: 1, data: dhcpServerMessage(DhcpType.ACK, xid, d.host.mac, lease), src: gw, dst: bcast, link: back, delay: 0.002 },
          ];
          return [self.udp(d, server, serverDev?.zone, 68, 67, now, dgs, tag)];
        }
        // Renewal (RENEWING state): unicast to the server, ciaddr set.
        return [
          self.udp(d, server, serverDev?.zone, 68, 67, now, [
            { from: 0, data: dhcpClientMessage(DhcpType.REQUEST, { ...client, ciaddr: d.host.ip }) },
            { from: 1, data: dhcpServerMessage(DhcpType.ACK, xid, d.host.mac, lease, d.host.ip), delay: 0.002 },
          ], tag),
        ];
      },
    };
  }

  /** An association: A-ASSOCIATE-RQ/AC, the given DIMSE exchange, A-RELEASE. Lazily, message by message. */
  private *association(calling: SimDevice, called: SimDevice, contexts: readonly string[], body: () => Iterable<Message>): Generator<Message> {
    const cd = calling.kind.dicom;
    const sd = called.kind.dicom;
    if (cd === undefined || sd === undefined) return;
    const me: dicom.AssociationParty = { aeTitle: calling.aeTitle ?? 'SIM', implementationClassUid: cd.implementationClassUid, ...(cd.implementationVersion !== undefined ? { implementationVersion: cd.implementationVersion } : {}) };
    const them: dicom.AssociationParty = { aeTitle: called.aeTitle ?? 'SIM', implementationClassUid: sd.implementationClassUid, ...(sd.implementationVersion !== undefined ? { implementationVersion: sd.implementationVersion } : {}) };
    yield { from: 0, data: dicom.associateRq(me, them.aeTitle, contexts) };
    yield { from: 1, data: dicom.associateAc(them, me.aeTitle, contexts.length), delay: 0.003 };
    yield* body();
    yield { from: 0, data: dicom.releaseRq(), delay: 0.002 };
    yield { from: 1, data: dicom.releaseRp(), delay: 0.001 };
  }

  private dicomActivities(d: SimDevice, rng: Rng): Activity[] {
    const dc = d.kind.dicom;
    if (dc === undefined || dc.role !== 'modality') return [];
    const acts: Activity[] = [];
    const pacs = this.h.withRole('pacs')[0];
    const mwl = this.h.withRole('worklist')[0];
    const port = (x: SimDevice) => x.kind.dicom?.port ?? 104;
    const modality = d.kind.type.match(/\b(CT|MR|US|MG|DX|CR|XA|NM|PT)\b/)?.[1] ?? modalityOf(dc.sopClasses[0] ?? '');
    const sop = dc.sopClasses.find((c) => c.startsWith('1.2.840.10008.5.1.4.1.1.')) ?? '1.2.840.10008.5.1.4.1.1.7';
    const size = IMAGE_SIZE[modality] ?? { rows: 512, columns: 512, images: 10 };
    const uidRoot = dc.implementationClassUid.split('.').slice(0, 7).join('.');
    // Studies: worklist query, then the images to PACS.
    acts.push(
      new Recurring(d, rng, 1800, d.joins, (now) => {
        const convs: Conversation[] = [];
        const date = new Date(now * 1000).toISOString().slice(0, 10).replace(/-/g, '');
        if (mwl !== undefined && mwl !== d) {
          const matches = rng.range(1, 3);
          convs.push(
            this.tcp(d, mwl.host, mwl.zone, port(mwl), now, this.association(d, mwl, [dicom.MWL_FIND], function* () {
              yield { from: 0, data: dicom.pData(1, true, true, dicom.findRq(1, dicom.MWL_FIND)), delay: 0.001 };
              yield { from: 0, data: dicom.pData(1, false, true, dicom.mwlQuery(modality, d.aeTitle ?? '')) };
              for (let i = 0; i < matches; i++) {
                yield { from: 1, data: dicom.pData(1, true, true, dicom.findRsp(1, dicom.MWL_FIND, 0xff00)), delay: 0.005 };
                yield { from: 1, data: dicom.pData(1, false, true, dicom.mwlMatch(modality, d.aeTitle ?? '', rng, date)) };
              }
              yield { from: 1, data: dicom.pData(1, true, true, dicom.findRsp(1, dicom.MWL_FIND, 0x0000)), delay: 0.002 };
            })),
          );
        }
        if (pacs !== undefined && pacs !== d) {
          const study = rng.u32();
          const series = rng.u32();
          const patient = rng.range(1, 99999);
          const images = Math.max(1, Math.round(size.images * (0.5 + rng.next())));
          const spec = (k: number): dicom.ImageSpec => ({
            sopClass: sop,
            sopInstance: dicom.makeUid(uidRoot, study, series, k + 1),
            studyUid: dicom.makeUid(uidRoot, study),
            seriesUid: dicom.makeUid(uidRoot, study, series),
            modality,
            manufacturer: d.kind.vendor,
            model: d.kind.model,
            softwareVersion: dc.implementationVersion ?? '1.0',
            rows: size.rows,
            columns: size.columns,
            patientNumber: patient,
            stationName: d.hostname,
          });
          convs.push(
            this.tcp(d, pacs.host, pacs.zone, port(pacs), now + 60 + rng.next() * 600, this.association(d, pacs, [sop], function* () {
              for (let k = 0; k < images; k++) {
                const s = spec(k);
                yield { from: 0, data: dicom.pData(1, true, true, dicom.storeRq(k + 1, s.sopClass, s.sopInstance)), delay: 0.001 };
                for (const p of dicom.datasetPdus(1, dicom.imageHeader(s, date), s.rows * s.columns * 2, 16372)) yield { from: 0, data: p, delay: 0.00005 };
                yield { from: 1, data: dicom.pData(1, true, true, dicom.storeRsp(k + 1, s.sopClass, s.sopInstance)), delay: 0.004 };
              }
            })),
          );
        }
        return convs;
      }),
    );
    // Connectivity check to PACS, hourly, day and night.
    if (pacs !== undefined && pacs !== d) {
      acts.push(
        new Recurring(d, rng, 3600, d.joins, (now) => [
          this.tcp(d, pacs.host, pacs.zone, port(pacs), now, this.association(d, pacs, [dicom.VERIFICATION], function* () {
            yield { from: 0, data: dicom.pData(1, true, true, dicom.echoRq(1)), delay: 0.001 };
            yield { from: 1, data: dicom.pData(1, true, true, dicom.echoRsp(1)), delay: 0.001 };
          })),
        ]),
      );
    }
    return acts;
  }

  /** HL7: senders (lab, RIS, monitors' gateways) push messages to the interface engine, which fans ADT out. */
  private hl7Activities(d: SimDevice, rng: Rng): Activity[] {
    const hl = d.kind.hl7;
    if (hl === undefined || hl.messages.length === 0) return [];
    const engine = this.h.withRole('hl7-engine')[0];
    const targets = hl.role === 'engine' ? this.h.devices.filter((x) => x.kind.hl7?.role === 'receiver') : engine !== undefined && engine !== d ? [engine] : [];
    if (targets.length === 0) return [];
    const me = { application: hl.sendingApplication, facility: hl.sendingFacility };
    return [
      new Recurring(d, rng, hl.role === 'engine' ? 300 : 900, d.joins, (now) => {
        const to = rng.pick(targets);
        const th = to.kind.hl7;
        if (th === undefined) return [];
        const them = { application: th.sendingApplication, facility: th.sendingFacility };
        const n = rng.range(1, 4);
        const msgs: Message[] = [];
        for (let i = 0; i < n; i++) {
          const m = hl7Message(rng.pick(hl.messages), me, them, now, hl.version, rng);
          msgs.push({ from: 0, data: mllp(m.text), delay: 0.2 });
          msgs.push({ from: 1, data: mllp(hl7Ack(m, them, me, now, hl.version)), delay: 0.01 });
        }
        return [this.tcp(d, to.host, to.zone, th.port ?? 2575, now, msgs)];
      }),
    ];
  }

  /** A multicast group as a UDP peer on the device's own segment. */
  private multicast(d: SimDevice, ip: string, mac: string): { host: Host; link: [LinkView, LinkView] } {
    const host: Host = { mac: Buffer.from(mac.split(':').map((h) => parseInt(h, 16))), ip: Buffer.from(ip.split('.').map(Number)), ipText: ip, ttl: 255, os: d.os };
    const out: LinkView = { srcMac: d.host.mac, dstMac: host.mac, vlan: d.zone.vlan, hops: 0 };
    return { host, link: [out, out] };
  }

  private discoveryActivities(d: SimDevice, rng: Rng): Activity[] {
    const acts: Activity[] = [];
    const ssdp = d.kind.ssdp;
    if (ssdp !== undefined) {
      const g = this.multicast(d, '239.255.255.250', '01:00:5e:7f:ff:fa');
      const uuid = `uuid:${rng.u32().toString(16).padStart(8, '0')}-${d.host.mac.toString('hex')}`;
      acts.push(
        new Periodic(rng, 900, d.joins, (now) => [
          this.udp(d, g.host, undefined, 1900, 1900, now, [
            { from: 0, data: ssdpNotify({ location: `http://${d.host.ipText}:80/description.xml`, server: ssdp.server, usn: `${uuid}::${ssdp.deviceType}`, nt: ssdp.deviceType }), link: g.link[0], dst: g.host },
          ]),
        ]),
      );
    }
    const mdns = d.kind.mdns;
    if (mdns !== undefined) {
      const g = this.multicast(d, '224.0.0.251', '01:00:5e:00:00:fb');
      const service = mdns.service.replace(/\.local\.?$/, '');
      acts.push(
        new Periodic(rng, 3600, d.joins, (now) => [
          this.udp(d, g.host, undefined, 5353, 5353, now, [
            { from: 0, data: mdnsAnnouncement({ instance: `${d.kind.model} (${d.hostname})`, service, host: d.hostname, ip: d.host.ip, port: 631, txt: mdns.txt }), link: g.link[0], dst: g.host },
          ]),
        ]),
      );
    }
    return acts;
  }

  /** The network management server polls every SNMP agent's system group every five minutes. */
  private snmpActivities(d: SimDevice, rng: Rng): Activity[] {
    const sys = d.kind.snmp;
    const nms = this.h.withRole('snmp-manager')[0];
    if (sys === undefined || nms === undefined || nms === d) return [];
    const boot = d.joins - rng.range(3600, 90 * 86400);
    return [
      new Periodic(rng, 300, d.joins, (now) => {
        const id = rng.int(0x7fffffff);
        return [
          this.udp(nms, d.host, d.zone, this.ephemeral(nms), 161, now, [
            { from: 0, data: snmpGetSystem(id) },
            { from: 1, data: snmpSystemResponse(id, { descr: sys.sysDescr, objectId: sys.sysObjectId, uptimeTicks: Math.floor((now - boot) * 100) % 4294967296, name: d.hostname }), delay: 0.003 },
          ]),
        ];
      }),
    ];
  }

  /** An SMB session from a Windows client to a file server: negotiate, NTLMSSP logon, tree connects, logoff. */
  smbSession(d: SimDevice, server: SimDevice, user: string, now: number, tag?: string, shares: readonly [string, string] = ['IPC$', 'Clinical']): Conversation {
    const rng = this.rng;
    const cos = d.os;
    const sos = server.os;
    const ntServer: smb.NtlmServer = {
      version: sos.ntlmVersion ?? '10.0.17763',
      nbComputer: server.hostname.toUpperCase().slice(0, 15),
      nbDomain: 'SIMHOSP',
      dnsComputer: `${server.hostname.toLowerCase()}.simhosp.example`,
      dnsDomain: 'simhosp.example',
    };
    const ntClient: smb.NtlmClient = { version: cos.ntlmVersion ?? '6.1.7601', user, domain: 'SIMHOSP', workstation: d.hostname.toUpperCase().slice(0, 15) };
    const guid = (x: SimDevice) => Buffer.concat([x.host.mac, x.host.mac, Buffer.from([0x53, 0x49, 0x4d, 0x48])]);
    const share = `\\\\${ntServer.nbComputer}\\`;
    const dialects = cos.smbDialects ?? ['2.0.2', '2.1'];
    const serverDialects = sos.smbDialects ?? ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'];
    const chosen = [...dialects].reverse().find((x) => serverDialects.includes(x)) ?? '2.0.2';
    const sid = BigInt(rng.u32()) * 65536n + 0x41n;
    const messages = function* (): Generator<Message> {
      if (dialects.length === 0 || cos.smbNativeOs !== undefined) {
        // SMB1 client (Windows XP era): SMB1 negotiate and session setup, native OS strings included.
        yield { from: 0, data: smb.smb1NegotiateRequest(false) };
        yield { from: 1, data: smb.smb1NegotiateResponse(5, guid(server), now), delay: 0.001 };
        yield { from: 0, data: smb.smb1SessionSetupRequest(smb.spnegoInit(smb.ntlmNegotiate(ntClient.version)), cos.smbNativeOs ?? 'Windows 5.1', cos.smbNativeLanman ?? 'Windows 2000 LAN Manager') };
        yield { from: 1, data: smb.smb1SessionSetupResponse(smb.spnegoResp(1, smb.ntlmChallenge(ntServer, rng, now), true), sos.smbNativeOs ?? `${sos.name} ${sos.version.split('.').pop() ?? ''}`, sos.smbNativeLanman ?? sos.name, 'SIMHOSP', 2049, true), delay: 0.002 };
        yield { from: 0, data: smb.smb1SessionSetupRequest(smb.spnegoResp(1, smb.ntlmAuthenticate(ntClient, ntServer, rng, now), false), cos.smbNativeOs ?? 'Windows 5.1', cos.smbNativeLanman ?? 'Windows 2000 LAN Manager', 2049) };
        yield { from: 1, data: smb.smb1SessionSetupResponse(smb.spnegoResp(0, undefined, false), sos.smbNativeOs ?? `${sos.name} ${sos.version.split('.').pop() ?? ''}`, sos.smbNativeLanman ?? sos.name, 'SIMHOSP', 2049, false), delay: 0.01 };
        return;
      }
      yield { from: 0, data: smb.smb2NegotiateRequest(dialects, guid(d), rng) };
      yield { from: 1, data: smb.smb2NegotiateResponse(chosen, guid(server), now, rng, true), delay: 0.001 };
      yield { from: 0, data: smb.smb2SessionSetupRequest(1, 0n, smb.spnegoInit(smb.ntlmNegotiate(ntClient.version))) };
      yield { from: 1, data: smb.smb2SessionSetupResponse(1, sid, smb.spnegoResp(1, smb.ntlmChallenge(ntServer, rng, now), true), false), delay: 0.002 };
      yield { from: 0, data: smb.smb2SessionSetupRequest(2, sid, smb.spnegoResp(1, smb.ntlmAuthenticate(ntClient, ntServer, rng, now), false)) };
      yield { from: 1, data: smb.smb2SessionSetupResponse(2, sid, smb.spnegoResp(0, undefined, false), true), delay: 0.01 };
      yield { from: 0, data: smb.smb2TreeConnectRequest(3, sid, `${share}${shares[0]}`) };
      yield { from: 1, data: smb.smb2TreeConnectResponse(3, sid, 1, true), delay: 0.001 };
      yield { from: 0, data: smb.smb2TreeConnectRequest(4, sid, `${share}${shares[1]}`) };
      yield { from: 1, data: smb.smb2TreeConnectResponse(4, sid, 5, false), delay: 0.001 };
      yield { from: 0, data: smb.smb2Simple(smb.Smb2Cmd.TREE_DISCONNECT, 5, sid, 5, false), delay: 30 + rng.next() * 120 };
      yield { from: 1, data: smb.smb2Simple(smb.Smb2Cmd.TREE_DISCONNECT, 5, sid, 5, true), delay: 0.001 };
      yield { from: 0, data: smb.smb2Simple(smb.Smb2Cmd.LOGOFF, 6, sid, 0, false) };
      yield { from: 1, data: smb.smb2Simple(smb.Smb2Cmd.LOGOFF, 6, sid, 0, true), delay: 0.001 };
    };
    return this.tcp(d, server.host, server.zone, 445, now, messages(), tag);
  }

  private smbActivities(d: SimDevice, rng: Rng): Activity[] {
    const server = this.h.withRole('smb')[0];
    if (server === undefined || server === d || d.os.family !== 'windows' || d.kind.smb !== true) return [];
    const user = `${d.kind.category === 'imaging' ? 'svc_' : ''}${rng.pick(['jsmith', 'mgarcia', 'aokafor', 'lchen', 'pnovak', 'rkhan', 'tnguyen', 'ebrown'])}${rng.range(1, 9)}`;
    // Logons at the shift changes, and now and then during the day.
    return [
      new AtHours(rng, [7, 15, 23], 900, d.joins, (now) => [this.smbSession(d, server, user, now)]),
      new Recurring(d, rng, 3 * 3600, d.joins, (now) => [this.smbSession(d, server, user, now)]),
    ];
  }

  /** The TLS client stack of an OS (what its ClientHello looks like). */
  private stack(d: SimDevice): tls.ClientStack {
    const os = d.os;
    if (os.tlsClient !== undefined) return os.tlsClient;
    if (os.family === 'windows') return /^(5\.|6\.[01])/.test(os.ntlmVersion ?? os.version) ? 'schannel-legacy' : 'schannel-modern';
    if (os.family === 'linux' || os.family === 'android') return 'openssl';
    if (os.family === 'ios' || os.family === 'macos') return 'apple';
    return 'embedded';
  }

  /** A TLS session: hello, server flight (certificate in the clear for TLS 1.2), finish, a request and a response. */
  tlsSession(d: SimDevice, server: Host, serverZone: Zone | undefined, sni: string | undefined, cert: tls.CertSpec, serverTls13: boolean, now: number, up: number, down: number, tag?: string): Conversation {
    const rng = this.rng;
    const stack = this.stack(d);
    const messages = function* (): Generator<Message> {
      yield { from: 0, data: tls.clientHello(stack, sni, rng, stack === 'embedded' ? undefined : ['http/1.1']) };
      const flight = tls.serverHello(stack, serverTls13, tls.certificate(cert), rng);
      yield { from: 1, data: flight.hello, delay: 0.01 };
      yield { from: 0, data: tls.clientFinish(flight.tls13, rng), delay: 0.002 };
      if (!flight.tls13) yield { from: 1, data: tls.serverFinish(rng), delay: 0.002 };
      yield { from: 0, data: tls.appData(rng, up), delay: 0.001 };
      yield { from: 1, data: tls.appData(rng, down), delay: 0.02 + rng.next() * 0.1 };
    };
    return this.tcp(d, server, serverZone, 443, now, messages(), tag);
  }

  private tlsActivities(d: SimDevice, rng: Rng): Activity[] {
    const acts: Activity[] = [];
    const snis = d.kind.tlsSni ?? [];
    if (snis.length > 0) {
      acts.push(
        new Recurring(d, rng, 1800, d.joins, (now) => {
          const sni = rng.pick(snis);
          const cert: tls.CertSpec = { commonName: sni, organization: sni.split('.').slice(-2, -1)[0] ?? sni, issuer: { commonName: 'Example Cloud Issuing CA 1', organization: 'Example Trust Services' }, notBefore: this.h.start - 86400 * 120, notAfter: this.h.start + 86400 * 245 };
          return [this.tlsSession(d, this.external(sni), undefined, sni, cert, true, now, 300 + rng.int(1500), 1000 + rng.int(20000))];
        }),
      );
    }
    // Device web UIs behind HTTPS with their factory self-signed certificate, opened by IT staff.
    const http = d.kind.http;
    const admins = this.h.devices.filter((x) => x.kind.category === 'general-it' && x.os.family === 'windows' && x !== d);
    if (http?.tls === true && admins.length > 0) {
      const admin = rng.pick(admins);
      const cert: tls.CertSpec = { commonName: d.hostname.toLowerCase(), organization: d.kind.vendor, notBefore: this.h.start - 86400 * 900, notAfter: this.h.start + 86400 * 2750 };
      acts.push(new Recurring(d, rng, 6 * 3600, d.joins, (now) => [this.tlsSession(admin, d.host, d.zone, undefined, cert, false, now, 400, 6000 + rng.int(20000))]));
    }
    return acts;
  }

  /** Nightly backups at 02:00: every server streams to the backup server. */
  private backupActivities(d: SimDevice, rng: Rng): Activity[] {
    const target = this.h.withRole('backup')[0];
    if (target === undefined || target === d || d.zone.name !== 'servers') return [];
    const size = (20 + rng.int(40)) * 1024 * 1024;
    const bulk = { length: size, slice: (off: number, n: number) => BACKUP.subarray(off % (BACKUP.length - n), (off % (BACKUP.length - n)) + n) };
    return [new AtHours(rng, [2], 1800, d.joins, (now) => [this.tcp(d, target.host, target.zone, 10000, now, [{ from: 0, data: bulk }, { from: 1, data: Buffer.from('BACKUP OK\n'), delay: 0.05 }])])];
  }

  /**
   * Normal noise a model must not alarm on: a workstation that joins part-way through (set before
   * activities() is called, so its activities start late) and a vendor firmware download.
   */
  noise(start: number, end: number): { activities: Activity[]; events: NoiseEvent[] } {
    const rng = this.rng.fork('noise');
    const events: NoiseEvent[] = [];
    const activities: Activity[] = [];
    const span = end - start;
    const ws = this.h.devices.filter((d) => d.os.family === 'windows' && /workstation/i.test(d.kind.type) && d.kind.dicom === undefined);
    if (ws.length > 1 && span >= 600) {
      const d = ws[ws.length - 1] as SimDevice;
      d.joins = start + span * 0.3;
      events.push({ kind: 'new-device', device: d.id, time: d.joins, description: `${d.id} is installed and first appears on the network` });
    }
    const updater = this.h.devices.find((d) => (d.kind.category === 'infusion' || d.kind.category === 'patient-monitoring') && (d.kind.tlsSni?.length ?? 0) > 0) ?? this.h.devices.find((d) => (d.kind.tlsSni?.length ?? 0) > 0);
    if (updater !== undefined && span >= 600) {
      const at = start + span * 0.45;
      const host = `updates.${updater.kind.vendor.toLowerCase().replace(/[^a-z0-9]+/g, '')}.example`;
      const cert: tls.CertSpec = { commonName: host, organization: updater.kind.vendor, issuer: { commonName: 'Example Cloud Issuing CA 1', organization: 'Example Trust Services' }, notBefore: start - 86400 * 60, notAfter: start + 86400 * 300 };
      const download: Activity = {
        next: at,
        fire: (now: number) => {
          download.next = Infinity;
          return [this.tlsSession(updater, this.external(host), undefined, host, cert, true, now, 600, 25 * 1024 * 1024)];
        },
      };
      activities.push(download);
      events.push({ kind: 'firmware-update', device: updater.id, time: at, description: `${updater.id} downloads a 25 MB firmware image from ${host}` });
    }
    return { activities, events };
  }

  /** Every activity of every device. */
  activities(): Activity[] {
    const acts: Activity[] = [];
    const dns = this.h.withRole('dns')[0];
    const ntp = this.h.withRole('ntp')[0];
    const admins = this.h.devices.filter((d) => d.kind.category === 'general-it' && d.os.family === 'windows');
    for (const d of this.h.devices) {
      const rng = this.rng.fork(d.id);
      const start = d.joins;
      acts.push(this.dhcpActivity(d, rng));
      acts.push(...this.dicomActivities(d, rng), ...this.hl7Activities(d, rng), ...this.discoveryActivities(d, rng), ...this.snmpActivities(d, rng), ...this.smbActivities(d, rng), ...this.tlsActivities(d, rng), ...this.backupActivities(d, rng));
      // DNS: names the device resolves, every few minutes while active.
      if (dns !== undefined && dns !== d && (d.kind.dnsNames?.length ?? 0) > 0) {
        const names = d.kind.dnsNames as string[];
        acts.push(
          new Recurring(d, rng, 600, start, (now) => {
            const name = rng.pick(names);
            const id = rng.int(65536);
            const addr = this.external(name).ip;
            return [this.udp(d, dns.host, dns.zone, this.ephemeral(d), 53, now, [{ from: 0, data: dnsQuery(id, name) }, { from: 1, data: dnsAnswer(id, name, [addr]), delay: 0.002 }])];
          }),
        );
      }
      // NTP: hourly time sync.
      if (ntp !== undefined && ntp !== d && d.kind.ntp === true) {
        acts.push(
          new Recurring(d, rng, 3600, start, (now) => {
            const req = ntpRequest(now);
            return [this.udp(d, ntp.host, ntp.zone, d.os.family === 'windows' ? 123 : this.ephemeral(d), 123, now, [{ from: 0, data: req }, { from: 1, data: ntpReply(req, now + 0.001), delay: 0.001 }])];
          }),
        );
      }
      // IT staff open the device's web admin page now and then.
      const http = d.kind.http;
      if (http !== undefined && admins.length > 0 && http.tls !== true) {
        const admin = rng.pick(admins);
        if (admin !== d) {
          acts.push(
            new Recurring(d, rng, 4 * 3600, start, (now) => {
              const ua = { 'User-Agent': admin.os.userAgent ?? 'Mozilla/5.0', Accept: 'text/html' };
              const body = htmlPage(http.title ?? d.kind.model, `<h1>${http.title ?? d.kind.model}</h1>`);
              const msgs: Message[] = [
                { from: 0, data: httpRequest('GET', d.host.ipText, '/', ua) },
                { from: 1, data: httpResponse(200, { ...http.headers, 'Content-Type': 'text/html' }, body, now), delay: 0.01 },
              ];
              // Normal noise: browsers ask for a favicon most embedded web servers do not have.
              if (rng.chance(0.3)) {
                msgs.push({ from: 0, data: httpRequest('GET', d.host.ipText, '/favicon.ico', ua), delay: 0.05 });
                msgs.push({ from: 1, data: httpResponse(404, { ...http.headers, 'Content-Type': 'text/html' }, '<html><body>Not Found</body></html>', now), delay: 0.005 });
              }
              return [this.tcp(admin, d.host, d.zone, http.port, now, msgs)];
            }),
          );
        }
      }
    }
    return acts;
  }
}

/** Image matrix and images per study by modality: typical sizes, scaled down where a real study would be gigabytes. */
const IMAGE_SIZE: Record<string, { rows: number; columns: number; images: number }> = {
  CT: { rows: 512, columns: 512, images: 40 },
  MR: { rows: 256, columns: 256, images: 60 },
  DX: { rows: 2048, columns: 2048, images: 2 },
  CR: { rows: 2048, columns: 2048, images: 2 },
  MG: { rows: 2048, columns: 1664, images: 4 },
  US: { rows: 480, columns: 640, images: 12 },
  XA: { rows: 1024, columns: 1024, images: 20 },
  NM: { rows: 128, columns: 128, images: 60 },
  PT: { rows: 192, columns: 192, images: 80 },
};

function modalityOf(sopClass: string): string {
  const table: Record<string, string> = {
    '1.2.840.10008.5.1.4.1.1.2': 'CT',
    '1.2.840.10008.5.1.4.1.1.4': 'MR',
    '1.2.840.10008.5.1.4.1.1.1.1': 'DX',
    '1.2.840.10008.5.1.4.1.1.1': 'CR',
    '1.2.840.10008.5.1.4.1.1.1.2': 'MG',
    '1.2.840.10008.5.1.4.1.1.6.1': 'US',
  };
  return table[sopClass] ?? 'OT';
}

/** Backup stream contents: compressible-looking filler, never real data. */
const BACKUP: Buffer = Buffer.from('VIGIL-SIMULATED-BACKUP-BLOCK '.repeat(8192), 'latin1');
