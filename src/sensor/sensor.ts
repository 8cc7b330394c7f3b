/**
 * The sensor: capture bytes in, Observations and FlowRecords out.
 *
 *   chunks → CaptureReader → PacketDecoder → FlowTable → (TCP reassembly) → Dissectors → Observations
 *
 * Pure of I/O: whoever drives it (the CLI, the server, a test) pushes chunks and listens. One
 * Packet, one DissectContext and one stream sink are reused for every frame, so the steady state
 * allocates almost nothing per packet.
 */
import { CaptureError, type CaptureRecord } from '../capture/record.ts';
import { CaptureReader } from '../capture/reader.ts';
import { PacketDecoder, Skip, type SkipReason } from '../packet/decode.ts';
import { IpProto, Packet, TcpFlag } from '../packet/packet.ts';
import { Flow, protoName, type FlowEnd, type FlowRecord } from '../flow/flow.ts';
import { DEFAULT_FLOW_TIMEOUTS, FlowTable, type FlowTimeouts } from '../flow/table.ts';
import { DEFAULT_REASSEMBLY_LIMITS, Reassembly, TcpStream, type ReassemblyLimits, type StreamSink } from '../flow/reassembly.ts';
import {
  StreamVerdict,
  type DissectContext,
  type Dissector,
  type ObservationDraft,
  type SynDissector,
  type SynIpInfo,
} from '../protocols/dissector.ts';
import { EVENT_ATTRIBUTES, type Observation } from '../protocols/observation.ts';

export interface SensorOptions {
  dissectors: readonly Dissector[];
  synDissectors?: readonly SynDissector[];
  onObservation?: (o: Observation) => void;
  onFlow?: (r: FlowRecord) => void;
  /** Every decoded IP packet (the reused Packet: read it during the call, keep nothing). */
  onPacket?: (p: Packet) => void;
  /** Emit every observation, not only the first of each (subject, attribute, value). */
  allObservations?: boolean;
  timeouts?: FlowTimeouts;
  maxFlows?: number;
  reassembly?: ReassemblyLimits;
}

/** Payload packets of a flow tried against the signatures before giving up on it. */
const MAX_PROBES = 4;
/** Distinct observations remembered for de-duplication before the memory is reset. */
const MAX_DEDUPE = 100_000;

export interface DissectorStats {
  flows: number;
  observations: number;
  errors: number;
}

export interface SensorReport {
  format: string | undefined;
  bytes: number;
  frames: number;
  ipPackets: number;
  /** Frames that did not yield an IP packet, by reason (non-IP link traffic is normal, not an error). */
  skipped: Record<string, number>;
  /** The error that stopped reading, if any (truncated or corrupt file). */
  captureError?: { message: string; offset: number; frame: number };
  firstTime: number | undefined;
  lastTime: number | undefined;
  flows: { created: number; expired: number; evicted: number; peak: number };
  fragments: { fragments: number; reassembled: number; timedOut: number; dropped: number; overlaps: number };
  reassembly: { segments: number; outOfOrder: number; retransmitted: number; gaps: number; gapBytes: number; capHits: number; heldPeak: number };
  dissectors: Record<string, DissectorStats>;
  observations: { emitted: number; duplicates: number };
}

export class Sensor {
  private readonly reader: CaptureReader;
  private readonly decoder = new PacketDecoder();
  private readonly pkt = new Packet();
  private readonly table: FlowTable;
  private readonly reassembly: Reassembly;
  private readonly tcp: readonly Dissector[];
  private readonly udp: readonly Dissector[];
  private readonly syn: readonly SynDissector[];
  private readonly ctx: Context;
  private readonly sink: Sink;
  /** Reused for every SYN (its fields are read during the call only). */
  private readonly synIp: { -readonly [K in keyof SynIpInfo]: SynIpInfo[K] } = { version: 4, ttl: 0, headerLength: 0, dontFragment: false, ipId: 0, ipOptions: false, header: Buffer.alloc(0), totalLength: 0 };
  private readonly skipped = new Map<SkipReason | string, number>();
  private readonly dstats = new Map<string, DissectorStats>();
  /**
   * Observations already emitted, by subject → attribute → value. Nested maps, because subject and
   * attribute strings are shared objects whose hashes V8 caches: no key string is built per emission.
   * A subject's attribute almost always has one value: kept as the string itself, a Set only from
   * the second value on (not a Set for every subject and attribute).
   */
  private seen = new Map<string, Map<string, string | Set<string>>>();
  private seenCount = 0;
  private duplicates = 0;
  private emitted = 0;
  private ipPackets = 0;
  // Numbers, never undefined: a field that may hold undefined boxes every time written to it (one
  // allocation per packet); the sentinels stay unboxed doubles.
  private firstTime = Infinity;
  private lastTime = -Infinity;
  private captureError: CaptureError | undefined;

