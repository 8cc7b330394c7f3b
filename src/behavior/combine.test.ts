import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BaselineAlert } from './baseline.ts';
import { combineBehaviour } from './combine.ts';
import type { WindowAlert } from './window.ts';

const T = 1_800_000_000;

function model(host: string, from: number, ratio: number): WindowAlert {
  return {
    hostKey: 0,
    host,
    from,
    time: from + 60,
    score: ratio * 0.1,
    threshold: 0.1,
    reason: 'new',
    suppressed: 0,
    features: [{ count: 'connection attempts', value: 80, usual: 0.3, contribution: 0.7, words: 'opened 80 TCP connections (usually 0.3 a window)' }],
    text: `${host} behaved unlike its learning period`,
  };
}

const baseline: BaselineAlert[] = [
  { kind: 'new-service', device: 'ws1', time: T, what: ['tcp/445 (smb) to CT01', 'tcp/3389 to CT02'], times: [T, T + 7200], text: 'WS1 (Windows computer) used a service never seen for it' },
  { kind: 'volume', device: 'pump1', time: T + 36000, what: ['sent 2.0 GB between 18:00 and 19:00 UTC'], times: [T + 36000], text: 'PUMP1 (infusion pump) sent 2.0 GB' },
];
const deviceOf = (ip: string): string | undefined => ({ '10.0.0.1': 'ws1', '10.0.0.2': 'pump1' })[ip];

test('a model alert near what the baseline found new corroborates it; a strong one stands alone; a weak one is not raised', () => {
  const r = combineBehaviour(
    baseline,
    [model('10.0.0.1', T + 7200 - 30, 1.5), model('10.0.0.2', T + 100, 40), model('10.0.0.2', T + 5000, 2), model('10.0.0.1', T + 3600, 3), model('10.0.0.1', T + 7200 - 300, 2), model('10.0.0.2', T + 36000 + 1800, 2)],
    deviceOf,
  );
  assert.equal(r.baseline.length, 2);
  assert.equal(r.baseline[1]!.model?.from, T + 36000 + 1800, 'a minute inside the volume alert\'s hour');
  assert.equal(r.baseline[0]!.model?.time, T + 7200 + 30);
  assert.match(r.baseline[0]!.text, /^WS1 \(Windows computer\) used a service never seen for it — the online model saw it too \(1\.5× its threshold, .*\): opened 80 TCP connections \(usually 0\.3 a window\)$/);
  assert.deepEqual(r.standalone.map((m) => m.host), ['10.0.0.2']);
  // Five minutes before the new service is another story.
  assert.deepEqual(r.unconfirmed.map((m) => `${m.host} ${m.from - T}`), ['10.0.0.2 5000', '10.0.0.1 3600', '10.0.0.1 6900']);
  // The input is not changed.
  assert.equal(baseline[0]!.model, undefined);
});

test('servers a scanner reached are folded into the scanner\'s alert, not raised one by one', () => {
  const scanner: BaselineAlert = { kind: 'new-service', device: 'ws1', time: T, what: ['tcp/21 to PACS01'], times: [T + 10], text: 'WS1 (Windows computer) used a service never seen for it' };
  const victims = ['10.0.1.1', '10.0.1.2', '10.0.1.3'].map((h) => ({ ...model(h, T, 400), peer: '10.0.0.1', example: 'from 10.0.0.1 tcp/21' }));
  const elsewhere = { ...model('10.0.1.4', T, 400), peer: '10.9.9.9' };
  const r = combineBehaviour([scanner], [...victims, elsewhere], deviceOf);
  assert.deepEqual(r.baseline[0]!.reached, ['10.0.1.1', '10.0.1.2', '10.0.1.3']);
  assert.match(r.baseline[0]!.text, / — 3 devices it reached behaved unlike their habits in that minute \(10\.0\.1\.1, 10\.0\.1\.2, 10\.0\.1\.3\)$/);
  assert.deepEqual(r.standalone.map((m) => m.host), ['10.0.1.4']);
});
