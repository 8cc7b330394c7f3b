import { afterEach, describe, expect, test } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from './App.tsx';
import { fakeApi, type FakeApi } from './testing.ts';
import { queryString } from './api.ts';

let api: FakeApi | undefined;
afterEach(() => {
  cleanup();
  api?.restore();
  sessionStorage.clear();
  localStorage.clear();
  document.documentElement.removeAttribute('data-theme');
  window.history.replaceState(null, '', '/');
});

const emptyData = {
  'GET /api/reports/risk': { bands: {}, byCategory: {}, top: [] },
  'GET /api/reports/eol-forecast': [],
  'GET /api/alerts': [],
  'GET /api/devices': { total: 0, items: [] },
};

describe('the app shell', () => {
  test('a 401 shows the login page; logging in posts the credentials and returns to the page asked for', async () => {
    let loggedIn = false;
    api = fakeApi({
      ...emptyData,
      'GET /api/me': () => (loggedIn ? { name: 'jane', role: 'analyst' } : { status: 401, body: { error: 'log in' } }),
      'POST /api/auth/login': ({ body }) => {
        const { name, password } = body as { name: string; password: string };
        if (password !== 'correct horse battery') return { status: 401, body: { error: 'wrong name or password' } };
        loggedIn = true;
        return { token: 't', user: { name, role: 'analyst' } };
      },
    });
    window.history.replaceState(null, '', '/reports');
    render(<App />);
    const name = await screen.findByLabelText('Name');
    expect(window.location.pathname).toBe('/login');
    expect(new URLSearchParams(window.location.search).get('next')).toBe('/reports');

    fireEvent.change(name, { target: { value: 'jane' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong password!' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong name or password.');

    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse battery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('navigation', { name: 'Main' });
    expect(window.location.pathname).toBe('/reports');
    expect(screen.getByRole('link', { name: 'Reports' }).getAttribute('aria-current')).toBe('page');
    // An analyst manages no users: no Users page offered.
    expect(screen.queryByRole('link', { name: 'Users' })).toBeNull();
    expect(api.calls.filter((c) => c.path === '/api/auth/login').map((c) => c.body)).toEqual([
      { name: 'jane', password: 'wrong password!' },
      { name: 'jane', password: 'correct horse battery' },
    ]);
  });

  test('an admin sees the Users page; navigation changes the page without reloading; logging out returns to the login', async () => {
    api = fakeApi({ ...emptyData, 'GET /api/me': { name: 'admin', role: 'admin' }, 'GET /api/users': [], 'POST /api/auth/logout': { ok: true } });
    render(<App />);
    const users = await screen.findByRole('link', { name: 'Users' });
    fireEvent.click(users);
    expect(window.location.pathname).toBe('/users');
    expect(users.getAttribute('aria-current')).toBe('page');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Log out' })));
    await screen.findByLabelText('Password');
    expect(api.calls.some((c) => c.method === 'POST' && c.path === '/api/auth/logout')).toBe(true);
  });

  test('a server without /api/me: the login answer kept for the tab, checked with an authenticated call', async () => {
    sessionStorage.setItem('vigil-user', JSON.stringify({ name: 'cle', role: 'clinical-engineer' }));
    api = fakeApi({ ...emptyData });
    render(<App />);
    expect((await screen.findByText(/^cle/)).textContent).toBe('cle (clinical-engineer)');
    expect(api.calls.some((c) => c.path === '/api/devices')).toBe(true);
  });

  test('the login page while logged in leads on to where it was asked to', async () => {
    api = fakeApi({ ...emptyData, 'GET /api/me': { name: 'admin', role: 'admin' } });
    window.history.replaceState(null, '', '/login?next=%2Falerts%3Fteam%3Dit-security');
    render(<App />);
    await screen.findByRole('navigation', { name: 'Main' });
    await waitFor(() => expect(window.location.pathname + window.location.search).toBe('/alerts?team=it-security'));
  });

  test('the theme toggle switches to dark and back, and is remembered', async () => {
    api = fakeApi({ ...emptyData, 'GET /api/me': { name: 'admin', role: 'admin' } });
    render(<App />);
    const toggle = await screen.findByRole('button', { name: /Dark theme/ });
    const dark = toggle.getAttribute('aria-pressed') === 'true';
    fireEvent.click(toggle);
    expect(document.documentElement.getAttribute('data-theme')).toBe(dark ? 'light' : 'dark');
    expect(localStorage.getItem('vigil-theme')).toBe(dark ? 'light' : 'dark');
    fireEvent.click(toggle);
    await waitFor(() => expect(document.documentElement.getAttribute('data-theme')).toBe(dark ? 'dark' : 'light'));
  });
});

test('queryString leaves out what is not set', () => {
  expect(queryString({ search: 'ct', category: undefined, minRisk: 0, vendor: '' })).toBe('?search=ct&minRisk=0');
  expect(queryString({})).toBe('');
});
