/**
 * The overview: what a security officer or a clinical engineer looks at first — devices by
 * category, risk, end of life today and over three years, open alerts by severity and team, and
 * the riskiest devices. Each panel loads on its own; the page says it is complete
 * (data-ready, and a performance mark the benchmark reads) when all have answered.
 */
import { useEffect, type ReactNode } from 'react';
import { api, CATEGORIES, SEVERITIES, TEAMS, type Alert, type AlertSummary, type ForecastPoint } from '../api.ts';
import { BarList, LineChart } from '../components/charts.tsx';
import { fmtInt, fmtPct, riskBand } from '../format.ts';
import { devicePath, Link } from '../router.tsx';
import { useData } from '../useData.ts';

const BAND_TONE: Record<string, string> = { '0-29': 'risk-low', '30-59': 'risk-medium', '60-100': 'risk-high' };
const BAND_QUERY: Record<string, string> = { '0-29': 'maxRisk=29', '30-59': 'minRisk=30&maxRisk=59', '60-100': 'minRisk=60' };

/** The most alerts one request returns. */
const ALERT_LIMIT = 10_000;

/** The open-alert counts from a list of alerts: for servers without /api/alerts/summary. */
export function summarize(alerts: readonly Alert[]): AlertSummary {
  const s: AlertSummary = { bySeverity: {}, byTeam: {}, open: 0 };
  for (const a of alerts) {
    if (a.status === 'resolved') continue;
    s.open++;
    s.bySeverity[a.severity] = (s.bySeverity[a.severity] ?? 0) + 1;
    for (const t of a.teams) s.byTeam[t] = (s.byTeam[t] ?? 0) + 1;
  }
  return s;
}

/** What the capture side is doing, in a few words ("capture: done — ward7.pcap, 72,549 frames"). */
export function ingestText(ingest: Record<string, unknown> | null): string {
  if (ingest === null || typeof ingest.state !== 'string' || ingest.state === 'idle') return '';
  const source = typeof ingest.source === 'string' ? ingest.source.split('/').pop() : undefined;
  const frames = typeof ingest.frames === 'number' ? `${fmtInt(ingest.frames)} frames` : undefined;
  const error = typeof ingest.error === 'string' ? ingest.error : undefined;
  return `capture: ${ingest.state}${[source, frames, error].some((x) => x !== undefined) ? ` — ${[source, frames, error].filter((x) => x !== undefined).join(', ')}` : ''}`;
}

export function forecastLabel(p: ForecastPoint, i: number): string {
  return i === 0 ? 'today' : p.date.slice(0, 7);
}

