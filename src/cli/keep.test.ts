import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sensor } from '../sensor/sensor.ts';
import { AnalysisState } from './pipeline.ts';
import { Keeper } from './keep.ts';
import { turnsWhile } from '../../test/helpers/turns.ts';

/** An analysis of `n` devices, each of which said its name and OS. */
async function analysis(state: AnalysisState, n: number, at = 1_795_000_000) {
  for (let i = 0; i < n; i++) {
    const base = { time: at + i, frame: i + 1, flow: i + 1, mac: `00:1b:2c:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, ip: `10.1.${(i >> 8) & 0xff}.${i & 0xff}`, vlan: undefined, evidence: undefined };
    state.builder.addObservation({ ...base, protocol: 'dhcp', attribute: 'dhcp.hostname', value: `WS-${i}`, confidence: 0.9 });
    state.builder.addObservation({ ...base, protocol: 'dhcp', attribute: 'dhcp.vendor_class', value: 'MSFT 5.0', confidence: 0.9 });
  }
  return state.judge({ report: new Sensor({ dissectors: [] }).report() }, { asOf: new Date('2026-12-01') });
}

test('a judgement is kept in slices, and only what changed since the last is written again', async () => {
  const state = new AnalysisState({ behaviour: false });
  const devices: string[] = [];
  const keeper = new Keeper({ device: (d) => devices.push(d.id), alert: () => {}, model: () => {} }, state);
  const a = await analysis(state, 1000);
  // The event loop's turns while 1,000 devices are fingerprinted: a live sensor reads in between.
  const turns = await turnsWhile(() => keeper.keep(a));
  assert.equal(devices.length, 1000);
  assert.ok(turns >= 3, `${turns} turns while 1,000 devices were fingerprinted`);

  // Nothing changed: nothing is written. One device said something new: that one is.
  devices.length = 0;
  await keeper.keep(await state.judge({ report: new Sensor({ dissectors: [] }).report() }, { asOf: new Date('2026-12-01') }));
  assert.deepEqual(devices, []);
  state.builder.addObservation({ time: 1_795_000_500, frame: 5000, flow: 5000, protocol: 'http', mac: '00:1b:2c:00:00:07', ip: '10.1.0.7', vlan: undefined, attribute: 'http.user_agent', value: 'Mozilla/5.0 (Windows NT 6.1; Win64; x64)', confidence: 0.7, evidence: undefined });
  await keeper.keep(await state.judge({ report: new Sensor({ dissectors: [] }).report() }, { asOf: new Date('2026-12-01') }));
  assert.deepEqual(devices, ['mac:00:1b:2c:00:00:07']);
});
