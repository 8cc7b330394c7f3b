import { afterEach, expect, test } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { ingestText, OverviewPage } from './Overview.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';
import type { Alert, ForecastCount } from '../api.ts';

let api: FakeApi | undefined;
afterEach(() => {
  cleanup();
  api?.restore();
});

const count = (devices: number, eol: number, known = devices): ForecastCount => ({ devices, known, unknown: devices - known, eol, share: known === 0 ? 0 : eol / known });
const alert = (id: number, severity: Alert['severity'], teams: string[], status: Alert['status'] = 'new'): Alert => ({
  id, key: `k${id}`, deviceId: 'mac:1', kind: 'leak', severity, title: `alert ${id}`, detail: {}, teams, status, assignee: null, resolution: null, firstSeen: 1, lastSeen: 1, updatedAt: 1, dueAt: null,
});

test('the overview shows categories, risk bands, EOL today and the forecast, open alerts by severity and team, and the riskiest devices', async () => {
  api = fakeApi({
    'GET /api/reports/risk': {
      bands: { '0-29': 7, '30-59': 2, '60-100': 1 },
      byCategory: { imaging: { devices: 3, meanRisk: 40, kev: 1, eol: 2 }, 'general-it': { devices: 7, meanRisk: 10, kev: 0, eol: 1 } },
      top: [{ id: 'mac:00:1b:21:00:00:01', name: 'CT-AQ01', category: 'imaging', risk: 72, explanation: '72 = 100 × …' }],
    },
    'GET /api/reports/eol-forecast': [
      { date: '2026-11-30', all: count(10, 3, 8), byCategory: { imaging: count(3, 2) } },
      { date: '2027-05-30', all: count(10, 4, 8), byCategory: { imaging: count(3, 3) } },
    ],
    'GET /api/alerts': [alert(1, 'high', ['it-security', 'clinical-engineering']), alert(2, 'high', ['it-security']), alert(3, 'critical', ['it-security'], 'resolved'), alert(4, 'medium', ['clinical-engineering'])],
  });
  const { container } = render(<OverviewPage />);
  await waitFor(() => expect(container.querySelector('[data-ready]')?.getAttribute('data-ready')).toBe('true'));

  const categories = screen.getByRole('list', { name: 'Devices by category' });
  expect(within(categories).getByRole('link', { name: 'imaging' }).getAttribute('href')).toBe('/inventory?category=imaging');
  expect(categories.textContent).toContain('imaging3');
  expect(screen.getByRole('list', { name: 'Devices by risk band' }).textContent).toContain('risk 60-1001');
  expect(screen.getByRole('heading', { name: 'End of life today' }).parentElement?.textContent).toMatch(/3\s*devices on an end-of-life OS.*38% of 8.*Imaging2 \(67%\)/);
  expect(screen.getByRole('img').getAttribute('aria-label')).toContain('Imaging: today 67%, 2027-05 100%; All devices: today 38%, 2027-05 50%');

  // Resolved alerts are not open; an alert with two teams counts for each.
  const bySeverity = screen.getByRole('table', { name: 'Open alerts by severity' });
  expect(within(bySeverity).getByRole('row', { name: /high/ }).querySelector('td')?.textContent).toBe('2');
  expect(within(bySeverity).getByRole('row', { name: /critical/ }).querySelector('td')?.textContent).toBe('0');
  expect(within(bySeverity).getByRole('row', { name: /All open/ }).querySelector('td')?.textContent).toBe('3');
  expect(within(bySeverity).getByRole('link', { name: '2' }).getAttribute('href')).toBe('/alerts?severity=high');
  const byTeam = screen.getByRole('table', { name: 'Open alerts by team' });
  expect([...byTeam.querySelectorAll('tbody tr')].map((r) => r.textContent)).toEqual(['it-security2', 'clinical-engineering2']);
  expect(screen.getByRole('link', { name: 'CT-AQ01' }).getAttribute('href')).toBe('/devices/mac%3A00%3A1b%3A21%3A00%3A00%3A01');
  // The mark is made by an effect after the ready render commits, which may come after waitFor saw the DOM.
  await waitFor(() => expect(performance.getEntriesByName('vigil:overview-ready').length).toBe(1));
});

test('a server with /api/alerts/summary: its counts are shown, the alerts are not fetched', async () => {
  api = fakeApi({ 'GET /api/reports/risk': { bands: {}, byCategory: {}, top: [] }, 'GET /api/reports/eol-forecast': [], 'GET /api/alerts/summary': { bySeverity: { critical: 12_345 }, byTeam: { 'it-security': 12_345 }, open: 12_345 } });
  render(<OverviewPage />);
  const bySeverity = await screen.findByRole('table', { name: 'Open alerts by severity' });
  expect(within(bySeverity).getByRole('row', { name: /critical/ }).querySelector('td')?.textContent).toBe('12,345');
  expect(api.calls.some((c) => c.path === '/api/alerts')).toBe(false);
});

test('a failing report shows its error in its panel; the others still render', async () => {
  api = fakeApi({ 'GET /api/reports/risk': { status: 500, body: { error: 'internal error' } }, 'GET /api/reports/eol-forecast': [], 'GET /api/alerts': [] });
  render(<OverviewPage />);
  expect((await screen.findAllByRole('alert')).map((e) => e.textContent)).toContain('internal error');
  expect(screen.getByText('No forecast yet.')).toBeTruthy();
});

test('the capture side in a few words', () => {
  expect(ingestText({ state: 'done', source: '/srv/captures/ward7.pcap', frames: 72549 })).toBe('capture: done — ward7.pcap, 72,549 frames');
  expect(ingestText({ state: 'failed', error: 'tcpdump exited with 1' })).toBe('capture: failed — tcpdump exited with 1');
  expect(ingestText({ state: 'idle' })).toBe('');
  expect(ingestText(null)).toBe('');
});
