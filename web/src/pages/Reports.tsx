/**
 * Reports: the EOL forecast and the risk summary (on screen, and as CSV to take into a meeting),
 * and the manufacturer disclosure reports to send to a vendor's PSIRT (Markdown or HTML).
 */
import { useEffect, useState } from 'react';
import { api, CATEGORIES, type ForecastPoint, type RiskReport } from '../api.ts';
import { LineChart } from '../components/charts.tsx';
import { fmtInt, fmtPct, riskBand } from '../format.ts';
import { devicePath, Link } from '../router.tsx';
import { useData } from '../useData.ts';
import { forecastLabel } from './Overview.tsx';

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted. */
export function toCsv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.map((v) => (/[",\n\r]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v))).join(',')).join('\r\n') + '\r\n';
}

export function forecastCsv(points: readonly ForecastPoint[]): string {
  const header = ['date', 'devices', 'known', 'eol', 'share', ...CATEGORIES.flatMap((c) => [`${c} eol`, `${c} share`])];
  return toCsv([header, ...points.map((p) => [p.date, p.all.devices, p.all.known, p.all.eol, p.all.share.toFixed(3), ...CATEGORIES.flatMap((c) => [p.byCategory[c]?.eol ?? 0, (p.byCategory[c]?.share ?? 0).toFixed(3)])])]);
}

export function riskCsv(r: RiskReport): string {
  return toCsv([['category', 'devices', 'mean risk', 'with KEV', 'EOL'], ...Object.entries(r.byCategory).map(([c, v]) => [c, v.devices, v.meanRisk, v.kev, v.eol])]);
}

/** A download of text made here (no server round trip). */
function CsvLink({ name, csv, children }: { name: string; csv: string | undefined; children: string }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (csv === undefined) return;
    const u = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [csv]);
  return url === undefined ? null : (
    <a className="button" href={url} download={name}>
      {children}
    </a>
  );
}

export function ReportsPage() {
  const forecast = useData(() => api.eolForecast(), []);
  const risk = useData(() => api.riskReport(), []);
  const [vendor, setVendor] = useState('');
  const vendors = useData(() => api.disclosureVendors(), []);
  useEffect(() => {
    document.title = 'Reports — Vigil';
  }, []);
  const today = new Date().toISOString().slice(0, 10);
  const points = forecast.data ?? [];
  const vendorSlug = vendor.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-');

  return (
    <div data-page="reports">
      <div className="page-head">
        <h1>Reports</h1>
      </div>
      <div className="grid">
        <section className="card span-12" aria-labelledby="rep-eol">
          <div className="page-head">
            <h2 id="rep-eol">EOL forecast</h2>
            <div className="actions">
              <CsvLink name={`vigil-eol-forecast-${today}.csv`} csv={forecast.data !== undefined ? forecastCsv(forecast.data) : undefined}>
                Download EOL forecast (CSV)
              </CsvLink>
            </div>
          </div>
          {forecast.error !== undefined && <p className="error">{forecast.error.message}</p>}
          {points.length === 0 ? (
            <p className="empty">{forecast.loading ? 'Loading…' : 'No devices yet.'}</p>
          ) : (
            <div className="grid">
              <div className="span-5">
                <LineChart
                  label="Share of devices on an end-of-life OS"
                  labels={points.map(forecastLabel)}
                  format={fmtPct}
                  series={[
                    { name: 'Imaging', className: 'series-2', values: points.map((p) => p.byCategory.imaging?.share ?? 0) },
                    { name: 'All devices', className: 'series-1', values: points.map((p) => p.all.share) },
                  ]}
                />
              </div>
              <div className="span-7 table-wrap">
                <table aria-label="EOL forecast by category">
                  <thead>
                    <tr>
                      <th scope="col">Category</th>
                      {points.map((p, i) => (
                        <th scope="col" key={p.date} className="num">
                          {forecastLabel(p, i)}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    <tr>
                      <th scope="row">all devices</th>
                      {points.map((p) => (
                        <td key={p.date} className="num" title={`${p.all.eol} of ${p.all.known} with a known OS`}>
                          {fmtPct(p.all.share)} <span className="muted">({fmtInt(p.all.eol)})</span>
                        </td>
                      ))}
                    </tr>
                    {CATEGORIES.filter((c) => (points[0]?.byCategory[c]?.devices ?? 0) > 0).map((c) => (
                      <tr key={c}>
                        <th scope="row">{c}</th>
                        {points.map((p) => (
                          <td key={p.date} className="num" title={`${p.byCategory[c]?.eol ?? 0} of ${p.byCategory[c]?.known ?? 0} with a known OS`}>
                            {fmtPct(p.byCategory[c]?.share ?? 0)} <span className="muted">({fmtInt(p.byCategory[c]?.eol ?? 0)})</span>
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
                <p className="muted">Share of the devices whose OS lifecycle is known; the count in brackets.</p>
              </div>
            </div>
          )}
        </section>

        <section className="card span-7" aria-labelledby="rep-risk">
          <div className="page-head">
            <h2 id="rep-risk">Risk summary</h2>
            <div className="actions">
              <CsvLink name={`vigil-risk-${today}.csv`} csv={risk.data !== undefined ? riskCsv(risk.data) : undefined}>
                Download risk summary (CSV)
              </CsvLink>
            </div>
          </div>
          {risk.error !== undefined && <p className="error">{risk.error.message}</p>}
          {risk.data !== undefined && (
            <>
              <p>
                {Object.entries(risk.data.bands).map(([band, n], i) => (
                  <span key={band}>
                    {i > 0 && ' · '}
                    risk {band}: <strong>{fmtInt(n)}</strong>
                  </span>
                ))}
              </p>
              <table aria-label="Risk by category">
                <thead>
                  <tr>
                    <th scope="col">Category</th>
                    <th scope="col" className="num">
                      Devices
                    </th>
                    <th scope="col" className="num">
                      Mean risk
                    </th>
                    <th scope="col" className="num">
                      With KEV
                    </th>
                    <th scope="col" className="num">
                      EOL
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(risk.data.byCategory)
                    .sort((a, b) => b[1].meanRisk - a[1].meanRisk)
                    .map(([c, v]) => (
                      <tr key={c}>
                        <th scope="row">{c}</th>
                        <td className="num">{fmtInt(v.devices)}</td>
                        <td className="num">{v.meanRisk}</td>
                        <td className="num">{fmtInt(v.kev)}</td>
                        <td className="num">{fmtInt(v.eol)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
              <h3>Riskiest devices</h3>
              <ol>
                {risk.data.top.map((d) => (
                  <li key={d.id}>
                    <Link to={devicePath(d.id)}>{d.name}</Link> <span className={`badge risk-${riskBand(d.risk)}`}>{d.risk}</span> <span className="muted">{d.category}</span>
                  </li>
                ))}
              </ol>
            </>
          )}
        </section>

        <section className="card span-5" aria-labelledby="rep-disclosure">
          <h2 id="rep-disclosure">Manufacturer disclosure reports</h2>
          <p className="muted">What devices disclose in their error messages, with the evidence, for the hospital or for one manufacturer's security team.</p>
          <h3>Hospital-wide summary</h3>
          <div className="action-row">
            <a className="button" href={api.disclosureUrl('md')} download={`vigil-disclosure-summary-${today}.md`}>
              Download summary (Markdown)
            </a>
            <a className="button" href={api.disclosureUrl('html')} download={`vigil-disclosure-summary-${today}.html`}>
              Download summary (HTML)
            </a>
          </div>
          <h3>One manufacturer</h3>
          {vendors.data != null && vendors.data.length === 0 && <p className="empty">No device leaks error messages on the wire: no manufacturer report to send.</p>}
          {vendors.data != null && vendors.data.length > 0 && (
            <table aria-label="Manufacturers with leaking devices">
              <thead>
                <tr>
                  <th scope="col">Manufacturer</th>
                  <th scope="col">Devices</th>
                  <th scope="col">Worst</th>
                  <th scope="col">Report</th>
                </tr>
              </thead>
              <tbody>
                {vendors.data.map((v) => (
                  <tr key={v.slug}>
                    <td>{v.vendor}</td>
                    <td>{v.devices}</td>
                    <td>
                      <span className={`badge sev-${v.highestSeverity}`}>{v.highestSeverity}</span>
                    </td>
                    <td>
                      <a href={api.disclosureUrl('md', v.vendor)} download={`vigil-disclosure-${v.slug}-${today}.md`} aria-label={`${v.vendor}: Markdown report`}>
                        Markdown
                      </a>{' '}
                      ·{' '}
                      <a href={api.disclosureUrl('html', v.vendor)} download={`vigil-disclosure-${v.slug}-${today}.html`} aria-label={`${v.vendor}: HTML report`}>
                        HTML
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div className="action-row">
            <label>
              Another manufacturer
              <input value={vendor} onChange={(e) => setVendor(e.target.value)} placeholder="e.g. Siemens Healthineers" />
            </label>
            {vendor.trim() !== '' && (
              <>
                <a className="button" href={api.disclosureUrl('md', vendor.trim())} download={`vigil-disclosure-${vendorSlug}-${today}.md`}>
                  Markdown
                </a>
                <a className="button" href={api.disclosureUrl('html', vendor.trim())} download={`vigil-disclosure-${vendorSlug}-${today}.html`}>
                  HTML
                </a>
              </>
            )}
          </div>
          <p className="muted">A manufacturer with no leaking device has no report (the download says so).</p>
        </section>
      </div>
    </div>
  );
}
