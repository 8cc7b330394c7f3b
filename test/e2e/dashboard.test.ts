/**
 * The dashboard end to end: a real `vigil serve` loaded from a simulated hospital capture, driven
 * in Debian's Chromium. Logs in, filters the inventory, opens a device and its evidence, assigns
 * and resolves an alert (seen live in a second window), downloads reports, and takes a screenshot
 * of every page: into docs/screenshots/ for review when VIGIL_SCREENSHOTS=1, else into its temporary
 * directory (so that a test run leaves the working tree as it found it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = new URL('../../', import.meta.url).pathname;
const VIGIL = join(ROOT, 'bin/vigil.js');
const CHROMIUM = '/usr/bin/chromium';
let shots = '';
const skip = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (bash scripts/setup.sh installs it)`;

let dir = '';
let server: ChildProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;
let base = '';
let password = '';

/** The newest modification time of the dashboard's sources, to rebuild web/dist only when stale. */
function newestSource(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newestSource(join(path, n))));
}

function ensureBuilt(): void {
  const index = join(ROOT, 'web/dist/index.html');
  const sources = Math.max(newestSource(join(ROOT, 'web/src')), newestSource(join(ROOT, 'web/index.html')), newestSource(join(ROOT, 'web/vite.config.ts')));
  if (!existsSync(index) || statSync(index).mtimeMs < sources) execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

async function startServer(): Promise<void> {
  const child = spawn(process.execPath, [VIGIL, 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--read', join(dir, 'hospital.pcap')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  server = child;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil serve did not finish reading in 60 s: ${out}`)), 60_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (/alerts stored/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => reject(new Error(`vigil serve exited with ${code}: ${out}`)));
  });
  base = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
  password = /password (\S+) \(shown once/.exec(out)?.[1] ?? '';
  assert.ok(base !== '' && password !== '', out);
}

before(async () => {
  if (skip !== false) return;
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  // A small hospital with every kind of incident: alerts to triage, leaks to report.
  execFileSync(process.execPath, [VIGIL, 'simulate', '-n', '30', '-d', '1h', '--seed', 'e2e', '--incidents', 'all', '--start', '2026-11-23T06:00:00Z', '-o', join(dir, 'hospital.pcap')], { stdio: 'ignore' });
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: 'light' });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  shots = process.env['VIGIL_SCREENSHOTS'] === '1' ? join(ROOT, 'docs/screenshots') : join(dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (server !== undefined && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        server?.kill('SIGKILL');
        r(undefined);
      }, 5000);
      server?.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The API as the logged-in browser sees it (same cookie). */
async function apiGet<T>(path: string): Promise<T> {
  const r = await page.request.get(`${base}${path}`);
  assert.equal(r.status(), 200, `${path}: ${await r.text()}`);
  return (await r.json()) as T;
}

async function shot(name: string, p: Page = page): Promise<void> {
  // Let charts and fonts settle; the screenshots are for people to review.
  await p.waitForLoadState('networkidle').catch(() => undefined);
  await p.screenshot({ path: join(shots, `${name}.png`) });
}

async function inventoryReady(query: RegExp): Promise<void> {
  await page.waitForFunction((src) => {
    const el = document.querySelector('.inventory-scroll');
    return el !== null && el.getAttribute('data-state') === 'ready' && new RegExp(src).test(el.getAttribute('data-query') ?? '');
  }, query.source);
}

test('log in: the login page first, then the overview with every panel', { skip }, async () => {
  await page.goto(`${base}/`);
  await page.getByLabel('Name').waitFor();
  assert.match(page.url(), /\/login\?next=%2F$/);
  await shot('login');
  await page.getByLabel('Name').fill('admin');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  assert.equal(await page.getByRole('alert').textContent(), 'Wrong name or password.');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-page="overview"][data-ready="true"]').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');

  const devices = await apiGet<{ total: number }>('/api/devices?limit=1');
  assert.equal(await page.locator('.page-head .muted').first().textContent(), `${devices.total} devices`);
  const eol = await apiGet<{ total: number }>('/api/devices?eol=eol&limit=1');
  assert.equal(await page.getByRole('link', { name: String(eol.total), exact: true }).first().getAttribute('href'), '/inventory?eol=eol');
  const open = (await apiGet<{ status: string }[]>('/api/alerts?limit=10000')).filter((a) => a.status !== 'resolved').length;
  assert.ok(open > 0, 'the simulated incidents raise alerts');
  assert.equal(await page.getByRole('table', { name: 'Open alerts by severity' }).locator('tfoot td').textContent(), String(open));
  assert.ok((await page.getByRole('img', { name: /Share of devices on an end-of-life OS/ }).count()) === 1);
  await shot('overview');
});

