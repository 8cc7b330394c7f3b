import { afterEach, expect, test } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { UsersPage } from './Users.tsx';
import { fakeApi, type FakeApi } from '../testing.ts';
import { SessionContext } from '../session.tsx';
import type { User } from '../api.ts';

let api: FakeApi | undefined;
afterEach(() => {
  cleanup();
  api?.restore();
});

test('admins list users, add one, change a role and disable an account; their own row cannot be locked out', async () => {
  const users: User[] = [{ id: 1, name: 'admin', role: 'admin', createdAt: 1795413601, disabled: false }];
  api = fakeApi({
    'GET /api/users': () => users,
    'POST /api/users': ({ body }) => {
      const b = body as { name: string; role: User['role'] };
      const u = { id: users.length + 1, name: b.name, role: b.role, createdAt: 1795413700, disabled: false };
      users.push(u);
      return { status: 201, body: u };
    },
    'PATCH /api/users/jane': ({ body }) => ({ ...users[1], ...(body as object) }),
  });
  render(
    <SessionContext.Provider value={{ name: 'admin', role: 'admin' }}>
      <UsersPage />
    </SessionContext.Provider>,
  );
  const table = await screen.findByRole('table', { name: 'Users' });
  await within(table).findByRole('rowheader', { name: 'admin (you)' });
  expect((within(table).getByRole('combobox', { name: 'Role of admin' }) as HTMLSelectElement).disabled).toBe(true);

  const form = screen.getByRole('region', { name: 'Add a user' });
  fireEvent.change(within(form).getByRole('textbox', { name: 'Name' }), { target: { value: 'jane' } });
  fireEvent.change(within(form).getByRole('combobox', { name: 'Role' }), { target: { value: 'clinical-engineer' } });
  fireEvent.change(within(form).getByLabelText('Password (at least 12 characters)'), { target: { value: 'long enough password' } });
  fireEvent.click(within(form).getByRole('button', { name: 'Add user' }));
  expect((await screen.findByRole('status')).textContent).toBe('Added jane (clinical-engineer).');

  fireEvent.change(within(table).getByRole('combobox', { name: 'Role of jane' }), { target: { value: 'analyst' } });
  await waitFor(() => expect(screen.getByRole('status').textContent).toBe('jane is now analyst.'));
  fireEvent.click(within(table).getByRole('button', { name: 'Disable jane' }));
  await waitFor(() => expect(screen.getByRole('status').textContent).toBe('jane is disabled.'));
  expect(within(table).getByRole('row', { name: /jane/ }).textContent).toContain('disabled');
  expect(api.calls.filter((c) => c.method !== 'GET').map((c) => [c.method, c.path, c.body])).toEqual([
    ['POST', '/api/users', { name: 'jane', role: 'clinical-engineer', password: 'long enough password' }],
    ['PATCH', '/api/users/jane', { role: 'analyst' }],
    ['PATCH', '/api/users/jane', { disabled: true }],
  ]);
});
