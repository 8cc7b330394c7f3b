/** The login page: name and password, the server's answer shown as it is. */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Me } from '../api.ts';
import { ThemeToggle } from '../App.tsx';
import type { Theme } from '../theme.ts';

export function LoginPage({ onLogin, theme, onToggleTheme }: { onLogin: (me: Me) => void; theme: Theme; onToggleTheme: () => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.login(name.trim(), password);
      onLogin(r.user);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong name or password.' : err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login">
      <form className="card login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">
          <span aria-hidden="true" className="brand-dot" /> Vigil
        </h1>
        <p className="muted">Medical device security monitor</p>
        <label>
          Name
          <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <ThemeToggle theme={theme} onToggle={onToggleTheme} />
      </form>
    </main>
  );
}