test('filter the inventory: the table, the count and the URL follow; the CSV export carries the filter', { skip }, async () => {
  await page.getByRole('link', { name: 'Inventory' }).click();
  await inventoryReady(/^\{\}$/);
  const all = await apiGet<{ total: number }>('/api/devices?limit=1');
  assert.equal(await page.getByTestId('inventory-count').textContent(), `${all.total} devices`);

  await page.getByRole('combobox', { name: 'Category' }).selectOption('general-it');
  await inventoryReady(/general-it/);
  const it = await apiGet<{ total: number }>('/api/devices?category=general-it&limit=1');
  assert.ok(it.total > 0 && it.total < all.total);
  assert.equal(await page.getByTestId('inventory-count').textContent(), `${it.total} devices`);
  assert.equal(new URL(page.url()).search, '?category=general-it');
  const categories = await page.locator('.inventory-scroll tbody tr:not(.spacer) td:nth-child(6)').allTextContents();
  assert.ok(categories.length > 0 && categories.every((c) => c === 'general-it'), categories.join());

  // A text filter: the vendor of the riskiest general-IT device.
  const first = await apiGet<{ items: { vendor: string | null }[] }>('/api/devices?category=general-it&sort=risk&order=desc&limit=1');
  const vendor = first.items[0]?.vendor ?? 'Dell';
  await page.getByRole('textbox', { name: 'Vendor' }).fill(vendor);
  await inventoryReady(new RegExp(`"vendor":"${vendor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
  const byVendor = await apiGet<{ total: number }>(`/api/devices?category=general-it&vendor=${encodeURIComponent(vendor)}&limit=1`);
  assert.equal(await page.getByTestId('inventory-count').textContent(), `${byVendor.total} ${byVendor.total === 1 ? 'device' : 'devices'}`);
  await shot('inventory');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(csv.length, byVendor.total + 1, 'a header and one line per filtered device');

  // The filtered view is a link: opening it anew shows the same.
  await page.goto(`${base}/inventory?category=general-it`);
  await inventoryReady(/general-it/);
  assert.equal(await page.getByRole('combobox', { name: 'Category' }).inputValue(), 'general-it');
});

test('open a device and expand its evidence down to the frame', { skip }, async () => {
  // The riskiest device with packet evidence for its vendor.
  const rows = await apiGet<{ items: { id: string }[] }>('/api/devices?sort=risk&order=desc&limit=50');
  let target: { id: string; hostnames: string[]; ips: string[]; vendor?: { value: string; evidence: { frame: number }[] } } | undefined;
  for (const r of rows.items) {
    const d = await apiGet<NonNullable<typeof target>>(`/api/devices/${encodeURIComponent(r.id)}`);
    if ((d.vendor?.evidence.length ?? 0) > 0) {
      target = d;
      break;
    }
  }
  assert.ok(target?.vendor !== undefined, 'some device has vendor evidence');
  await page.goto(`${base}/inventory?sort=risk&order=desc`);
  await inventoryReady(/risk/);
  await page.getByRole('searchbox', { name: 'Search' }).fill(target.id);
  await inventoryReady(new RegExp(target.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await page.getByRole('link', { name: target.hostnames[0] ?? target.ips[0] ?? target.id, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: target.hostnames[0] ?? target.ips[0] ?? target.id }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/devices/${encodeURIComponent(target.id)}`);

  const vendorRow = page.getByRole('table', { name: 'Identity claims' }).getByRole('row', { name: /^Vendor/ });
  assert.match((await vendorRow.textContent()) ?? '', new RegExp(target.vendor.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const evidence = page.getByRole('table', { name: 'Evidence for vendor' });
  assert.equal(await evidence.isVisible(), false, 'evidence is folded until asked for');
  await vendorRow.getByText(/^Evidence for vendor/).click();
  await evidence.waitFor();
  const frames = await evidence.locator('tbody tr td:nth-child(4)').allTextContents();
  assert.deepEqual(frames, target.vendor.evidence.map((e) => String(e.frame)));
  await shot('device');

  // The communication map and the traffic chart from the stored traffic summaries.
  await page.locator('#communication').scrollIntoViewIfNeeded();
  await page.getByRole('group', { name: /Communication map/ }).or(page.getByText('No peers recorded for this device.')).first().waitFor();
  await shot('device-communication');
});

test('assign and resolve an alert; a second window sees the changes live', { skip }, async () => {
  await page.goto(`${base}/alerts`);
  const queue = page.getByRole('table', { name: 'Alert queue' });
  await queue.waitFor();
  const watcher = await (context as BrowserContext).newPage();
  await watcher.goto(`${base}/alerts?status=all`);
  await watcher.getByText('Live', { exact: true }).waitFor();

  const firstRow = queue.locator('tbody tr').first();
  const id = Number(await firstRow.getAttribute('data-alert-id'));
  await firstRow.getByRole('button').click();
  const panel = page.locator(`[data-alert="${id}"]`);
  await panel.waitFor();
  assert.equal(new URL(page.url()).searchParams.get('id'), String(id));

  await panel.getByRole('combobox', { name: 'Assign to' }).selectOption('team:clinical-engineering');
  await panel.getByRole('button', { name: 'Assign' }).click();
  await panel.getByTestId('alert-status').filter({ hasText: 'assigned · assigned to team:clinical-engineering' }).waitFor();
  await panel.getByRole('textbox', { name: 'Comment' }).fill('Vendor patch booked for the maintenance window');
  await panel.getByRole('button', { name: 'Add comment' }).click();
  await panel.getByRole('list', { name: 'Comments' }).getByText('Vendor patch booked for the maintenance window').waitFor();
  await shot('alerts');

  await panel.getByRole('textbox', { name: 'Resolution (why it is closed)' }).fill('Patched by the vendor; verified on the wire');
  await panel.getByRole('button', { name: 'Resolve' }).click();
  await panel.getByTestId('alert-status').filter({ hasText: /^resolved/ }).waitFor();

  const stored = (await apiGet<{ id: number; status: string; assignee: string | null; resolution: string | null }[]>('/api/alerts?limit=10000')).find((a) => a.id === id);
  assert.deepEqual(stored && { status: stored.status, assignee: stored.assignee, resolution: stored.resolution }, { status: 'resolved', assignee: 'team:clinical-engineering', resolution: 'Patched by the vendor; verified on the wire' });
  // The other window was not reloaded: the change came over the live feed.
  await watcher.locator(`tr[data-alert-id="${id}"] td:nth-child(3)`).filter({ hasText: 'resolved' }).waitFor({ timeout: 5000 });
  await watcher.close();
  // Resolved alerts leave the open queue.
  assert.equal(await queue.locator(`tr[data-alert-id="${id}"]`).count(), 0);
});

test('download reports: the disclosure summary as the server renders it, the forecast as CSV', { skip }, async () => {
  await page.getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('table', { name: 'EOL forecast by category' }).waitFor();
  await page.getByRole('table', { name: 'Risk by category' }).waitFor();
  await page.getByRole('table', { name: 'Manufacturers with leaking devices' }).waitFor();
  await shot('reports');
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download summary (Markdown)' }).click()]);
  assert.match(md.suggestedFilename(), /^vigil-disclosure-summary-\d{4}-\d\d-\d\d\.md$/);
  const text = readFileSync(await md.path(), 'utf8');
  const expected = await (await page.request.get(`${base}/api/reports/disclosure?format=md`)).text();
  assert.equal(text, expected);
  assert.match(text, /^#/);
  // One manufacturer's report, from the list of those whose devices leak.
  const vendors = await apiGet<{ vendor: string }[]>('/api/reports/disclosure/vendors');
  assert.ok(vendors.length > 0, 'the simulated hospital has leaking devices');
  const first = vendors[0]?.vendor as string;
  const [one] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `${first}: Markdown report` }).click()]);
  const vendorText = readFileSync(await one.path(), 'utf8');
  assert.equal(vendorText, await (await page.request.get(`${base}/api/reports/disclosure?format=md&vendor=${encodeURIComponent(first)}`)).text());
  assert.ok(vendorText.includes(first));
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download EOL forecast (CSV)' }).click()]);
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\r\n');
  const forecast = await apiGet<{ date: string; all: { eol: number } }[]>('/api/reports/eol-forecast');
  assert.equal(lines.length, forecast.length + 1);
  const cells = lines[1]?.split(',') ?? [];
  assert.equal(cells[0], forecast[0]?.date);
  assert.equal(Number(cells[3]), forecast[0]?.all.eol);
});

