import { afterEach, beforeEach, expect, test } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { AlertsPage } from './Alerts.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';
import { SessionContext } from '../session.tsx';
import { useLocation } from '../router.tsx';
import type { Alert, AlertChange, Me } from '../api.ts';

/** EventSource as the page uses it: the test pushes server-sent events through `emit`. */
class FakeEventSource extends EventTarget {
  static last: FakeEventSource | undefined;
  closed = false;
  constructor(readonly url: string) {
    super();
    FakeEventSource.last = this;
    queueMicrotask(() => this.dispatchEvent(new Event('open')));
  }
  emit(type: string, data: unknown) {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  close() {
    this.closed = true;
  }
}

let api: FakeApi | undefined;
let alerts: Alert[];
const alert = (id: number, severity: Alert['severity'], teams: string[], status: Alert['status'] = 'new'): Alert => ({
  id, key: `k${id}`, deviceId: `mac:00:00:00:00:00:0${id}`, kind: 'leak', severity, title: `alert ${id}`, detail: { why: `because ${id}` }, teams, status, assignee: null, resolution: null, firstSeen: 100 + id, lastSeen: 100 + id, updatedAt: 1, dueAt: null,
});

beforeEach(() => {
  (globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
  alerts = [alert(1, 'high', ['it-security', 'clinical-engineering']), alert(2, 'medium', ['it-security']), alert(3, 'critical', ['clinical-engineering'], 'resolved')];
  api = fakeApi({
    'GET /api/alerts': ({ url }) => alerts.filter((a) => (url.searchParams.get('status') ?? a.status) === a.status && (url.searchParams.get('team') === null || a.teams.includes(url.searchParams.get('team') as string))),
    'PATCH /api/alerts/1': ({ body }) => {
      const change = body as AlertChange;
      if (change.status === 'resolved' && (change.resolution ?? '') === '') return { status: 400, body: { error: 'resolving an alert needs a resolution (the reason)' } };
      alerts[0] = { ...(alerts[0] as Alert), ...change };
      return alerts[0];
    },
    'GET /api/alerts/1/comments': [],
    'POST /api/alerts/1/comments': ({ body }) => ({ status: 201, body: { id: 1, alertId: 1, at: 200, author: 'jane', text: (body as { text: string }).text } }),
    'GET /api/users': [{ id: 1, name: 'admin', role: 'admin', createdAt: 1, disabled: false }, { id: 2, name: 'sam', role: 'clinical-engineer', createdAt: 1, disabled: false }],
  });
});
afterEach(() => {
  cleanup();
  api?.restore();
  delete (globalThis as { EventSource?: unknown }).EventSource;
  window.history.replaceState(null, '', '/');
});

function Routed({ me }: { me: Me }) {
  const { query } = useLocation();
  return (
    <SessionContext.Provider value={me}>
      <AlertsPage query={query} />
    </SessionContext.Provider>
  );
}

const queue = () => screen.getByRole('table', { name: 'Alert queue' });
const titles = () => within(queue()).getAllByRole('button').map((b) => b.textContent);

test('the queue shows open alerts, most severe first; filters by severity and team go into the URL', async () => {
  window.history.replaceState(null, '', '/alerts');
  render(<Routed me={{ name: 'jane', role: 'analyst' }} />);
  await waitFor(() => expect(titles()).toEqual(['alert 1', 'alert 2']));
  fireEvent.change(screen.getByRole('combobox', { name: 'Severity' }), { target: { value: 'medium' } });
  await waitFor(() => expect(titles()).toEqual(['alert 2']));
  expect(window.location.search).toBe('?severity=medium');
  fireEvent.change(screen.getByRole('combobox', { name: 'Severity' }), { target: { value: '' } });
  fireEvent.change(screen.getByRole('combobox', { name: 'Team' }), { target: { value: 'clinical-engineering' } });
  await waitFor(() => expect(titles()).toEqual(['alert 1']));
  expect(api?.calls.at(-1)?.query).toBe('?team=clinical-engineering&limit=10000');
  fireEvent.change(screen.getByRole('combobox', { name: 'Status' }), { target: { value: 'all' } });
  await waitFor(() => expect(titles()).toEqual(['alert 3', 'alert 1']));
});

test('triage: acknowledge, assign to a team, comment, resolve with a reason, reopen', async () => {
  window.history.replaceState(null, '', '/alerts?status=all&id=1');
  render(<Routed me={{ name: 'jane', role: 'analyst' }} />);
  const panel = await screen.findByRole('region', { name: 'alert 1' });
  expect(panel.textContent).toContain('because 1');

  fireEvent.click(within(panel).getByRole('button', { name: 'Acknowledge' }));
  await waitFor(() => expect(within(panel).getByTestId('alert-status').textContent).toBe('acknowledged'));

  fireEvent.change(within(panel).getByRole('combobox', { name: 'Assign to' }), { target: { value: 'team:clinical-engineering' } });
  fireEvent.click(within(panel).getByRole('button', { name: 'Assign' }));
  await waitFor(() => expect(within(panel).getByTestId('alert-status').textContent).toBe('assigned · assigned to team:clinical-engineering'));

  fireEvent.change(within(panel).getByRole('textbox', { name: 'Comment' }), { target: { value: 'Vendor patch scheduled for Tuesday' } });
  fireEvent.click(within(panel).getByRole('button', { name: 'Add comment' }));
  expect((await within(panel).findByRole('list', { name: 'Comments' })).textContent).toContain('Vendor patch scheduled for Tuesday');

  const resolve = within(panel).getByRole('button', { name: 'Resolve' }) as HTMLButtonElement;
  expect(resolve.disabled).toBe(true);
  fireEvent.change(within(panel).getByRole('textbox', { name: 'Resolution (why it is closed)' }), { target: { value: 'patched' } });
  fireEvent.click(resolve);
  await waitFor(() => expect(within(panel).getByTestId('alert-status').textContent).toBe('resolved · assigned to team:clinical-engineering'));
  fireEvent.click(within(panel).getByRole('button', { name: 'Reopen' }));
  await waitFor(() => expect(within(panel).getByTestId('alert-status').textContent).toMatch(/^new/));

  expect(api?.calls.filter((c) => c.method !== 'GET').map((c) => c.body)).toEqual([
    { status: 'acknowledged' },
    { assignee: 'team:clinical-engineering', status: 'assigned' },
    { text: 'Vendor patch scheduled for Tuesday' },
    { status: 'resolved', resolution: 'patched' },
    { status: 'new', resolution: null },
  ]);
});

test('an admin can assign to a person from the user list', async () => {
  window.history.replaceState(null, '', '/alerts?id=1');
  render(<Routed me={{ name: 'admin', role: 'admin' }} />);
  const panel = await screen.findByRole('region', { name: 'alert 1' });
  await within(panel).findByRole('option', { name: 'sam' });
  fireEvent.change(within(panel).getByRole('combobox', { name: 'Assign to' }), { target: { value: 'sam' } });
  fireEvent.click(within(panel).getByRole('button', { name: 'Assign' }));
  await waitFor(() => expect(within(panel).getByTestId('alert-status').textContent).toBe('assigned · assigned to sam'));
});

test('what /api/me says the user may do decides what is offered (a role that may triage but not resolve)', async () => {
  window.history.replaceState(null, '', '/alerts?id=1');
  render(<Routed me={{ name: 'sam', role: 'analyst', may: ['read', 'alerts.triage'] }} />);
  const panel = await screen.findByRole('region', { name: 'alert 1' });
  expect(within(panel).getByRole('button', { name: 'Assign' })).toBeTruthy();
  expect(within(panel).queryByRole('button', { name: 'Resolve' })).toBeNull();
});

test('read-only users see the alert but no triage actions', async () => {
  window.history.replaceState(null, '', '/alerts?id=1');
  render(<Routed me={{ name: 'ro', role: 'read-only' }} />);
  const panel = await screen.findByRole('region', { name: 'alert 1' });
  expect(within(panel).queryByRole('button')).toBeNull();
  expect(panel.textContent).toContain('Your role can read alerts');
});

test('live: an alert raised elsewhere joins the queue, a change elsewhere replaces the old copy', async () => {
  window.history.replaceState(null, '', '/alerts');
  render(<Routed me={{ name: 'jane', role: 'analyst' }} />);
  await waitFor(() => expect(titles()).toEqual(['alert 1', 'alert 2']));
  await waitFor(() => expect(screen.getByText('Live')).toBeTruthy());
  const es = FakeEventSource.last as FakeEventSource;
  expect(es.url).toBe('/api/events');
  await act(async () => es.emit('alert', alert(9, 'critical', ['it-security'])));
  expect(titles()).toEqual(['alert 9', 'alert 1', 'alert 2']);
  await act(async () => es.emit('alert', { ...alert(2, 'medium', ['it-security']), status: 'assigned', assignee: 'sam' }));
  expect(within(queue()).getByRole('row', { name: /alert 2/ }).textContent).toContain('sam');
  cleanup();
  expect(es.closed).toBe(true);
});
