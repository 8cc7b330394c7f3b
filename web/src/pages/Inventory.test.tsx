import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { filtersOf, InventoryPage, PAGE_SIZE } from './Inventory.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';
import type { DeviceRow } from '../api.ts';
import { useLocation } from '../router.tsx';

let api: FakeApi | undefined;
// jsdom lays nothing out: give elements the size of a 1280×800 window's table, so the virtualiser has a viewport.
const saved = { h: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight'), w: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth') };
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1200 });
});
afterAll(() => {
  if (saved.h !== undefined) Object.defineProperty(HTMLElement.prototype, 'clientHeight', saved.h);
  if (saved.w !== undefined) Object.defineProperty(HTMLElement.prototype, 'clientWidth', saved.w);
});
afterEach(() => {
  cleanup();
  api?.restore();
  window.history.replaceState(null, '', '/');
});

const row = (i: number): DeviceRow => ({
  id: `ip:10.0.${Math.floor(i / 250)}.${i % 250}`, category: i % 2 === 0 ? 'imaging' : 'general-it', criticality: 'support', vendor: `Vendor ${i}`, type: 'CT scanner', os: 'Windows 7', eolState: 'eol',
  risk: 100 - (i % 100), ips: [`10.0.${Math.floor(i / 250)}.${i % 250}`], hostnames: [`HOST-${i}`], firstSeen: 1, lastSeen: 2,
});

/** A server with `n` devices: pages by offset/limit, category filter. */
function server(n: number) {
  return fakeApi({
    'GET /api/devices': ({ url }) => {
      const category = url.searchParams.get('category');
      const all = Array.from({ length: n }, (_, i) => row(i)).filter((d) => category === null || d.category === category);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      return { total: all.length, items: all.slice(offset, offset + limit) };
    },
  });
}

function Routed() {
  const { query } = useLocation();
  return <InventoryPage query={query} />;
}

test('filtersOf reads the filters and the sort from the URL, dropping what is malformed', () => {
  expect(filtersOf(new URLSearchParams('category=imaging&minRisk=30&vlan=abc&subnet=10.2.0.0/16&sort=vendor&order=asc&bogus=1&vendor='))).toEqual({ category: 'imaging', minRisk: 30, subnet: '10.2.0.0/16', sort: 'vendor', order: 'asc' });
});

test('the inventory asks the server for one page, renders only the rows in view, and fetches further pages on scroll', async () => {
  api = server(100_000);
  const { container } = render(<Routed />);
  expect((await screen.findByTestId('inventory-count', {}, { timeout: 2000 })).textContent).toMatch(/Loading|100,000 devices/);
  await waitFor(() => expect(screen.getByTestId('inventory-count').textContent).toBe('100,000 devices'));
  await screen.findByRole('link', { name: 'HOST-0' });
  const rendered = container.querySelectorAll('tbody tr:not(.spacer)').length;
  expect(rendered).toBeGreaterThan(10);
  expect(rendered).toBeLessThan(80);
  expect(api.calls.filter((c) => c.path === '/api/devices').map((c) => c.query)).toEqual([`?limit=${PAGE_SIZE}&offset=0`]);
  expect(container.querySelector('table')?.getAttribute('aria-rowcount')).toBe('100001');

  // Scroll far down: the page holding those rows is fetched, not everything before it.
  const scroller = container.querySelector('.inventory-scroll') as HTMLDivElement;
  await act(async () => {
    scroller.scrollTop = 34 * 50_000;
    fireEvent.scroll(scroller);
  });
  await waitFor(() => expect(api?.calls.some((c) => c.query === `?limit=${PAGE_SIZE}&offset=${PAGE_SIZE * 250}`)).toBe(true));
  expect(api.calls.filter((c) => c.path === '/api/devices').length).toBeLessThanOrEqual(4);
  await screen.findByRole('link', { name: 'HOST-50000' });
});

test('a filter goes into the URL (linkable), asks the server again, and the CSV export carries it', async () => {
  api = server(10);
  render(<Routed />);
  await waitFor(() => expect(screen.getByTestId('inventory-count').textContent).toBe('10 devices'));
  fireEvent.change(screen.getByRole('combobox', { name: 'Category' }), { target: { value: 'imaging' } });
  await waitFor(() => expect(screen.getByTestId('inventory-count').textContent).toBe('5 devices'));
  expect(window.location.search).toBe('?category=imaging');
  expect(api.calls.at(-1)?.query).toBe(`?category=imaging&limit=${PAGE_SIZE}&offset=0`);
  expect(screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/api/devices/export.csv?category=imaging');

  // Sorting by a column: the URL and the header say so.
  fireEvent.click(screen.getByRole('button', { name: 'Vendor' }));
  await waitFor(() => expect(window.location.search).toBe('?category=imaging&sort=vendor&order=asc'));
  expect(screen.getByRole('columnheader', { name: /Vendor/ }).getAttribute('aria-sort')).toBe('ascending');
});

test('the column chooser hides and shows columns', async () => {
  api = server(3);
  render(<Routed />);
  await screen.findByRole('link', { name: 'HOST-0' });
  expect(screen.getByRole('columnheader', { name: 'Model' })).toBeTruthy();
  fireEvent.click(screen.getByRole('checkbox', { name: 'Model' }));
  expect(screen.queryByRole('columnheader', { name: 'Model' })).toBeNull();
  fireEvent.click(screen.getByRole('checkbox', { name: 'Id' }));
  expect(screen.getByRole('columnheader', { name: /^Id/ })).toBeTruthy();
  localStorage.clear();
});

test('typing: one first-page request at a time; the text typed past while one is on its way is never asked for', async () => {
  const gates: (() => void)[] = [];
  api = fakeApi({
    'GET /api/devices': async () => {
      await new Promise<void>((open) => gates.push(open));
      return { total: 1, items: [row(0)] };
    },
  });
  const { container } = render(<Routed />);
  await waitFor(() => expect(gates.length).toBe(1));
  gates.shift()?.();
  await waitFor(() => expect(screen.getByTestId('inventory-count').textContent).toBe('1 device'));
  const search = screen.getByRole('searchbox', { name: 'Search' });
  fireEvent.change(search, { target: { value: 'c' } });
  await waitFor(() => expect(gates.length).toBe(1));
  fireEvent.change(search, { target: { value: 'ct' } });
  fireEvent.change(search, { target: { value: 'ct-' } });
  await new Promise((r) => setTimeout(r, 20));
  expect(gates.length).toBe(1);
  gates.shift()?.();
  await waitFor(() => expect(gates.length).toBe(1));
  gates.shift()?.();
  await waitFor(() => expect(container.querySelector('.inventory-scroll')?.getAttribute('data-state')).toBe('ready'));
  expect(container.querySelector('.inventory-scroll')?.getAttribute('data-query')).toBe('{"search":"ct-"}');
  expect(api.calls.filter((c) => c.path === '/api/devices').map((c) => new URLSearchParams(c.query).get('search'))).toEqual([null, 'c', 'ct-']);
});
