import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../simulate/simulate.ts';
import { fileSource } from '../capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../protocols/index.ts';
import { runSensor } from '../sensor/run.ts';
import { dataFile } from '../knowledge/paths.ts';
import { ReconLedger, detectRecon, isErrorAnswer } from './recon.ts';
import type { Observation } from '../protocols/observation.ts';
import type { FlowRecord } from '../flow/flow.ts';
import { http, requestOfErrorStatus } from '../protocols/http.ts';
import { FakeContext, runStream } from '../../test/helpers/dissect.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-recon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function ledgerOf(incidents: string) {
  const out = join(dir, `${incidents}.pcap`);
  const truth = await simulate({ devices: 80, duration: 6 * 3600, seed: 'recon', start: Date.parse('2026-11-23T06:00:00Z') / 1000, out, catalogue: dataFile('simulator/catalogue.json'), incidents });
  const l = new ReconLedger();
  await runSensor(await fileSource(out), { dissectors: ALL_DISSECTORS, synDissectors: synDissectors(), onObservation: (o) => l.observation(o), onFlow: (f) => l.flow(f) });
  return { truth, l };
}

test('the simulated reconnaissance is found: the attacker, its three victims, the requests; nothing else', async () => {
  const { truth, l } = await ledgerOf('all');
  const incident = truth.incidents.find((i) => i.kind === 'recon-error-pages');
  assert.ok(incident);
  const attacker = truth.devices.find((d) => d.id === incident.attacker);
  const victims = truth.devices.filter((d) => incident.victims.includes(d.id)).flatMap((d) => d.ips);
  const found = detectRecon(l);
  assert.equal(found.length, 1, found.map((f) => f.why).join('\n'));
  const f = found[0];
  assert.equal(f?.client, attacker?.ips[0]);
  assert.deepEqual(f?.targets.map((t) => t.server).sort(), [...victims].sort());
  assert.equal(f?.severity, 'high');
  assert.match(f?.why ?? '', /provoked \d+ error answers from 3 device\(s\).*normal rate/);
  assert.ok(f?.examples.some((e) => /^GET \//.test(e)));
});

test('ordinary hospital traffic: no reconnaissance', async () => {
  const { l } = await ledgerOf('none');
  assert.deepEqual(detectRecon(l), []);
});

test('judged against the device’s own normal: a server that always errs does not make its clients suspects', () => {
  const l = new ReconLedger();
  let id = 0;
  const t0 = 1_800_000_000;
  const errFlow = (client: string, server: string, t: number, errors: number) => {
    const flow = ++id;
    for (let e = 0; e < errors; e++) {
      const o: Observation = { time: t, frame: flow, flow, protocol: 'http', ip: server, attribute: 'http.status', value: '404 Not Found', confidence: 0.95 };
      l.observation(o);
    }
    const r: FlowRecord = { id: flow, start: t, end: t + 1, proto: 'tcp', ipVersion: 4, clientIp: client, clientPort: 40000, serverIp: server, serverPort: 80, clientPackets: 4, serverPackets: 4, clientBytes: 400, serverBytes: 400, clientPayloadBytes: 100, serverPayloadBytes: 100, reason: 'closed', firstFrame: flow };
    l.flow(r);
  };
  // A printer whose web page links a missing logo: every visit gets a 404, all day long.
  for (let h = 0; h < 48; h++) for (let k = 0; k < 5; k++) errFlow(`10.0.0.${k + 10}`, '10.0.1.5', t0 + h * 3600 + k, 1);
  // A quiet device that never errs, then one host gets 12 errors from it.
  for (let h = 0; h < 48; h++) errFlow('10.0.0.10', '10.0.1.6', t0 + h * 3600 + 100, 0);
  for (let k = 0; k < 12; k++) errFlow('10.0.0.99', '10.0.1.6', t0 + 40 * 3600 + k, 1);
  const found = detectRecon(l);
  assert.deepEqual(found.map((f) => f.client), ['10.0.0.99']);
  assert.equal(found[0]?.severity, 'medium');
  assert.ok(isErrorAnswer({ time: 0, frame: 0, flow: 0, protocol: 'hl7', attribute: 'hl7.ack_code', value: 'AE', confidence: 1 }));
  assert.ok(!isErrorAnswer({ time: 0, frame: 0, flow: 0, protocol: 'hl7', attribute: 'hl7.ack_code', value: 'AA', confidence: 1 }));
});

test('a scanner asking for many paths on one keep-alive connection is found, with the paths it asked for', () => {
  const l = new ReconLedger();
  const t0 = 1_800_000_000;
  let id = 0;
  const flowRecord = (flow: number, client: string, t: number): FlowRecord => ({ id: flow, start: t, end: t + 1, proto: 'tcp', ipVersion: 4, clientIp: client, clientPort: 40000, serverIp: '10.0.1.7', serverPort: 80, clientPackets: 40, serverPackets: 40, clientBytes: 4000, serverBytes: 4000, clientPayloadBytes: 1000, serverPayloadBytes: 1000, reason: 'closed', firstFrame: flow });
  // What the HTTP dissector says of one connection, as the sensor hands it over.
  const conversation = (client: string, t: number, paths: string[], status: string) => {
    const flow = ++id;
    const pieces: Array<[0 | 1, Buffer]> = paths.flatMap((path): Array<[0 | 1, Buffer]> => [
      [0, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 10.0.1.7\r\n\r\n`)],
      [1, Buffer.from(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`)],
    ]);
    const ctx = new FakeContext();
    ctx.clientIp = client;
    ctx.serverIp = '10.0.1.7';
    ctx.serverPort = 80;
    runStream(http, pieces, ctx);
    for (const d of ctx.drafts) {
      const o: Observation = { time: t, frame: flow, flow, protocol: 'http', ip: d.side === 'server' ? '10.0.1.7' : client, attribute: d.attribute, value: d.value, confidence: d.confidence ?? 0.5 };
      if (d.evidence !== undefined) o.evidence = d.evidence;
      l.observation(o);
    }
    l.flow(flowRecord(flow, client, t));
  };
  // Two days of a web console that answers its users (the first is the learning period).
  for (let h = 0; h < 48; h++) for (let k = 0; k < 4; k++) conversation(`10.0.0.${k + 10}`, t0 + h * 3600 + k, ['/', '/status'], '200 OK');
  // Then one host asks for thirty admin paths on a single connection, each answered 404.
  const paths = Array.from({ length: 30 }, (_, i) => `/admin${i}`);
  conversation('10.0.0.99', t0 + 40 * 3600, paths, '404 Not Found');
  const found = detectRecon(l);
  assert.deepEqual(found.map((f) => f.client), ['10.0.0.99'], found.map((f) => f.why).join('\n'));
  assert.equal(found[0]?.targets[0]?.errors, 30);
  // The examples are requests that drew an error, not merely the first the connection carried.
  assert.deepEqual(found[0]?.examples.slice(0, 3), ['GET /admin0', 'GET /admin1', 'GET /admin2']);
});

test('an error status names the request it answered, when that request was seen', () => {
  assert.equal(requestOfErrorStatus('GET /admin → 404'), 'GET /admin');
  assert.equal(requestOfErrorStatus('GET /a → b → 500'), 'GET /a → b');
  assert.equal(requestOfErrorStatus('(request not seen) → 500'), undefined);
  assert.equal(requestOfErrorStatus(undefined), undefined);
  assert.equal(requestOfErrorStatus('404'), undefined);
});

test('the request lines pending flows hold are bounded all together, and let go when their flows end', () => {
  const l = new ReconLedger({ pendingRequests: 20 });
  // Ten connections left open, each drawing sixteen errors with sixteen different requests.
  for (let flow = 1; flow <= 10; flow++) {
    for (let k = 0; k < 16; k++) l.observation({ time: 1, frame: k, flow, protocol: 'http', ip: '10.0.1.7', attribute: 'http.status', value: '404 Not Found', confidence: 0.95, evidence: `GET /p${flow}-${k} → 404` });
  }
  assert.equal(l.heldRequests, 20);
  for (let flow = 1; flow <= 10; flow++) {
    l.flow({ id: flow, start: 1, end: 2, proto: 'tcp', ipVersion: 4, clientIp: '10.0.0.9', clientPort: 40000 + flow, serverIp: '10.0.1.7', serverPort: 80, clientPackets: 20, serverPackets: 20, clientBytes: 2000, serverBytes: 2000, clientPayloadBytes: 1000, serverPayloadBytes: 1000, reason: 'closed', firstFrame: flow });
  }
  assert.equal(l.heldRequests, 0);
});
