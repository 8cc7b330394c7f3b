import { test } from 'node:test';
import { assessedDevice } from '../../test/helpers/devices.ts';
import assert from 'node:assert/strict';
import { assessRisk } from './risk.ts';
import type { Device } from '../inventory/device.ts';

function device(over: Partial<Device>): Device {
  return assessedDevice('mac:00:00:00:00:00:01', {
    os: { value: 'Windows 7 SP1', family: 'Windows', releases: [], confidence: 0.9, rule: 'ntlmssp', evidence: [], conflicts: [] },
    ...over,
  });
}

test('a life-sustaining pump on an EOL OS with a KEV flaw and Internet contact scores high, and says why', () => {
  const d = device({ criticality: 'life-sustaining', services: [{ transport: 'tcp', port: 445, flows: 3 }], peers: { internal: 20, external: 2 } });
  const r = assessRisk(d, {
    vulnerabilities: [{ id: 'CVE-2017-0144', title: 'SMBv1 remote code execution (EternalBlue)', kev: true, ransomware: true, confidence: 0.9 }],
    lifecycle: { state: 'eol', since: '2020-01-14' },
  });
  // exploitability = 1 − (1−0.855)(1−0.6)(1−0.15) = 0.9507; exposure = 0.55 + 0.3 + 0.15·log10(21)/3 = 0.916
  assert.equal(r.exploitability, 0.95);
  assert.equal(r.impact, 1);
  assert.equal(r.exposure, 0.92);
  assert.equal(r.score, 87);
  assert.match(r.explanation, /^87 = 100 × 0\.95 exploitability × 1\.00 impact \(life-sustaining\) × 0\.92 exposure$/);
  assert.deepEqual(
    r.factors.map((f) => f.kind),
    ['vulnerability', 'eol', 'service', 'impact', 'exposure'],
  );
  assert.match(r.factors[0]?.text ?? '', /CISA KEV.*ransomware/);
});

test('a supported office PC with nothing open scores zero; criticality scales the same weakness', () => {
  assert.equal(assessRisk(device({}), { vulnerabilities: [], lifecycle: { state: 'supported', daysLeft: 900 } }).score, 0);
  const weak = { vulnerabilities: [], lifecycle: { state: 'eol' as const, since: '2014-04-08' } };
  const support = assessRisk(device({ criticality: 'support' }), weak).score;
  const diagnostic = assessRisk(device({ criticality: 'diagnostic' }), weak).score;
  const life = assessRisk(device({ criticality: 'life-sustaining' }), weak).score;
  assert.ok(support < diagnostic && diagnostic < life, `${support} < ${diagnostic} < ${life}`);
  assert.equal(life, 33); // 100 × 0.6 × 1 × 0.55
});

test('an OS ending within a year and leaks add up, never past 100', () => {
  const d = device({ criticality: 'life-sustaining', peers: { internal: 100000, external: 50 }, services: [23, 21, 445, 3389, 5900, 80].map((port) => ({ transport: 'tcp' as const, port, flows: 1 })) });
  const r = assessRisk(d, {
    vulnerabilities: Array.from({ length: 50 }, (_, i) => ({ id: `CVE-2020-${i}`, title: 't', kev: true, ransomware: false, confidence: 1 })),
    lifecycle: { state: 'supported', daysLeft: 100 },
    leaks: ['stack trace', 'database version', 'file paths', 'user names'],
  });
  assert.ok(r.score <= 100 && r.score >= 99);
  assert.equal(r.factors.filter((f) => f.kind === 'vulnerability').length, 5, 'the strongest five vulnerabilities, not fifty');
  assert.ok(r.factors.some((f) => f.kind === 'eol' && /in 100 days/.test(f.text)));
});
