import { afterEach, expect, test } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { DevicePage } from './Device.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';
import { SessionContext } from '../session.tsx';
import type { Device, Me } from '../api.ts';

let api: FakeApi | undefined;
afterEach(() => {
  cleanup();
  api?.restore();
});

const ev = (frame: number) => ({ protocol: 'dicom', attribute: 'dicom.implementation_class_uid', value: '1.2.840.113619.6.5', frame, time: 1795413601, snippet: 'A-ASSOCIATE-RQ 1.2.840.113619' });
const DEVICE: Device = {
  id: 'mac:00:1b:21:00:00:01', macs: ['00:1b:21:00:00:01'], ips: ['10.10.1.10'], hostnames: ['CT-AQ01'], vlan: 110, firstSeen: 1795413601, lastSeen: 1795417143, randomMac: false,
  vendor: { value: 'GE Healthcare', confidence: 0.93, rule: 'DICOM implementation class UID root 1.2.840.113619 → GE Healthcare', evidence: [ev(812), ev(2048)] },
  type: { value: 'CT scanner', confidence: 0.8, rule: 'SOP class CT Image Storage', evidence: [ev(812)] },
  category: { value: 'imaging', confidence: 0.8, rule: 'CT scanner → imaging', evidence: [] },
  criticality: 'diagnostic',
  os: { value: 'Windows 7 SP1', confidence: 0.89, rule: 'smb', evidence: [], family: 'Windows', releases: [{ product: 'windows', cycle: '7-sp1', label: 'Windows 7 SP1', eol: '2020-01-14' }], conflicts: [] },
  software: [], services: [{ transport: 'tcp', port: 104, app: 'dicom', flows: 12 }], peers: { internal: 2, external: 1 }, observations: 40,
  lifecycle: { state: 'eol', since: '2020-01-14', basis: 'Windows 7 SP1 security support ended 2020-01-14' },
  leaks: [{ pattern: 'aspnet-ysod', title: 'ASP.NET error page with a stack trace', facts: [{ kind: 'framework', value: 'ASP.NET', version: '4.0.30319' }], evidence: { protocol: 'http', attribute: 'http.error_body', frame: 900, time: 1795413700, snippet: 'Server Error in /app' }, severity: 'medium', deviceSeverity: 'medium', remediation: 'Turn custom errors on.' }],
  vulnerabilities: [{ id: 'CVE-2017-0144', cves: ['CVE-2017-0144'], title: 'EternalBlue', source: 'kev', kev: true, ransomware: true, cvss: 8.1, confidence: 0.85, why: 'Windows 7 SP1 is affected', remediation: 'Install MS17-010', url: 'https://learn.microsoft.com/ms17-010' }],
  risk: { score: 72, exploitability: 0.93, impact: 0.75, exposure: 0.78, factors: [{ kind: 'vulnerability', text: 'EternalBlue (KEV)', weight: 0.9 }], explanation: '72 = 100 × 0.93 × 0.75 × 0.78' },
};

function renderAs(me: Me, id = DEVICE.id) {
  return render(
    <SessionContext.Provider value={me}>
      <DevicePage id={id} />
    </SessionContext.Provider>,
  );
}

