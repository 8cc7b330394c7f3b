import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceFindings } from './device-findings.ts';
import { assessedDevice } from '../../test/helpers/devices.ts';

test('findings weigh clinical criticality: the same EOL OS is worse on a pump than on a printer; KEV outranks a guess', () => {
  const os = { value: 'Windows 7 SP1', family: 'Windows', confidence: 0.9, rule: '', evidence: [], releases: [], conflicts: [] };
  const eol = { state: 'eol' as const, since: '2020-01-14', basis: '' };
  const kev = { id: 'CVE-2019-0708', cves: ['CVE-2019-0708'], title: 'BlueKeep', source: 'os-flaw' as const, kev: true, ransomware: false, cvss: 9.8, confidence: 0.6, why: 'Windows 7 without the update' };
  const pump = deviceFindings(assessedDevice('mac:p', { os, lifecycle: eol, criticality: 'life-sustaining', vulnerabilities: [kev, { ...kev, id: 'X-1', kev: false, cvss: 5, confidence: 0.3 }] }));
  const printer = deviceFindings(assessedDevice('mac:q', { os, lifecycle: eol, criticality: 'support' }));
  assert.deepEqual(pump.map((f) => [f.kind, f.ref, f.severity]), [['eol', 'Windows 7 SP1', 'high'], ['vulnerability', 'CVE-2019-0708', 'critical'], ['vulnerability', 'X-1', 'low']]);
  assert.deepEqual(printer.map((f) => [f.kind, f.severity]), [['eol', 'low']]);
  assert.match(pump[0]?.title ?? '', /end of life since 2020-01-14/);
  const soon = deviceFindings(assessedDevice('mac:r', { os: { ...os, value: 'Windows 11 23H2' }, lifecycle: { state: 'supported', daysLeft: 40, eolDate: '2027-01-09', basis: '' }, criticality: 'diagnostic' }));
  assert.deepEqual(soon.map((f) => [f.kind, f.severity]), [['eol-soon', 'low']]);
  assert.deepEqual(deviceFindings(assessedDevice('mac:s', { lifecycle: { state: 'supported', daysLeft: 900, basis: '' } })), []);
});
