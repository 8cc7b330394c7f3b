/**
 * One device, everything Vigil knows about it: who it is (each claim with its confidence, its
 * rule and the packets behind it), its OS lifecycle, vulnerabilities with their advisories, what
 * it leaks, its behaviour baseline and traffic, a map of whom it talks to, and its alerts with
 * their history.
 */
import { useEffect, type ReactNode } from 'react';
import { api, ApiError, type Alert, type AuditEntry, type Claim, type Device, type Evidence } from '../api.ts';
import { ColumnChart, Confidence } from '../components/charts.tsx';
import { PeerMap, peerNodes } from '../components/PeerMap.tsx';
import { deviceName, fmtBytes, fmtInt, fmtTime, riskBand } from '../format.ts';
import { devicePath, Link } from '../router.tsx';
import { canManageUsers, useMe } from '../session.tsx';
import { useData } from '../useData.ts';

const SECTIONS = [
  ['identity', 'Identity'],
  ['lifecycle', 'OS lifecycle'],
  ['vulnerabilities', 'Vulnerabilities'],
  ['leaks', 'Leaks'],
  ['behaviour', 'Behaviour'],
  ['communication', 'Communication'],
  ['alerts', 'Alerts and history'],
] as const;

export function DevicePage({ id }: { id: string }) {
  const device = useData(() => api.device(id), [id]);
  const d = device.data;
  useEffect(() => {
    document.title = `${d != null ? deviceName(d) : 'Device'} — Vigil`;
  }, [d]);

  if (device.error !== undefined)
    return (
      <p className="error" role="alert">
        {device.error.message}
      </p>
    );
  if (device.loading && d === undefined) return <p className="loading">Loading…</p>;
  if (d == null)
    return (
      <section>
        <h1>No such device</h1>
        <p>
          {id} is not in the inventory. <Link to="/inventory">Back to the inventory</Link>
        </p>
      </section>
    );

  return (
    <div data-page="device">
      <p style={{ margin: '0 0 0.3rem' }}>
        <Link to="/inventory">← Inventory</Link>
      </p>
      <div className="page-head">
        <h1>{deviceName(d)}</h1>
        <span className="mono muted">{d.id}</span>
        <div className="actions">
          <span className={`badge risk-${riskBand(d.risk.score)}`}>risk {d.risk.score}</span>
          <span className={`badge eol-${d.lifecycle.state}`}>{d.lifecycle.state === 'eol' ? 'end of life' : d.lifecycle.state === 'supported' ? 'supported OS' : 'OS lifecycle unknown'}</span>
          <span className="badge">{d.category.value}</span>
          <span className="badge">{d.criticality}</span>
        </div>
      </div>
      <nav aria-label="Sections of this device">
        <ul className="section-nav">
          {SECTIONS.map(([anchor, label]) => (
            <li key={anchor}>
              <a href={`#${anchor}`}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="device-sections">
        <Identity d={d} />
        <Lifecycle d={d} />
        <Vulnerabilities d={d} />
        <Leaks d={d} />
        <Behaviour id={d.id} />
        <Communication d={d} />
        <AlertsAndHistory id={d.id} />
      </div>
    </div>
  );
}

function Section({ id, title, children, extra }: { id: string; title: string; children: ReactNode; extra?: ReactNode }) {
  return (
    <section id={id} className="card" aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {extra !== undefined && <div className="actions">{extra}</div>}
      </div>
      {children}
    </section>
  );
}

/** The observations behind a claim, down to the frame (wireshark -Y frame.number==N shows it). */
export function EvidenceList({ evidence, label }: { evidence: readonly Evidence[]; label: string }) {
  if (evidence.length === 0) return <span className="muted">no packet evidence (a derived claim)</span>;
  return (
    <details className="claim-evidence">
      <summary>
        Evidence for {label} ({evidence.length})
      </summary>
      <table aria-label={`Evidence for ${label}`}>
        <thead>
          <tr>
            <th scope="col">Protocol</th>
            <th scope="col">Attribute</th>
            <th scope="col">Value</th>
            <th scope="col" className="num">
              Frame
            </th>
            <th scope="col">Time (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {evidence.map((e, i) => (
            <tr key={i}>
              <td>{e.protocol}</td>
              <td className="mono">{e.attribute}</td>
              <td>
                {e.value}
                {e.snippet !== undefined && e.snippet !== '' && <pre className="snippet">{e.snippet}</pre>}
              </td>
              <td className="num">{e.frame}</td>
              <td>{fmtTime(e.time)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Identity({ d }: { d: Device }) {
  const claims: [string, Claim | undefined][] = [
    ['Vendor', d.vendor],
    ['Model', d.model],
    ['Type', d.type],
    ['Category', d.category],
    ['OS', d.os],
  ];
  return (
    <Section id="identity" title="Identity">
      <div className="table-wrap">
        <table aria-label="Identity claims">
          <thead>
            <tr>
              <th scope="col">Claim</th>
              <th scope="col">Value</th>
              <th scope="col">Confidence</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {claims.map(([label, c]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td>{c?.value ?? <span className="muted">unknown</span>}</td>
                <td className="nowrap">{c !== undefined && <Confidence value={c.confidence} />}</td>
                <td>
                  {c !== undefined && (
                    <>
                      <span className="muted">{c.rule}</span>
                      <EvidenceList evidence={c.evidence} label={label.toLowerCase()} />
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {d.os !== undefined && d.os.conflicts.length > 0 && (
        <>
          <h3>Other OS statements (outvoted)</h3>
          <ul>
            {d.os.conflicts.map((c, i) => (
              <li key={i}>
                {c.value} <span className="muted">({c.protocol}, confidence {Math.round(c.confidence * 100)}%): {c.why}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Addresses and activity</h3>
      <dl className="kv">
        <dt>MAC</dt>
        <dd className="mono">
          {d.macs.join(', ') || '—'}
          {d.randomMac ? ' (randomised: no vendor from it)' : ''}
        </dd>
        <dt>IP</dt>
        <dd className="mono">{d.ips.join(', ') || '—'}</dd>
        <dt>Names</dt>
        <dd>{d.hostnames.join(', ') || '—'}</dd>
        {d.vlan !== undefined && (
          <>
            <dt>VLAN</dt>
            <dd>{d.vlan}</dd>
          </>
        )}
        <dt>Seen</dt>
        <dd>
          {fmtTime(d.firstSeen)} – {fmtTime(d.lastSeen)} UTC, {fmtInt(d.observations)} observations
        </dd>
        <dt>Services</dt>
        <dd>{d.services.length === 0 ? '—' : d.services.map((s) => `${s.transport}/${s.port}${s.app !== undefined ? ` ${s.app}` : ''} (${fmtInt(s.flows)} flows)`).join(', ')}</dd>
        <dt>Peers</dt>
        <dd>
          {d.peers.internal} internal, {d.peers.external} external
        </dd>
      </dl>
      {d.software.length > 0 && (
        <>
          <h3>Software seen</h3>
          <ul>
            {d.software.map((s, i) => (
              <li key={i}>
                {s.name} {s.version ?? ''} <span className="muted">({s.evidence.protocol}, frame {s.evidence.frame})</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Risk {d.risk.score}</h3>
      <p className="mono">{d.risk.explanation}</p>
      {d.risk.factors.length > 0 && (
        <ul>
          {d.risk.factors.map((f, i) => (
            <li key={i}>
              {f.text} <span className="muted">({f.kind}, {f.weight})</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Lifecycle({ d }: { d: Device }) {
  const l = d.lifecycle;
  const releases = d.os?.releases ?? [];
  return (
    <Section id="lifecycle" title="OS lifecycle">
      <dl className="kv">
        <dt>State</dt>
        <dd>
          <span className={`badge eol-${l.state}`}>{l.state}</span>
          {l.since !== undefined && ` since ${l.since}`}
          {l.state === 'supported' && l.eolDate !== undefined && ` until ${l.eolDate}${l.daysLeft !== undefined ? ` (${fmtInt(l.daysLeft)} days left)` : ''}`}
        </dd>
        {l.extendedUntil !== undefined && (
          <>
            <dt>Extended support</dt>
            <dd>until {l.extendedUntil} (paid)</dd>
          </>
        )}
        <dt>Basis</dt>
        <dd>{l.basis}</dd>
      </dl>
      {releases.length > 0 && (
        <div className="table-wrap">
          <table aria-label="OS releases it may run">
            <thead>
              <tr>
                <th scope="col">Release</th>
                <th scope="col">Released</th>
                <th scope="col">Security support ends</th>
                <th scope="col">Extended</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr key={`${r.product}/${r.cycle}`}>
                  <td>
                    {r.label} <span className="muted mono">{`${r.product}/${r.cycle}`}</span>
                  </td>
                  <td>{r.releaseDate ?? '—'}</td>
                  <td>{r.eol ?? (r.eolUndated === true ? 'ended (no date published)' : 'not announced')}</td>
                  <td>{r.extendedEol ?? '—'}</td>
                  <td>{r.source !== undefined ? <a href={r.source} target="_blank" rel="noreferrer">vendor lifecycle</a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

const cveUrl = (cve: string) => `https://nvd.nist.gov/vuln/detail/${encodeURIComponent(cve)}`;

function Vulnerabilities({ d }: { d: Device }) {
  const vulns = [...d.vulnerabilities].sort((a, b) => Number(b.kev) - Number(a.kev) || (b.cvss ?? 0) - (a.cvss ?? 0));
  return (
    <Section id="vulnerabilities" title={`Vulnerabilities (${vulns.length})`}>
      {vulns.length === 0 ? (
        <p className="empty">No known vulnerability matches what was seen of this device.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Vulnerabilities">
            <thead>
              <tr>
                <th scope="col">Advisory</th>
                <th scope="col">Title</th>
                <th scope="col" className="num">
                  CVSS
                </th>
                <th scope="col">Confidence</th>
                <th scope="col">Why it matches, what to do</th>
              </tr>
            </thead>
            <tbody>
              {vulns.map((v) => (
                <tr key={v.id}>
                  <td>
                    {v.url !== undefined ? (
                      <a href={v.url} target="_blank" rel="noreferrer">
                        {v.id}
                      </a>
                    ) : (
                      v.id
                    )}{' '}
                    {v.kev && <span className="badge kev">KEV</span>} {v.ransomware && <span className="badge kev">ransomware</span>}
                    <div className="muted" style={{ fontSize: '0.8rem' }}>
                      {v.source}
                    </div>
                  </td>
                  <td>
                    {v.title}
                    {v.cves.length > 0 && (
                      <div style={{ fontSize: '0.8rem' }}>
                        {v.cves.slice(0, 8).map((c, i) => (
                          <span key={c}>
                            {i > 0 && ', '}
                            <a href={cveUrl(c)} target="_blank" rel="noreferrer">
                              {c}
                            </a>
                          </span>
                        ))}
                        {v.cves.length > 8 && ` and ${v.cves.length - 8} more`}
                      </div>
                    )}
                  </td>
                  <td className="num">{v.cvss ?? '—'}</td>
                  <td>
                    <Confidence value={v.confidence} />
                  </td>
                  <td>
                    <details>
                      <summary>Why</summary>
                      <p>{v.why}</p>
                      {v.remediation !== undefined && (
                        <p>
                          <strong>Remediation:</strong> {v.remediation}
                        </p>
                      )}
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function Leaks({ d }: { d: Device }) {
  return (
    <Section id="leaks" title={`Leaks (${d.leaks.length})`}>
      {d.leaks.length === 0 ? (
        <p className="empty">No error message from this device disclosed its internals.</p>
      ) : (
        <ul style={{ listStyle: 'none', padding: 0, display: 'grid', gap: '0.8rem' }}>
          {d.leaks.map((l, i) => (
            <li key={i}>
              <strong>{l.title}</strong> <span className={`badge sev-${l.deviceSeverity}`}>{l.deviceSeverity}</span>{' '}
              <span className="muted">
                {l.evidence.protocol} {l.evidence.attribute}, frame {l.evidence.frame}, {fmtTime(l.evidence.time)}
              </span>
              <ul>
                {l.facts.map((f, j) => (
                  <li key={j}>
                    {f.kind}: <span className="mono">{f.value}</span>
                    {f.version !== undefined ? ` ${f.version}` : ''}
                  </li>
                ))}
              </ul>
              <pre className="snippet">{l.evidence.snippet}</pre>
              <p style={{ margin: 0 }}>
                <strong>Remediation:</strong> {l.remediation}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Behaviour({ id }: { id: string }) {
  const baseline = useData(() => api.baseline(id), [id]);
  const activity = useData(() => api.activity(id), [id]);
  const b = baseline.data;
  const hours = activity.data?.hours ?? [];
  return (
    <Section id="behaviour" title="Behaviour">
      {baseline.loading ? (
        <p className="muted">Loading…</p>
      ) : b == null ? (
        <p className="empty">No behaviour baseline is available from this server.</p>
      ) : (
        <dl className="kv">
          <dt>Baseline</dt>
          <dd>
            {b.state === 'learned' ? `learned${b.learnedUntil !== undefined ? ` until ${fmtTime(b.learnedUntil)} UTC` : ''}` : b.state === 'learning' ? 'still learning' : 'none (too little traffic)'}
          </dd>
          {b.group !== undefined && (
            <>
              <dt>Peer group</dt>
              <dd>
                {b.group}
                {b.groupSize !== undefined ? ` (${b.groupSize} devices)` : ''}
              </dd>
            </>
          )}
          <dt>Usual services</dt>
          <dd>{b.services.join(', ') || '—'}</dd>
          <dt>Usual peers</dt>
          <dd className="mono">{b.peers.join(', ') || '—'}</dd>
          {b.usage !== undefined && (
            <>
              <dt>Names resolved</dt>
              <dd className="mono">{b.usage.dns.join(', ') || '—'}</dd>
              <dt>DICOM</dt>
              <dd>{[...b.usage['dicom-command'], ...b.usage['dicom-sop']].join(', ') || '—'}</dd>
              <dt>HL7 messages</dt>
              <dd>{b.usage.hl7.join(', ') || '—'}</dd>
            </>
          )}
        </dl>
      )}
      <h3>Traffic per hour</h3>
      {activity.loading ? (
        <p className="muted">Loading…</p>
      ) : hours.length === 0 ? (
        <p className="empty">No traffic history for this device.</p>
      ) : (
        <ColumnChart label="Bytes per hour" format={fmtBytes} points={hours.map((h) => ({ at: h.at, value: h.bytes }))} />
      )}
    </Section>
  );
}

function Communication({ d }: { d: Device }) {
  const peers = useData(() => api.peers(d.id), [d.id]);
  const items = peers.data?.items ?? [];
  const nodes = peerNodes(items);
  return (
    <Section id="communication" title="Communication map">
      {peers.loading ? (
        <p className="muted">Loading…</p>
      ) : peers.error !== undefined ? (
        <p className="error">{peers.error.message}</p>
      ) : items.length === 0 ? (
        <p className="empty">{peers.data === null ? 'This server does not report peers yet.' : 'No peers recorded for this device.'}</p>
      ) : (
        <>
          <PeerMap self={deviceName(d)} peers={items} />
          <details>
            <summary>Peers as a table ({nodes.length})</summary>
            <div className="table-wrap">
              <table aria-label="Peers">
                <thead>
                  <tr>
                    <th scope="col">Peer</th>
                    <th scope="col">Services</th>
                    <th scope="col" className="num">
                      Flows
                    </th>
                    <th scope="col" className="num">
                      Packets
                    </th>
                    <th scope="col" className="num">
                      Bytes
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((n) => (
                    <tr key={n.peer}>
                      <td>
                        {n.deviceId !== null ? <Link to={devicePath(n.deviceId)}>{n.name}</Link> : n.name} {n.name !== n.peer && <span className="muted mono">{n.peer}</span>}{' '}
                        {n.external && <span className="badge kev">external</span>}
                      </td>
                      <td>{n.services.join(', ')}</td>
                      <td className="num">{fmtInt(n.flows)}</td>
                      <td className="num">{fmtInt(n.packets)}</td>
                      <td className="num">{fmtBytes(n.bytes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </Section>
  );
}

function AlertsAndHistory({ id }: { id: string }) {
  const me = useMe();
  const alerts = useData(() => api.alerts({ deviceId: id, limit: 200 }), [id]);
  const alertIds = (alerts.data ?? []).map((a) => a.id).join(',');
  // The audit log is for admins; others see the alerts' current state.
  const history = useData(async (): Promise<AuditEntry[] | null> => {
    if (!canManageUsers(me) || alertIds === '') return canManageUsers(me) ? [] : null;
    try {
      const entries = await Promise.all(alertIds.split(',').slice(0, 50).map((a) => api.audit({ entity: 'alert', entityId: a, limit: 50 })));
      return entries.flat().sort((a, b) => b.at - a.at);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return null;
      throw e;
    }
  }, [alertIds, me]);
  const list: Alert[] = alerts.data ?? [];
  return (
    <Section id="alerts" title={`Alerts (${list.length})`}>
      {list.length === 0 ? (
        <p className="empty">{alerts.loading ? 'Loading…' : 'No alerts for this device.'}</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Alerts of this device">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Alert</th>
                <th scope="col">Status</th>
                <th scope="col">Assignee</th>
                <th scope="col">First seen</th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <tr key={a.id}>
                  <td>
                    <span className={`badge sev-${a.severity}`}>{a.severity}</span>
                  </td>
                  <td>
                    <Link to={`/alerts?status=all&id=${a.id}`}>{a.title}</Link>
                  </td>
                  <td>{a.status}</td>
                  <td>{a.assignee ?? '—'}</td>
                  <td>{fmtTime(a.firstSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>History</h3>
      {history.data == null ? (
        <p className="muted">{history.loading ? 'Loading…' : 'The change history is shown to administrators.'}</p>
      ) : history.data.length === 0 ? (
        <p className="empty">No changes yet.</p>
      ) : (
        <ol aria-label="Change history" style={{ paddingLeft: '1.2rem' }}>
          {history.data.map((h) => (
            <li key={h.id}>
              {fmtTime(h.at)} <strong>{h.actor}</strong> {h.action.replace('alert.', '')} alert {h.entityId}: <span className="mono muted">{describeChange(h)}</span>
            </li>
          ))}
        </ol>
      )}
    </Section>
  );
}

export function describeChange(h: AuditEntry): string {
  const after = (h.after ?? {}) as Record<string, unknown>;
  const before = (h.before ?? {}) as Record<string, unknown>;
  const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
  return changed.map((k) => `${k}: ${before[k] === undefined ? '' : `${String(before[k])} → `}${String(after[k])}`).join('; ');
}
