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
];
const deviceOf = (ip: string): string | undefined => ({ '10.0.0.1': 'ws1', '10.0.0.2': 'pump1' })[ip];

test('a model alert near what the baseline found new corroborates it; a strong one stands alone; a weak one is not raised', () => {
  const r = combineBehaviour(baseline, [model('10.0.0.1', T + 7200 - 30, 1.5), model('10.0.0.2', T + 100, 40), model('10.0.0.2', T + 5000, 2), model('10.0.0.1', T + 3600, 3)], deviceOf);
  assert.equal(r.baseline.length, 1);
  assert.equal(r.baseline[0]!.model?.time, T + 7200 + 30);
  assert.match(r.baseline[0]!.text, /^WS1 \(Windows computer\) used a service never seen for it — the online model saw it too \(1\.5× its threshold, .*\): opened 80 TCP connections \(usually 0\.3 a window\)$/);
  assert.deepEqual(r.standalone.map((m) => m.host), ['10.0.0.2']);
  assert.deepEqual(r.unconfirmed.map((m) => `${m.host} ${m.from - T}`), ['10.0.0.2 5000', '10.0.0.1 3600']);
  // The input is not changed.
  assert.equal(baseline[0]!.model, undefined);
});