test('the device page shows its claims with confidence and evidence down to the frame, lifecycle, vulnerabilities, leaks, peers, alerts and history', async () => {
  api = fakeApi({
    [`GET /api/devices/${encodeURIComponent(DEVICE.id)}`]: DEVICE,
    [`GET /api/devices/${encodeURIComponent(DEVICE.id)}/peers`]: {
      items: [
        { peer: '10.60.1.12', peerDeviceId: 'mac:00:aa:00:00:00:02', peerName: 'PACS01', external: false, service: 'tcp/104 dicom', packets: 900, bytes: 4_000_000, flows: 12, firstSeen: 1, lastSeen: 2 },
        { peer: '203.0.113.9', peerDeviceId: null, peerName: null, external: true, service: 'tcp/443 tls', packets: 20, bytes: 9000, flows: 1, firstSeen: 1, lastSeen: 2 },
      ],
    },
    [`GET /api/devices/${encodeURIComponent(DEVICE.id)}/activity`]: { hours: [{ at: 1795413600, packets: 10, bytes: 1000, flows: 1 }, { at: 1795417200, packets: 30, bytes: 5000, flows: 2 }] },
    [`GET /api/devices/${encodeURIComponent(DEVICE.id)}/baseline`]: {
      state: 'learned',
      peers: ['10.60.1.12'],
      services: ['tcp/104 dicom'],
      group: 'CT scanner',
      groupSize: 3,
      usage: { dns: ['pacs01.hosp.local'], 'dicom-command': ['C-ECHO', 'C-STORE'], 'dicom-sop': ['CT Image Storage'], hl7: [] },
    },
    'GET /api/alerts': [{ id: 7, key: 'k', deviceId: DEVICE.id, kind: 'vulnerability', severity: 'high', title: 'CT-AQ01: EternalBlue', detail: {}, teams: ['it-security'], status: 'assigned', assignee: 'jane', resolution: null, firstSeen: 1795413601, lastSeen: 1795413601, updatedAt: 1, dueAt: null }],
    'GET /api/audit': [{ id: 1, at: 1795414000, actor: 'admin', action: 'alert.update', entity: 'alert', entityId: '7', before: { status: 'new', assignee: null }, after: { status: 'assigned', assignee: 'jane' } }],
  });
  renderAs({ name: 'admin', role: 'admin' });
  expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('CT-AQ01');

  const identity = screen.getByRole('table', { name: 'Identity claims' });
  const vendor = within(identity).getByRole('row', { name: /Vendor/ });
  expect(vendor.textContent).toContain('GE Healthcare');
  expect(vendor.textContent).toContain('93%');
  // The evidence is folded away until asked for; then each observation names its frame.
  const summary = within(vendor).getByText('Evidence for vendor (2)');
  fireEvent.click(summary);
  const evidence = within(vendor).getByRole('table', { name: 'Evidence for vendor' });
  expect(within(evidence).getAllByRole('row').slice(1).map((r) => r.querySelectorAll('td')[3]?.textContent)).toEqual(['812', '2048']);
  expect(evidence.textContent).toContain('A-ASSOCIATE-RQ');

  expect(screen.getByRole('table', { name: 'OS releases it may run' }).textContent).toContain('2020-01-14');
  const vulns = screen.getByRole('table', { name: 'Vulnerabilities' });
  expect(within(vulns).getAllByRole('link', { name: 'CVE-2017-0144' })[0]!.getAttribute('href')).toBe('https://learn.microsoft.com/ms17-010');
  expect(vulns.textContent).toContain('KEV');
  expect(screen.getByText('ASP.NET error page with a stack trace')).toBeTruthy();

  // Behaviour, the traffic chart, and the communication map with a link to the peer that is a device.
  expect((await screen.findByText('CT scanner (3 devices)')).textContent).toBe('CT scanner (3 devices)');
  expect(screen.getByText('C-ECHO, C-STORE, CT Image Storage')).toBeTruthy();
  expect(screen.getByText('pacs01.hosp.local')).toBeTruthy();
  expect(screen.getByRole('img', { name: /Bytes per hour: 2 hours/ })).toBeTruthy();
  const map = await screen.findByRole('group', { name: /Communication map: CT-AQ01 and 2 peers/ });
  expect(within(map).getByRole('link', { name: /PACS01: tcp\/104 dicom/ }).getAttribute('href')).toBe('/devices/mac%3A00%3Aaa%3A00%3A00%3A00%3A02');
  expect(within(map).getByRole('img', { name: /203\.0\.113\.9 \(external\)/ })).toBeTruthy();

  expect((await screen.findByRole('link', { name: 'CT-AQ01: EternalBlue' })).getAttribute('href')).toBe('/alerts?status=all&id=7');
  expect((await screen.findByRole('list', { name: 'Change history' })).textContent).toContain('status: new → assigned; assignee: null → jane');
});

test('a server without peers, activity or baseline: the sections say so; a non-admin gets no audit log', async () => {
  api = fakeApi({ [`GET /api/devices/${encodeURIComponent(DEVICE.id)}`]: DEVICE, 'GET /api/alerts': [] });
  renderAs({ name: 'ro', role: 'read-only' });
  expect(await screen.findByText('This server does not report peers yet.')).toBeTruthy();
  expect(screen.getByText('No behaviour baseline is available from this server.')).toBeTruthy();
  expect(screen.getByText('The change history is shown to administrators.')).toBeTruthy();
  expect(api.calls.some((c) => c.path === '/api/audit')).toBe(false);
});

test('an unknown device', async () => {
  api = fakeApi({});
  renderAs({ name: 'admin', role: 'admin' }, 'ip:10.9.9.9');
  expect((await screen.findByRole('heading', { name: 'No such device' })).textContent).toBe('No such device');
});