  constructor(private readonly opts: SensorOptions) {
    this.reader = new CaptureReader((rec) => this.frame(rec));
    this.table = new FlowTable((f, why) => this.flowEnded(f, why), opts.timeouts ?? DEFAULT_FLOW_TIMEOUTS, opts.maxFlows ?? 500_000);
    this.reassembly = new Reassembly(opts.reassembly ?? DEFAULT_REASSEMBLY_LIMITS);
    this.tcp = opts.dissectors.filter((d) => d.transport === 'tcp');
    this.udp = opts.dissectors.filter((d) => d.transport === 'udp');
    this.syn = opts.synDissectors ?? [];
    for (const d of [...opts.dissectors, ...this.syn]) this.dstats.set(d.name, { flows: 0, observations: 0, errors: 0 });
    this.ctx = new Context(this);
    this.sink = new Sink(this);
  }

  /** Feeds capture bytes. Throws CaptureError when the input is not a capture or is corrupt. */
  push(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
    } catch (e) {
      if (e instanceof CaptureError && this.captureError === undefined) this.captureError = e;
      throw e;
    }
  }

  /**
   * Ends the input: expires every flow (dissectors flush), and returns the report. Throws CaptureError
   * when the input ended inside a record or held no capture at all — the report is still complete
   * up to that point and available from `report()`.
   */
  end(): SensorReport {
    let err: unknown;
    // After a corrupt record the reader's state means nothing: keep the first error.
    if (this.captureError === undefined) {
      try {
        this.reader.end();
      } catch (e) {
        if (e instanceof CaptureError) this.captureError = e;
        err = e;
      }
    }
    this.table.flush();
    if (err !== undefined) throw err;
    return this.report();
  }

  /** Frames read so far (for progress bars). */
  get frames(): number {
    return this.reader.stats.frames;
  }

  report(): SensorReport {
    const rs = this.reader.stats;
    const skipped: Record<string, number> = {};
    for (const [k, v] of this.skipped) skipped[k] = v;
    for (const [k, v] of rs.skipped) skipped[k] = (skipped[k] ?? 0) + v;
    const fr = this.decoder.fragments.stats;
    const r = this.reassembly.stats;
    const t = this.table.stats;
    const ce = this.captureError;
    return {
      format: rs.format,
      bytes: rs.bytes,
      frames: rs.frames,
      ipPackets: this.ipPackets,
      skipped,
      ...(ce !== undefined ? { captureError: { message: ce.message, offset: ce.offset, frame: ce.frame } } : {}),
      firstTime: this.firstTime === Infinity ? undefined : this.firstTime,
      lastTime: this.lastTime === -Infinity ? undefined : this.lastTime,
      flows: { created: t.created, expired: t.expired, evicted: t.evicted, peak: t.peak },
      fragments: { ...fr },
      reassembly: {
        segments: r.segments,
        outOfOrder: r.outOfOrder,
        retransmitted: r.retransmitted,
        gaps: r.gaps,
        gapBytes: r.gapBytes,
        capHits: r.capHits,
        heldPeak: r.heldPeak,
      },
      dissectors: Object.fromEntries(this.dstats),
      observations: { emitted: this.emitted, duplicates: this.duplicates },
    };
  }

  // ---- per frame ---------------------------------------------------------------------------

  private frame(rec: CaptureRecord): void {
    const pkt = this.pkt;
    const why = this.decoder.decode(rec, pkt);
    if (pkt.time < this.firstTime) this.firstTime = pkt.time;
    if (pkt.time > this.lastTime) this.lastTime = pkt.time;
    if (why !== undefined) {
      this.skipped.set(why, (this.skipped.get(why) ?? 0) + 1);
      return;
    }
    this.ipPackets++;
    this.opts.onPacket?.(pkt);
    const flow = this.table.packet(pkt);
    const dir = this.table.dir;
    if (pkt.proto === IpProto.TCP) this.tcpPacket(flow, dir, pkt);
    else if (pkt.proto === IpProto.UDP && pkt.payloadLength > 0) this.udpPacket(flow, dir, pkt);
  }

  private tcpPacket(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    const fl = pkt.tcpFlags;
    if ((fl & TcpFlag.SYN) !== 0) {
      const synAck = (fl & TcpFlag.ACK) !== 0;
      // The SYN's sender is the client; a SYN+ACK's is the server. Only the first of each counts.
      const first = synAck ? flow.isn1 < 0 : flow.isn0 < 0;
      if (dir === 0 && !synAck) flow.isn0 = pkt.seq;
      else if (dir === 1 && synAck) flow.isn1 = pkt.seq;
      if (first && this.syn.length > 0) this.synPacket(flow, dir, pkt, synAck);
    }
    if (pkt.payloadLength > 0) {
      if (flow.session === undefined && flow.app === '' && flow.probed < MAX_PROBES) this.probeTcp(flow, dir, pkt);
      if (flow.session !== undefined) {
        let stream = dir === 0 ? flow.stream0 : flow.stream1;
        if (stream === undefined) {
          const isn = dir === 0 ? flow.isn0 : flow.isn1;
          stream = new TcpStream(this.reassembly, isn >= 0 ? (isn + 1) >>> 0 : -1);
          if (dir === 0) flow.stream0 = stream;
          else flow.stream1 = stream;
        }
        // Bulk the dissector skips anyway (image data, file contents) steps over the stream unread.
        const session = flow.session;
        const skippable = session.skippable !== undefined ? session.skippable(dir) : 0;
        if (skippable >= pkt.payloadLength && stream.fastForward(pkt.seq, pkt.payloadLength)) {
          if (skippable !== Infinity) session.skipped?.(dir, pkt.payloadLength);
        } else {
          this.sink.set(flow, dir, pkt);
          stream.segment(pkt.seq, pkt.payload(), this.sink);
        }
      }
    }
    if ((fl & (TcpFlag.FIN | TcpFlag.RST)) !== 0 && flow.session !== undefined) {
      // The sender is done: whatever hole remains in its direction will never fill.
      const stream = dir === 0 ? flow.stream0 : flow.stream1;
      if (stream !== undefined) {
        this.sink.set(flow, dir, pkt);
        stream.flush(this.sink);
      }
    }
  }

  private probeTcp(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    flow.probed++;
    const payload = pkt.payload();
    const d = this.pick(this.tcp, flow, dir, payload);
    if (d === undefined || d.openStream === undefined) return;
    flow.app = d.name;
    this.countFlow(d.name);
    this.ctx.set(flow, dir, pkt);
    try {
      flow.session = d.openStream(this.ctx);
    } catch {
      this.dissectorError(flow);
    }
  }

  private udpPacket(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    let d = flow.udp;
    if (d === undefined) {
      if (flow.app !== '' || flow.probed >= MAX_PROBES) return;
      flow.probed++;
      d = this.pick(this.udp, flow, dir, pkt.payload());
      if (d === undefined) return;
      flow.udp = d;
      flow.app = d.name;
      this.countFlow(d.name);
    }
    if (d.datagram === undefined) return;
    this.ctx.set(flow, dir, pkt);
    try {
      d.datagram(pkt.payload(), this.ctx);
    } catch {
      this.dissectorError(flow);
      flow.udp = undefined;
      flow.probed = MAX_PROBES;
    }
  }

  /** Port-matched dissectors are asked first; any dissector may claim by signature alone. */
  private pick(list: readonly Dissector[], flow: Flow, dir: 0 | 1, payload: Buffer): Dissector | undefined {
    for (const d of list) {
      if (d.ports.includes(flow.serverPort) || d.ports.includes(flow.clientPort)) {
        if (this.safeProbe(d, payload, dir, true)) return d;
      }
    }
    for (const d of list) {
      if (!(d.ports.includes(flow.serverPort) || d.ports.includes(flow.clientPort))) {
        if (this.safeProbe(d, payload, dir, false)) return d;
      }
    }
    return undefined;
  }

  private safeProbe(d: Dissector, payload: Buffer, dir: 0 | 1, portMatch: boolean): boolean {
    try {
      return d.probe(payload, dir, portMatch);
    } catch {
      const s = this.dstats.get(d.name);
      if (s !== undefined) s.errors++;
      return false;
    }
  }

  private synPacket(flow: Flow, dir: 0 | 1, pkt: Packet, synAck: boolean): void {
    const ctx = this.ctx;
    ctx.set(flow, dir, pkt);
    const ip = this.synIp;
    ip.version = pkt.ipVersion as 4 | 6;
    ip.ttl = pkt.ttl;
    ip.headerLength = pkt.ipHeaderLen;
    ip.dontFragment = pkt.dontFragment;
    ip.ipId = pkt.ipId;
    ip.ipOptions = pkt.ipOptions;
    ip.header = pkt.buf.subarray(pkt.netOffset, pkt.netOffset + pkt.ipHeaderLen);
    ip.totalLength = pkt.payloadOffset + pkt.payloadLength - pkt.netOffset;
    const tcp = pkt.buf.subarray(pkt.l4Offset, pkt.l4Offset + pkt.tcpHeaderLen);
    for (const s of this.syn) {
      ctx.emitter = s.name;
      try {
        s.syn(ip, tcp, synAck, ctx);
      } catch {
        const st = this.dstats.get(s.name);
        if (st !== undefined) st.errors++;
      }
    }
  }

  // ---- stream plumbing (called by Sink) -----------------------------------------------------

  /** @internal */
  streamData(flow: Flow, dir: 0 | 1, pkt: Packet, chunk: Buffer): boolean {
    const s = flow.session;
    if (s === undefined) return false;
    this.ctx.set(flow, dir, pkt);
    try {
      if (s.data(chunk, this.ctx) === StreamVerdict.Done) {
        this.detach(flow);
        return false;
      }
      return true;
    } catch {
      this.dissectorError(flow);
      return false;
    }
  }

  /** @internal */
  streamGap(flow: Flow, dir: 0 | 1, length: number): boolean {
    const s = flow.session;
    if (s === undefined) return false;
    flow.gaps++;
    try {
      if (s.gap !== undefined && s.gap(dir, length) === StreamVerdict.More) return true;
      this.detach(flow);
      return false;
    } catch {
      this.dissectorError(flow);
      return false;
    }
  }

  private detach(flow: Flow): void {
    flow.session = undefined;
    flow.stream0?.release();
    flow.stream1?.release();
    flow.stream0 = flow.stream1 = undefined;
  }

  private dissectorError(flow: Flow): void {
    const s = this.dstats.get(flow.app);
    if (s !== undefined) s.errors++;
    this.detach(flow);
  }

  private countFlow(name: string): void {
    const s = this.dstats.get(name);
    if (s !== undefined) s.flows++;
  }

  private flowEnded(flow: Flow, why: FlowEnd): void {
    if (why !== 'active') {
      const session = flow.session;
      if (session !== undefined) {
        // Hand over whatever is held (with gaps), then let the dissector flush.
        for (const dir of [0, 1] as const) {
          const st = dir === 0 ? flow.stream0 : flow.stream1;
          if (st !== undefined && flow.session !== undefined) {
            this.sink.set(flow, dir, this.pkt);
            st.flush(this.sink);
          }
        }
        if (flow.session !== undefined && session.end !== undefined) {
          this.ctx.set(flow, 0, this.pkt);
          try {
            session.end(this.ctx);
          } catch {
            this.dissectorError(flow);
          }
        }
        this.detach(flow);
      }
    }
    const onFlow = this.opts.onFlow;
    if (onFlow !== undefined) onFlow(flowRecord(flow, why, this.table));
  }

  // ---- observations ------------------------------------------------------------------------

  /** @internal Text of a MAC (-1: none), from the flow table's cache: one string per host. */
  macText(mac: number): string | undefined {
    return mac < 0 ? undefined : this.table.macText(mac);
  }

  /** @internal */
  observe(ctx: Context, d: ObservationDraft): void {
    const flow = ctx.flow;
    let mac: string | undefined;
    let ip: string | undefined;
    if (d.mac !== undefined || d.ip !== undefined) {
      mac = d.mac;
      ip = d.ip;
    } else if (d.side === 'client') {
      mac = this.macText(flow.clientMac);
      ip = flow.clientIp;
    } else {
      mac = this.macText(flow.serverMac);
      ip = flow.serverIp;
    }
    if (!this.opts.allObservations && !EVENT_ATTRIBUTES.has(d.attribute)) {
      // The IP names the subject; the MAC only when there is no IP (a DHCP client before its lease).
      if (this.seenCount >= MAX_DEDUPE) {
        // Bounded memory: forget everything and start over (a repeat may then be emitted once more).
        this.seen = new Map();
        this.seenCount = 0;
      }
      const subject = ip ?? (mac !== undefined ? `mac:${mac}` : '');
      let byAttr = this.seen.get(subject);
      if (byAttr === undefined) this.seen.set(subject, (byAttr = new Map()));
      const vals = byAttr.get(d.attribute);
      if (vals === d.value || (typeof vals === 'object' && vals.has(d.value))) {
        this.duplicates++;
        return;
      }
      if (vals === undefined) byAttr.set(d.attribute, d.value);
      else if (typeof vals === 'string') byAttr.set(d.attribute, new Set([vals, d.value]));
      else vals.add(d.value);
      this.seenCount++;
    }
    this.emitted++;
    const name = ctx.emitter !== '' ? ctx.emitter : flow.app;
    const s = this.dstats.get(name);
    if (s !== undefined) s.observations++;
    const onObs = this.opts.onObservation;
    if (onObs === undefined) return;
    // Every field in one literal, those without a value undefined (JSON leaves them out): one hidden
    // class for every observation, so the code downstream reads each field at one place in the object
    // (fields added to some would give up to sixteen shapes, and megamorphic reads everywhere after).
    const o: Observation = {
      time: ctx.time,
      frame: ctx.frame,
      flow: flow.id,
      protocol: name,
      attribute: d.attribute,
      value: d.value,
      confidence: d.confidence ?? 0.8,
      mac,
      ip,
      vlan: flow.vlan >= 0 ? flow.vlan : undefined,
      evidence: d.evidence,
    };
    onObs(o);
  }
}

