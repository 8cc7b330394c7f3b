import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaselineLedger, detectBaselineDeviations } from './baseline.ts';
import type { FlowRecord } from '../flow/flow.ts';

let id = 0;
function udp(client: string, server: string, port: number, t: number, answered: boolean): FlowRecord {
  return { id: ++id, start: t, end: t + 1, proto: 'udp', ipVersion: 4, clientIp: client, clientPort: 68, serverIp: server, serverPort: port, clientPackets: 1, serverPackets: answered ? 1 : 0, clientBytes: 342, serverBytes: answered ? 342 : 0, clientPayloadBytes: 300, serverPayloadBytes: answered ? 300 : 0, reason: 'idle', firstFrame: id };
}

test('a DHCP lease renewed with the hospital’s server after learning is routine; DHCP to an Internet address is not', () => {
  const T0 = 1_800_000_000;
  const ledger = new BaselineLedger();
  const pump = { id: 'pump', ips: ['10.40.0.20'], name: 'PUMP-20', group: 'infusion pump' };
  // Learning: the pump broadcasts DISCOVER (nobody answers on that flow) and talks to its server.
  ledger.flow(udp('0.0.0.0', '255.255.255.255', 67, T0, false));
  for (let h = 0; h < 6; h++) ledger.flow({ ...udp('10.40.0.20', '10.40.0.5', 443, T0 + h * 3600 + 10, true), proto: 'tcp', clientPort: 50000 });
  // After learning (4 h): the first unicast renewal to the DHCP server, then one to a public address.
  ledger.flow(udp('10.40.0.20', '10.60.1.15', 67, T0 + 5 * 3600, true));
  assert.deepEqual(detectBaselineDeviations(ledger, [pump], { learnSeconds: 4 * 3600 }), []);
  ledger.flow(udp('10.40.0.20', '198.51.100.7', 67, T0 + 5.5 * 3600, true));
  assert.deepEqual(
    detectBaselineDeviations(ledger, [pump], { learnSeconds: 4 * 3600 }).map((a) => a.kind),
    ['new-service'],
  );
});
