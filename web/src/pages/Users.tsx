/** Users and roles (admins): who may log in, with which role; add a user, change a role, disable an account. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, ROLES, type Role, type User } from '../api.ts';
import { fmtTime } from '../format.ts';
import { useMe } from '../session.tsx';
import { useData } from '../useData.ts';

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including users',
  analyst: 'triage and resolve alerts, import threat data',
  'clinical-engineer': 'triage and resolve alerts',
  'read-only': 'look, and read reports',
};

export function UsersPage() {
  const me = useMe();
  const users = useData(() => api.users(), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const [password, setPassword] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Users — Vigil';
  }, []);

  const run = async (what: () => Promise<void>, done: string) => {
    setBusy(true);
    setMessage(null);
    try {
      await what();
      setMessage({ error: false, text: done });
    } catch (e) {
      const text = e instanceof ApiError && e.status === 404 && e.message.startsWith('no route') ? 'This server cannot change users yet.' : e instanceof Error ? e.message : String(e);
      setMessage({ error: true, text });
    } finally {
      setBusy(false);
    }
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const u = await api.addUser(name.trim(), role, password);
      users.set((old) => [...(old ?? []), u]);
      setName('');
      setPassword('');
    }, `Added ${name.trim()} (${role}).`);
  };

  const update = (u: User, change: { role?: Role; disabled?: boolean }) =>
    run(async () => {
      const updated = await api.updateUser(u.name, change);
      users.set((old) => old?.map((x) => (x.name === u.name ? { ...x, ...updated } : x)));
    }, change.role !== undefined ? `${u.name} is now ${change.role}.` : change.disabled === true ? `${u.name} is disabled.` : `${u.name} is enabled.`);

  return (
    <div data-page="users">
      <div className="page-head">
        <h1>Users</h1>
      </div>
      {message !== null && (
        <p className={message.error ? 'error' : 'notice'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <div className="grid">
        <section className="card span-8" aria-labelledby="users-list">
          <h2 id="users-list">Accounts</h2>
          {users.error !== undefined && <p className="error">{users.error.message}</p>}
          <table aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {(users.data ?? []).map((u) => (
                <tr key={u.id}>
                  <th scope="row">
                    {u.name}
                    {u.name === me.name ? <span className="muted"> (you)</span> : ''}
                  </th>
                  <td>
                    <select aria-label={`Role of ${u.name}`} value={u.role} disabled={busy || u.name === me.name} onChange={(e) => void update(u, { role: e.target.value as Role })}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{fmtTime(u.createdAt)}</td>
                  <td>
                    {u.disabled ? 'disabled ' : 'active '}
                    {u.name !== me.name && (
                      <button type="button" disabled={busy} onClick={() => void update(u, { disabled: !u.disabled })} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}>
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card span-4" aria-labelledby="users-add">
          <h2 id="users-add">Add a user</h2>
          <form onSubmit={add} style={{ display: 'grid', gap: '0.6rem' }}>
            <label>
              Name
              <input value={name} onChange={(e) => setName(e.target.value)} required pattern="[A-Za-z0-9._@\-]{1,64}" autoComplete="off" />
            </label>
            <label>
              Role
              <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </label>
            <p className="muted" style={{ margin: 0 }}>
              {ROLE_HELP[role]}
            </p>
            <label>
              Password (at least 12 characters)
              <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={12} autoComplete="new-password" />
            </label>
            <button type="submit" className="primary" disabled={busy}>
              Add user
            </button>
          </form>
        </section>
      </div>
    </div>
  );
}