/** The DissectContext handed to dissectors: a window onto the current packet and flow. */
class Context implements DissectContext {
  flow: Flow = new Flow(0);
  dir: 0 | 1 = 0;
  pkt: Packet = new Packet();
  /** Name of the dissector currently running (SYN dissectors run on flows other dissectors own). */
  emitter = '';

  constructor(private readonly sensor: Sensor) {}

  set(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    this.flow = flow;
    this.dir = dir;
    this.pkt = pkt;
    this.emitter = '';
  }

  get flowId(): number {
    return this.flow.id;
  }
  get frame(): number {
    return this.pkt.frame;
  }
  get time(): number {
    return this.pkt.time;
  }
  get clientIp(): string {
    return this.flow.clientIp;
  }
  get serverIp(): string {
    return this.flow.serverIp;
  }
  get clientPort(): number {
    return this.flow.clientPort;
  }
  get serverPort(): number {
    return this.flow.serverPort;
  }
  get srcIp(): string {
    return this.dir === 0 ? this.flow.clientIp : this.flow.serverIp;
  }
  get dstIp(): string {
    return this.dir === 0 ? this.flow.serverIp : this.flow.clientIp;
  }
  get srcPort(): number {
    return this.dir === 0 ? this.flow.clientPort : this.flow.serverPort;
  }
  get dstPort(): number {
    return this.dir === 0 ? this.flow.serverPort : this.flow.clientPort;
  }
  get srcMac(): string | undefined {
    return this.sensor.macText(this.dir === 0 ? this.flow.clientMac : this.flow.serverMac);
  }
  get dstMac(): string | undefined {
    return this.sensor.macText(this.dir === 0 ? this.flow.serverMac : this.flow.clientMac);
  }
  emit(draft: ObservationDraft): void {
    this.sensor.observe(this, draft);
  }
}