test('users: an admin adds a read-only user, who then sees no triage actions and no Users page', { skip }, async () => {
  await page.getByRole('link', { name: 'Users' }).click();
  const form = page.getByRole('region', { name: 'Add a user' });
  await form.getByRole('textbox', { name: 'Name' }).fill('ward7-viewer');
  await form.getByRole('combobox', { name: 'Role' }).selectOption('read-only');
  await form.getByLabel('Password (at least 12 characters)').fill('correct horse battery staple');
  await form.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('status').filter({ hasText: 'Added ward7-viewer (read-only).' }).waitFor();
  await shot('users');

  const other = await (browser as Browser).newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const viewer = await other.newPage();
    await viewer.goto(`${base}/alerts?status=all`);
    await viewer.getByLabel('Name').fill('ward7-viewer');
    await viewer.getByLabel('Password').fill('correct horse battery staple');
    await viewer.getByRole('button', { name: 'Log in' }).click();
    await viewer.getByRole('table', { name: 'Alert queue' }).waitFor();
    assert.equal(new URL(viewer.url()).pathname, '/alerts', 'back to the page asked for');
    assert.equal(await viewer.getByRole('link', { name: 'Users' }).count(), 0);
    await viewer.getByRole('table', { name: 'Alert queue' }).locator('tbody tr').first().getByRole('button').click();
    await viewer.getByText('Your role can read alerts').waitFor();
  } finally {
    await other.close();
  }
});

