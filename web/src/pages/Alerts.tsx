/**
 * The triage queue both teams share: filter by status, team and severity; open an alert to
 * acknowledge it, assign it to a person or a team, discuss it, resolve it with the reason, or
 * reopen it. New and changed alerts arrive live (server-sent events), so two people looking at
 * the queue see the same thing.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ALERT_STATUSES, api, SEVERITIES, subscribeEvents, TEAMS, type Alert, type AlertChange, type User } from '../api.ts';
import { fmtTime } from '../format.ts';
import { devicePath, Link, navigate } from '../router.tsx';
import { canManageUsers, canResolve, canTriage, useMe } from '../session.tsx';
import { useData } from '../useData.ts';

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<string, number>;

export function AlertsPage({ query }: { query: URLSearchParams }) {
  const me = useMe();
  const status = query.get('status') ?? 'open';
  const team = query.get('team') ?? '';
  const severity = query.get('severity') ?? '';
  const selectedId = Number(query.get('id') ?? NaN);
  const [live, setLive] = useState(false);

  // The server filters by status and team; 'open' (not resolved) and severity are narrowed here.
  const alerts = useData(() => api.alerts({ ...(status !== 'open' && status !== 'all' ? { status: status as Alert['status'] } : {}), ...(team !== '' ? { team } : {}), limit: 10000 }), [status, team]);
  const set = alerts.set;

  useEffect(() => {
    document.title = 'Alerts — Vigil';
  }, []);

  // Live: an alert raised or changed elsewhere replaces its old copy (or joins the queue).
  useEffect(
    () =>
      subscribeEvents({
        state: setLive,
        alert: (a) =>
          set((old) => {
            if (old === undefined) return old;
            const i = old.findIndex((x) => x.id === a.id);
            if (i >= 0) return old.map((x) => (x.id === a.id ? a : x));
            const fits = (team === '' || a.teams.includes(team)) && (status === 'open' || status === 'all' || a.status === status);
            return fits ? [a, ...old] : old;
          }),
      }),
    [set, team, status],
  );

  const shown = useMemo(
    () =>
      (alerts.data ?? [])
        .filter((a) => (status === 'open' ? a.status !== 'resolved' : true) && (severity === '' || a.severity === severity))
        .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.firstSeen - a.firstSeen),
    [alerts.data, status, severity],
  );
  const selected = (alerts.data ?? []).find((a) => a.id === selectedId);

  const setQuery = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v === '') q.delete(k);
    else q.set(k, v);
    const s = q.toString();
    navigate(`/alerts${s === '' ? '' : `?${s}`}`, { replace: k !== 'id' });
  };

  const replace = (a: Alert) => set((old) => old?.map((x) => (x.id === a.id ? a : x)));

  return (
    <div data-page="alerts">
      <div className="page-head">
        <h1>Alerts</h1>
        <span className="muted" role="status" aria-live="polite">
          {alerts.loading && alerts.data === undefined ? 'Loading…' : `${shown.length} shown`}
        </span>
        <div className="actions">
          <span className={`live${live ? ' on' : ''}`} title={live ? 'Live updates on' : 'Live updates off'}>
            {live ? 'Live' : 'Not live'}
          </span>
        </div>
      </div>
      <form className="filters" aria-label="Filter the alerts" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setQuery('status', e.target.value === 'open' ? '' : e.target.value)}>
            <option value="open">open (not resolved)</option>
            {ALERT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value="all">all</option>
          </select>
        </label>
        <label>
          Team
          <select value={team} onChange={(e) => setQuery('team', e.target.value)}>
            <option value="">all teams</option>
            {TEAMS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(e) => setQuery('severity', e.target.value)}>
            <option value="">all</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </form>
      {alerts.error !== undefined && (
        <p className="error" role="alert">
          {alerts.error.message}
        </p>
      )}
      <div className="triage">
        <div className="card alert-list">
          {shown.length === 0 && !alerts.loading ? (
            <p className="empty">No alerts match.</p>
          ) : (
            <table aria-label="Alert queue">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Status</th>
                  <th scope="col">Assignee</th>
                  <th scope="col">Due</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((a) => (
                  <tr key={a.id} aria-selected={a.id === selectedId} data-alert-id={a.id}>
                    <td>
                      <span className={`badge sev-${a.severity}`}>{a.severity}</span>
                    </td>
                    <td>
                      <button type="button" className="link" onClick={() => setQuery('id', String(a.id))} aria-describedby={`teams-${a.id}`}>
                        {a.title}
                      </button>
                      <div id={`teams-${a.id}`} className="muted" style={{ fontSize: '0.8rem' }}>
                        {a.kind} · {a.teams.join(', ')}
                      </div>
                    </td>
                    <td>{a.status}</td>
                    <td>{a.assignee ?? '—'}</td>
                    <td className={a.dueAt !== null && a.dueAt * 1000 < Date.now() && a.status !== 'resolved' ? 'error' : ''}>{a.dueAt !== null ? fmtTime(a.dueAt).slice(0, 10) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div className="detail-panel">
          {selected !== undefined ? (
            <AlertDetail key={selected.id} alert={selected} onChange={replace} canAct={canTriage(me)} canClose={canResolve(me)} listUsers={canManageUsers(me)} me={me.name} />
          ) : (
            <div className="card">
              <p className="empty">{Number.isFinite(selectedId) && !alerts.loading ? `Alert ${selectedId} is not in this view.` : 'Choose an alert to triage it.'}</p>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

interface DetailProps {
  alert: Alert;
  onChange: (a: Alert) => void;
  canAct: boolean;
  canClose: boolean;
  listUsers: boolean;
  me: string;
}

/** The detail fields an alert carries (why, remediation, a link …), as readable pairs. */
function detailPairs(detail: unknown): [string, string][] {
  if (detail === null || typeof detail !== 'object') return detail === undefined || detail === null ? [] : [['detail', String(detail)]];
  return Object.entries(detail as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

export function AlertDetail({ alert: a, onChange, canAct, canClose, listUsers, me }: DetailProps) {
  const comments = useData(() => api.comments(a.id), [a.id]);
  const users = useData(() => (listUsers ? api.users() : Promise.resolve([] as User[])), [listUsers]);
  const [assignee, setAssignee] = useState(a.assignee ?? '');
  const [resolution, setResolution] = useState('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const change = async (c: AlertChange) => {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.updateAlert(a.id, c));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const addComment = async (e: FormEvent) => {
    e.preventDefault();
    if (comment.trim() === '') return;
    setBusy(true);
    setError(null);
    try {
      const c = await api.addComment(a.id, comment.trim());
      comments.set((old) => [...(old ?? []), c]);
      setComment('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  // On a narrow screen the panel is below the queue: bring the chosen alert into view.
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    if (window.matchMedia?.('(max-width: 1000px)').matches === true) panel.current?.scrollIntoView?.({ block: 'start' });
  }, []);

  const people = [...new Set([me, ...(users.data ?? []).filter((u) => !u.disabled && u.role !== 'read-only').map((u) => u.name)])];
  return (
    <section className="card" aria-labelledby="alert-title" data-alert={a.id} ref={panel}>
      <h2 id="alert-title">{a.title}</h2>
      <dl className="kv">
        <dt>Severity</dt>
        <dd>
          <span className={`badge sev-${a.severity}`}>{a.severity}</span> {a.kind}
        </dd>
        <dt>Status</dt>
        <dd data-testid="alert-status">
          {a.status}
          {a.assignee !== null && ` · assigned to ${a.assignee}`}
        </dd>
        {a.resolution !== null && (
          <>
            <dt>Resolution</dt>
            <dd>{a.resolution}</dd>
          </>
        )}
        <dt>Teams</dt>
        <dd>{a.teams.join(', ')}</dd>
        {a.deviceId !== null && (
          <>
            <dt>Device</dt>
            <dd>
              <Link to={devicePath(a.deviceId)}>{a.deviceId}</Link>
            </dd>
          </>
        )}
        <dt>Seen</dt>
        <dd>
          {fmtTime(a.firstSeen)} – {fmtTime(a.lastSeen)} UTC
        </dd>
        <dt>Due</dt>
        <dd>{a.dueAt !== null ? fmtTime(a.dueAt) : '—'}</dd>
        {detailPairs(a.detail).map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd>{/^https?:\/\//.test(v) ? <a href={v} target="_blank" rel="noreferrer">{v}</a> : v}</dd>
          </div>
        ))}
      </dl>

      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {canAct ? (
        <>
          <div className="action-row">
            {a.status === 'new' && (
              <button type="button" disabled={busy} onClick={() => void change({ status: 'acknowledged' })}>
                Acknowledge
              </button>
            )}
            {a.status === 'resolved' && (
              <button type="button" disabled={busy} onClick={() => void change({ status: 'new', resolution: null })}>
                Reopen
              </button>
            )}
          </div>
          {a.status !== 'resolved' && (
            <>
              <form
                className="action-row"
                onSubmit={(e) => {
                  e.preventDefault();
                  void change(assignee === '' ? { assignee: null, status: 'acknowledged' } : { assignee, status: 'assigned' });
                }}
              >
                <label>
                  Assign to
                  <select value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                    <option value="">nobody</option>
                    <optgroup label="Teams">
                      {TEAMS.map((t) => (
                        <option key={t} value={`team:${t}`}>
                          team {t}
                        </option>
                      ))}
                    </optgroup>
                    <optgroup label="People">
                      {people.map((p) => (
                        <option key={p} value={p}>
                          {p}
                          {p === me ? ' (me)' : ''}
                        </option>
                      ))}
                    </optgroup>
                  </select>
                </label>
                <button type="submit" disabled={busy || assignee === (a.assignee ?? '')}>
                  Assign
                </button>
              </form>
              {canClose && (
                <form
                  className="action-row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (resolution.trim() !== '') void change({ status: 'resolved', resolution: resolution.trim() });
                  }}
                >
                  <label style={{ flex: 1 }}>
                    Resolution (why it is closed)
                    <textarea rows={2} value={resolution} onChange={(e) => setResolution(e.target.value)} />
                  </label>
                  <button type="submit" className="primary" disabled={busy || resolution.trim() === ''}>
                    Resolve
                  </button>
                </form>
              )}
            </>
          )}
        </>
      ) : (
        <p className="notice">Your role can read alerts; triage is for analysts, clinical engineers and admins.</p>
      )}

      <h3>Comments</h3>
      {comments.data !== undefined && comments.data.length > 0 ? (
        <ul className="comments" aria-label="Comments">
          {comments.data.map((c) => (
            <li key={c.id}>
              <strong>{c.author}</strong> <span className="muted">{fmtTime(c.at)}</span>
              <div>{c.text}</div>
            </li>
          ))}
        </ul>
      ) : (
        <p className="empty">{comments.loading ? 'Loading…' : 'No comments yet.'}</p>
      )}
      {canAct && (
        <form className="action-row" onSubmit={(e) => void addComment(e)}>
          <label style={{ flex: 1 }}>
            Comment
            <textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          </label>
          <button type="submit" disabled={busy || comment.trim() === ''}>
            Add comment
          </button>
        </form>
      )}
    </section>
  );
}