/** Adapts a TcpStream's sink to the flow's dissector session. */
class Sink implements StreamSink {
  private flow: Flow = new Flow(0);
  private dir: 0 | 1 = 0;
  private pkt: Packet = new Packet();
  constructor(private readonly sensor: Sensor) {}
  set(flow: Flow, dir: 0 | 1, pkt: Packet): void {
    this.flow = flow;
    this.dir = dir;
    this.pkt = pkt;
  }
  data(chunk: Buffer): boolean {
    return this.sensor.streamData(this.flow, this.dir, this.pkt, chunk);
  }
  gap(length: number): boolean {
    return this.sensor.streamGap(this.flow, this.dir, length);
  }
}

function flowRecord(f: Flow, reason: FlowEnd, table: FlowTable): FlowRecord {
  const r: FlowRecord = {
    id: f.id,
    start: f.intervalStart,
    end: f.lastSeen,
    proto: protoName(f.proto),
    ipVersion: f.ipVersion,
    clientIp: f.clientIp,
    clientPort: f.clientPort,
    serverIp: f.serverIp,
    serverPort: f.serverPort,
    clientPackets: f.packets0,
    serverPackets: f.packets1,
    clientBytes: f.bytes0,
    serverBytes: f.bytes1,
    clientPayloadBytes: f.payload0,
    serverPayloadBytes: f.payload1,
    reason,
    firstFrame: f.firstFrame,
    // As observations: every field, undefined where there is none (one hidden class for all records).
    clientMac: f.clientMac >= 0 ? table.macText(f.clientMac) : undefined,
    serverMac: f.serverMac >= 0 ? table.macText(f.serverMac) : undefined,
    vlan: f.vlan >= 0 ? f.vlan : undefined,
    tcpState: f.proto === IpProto.TCP ? f.tcpState : undefined,
    app: f.app !== '' ? f.app : undefined,
    gaps: f.gaps > 0 ? f.gaps : undefined,
  };
  return r;
}

export { Skip };