export function OverviewPage() {
  const risk = useData(() => api.riskReport(), []);
  const forecast = useData(() => api.eolForecast(), []);
  // The server counts (cheap at any size); older servers send the alerts to count here.
  const alerts = useData(async () => (await api.alertSummary()) ?? summarize(await api.alerts({ limit: ALERT_LIMIT })), []);
  const health = useData(() => api.health(), []);
  const ready = !risk.loading && !forecast.loading && !alerts.loading;

  useEffect(() => {
    document.title = 'Overview — Vigil';
  }, []);
  useEffect(() => {
    if (ready && performance.getEntriesByName('vigil:overview-ready').length === 0) performance.mark('vigil:overview-ready');
  }, [ready]);

  const byCategory = risk.data?.byCategory ?? {};
  const total = Object.values(byCategory).reduce((s, c) => s + c.devices, 0);
  const today = forecast.data?.[0];

  return (
    <div data-ready={ready ? 'true' : 'false'} data-page="overview">
      <div className="page-head">
        <h1>Overview</h1>
        <span className="muted">{risk.data !== undefined && `${fmtInt(total)} devices`}</span>
        <span className="muted" style={{ marginLeft: 'auto' }}>
          {ingestText(health.data?.ingest ?? null)}
        </span>
      </div>
      <div className="grid">
        <section className="card span-4" aria-labelledby="ov-categories" aria-busy={risk.loading}>
          <h2 id="ov-categories">Devices by category</h2>
          <Panel loading={risk.loading} error={risk.error}>
            <BarList
              label="Devices by category"
              format={fmtInt}
              bars={CATEGORIES.map((c) => ({ label: c, value: byCategory[c]?.devices ?? 0, to: `/inventory?category=${c}` }))}
            />
          </Panel>
        </section>

        <section className="card span-4" aria-labelledby="ov-risk" aria-busy={risk.loading}>
          <h2 id="ov-risk">Risk distribution</h2>
          <Panel loading={risk.loading} error={risk.error}>
            <BarList
              label="Devices by risk band"
              format={fmtInt}
              bars={Object.entries(risk.data?.bands ?? {}).map(([band, n]) => ({ label: `risk ${band}`, value: n, tone: BAND_TONE[band], to: `/inventory?${BAND_QUERY[band] ?? ''}` }))}
            />
            <p className="muted" style={{ marginBottom: 0 }}>
              Mean risk by category:{' '}
              {Object.entries(byCategory)
                .sort((a, b) => b[1].meanRisk - a[1].meanRisk)
                .slice(0, 3)
                .map(([c, v]) => `${c} ${v.meanRisk}`)
                .join(', ')}
            </p>
          </Panel>
        </section>

        <section className="card span-4" aria-labelledby="ov-eol" aria-busy={forecast.loading}>
          <h2 id="ov-eol">End of life today</h2>
          <Panel loading={forecast.loading} error={forecast.error}>
            {today !== undefined ? (
              <>
                <p className="stat">
                  <Link to="/inventory?eol=eol">{fmtInt(today.all.eol)}</Link> <span className="muted" style={{ fontSize: '1rem', fontWeight: 400 }}>devices on an end-of-life OS</span>
                </p>
                <dl className="kv">
                  <dt>Share of devices with a known OS</dt>
                  <dd>
                    {fmtPct(today.all.share)} of {fmtInt(today.all.known)}
                  </dd>
                  <dt>Imaging</dt>
                  <dd>
                    {fmtInt(today.byCategory.imaging?.eol ?? 0)} ({fmtPct(today.byCategory.imaging?.share ?? 0)})
                  </dd>
                  <dt>OS unknown</dt>
                  <dd>{fmtInt(today.all.unknown)}</dd>
                </dl>
              </>
            ) : (
              <p className="empty">No devices yet.</p>
            )}
          </Panel>
        </section>

        <section className="card span-6" aria-labelledby="ov-forecast" aria-busy={forecast.loading}>
          <h2 id="ov-forecast">EOL forecast: share on an end-of-life OS</h2>
          <Panel loading={forecast.loading} error={forecast.error}>
            {forecast.data !== undefined && forecast.data.length > 0 ? (
              <LineChart
                label="Share of devices on an end-of-life OS over the next three years"
                labels={forecast.data.map(forecastLabel)}
                format={fmtPct}
                series={[
                  { name: 'Imaging', className: 'series-2', values: forecast.data.map((p) => p.byCategory.imaging?.share ?? 0) },
                  { name: 'All devices', className: 'series-1', values: forecast.data.map((p) => p.all.share) },
                ]}
              />
            ) : (
              <p className="empty">No forecast yet.</p>
            )}
          </Panel>
        </section>

        <section className="card span-6" aria-labelledby="ov-alerts" aria-busy={alerts.loading}>
          <h2 id="ov-alerts">Open alerts by severity and team</h2>
          <Panel loading={alerts.loading} error={alerts.error}>
            {alerts.data !== undefined && <AlertCounts summary={alerts.data} />}
          </Panel>
        </section>

        <section className="card span-12" aria-labelledby="ov-top" aria-busy={risk.loading}>
          <h2 id="ov-top">Riskiest devices</h2>
          <Panel loading={risk.loading} error={risk.error}>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Category</th>
                    <th scope="col" className="num">
                      Risk
                    </th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {(risk.data?.top ?? []).slice(0, 10).map((d) => (
                    <tr key={d.id}>
                      <td>
                        <Link to={devicePath(d.id)}>{d.name}</Link>
                      </td>
                      <td>{d.category}</td>
                      <td className="num">
                        <span className={`badge risk-${riskBand(d.risk)}`}>{d.risk}</span>
                      </td>
                      <td className="muted">{d.explanation}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Panel>
        </section>
      </div>
    </div>
  );
}

function Panel({ loading, error, children }: { loading: boolean; error: Error | undefined; children: ReactNode }) {
  if (error !== undefined)
    return (
      <p className="error" role="alert">
        {error.message}
      </p>
    );
  if (loading) return <p className="muted">Loading…</p>;
  return <>{children}</>;
}

/** Open alerts by severity and by owning team; each count opens the filtered queue. */
export function AlertCounts({ summary }: { summary: AlertSummary }) {
  const teams = [...new Set([...TEAMS, ...Object.keys(summary.byTeam)])];
  const count = (n: number, to: string) => (n > 0 ? <Link to={to}>{fmtInt(n)}</Link> : '0');
  return (
    <div className="grid">
      <table className="span-6" aria-label="Open alerts by severity">
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col" className="num">
              Open
            </th>
          </tr>
        </thead>
        <tbody>
          {SEVERITIES.map((s) => (
            <tr key={s}>
              <th scope="row">
                <span className={`badge sev-${s}`}>{s}</span>
              </th>
              <td className="num">{count(summary.bySeverity[s] ?? 0, `/alerts?severity=${s}`)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All open</th>
            <td className="num">{count(summary.open, '/alerts')}</td>
          </tr>
        </tfoot>
      </table>
      <table className="span-6" aria-label="Open alerts by team">
        <thead>
          <tr>
            <th scope="col">Team</th>
            <th scope="col" className="num">
              Open
            </th>
          </tr>
        </thead>
        <tbody>
          {teams.map((t) => (
            <tr key={t}>
              <th scope="row">{t}</th>
              <td className="num">{count(summary.byTeam[t] ?? 0, `/alerts?team=${encodeURIComponent(t)}`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
