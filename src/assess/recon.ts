/**
 * Reconnaissance by error provocation: a host that makes devices answer with errors far more often
 * than those devices normally do — error-inducing web requests, malformed DICOM associations, HL7
 * messages rejected, probing of admin pages.
 *
 * The ledger is fed the stream (observations that are error answers, and flow records that say who
 * asked) and keeps, per server and per (client, server) pair, flows and error answers in five-minute
 * buckets (bounded). The judgement is made at the end, against what each device normally does:
 *
 *  - each server's normal rate of error answers per flow is learned over the learning period (the first 24 hours of the
 *    capture, or its first quarter when shorter), smoothed with the median server's rate as a prior
 *    worth ten flows — a device with little history does not make every error look strange, and one
 *    noisy device does not make errors look normal everywhere;
 *  - after the learning period, a client's error answers from a server are compared with what that rate
 *    predicts for the same number of flows: an excess beyond 3 standard deviations (Poisson) and of
 *    at least 4 error answers is anomalous for that server;
 *  - over HTTP, the requests that drew errors must vary (three distinct at least): probing tries
 *    many paths, a monitor or a broken link repeats one;
 *  - a client anomalous towards one device is a finding; towards several it is a sweep (higher
 *    severity). The why says how many errors were expected and seen.
 */
import type { FlowRecord } from '../flow/flow.ts';
import type { Observation } from '../protocols/observation.ts';
import { requestOfErrorStatus } from '../protocols/http.ts';
import type { Severity } from './finding.ts';

const HOUR = 3600;
/** Time resolution of the counts: fine enough that a short capture still has a learning period. */
const BUCKET = 300;
/** The last bucket index: 24 h after the first flow and everything later. */
const MAX_BUCKET = (24 * 3600) / BUCKET;
/** Observations that mean "the server answered with an error". */
export function isErrorAnswer(o: Observation): boolean {
  switch (o.attribute) {
    case 'http.status':
      return o.value.charCodeAt(0) === 52 || o.value.charCodeAt(0) === 53; // 4xx, 5xx
    case 'dicom.reject':
    case 'dicom.abort':
    case 'ftp.error':
    case 'smtp.error':
      return true;
    case 'hl7.ack_code':
      return o.value === 'AE' || o.value === 'AR' || o.value === 'CE' || o.value === 'CR';
    default:
      return false;
  }
}

interface Bucket {
  flows: number;
  errors: number;
}

/** What a pair's error answers left; made at its first (most pairs never have one). */
interface PairErrors {
  kinds: Set<string>;
  examples: string[];
  requests: Set<string>;
  /** When the errors came: the first 64 (and `last`), for the finding's time span. */
  times: number[];
  last: number;
}

/**
 * One (client, server) pair. Most pairs live in one five-minute bucket and never see an error: the
 * first bucket's counts are fields of the pair, the others a map made when a second bucket comes,
 * and the error details an object made at the first error (a capture has hundreds of thousands of
 * pairs; each object less is one the collector does not copy).
 */
interface Pair extends Counts {
  client: string;
  clientMac?: string;
  server: string;
  err: PairErrors | undefined;
}

/** Flows and error answers by bucket: the first bucket's here, the others in `more`. */
interface Counts {
  bucket: number;
  flows: number;
  errors: number;
  more: Map<number, Bucket> | undefined;
}

function count(c: Counts, bucket: number, errors: number): void {
  if (bucket === c.bucket) {
    c.flows++;
    c.errors += errors;
  } else add((c.more ??= new Map()), bucket, errors);
}

/** Counts bucket by bucket (an array: a generator per server costs more than the pairs it holds). */
function bucketsOf(c: Counts): Iterable<[number, Bucket]> {
  return c.more === undefined ? [[c.bucket, c]] : [[c.bucket, c], ...c.more];
}

export interface ReconLimits {
  /** Flows with an error answer waiting for their flow record. */
  pendingFlows: number;
  /** Request lines those flows hold, all together (a line is up to ~215 characters). */
  pendingRequests: number;
  /** (client, server) pairs tracked. */
  pairs: number;
  /** Example requests kept per client. */
  examples: number;
}

/** Distinct requests that drew errors kept per flow and per pair: enough to tell probing (≥ 3) from a repeat. */
const REQUESTS_PER_PAIR = 16;

