/** An assessed device for tests: a plain general-IT device with nothing known, to override field by field. */
import type { AssessedDevice } from '../../src/inventory/inventory.ts';

export function assessedDevice(id: string, over: Partial<AssessedDevice> = {}): AssessedDevice {
  return {
    id,
    macs: [],
    ips: [],
    hostnames: [],
    firstSeen: 1,
    lastSeen: 2,
    randomMac: false,
    category: { value: 'general-it', confidence: 0.3, rule: '', evidence: [] },
    criticality: 'support',
    software: [],
    services: [],
    peers: { internal: 0, external: 0 },
    observations: 0,
    lifecycle: { state: 'unknown', basis: '' },
    leaks: [],
    vulnerabilities: [],
    risk: { score: 0, exploitability: 0, impact: 0.45, exposure: 0.55, factors: [], explanation: '' },
    ...over,
  };
}

export function riskOf(score: number): AssessedDevice['risk'] {
  return { score, exploitability: 0, impact: 0.45, exposure: 0.55, factors: [], explanation: '' };
}
