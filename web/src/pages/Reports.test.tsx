import { afterEach, expect, test } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import { forecastCsv, ReportsPage, toCsv } from './Reports.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';

let api: FakeApi | undefined;
afterEach(() => {
  cleanup();
  api?.restore();
});

const count = (devices: number, eol: number) => ({ devices, known: devices, unknown: 0, eol, share: devices === 0 ? 0 : eol / devices });
const FORECAST = [
  { date: '2026-11-30', all: count(10, 2), byCategory: { imaging: count(4, 1), infusion: count(0, 0) } },
  { date: '2029-11-30', all: count(10, 6), byCategory: { imaging: count(4, 4), infusion: count(0, 0) } },
];

test('CSV: quoted where needed, one line per point', () => {
  expect(toCsv([['a', 'b,c', 'say "hi"'], [1, 2, 3]])).toBe('a,"b,c","say ""hi"""\r\n1,2,3\r\n');
  const lines = forecastCsv(FORECAST).trim().split('\r\n');
  expect(lines).toHaveLength(3);
  expect(lines[1]?.startsWith('2026-11-30,10,10,2,0.200,1,0.250,0,0.000')).toBe(true);
});

test('the reports page shows the forecast by category, the risk summary, and offers the downloads', async () => {
  api = fakeApi({
    'GET /api/reports/eol-forecast': FORECAST,
    'GET /api/reports/risk': { bands: { '0-29': 8, '30-59': 1, '60-100': 1 }, byCategory: { imaging: { devices: 4, meanRisk: 41, kev: 2, eol: 1 } }, top: [{ id: 'mac:1', name: 'CT01', category: 'imaging', risk: 70, explanation: '' }] },
  });
  render(<ReportsPage />);
  const table = await screen.findByRole('table', { name: 'EOL forecast by category' });
  // Categories with no devices are left out.
  expect(within(table).getAllByRole('row').map((r) => r.querySelector('th')?.textContent)).toEqual(['Category', 'all devices', 'imaging']);
  expect(within(table).getByRole('row', { name: /imaging/ }).textContent).toContain('25% (1)');
  expect((await screen.findByRole('table', { name: 'Risk by category' })).textContent).toContain('imaging4412');
  expect(screen.getByRole('link', { name: 'Download summary (Markdown)' }).getAttribute('href')).toBe('/api/reports/disclosure?format=md');
  expect(screen.getByRole('link', { name: 'Download summary (HTML)' }).getAttribute('href')).toBe('/api/reports/disclosure?format=html');
  // The CSV link appears once its file is made (an effect after the forecast arrived): wait for it.
  expect((await screen.findByRole('link', { name: 'Download EOL forecast (CSV)' })).getAttribute('download')).toMatch(/^vigil-eol-forecast-\d{4}-\d\d-\d\d\.csv$/);
});

test('each manufacturer with leaking devices has its report to download; none says so', async () => {
  api = fakeApi({
    'GET /api/reports/eol-forecast': FORECAST,
    'GET /api/reports/risk': { bands: { '0-29': 1, '30-59': 0, '60-100': 0 }, byCategory: {}, top: [] },
    'GET /api/reports/disclosure/vendors': [{ vendor: 'GE Healthcare', slug: 'ge-healthcare', devices: 2, issues: 3, highestSeverity: 'high' }],
  });
  render(<ReportsPage />);
  const table = await screen.findByRole('table', { name: 'Manufacturers with leaking devices' });
  expect(within(table).getByRole('row', { name: /GE Healthcare/ }).textContent).toContain('2high');
  const md = within(table).getByRole('link', { name: 'GE Healthcare: Markdown report' });
  const href = new URL(md.getAttribute('href') ?? '', 'http://vigil.test');
  expect([href.pathname, href.searchParams.get('vendor'), href.searchParams.get('format')]).toEqual(['/api/reports/disclosure', 'GE Healthcare', 'md']);
  expect(md.getAttribute('download')).toMatch(/^vigil-disclosure-ge-healthcare-\d{4}-\d\d-\d\d\.md$/);
  cleanup();
  api.restore();
  api = fakeApi({
    'GET /api/reports/eol-forecast': FORECAST,
    'GET /api/reports/risk': { bands: { '0-29': 1, '30-59': 0, '60-100': 0 }, byCategory: {}, top: [] },
    'GET /api/reports/disclosure/vendors': [],
  });
  render(<ReportsPage />);
  expect(await screen.findByText(/No device leaks error messages on the wire/)).toBeTruthy();
});