test('keyboard, dark theme and a tablet', { skip }, async () => {
  await page.goto(`${base}/`);
  await page.locator('[data-page="overview"][data-ready="true"]').waitFor();
  // The first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Vigil overview');

  await page.getByRole('button', { name: /Dark theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-theme')), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(15, 20, 27)');
  await shot('overview-dark');
  await page.getByRole('button', { name: /Dark theme/ }).click();

  await page.setViewportSize({ width: 820, height: 1180 });
  await page.goto(`${base}/inventory`);
  await inventoryReady(/^\{\}$/);
  // Nothing wider than the screen but the table's own scroller.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await shot('tablet-inventory');
  await page.goto(`${base}/`);
  await page.locator('[data-page="overview"][data-ready="true"]').waitFor();
  await shot('tablet-overview');
  // Triage on a tablet: the chosen alert comes into view below the queue.
  await page.goto(`${base}/alerts`);
  const first = page.getByRole('table', { name: 'Alert queue' }).locator('tbody tr').first();
  const id = await first.getAttribute('data-alert-id');
  await first.getByRole('button').click();
  const panel = page.locator(`[data-alert="${id}"]`);
  await panel.waitFor();
  const box = await panel.boundingBox();
  assert.ok(box !== null && box.y >= 0 && box.y < 1180, `the alert panel is in view: ${JSON.stringify(box)}`);
  await shot('tablet-alerts');
  await page.setViewportSize({ width: 1280, height: 800 });
});
