/**
 * The dashboard's charts, hand-written SVG and CSS: a few shapes are all it draws, and each
 * carries a text alternative (an aria-label, or the numbers beside the bars).
 */
import { Link } from '../router.tsx';

export interface Bar {
  label: string;
  value: number;
  /** Extra class on the bar (a risk band's colour). */
  tone?: string;
  to?: string;
}

/** Labelled horizontal bars with their numbers: categories, risk bands. */
export function BarList({ bars, label, format = String }: { bars: Bar[]; label: string; format?: (n: number) => string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  return (
    <ul className="bars" aria-label={label}>
      {bars.map((b) => (
        <li key={b.label}>
          <span>{b.to !== undefined ? <Link to={b.to}>{b.label}</Link> : b.label}</span>
          <span className="track" aria-hidden="true">
            <span className={`fill ${b.tone ?? ''}`} style={{ width: `${(100 * b.value) / max}%`, display: 'block' }} />
          </span>
          <span className="num">{format(b.value)}</span>
        </li>
      ))}
    </ul>
  );
}

export interface Series {
  name: string;
  /** series-1, series-2: the colour from the theme. */
  className: string;
  values: number[];
}

/** A line chart of shares (0..1) over labelled points in time: the EOL forecast. */
export function LineChart({ labels, series, label, format }: { labels: string[]; series: Series[]; label: string; format: (v: number) => string }) {
  const W = 520;
  const H = 200;
  const pad = { l: 40, r: 16, t: 12, b: 28 };
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => pad.l + ((W - pad.l - pad.r) * i) / n;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - Math.max(0, Math.min(1, v)));
  const summary = series.map((s) => `${s.name}: ${s.values.map((v, i) => `${labels[i] ?? ''} ${format(v)}`).join(', ')}`).join('; ');
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}. ${summary}`}>
        {[0, 0.25, 0.5, 0.75, 1].map((t) => (
          <g key={t}>
            <line className="axis" x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} strokeDasharray={t === 0 ? undefined : '2 4'} />
            <text x={pad.l - 6} y={y(t) + 4} textAnchor="end">
              {format(t)}
            </text>
          </g>
        ))}
        {labels.map((l, i) => (
          <text key={l} x={x(i)} y={H - 8} textAnchor="middle">
            {l}
          </text>
        ))}
        {series.map((s) => (
          <g key={s.name} className={s.className}>
            <polyline fill="none" strokeWidth={2.5} points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={3.5}>
                <title>{`${s.name}, ${labels[i] ?? ''}: ${format(v)}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <span className={`swatch ${s.className}`} style={{ background: `var(--${s.className})` }} aria-hidden="true" />
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** Columns over time: a device's traffic per hour. */
export function ColumnChart({ points, label, format }: { points: { at: number; value: number }[]; label: string; format: (v: number) => string }) {
  const W = 640;
  const H = 160;
  const pad = { l: 52, r: 8, t: 8, b: 24 };
  const max = Math.max(1, ...points.map((p) => p.value));
  // Columns no wider than a finger: a device seen for one hour is one slim bar, not a wall.
  const w = Math.min(36, (W - pad.l - pad.r) / Math.max(1, points.length));
  const h = (v: number) => ((H - pad.t - pad.b) * v) / max;
  const every = Math.max(1, Math.ceil(points.length / 8));
  const first = points[0];
  const last = points[points.length - 1];
  const aria = first === undefined || last === undefined ? `${label}: no data` : `${label}: ${points.length} hours, peak ${format(max)}`;
  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={aria}>
      <line className="axis" x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} />
      <text x={pad.l - 6} y={pad.t + 8} textAnchor="end">
        {format(max)}
      </text>
      <text x={pad.l - 6} y={H - pad.b} textAnchor="end">
        0
      </text>
      {points.map((p, i) => (
        <g key={p.at}>
          <rect className="bar" x={pad.l + i * w + 1} width={Math.max(1, w - 2)} y={H - pad.b - h(p.value)} height={h(p.value)}>
            <title>{`${new Date(p.at * 1000).toISOString().slice(0, 13).replace('T', ' ')}:00 — ${format(p.value)}`}</title>
          </rect>
          {i % every === 0 && (
            <text x={pad.l + i * w + w / 2} y={H - 6} textAnchor="middle">
              {new Date(p.at * 1000).toISOString().slice(11, 13)}h
            </text>
          )}
        </g>
      ))}
    </svg>
  );
}

/** A confidence as a small bar and a percentage. */
export function Confidence({ value }: { value: number }) {
  const pct = Math.round(value * 100);
  return (
    <span title={`confidence ${pct}%`}>
      <span className="confidence" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="visually-hidden">confidence </span>
      {pct}%
    </span>
  );
}
