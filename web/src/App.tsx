/**
 * The app shell: who is logged in, the navigation, the theme toggle, and which page the path names.
 * Any 401 from the API ends the session here and shows the login page, coming back to the same
 * page afterwards.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized, type Me } from './api.ts';
import { Link, navigate, useLocation } from './router.tsx';
import { canManageUsers, rememberedUser, rememberUser, SessionContext } from './session.tsx';
import { applyTheme, effectiveTheme, type Theme } from './theme.ts';
import { LoginPage } from './pages/Login.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { InventoryPage } from './pages/Inventory.tsx';
import { DevicePage } from './pages/Device.tsx';
import { AlertsPage } from './pages/Alerts.tsx';
import { ReportsPage } from './pages/Reports.tsx';
import { UsersPage } from './pages/Users.tsx';

const NAV = [
  { to: '/', label: 'Overview', match: (p: string) => p === '/' },
  { to: '/inventory', label: 'Inventory', match: (p: string) => p === '/inventory' || p.startsWith('/devices/') },
  { to: '/alerts', label: 'Alerts', match: (p: string) => p === '/alerts' },
  { to: '/reports', label: 'Reports', match: (p: string) => p === '/reports' },
] as const;

function loginTarget(): string {
  const here = window.location.pathname + window.location.search;
  return here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`;
}

export function App() {
  const { path, query } = useLocation();
  // undefined: still asking the server who we are.
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [theme, setTheme] = useState<Theme>(() => effectiveTheme());
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    onUnauthorized(() => {
      rememberUser(null);
      setMe(null);
      navigate(loginTarget(), { replace: true });
    });
    let live = true;
    (async () => {
      try {
        let who = await api.me();
        if (who === null) {
          // A server without /api/me: the login's answer from this tab, if a cheap authenticated call says the session is still good.
          who = rememberedUser();
          if (who !== null) await api.devices({ limit: 1 });
        }
        if (live) setMe(who);
        if (who === null) navigate(loginTarget(), { replace: true });
      } catch (e) {
        if (live && !(e instanceof ApiError && e.status === 401)) setMe(null);
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  // A new page: focus its content, so keyboard and screen-reader users start there.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [path]);

  const loggedIn = useCallback((who: Me) => {
    rememberUser(who);
    setMe(who);
    const next = new URLSearchParams(window.location.search).get('next');
    navigate(next !== null && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/', { replace: true });
  }, []);

  const logout = async () => {
    try {
      await api.logout();
    } finally {
      rememberUser(null);
      setMe(null);
      navigate('/login', { replace: true });
    }
  };

  const toggleTheme = () => {
    const next: Theme = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    setTheme(next);
  };

  if (me === undefined) return <p className="loading" role="status">Loading…</p>;
  if (me === null) return <LoginPage onLogin={loggedIn} theme={theme} onToggleTheme={toggleTheme} />;
  // Already logged in (the login page from history or a bookmark): go where it was asked to lead.
  if (path === '/login') return <LoginRedirect onReady={() => loggedIn(me)} />;

  let page;
  if (path === '/') page = <OverviewPage />;
  else if (path === '/inventory') page = <InventoryPage query={query} />;
  else if (path.startsWith('/devices/')) page = <DevicePage id={decodeURIComponent(path.slice('/devices/'.length))} />;
  else if (path === '/alerts') page = <AlertsPage query={query} />;
  else if (path === '/reports') page = <ReportsPage />;
  else if (path === '/users' && canManageUsers(me)) page = <UsersPage />;
  else page = <NotFound />;

  return (
    <SessionContext.Provider value={me}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Vigil overview">
          <span aria-hidden="true" className="brand-dot" />
          Vigil
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.match(path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
            {canManageUsers(me) && (
              <li>
                <Link to="/users" aria-current={path === '/users' ? 'page' : undefined}>
                  Users
                </Link>
              </li>
            )}
          </ul>
        </nav>
        <div className="session">
          <span className="who">
            {me.name} <span className="muted">({me.role})</span>
          </span>
          <ThemeToggle theme={theme} onToggle={toggleTheme} />
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </SessionContext.Provider>
  );
}

export function ThemeToggle({ theme, onToggle }: { theme: Theme; onToggle: () => void }) {
  return (
    <button type="button" className="theme-toggle" onClick={onToggle} aria-pressed={theme === 'dark'} title="Dark theme">
      <span aria-hidden="true">{theme === 'dark' ? '☾' : '☀'}</span> Dark theme
    </button>
  );
}

function LoginRedirect({ onReady }: { onReady: () => void }) {
  useEffect(onReady, [onReady]);
  return null;
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the overview</Link>
      </p>
    </section>
  );
}
