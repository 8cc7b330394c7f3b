import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaselineLedger, baselineParts } from './baseline.ts';
import { baselineSummary } from './summary.ts';
import type { FlowRecord } from '../flow/flow.ts';

const T0 = 1_800_000_000;
const flow = (t: number): FlowRecord => ({ id: 1, start: t, end: t + 1, proto: 'tcp', ipVersion: 4, clientIp: '10.1.0.11', clientPort: 50000, serverIp: '10.6.0.10', serverPort: 104, clientPackets: 5, serverPackets: 5, clientBytes: 500, serverBytes: 500, clientPayloadBytes: 100, serverPayloadBytes: 100, reason: 'closed', firstFrame: 1, app: 'dicom' });

test("a device's page shows the protocol usage of its learning period, and none from a version 1 piece", () => {
  const l = new BaselineLedger();
  l.flow(flow(T0));
  l.flow(flow(T0 + 30 * 3600));
  const o = { frame: 1, flow: 1, protocol: 'dicom', ip: '10.1.0.11', confidence: 0.9 };
  l.observation({ ...o, time: T0 + 60, attribute: 'dicom.command', value: 'C-STORE-RQ' });
  l.observation({ ...o, time: T0 + 60, attribute: 'dicom.abstract_syntax', value: '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)' });
  l.observation({ ...o, time: T0 + 120, attribute: 'dns.query', value: 'insite.gehealthcare.com' });
  // After learning: not its normal.
  l.observation({ ...o, time: T0 + 30 * 3600, attribute: 'dicom.command', value: 'C-MOVE-RQ' });
  const parts = baselineParts(l, [{ id: 'ct', ips: ['10.1.0.11'] }]);
  const own = parts.find((p) => p.subject === 'device:ct')!.data;
  const rest = parts.find((p) => p.subject === 'baseline:rest')!.data;
  const s = baselineSummary(own, rest, 24 * 3600);
  assert.deepEqual(s.usage, { dns: ['insite.gehealthcare.com'], 'dicom-command': ['C-STORE-RQ'], 'dicom-sop': ['1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)'], hl7: [] });
  const { usage: _u, resolvers: _r, localDomains: _d, ...v1 } = own;
  assert.deepEqual(baselineSummary({ ...v1, version: 1 }, rest, 24 * 3600).usage, { dns: [], 'dicom-command': [], 'dicom-sop': [], hl7: [] });
  assert.equal(baselineSummary(undefined, rest, 24 * 3600).state, 'none');
});