const DEFAULT_LIMITS: ReconLimits = { pendingFlows: 100_000, pendingRequests: 100_000, pairs: 200_000, examples: 6 };

export class ReconLedger {
  /**
   * flow id → error answers seen in it, and the requests that drew them (HTTP), until its record
   * arrives. Only flows with an error are held: a request line is known from the error that answered
   * it, not kept for every request in case an error follows.
   */
  private readonly pending = new Map<number, { errors: number; kinds: Set<string>; requests: string[] }>();
  /** Per server, its counts by bucket (the first bucket's in the object itself, as a pair's). */
  private readonly servers = new Map<string, Counts>();
  /** (client, server) pairs by client, then server: no key string built per flow. */
  private readonly pairsByClient = new Map<string, Map<string, Pair>>();
  /** The same pairs in the order they were first seen (the detector's order). */
  private readonly pairs: Pair[] = [];
  first = Infinity;
  last = -Infinity;
  /** Bucket number of the first flow (absolute); bucket indices are relative to it. */
  origin: number | undefined;
  droppedPairs = 0;
  /** Request lines held by pending flows now (bounded by limits.pendingRequests). */
  heldRequests = 0;
  private readonly limits: ReconLimits;

  constructor(limits: Partial<ReconLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  observation(o: Observation): void {
    if (!isErrorAnswer(o)) return;
    let p = this.pending.get(o.flow);
    if (p === undefined) {
      if (this.pending.size >= this.limits.pendingFlows) return;
      this.pending.set(o.flow, (p = { errors: 0, kinds: new Set(), requests: [] }));
    }
    p.errors++;
    if (p.kinds.size < 4) p.kinds.add(`${o.attribute} ${o.value.slice(0, 40)}`);
    // Each error's own request: a scanner on one keep-alive connection asks for many paths.
    const request = o.attribute === 'http.status' ? requestOfErrorStatus(o.evidence) : undefined;
    if (request !== undefined && p.requests.length < REQUESTS_PER_PAIR && this.heldRequests < this.limits.pendingRequests && !p.requests.includes(request)) {
      p.requests.push(request);
      this.heldRequests++;
    }
  }

  flow(f: FlowRecord): void {
    if (f.start < this.first) this.first = f.start;
    if (f.end > this.last) this.last = f.end;
    const p = this.pending.get(f.id);
    if (p !== undefined) {
      this.pending.delete(f.id);
      this.heldRequests -= p.requests.length;
    }
    // Only conversations an error could come out of: TCP and UDP services that answered.
    if (f.serverPackets === 0) return;
    // Buckets count from the capture's first flow; after the longest learning period (24 h) one bucket
    // holds the rest, so memory per pair stays bounded however long the capture runs.
    if (this.origin === undefined) this.origin = Math.floor(f.start / BUCKET);
    const bucket = Math.max(0, Math.min(MAX_BUCKET, Math.floor(f.start / BUCKET) - this.origin));
    const server = f.serverIp;
    const errors = p?.errors ?? 0;
    const sb = this.servers.get(server);
    if (sb === undefined) this.servers.set(server, { bucket, flows: 1, errors, more: undefined });
    else count(sb, bucket, errors);
    let byServer = this.pairsByClient.get(f.clientIp);
    let pair = byServer?.get(server);
    if (pair === undefined) {
      if (this.pairs.length >= this.limits.pairs) {
        this.droppedPairs++;
        return;
      }
      // Every field in the literal, clientMac too when there is none: a field added afterwards would
      // give most pairs a second object for their properties (~9,000 on the corpus replay).
      pair = { client: f.clientIp, clientMac: f.clientMac, server, bucket, flows: 0, errors: 0, more: undefined, err: undefined };
      if (byServer === undefined) this.pairsByClient.set(f.clientIp, (byServer = new Map()));
      byServer.set(server, pair);
      this.pairs.push(pair);
    }
    count(pair, bucket, errors);
    if (p !== undefined) {
      const e = (pair.err ??= { kinds: new Set(), examples: [], requests: new Set(), times: [], last: -Infinity });
      for (const k of p.kinds) if (e.kinds.size < 6) e.kinds.add(k);
      for (const request of p.requests) {
        if (e.examples.length < this.limits.examples && !e.examples.includes(request)) e.examples.push(request);
        if (e.requests.size < REQUESTS_PER_PAIR) e.requests.add(request);
      }
      if (e.times.length < 64) e.times.push(f.start);
      if (f.start > e.last) e.last = f.start;
    }
  }

  /**
   * What the detector reads: each server's counts, and the pairs with an error answer (one without
   * can never be a finding — zero errors never stand above what a rate predicts — and they are
   * nearly all of a capture's pairs). The servers are the ledger's own map, read-only: a report reads
   * every server once, as code not yet optimised, where each object made for it costs.
   */
  view(): { servers: ReadonlyMap<string, Readonly<Counts>>; pairs: Iterable<PairView> } {
    const pairs = this.pairs;
    return {
      servers: this.servers,
      pairs: (function* () {
        for (const p of pairs) {
          const e = p.err;
          if (e === undefined) continue;
          yield {
            client: p.client,
            ...(p.clientMac !== undefined ? { clientMac: p.clientMac } : {}),
            server: p.server,
            buckets: bucketsOf(p),
            kinds: e.kinds,
            examples: e.examples,
            errorRequests: e.requests,
            errorTimes: e.times,
            lastError: e.last,
          };
        }
      })(),
    };
  }
}

/** A pair with an error answer, as the detector reads it. */
interface PairView {
  client: string;
  clientMac?: string;
  server: string;
  buckets: Iterable<[number, Bucket]>;
  kinds: ReadonlySet<string>;
  examples: readonly string[];
  errorRequests: ReadonlySet<string>;
  errorTimes: readonly number[];
  lastError: number;
}

/** Flows and error answers in the buckets before `end`, added to `into`. */
function addBefore(c: Readonly<Counts>, end: number, into: Bucket): void {
  if (c.bucket < end) {
    into.flows += c.flows;
    into.errors += c.errors;
  }
  if (c.more === undefined) return;
  for (const [b, v] of c.more) {
    if (b >= end) continue;
    into.flows += v.flows;
    into.errors += v.errors;
  }
}

function add(m: Map<number, Bucket>, bucket: number, errors: number): void {
  let b = m.get(bucket);
  if (b === undefined) m.set(bucket, (b = { flows: 0, errors: 0 }));
  b.flows++;
  b.errors += errors;
}

export interface ReconTarget {
  server: string;
  flows: number;
  errors: number;
  /** Error answers the server's learned rate predicts for that many flows. */
  expected: number;
  /** The server's learned error answers per flow (pooled with all servers'). */
  baseline: number;
}

export interface ReconFinding {
  client: string;
  clientMac?: string;
  targets: ReconTarget[];
  severity: Severity;
  /** In words, with the numbers. */
  why: string;
  /** What the errors were ("http.status 500 Internal Server Error") and requests that caused them. */
  errors: string[];
  examples: string[];
  from: number;
  to: number;
}

export interface ReconOptions {
  /** Seconds of capture used to learn normal error rates (default: 24 h, or a quarter of a shorter capture). */
  learnSeconds?: number;
  /** Minimum excess error answers towards one server (default 4). */
  minErrors?: number;
  /** Standard deviations above the expected count (default 3). */
  sigmas?: number;
}

export function detectRecon(ledger: ReconLedger, o: ReconOptions = {}): ReconFinding[] {
  if (!Number.isFinite(ledger.first)) return [];
  const span = ledger.last - ledger.first;
  const learn = o.learnSeconds ?? Math.min(24 * HOUR, span / 4);
  const origin = ledger.origin ?? Math.floor(ledger.first / BUCKET);
  const learnEnd = Math.min(MAX_BUCKET, Math.floor((ledger.first + learn) / BUCKET) - origin);
  const minErrors = o.minErrors ?? 4;
  const sigmas = o.sigmas ?? 3;
  const { servers, pairs } = ledger.view();

  // Learned rates: per server, and pooled over all servers (the prior).
  let allFlows = 0;
  let allErrors = 0;
  const rates: number[] = [];
  const l: Bucket = { flows: 0, errors: 0 };
  for (const c of servers.values()) {
    l.flows = 0;
    l.errors = 0;
    addBefore(c, learnEnd, l);
    allFlows += l.flows;
    allErrors += l.errors;
    if (l.flows >= 5) rates.push(l.errors / l.flows);
  }
  // The prior: the median server's rate (one noisy server — a printer whose page links a missing
  // logo — must not make errors look normal everywhere), or the pooled rate when few servers learned.
  rates.sort((a, b) => a - b);
  // With nothing learned at all, assume errors are rare (1 in 20 flows) rather than even odds.
  const prior = rates.length >= 3 ? (rates[Math.floor(rates.length / 2)] as number) : allFlows === 0 ? 0.05 : (allErrors + 1) / (allFlows + 2);
  // A server's rate: its own history with the prior worth 10 flows. Worked out once per server asked
  // for (those with an error answer, not every server): a server that answered thousands of clients
  // with errors is in thousands of pairs, and its history is up to 289 buckets.
  const rateOf = new Map<string, number>();
  const rate = (server: string): number => {
    let r = rateOf.get(server);
    if (r === undefined) {
      const own: Bucket = { flows: 0, errors: 0 };
      const c = servers.get(server);
      if (c !== undefined) addBefore(c, learnEnd, own);
      rateOf.set(server, (r = (own.errors + 10 * Math.max(prior, 0.001)) / (own.flows + 10)));
    }
    return r;
  };

  const byClient = new Map<string, ReconFinding>();
  for (const pair of pairs) {
    let flows = 0;
    let errors = 0;
    let from = Infinity;
    let to = -Infinity;
    for (const [b, v] of pair.buckets) {
      if (b < learnEnd) continue;
      flows += v.flows;
      errors += v.errors;
      if (v.errors === 0) continue;
      from = Math.min(from, (origin + b) * BUCKET);
      to = Math.max(to, b === MAX_BUCKET ? ledger.last : (origin + b + 1) * BUCKET);
    }
    if (errors < minErrors) continue;
    const learnEndTime = (origin + learnEnd) * BUCKET;
    const firstError = pair.errorTimes.filter((t) => t >= learnEndTime).reduce((m, t) => Math.min(m, t), Infinity);
    from = Number.isFinite(firstError) ? firstError : Math.max(from, learnEndTime);
    to = Math.max(pair.lastError, from);
    // Probing varies its requests; a client that keeps asking for the same missing page (a monitor, a
    // misconfigured link) repeats one or two. HTTP errors count only from three distinct requests.
    if (pair.errorRequests.size > 0 && pair.errorRequests.size < 3) continue;
    // Error answers per flow: a keep-alive connection can carry many. Poisson around the expectation.
    const p = rate(pair.server);
    const expected = flows * p;
    const sd = Math.sqrt(Math.max(expected, 0.25));
    if (errors - expected < minErrors || errors <= expected + sigmas * sd) continue;
    let f = byClient.get(pair.client);
    if (f === undefined) {
      f = { client: pair.client, targets: [], severity: 'medium', why: '', errors: [], examples: [], from, to };
      if (pair.clientMac !== undefined) f.clientMac = pair.clientMac;
      byClient.set(pair.client, f);
    }
    f.targets.push({ server: pair.server, flows, errors, expected: Math.round(expected * 100) / 100, baseline: Math.round(p * 10000) / 10000 });
    for (const k of pair.kinds) if (!f.errors.includes(k) && f.errors.length < 8) f.errors.push(k);
    for (const e of pair.examples) if (!f.examples.includes(e) && f.examples.length < 8) f.examples.push(e);
    f.from = Math.min(f.from, from);
    f.to = Math.max(f.to, to);
  }
  const out = [...byClient.values()];
  for (const f of out) {
    f.targets.sort((a, b) => b.errors - a.errors);
    const total = f.targets.reduce((s, t) => s + t.errors, 0);
    f.severity = f.targets.length >= 3 ? 'high' : 'medium';
    const parts = f.targets.slice(0, 4).map((t) => `${t.server}: ${t.errors} error answers in ${t.flows} flows where its normal rate (${t.baseline} per flow) predicts ${t.expected}`);
    f.why = `${f.client} provoked ${total} error answers from ${f.targets.length} device(s) after the learning period — ${parts.join('; ')}${f.targets.length > 4 ? '; …' : ''}`;
  }
  return out.sort((a, b) => b.targets.length - a.targets.length || (b.targets[0]?.errors ?? 0) - (a.targets[0]?.errors ?? 0));
}
