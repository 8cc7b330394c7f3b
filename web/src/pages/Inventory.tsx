/**
 * The inventory: every device in one fast table. The server filters, sorts and counts; the table
 * renders only the rows in view (@tanstack/react-virtual) and fetches them a page at a time as
 * they scroll into view, so 100,000 devices cost what 50 do. The filters live in the URL: a
 * filtered view is a link to share.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { api, CATEGORIES, FILTER_KEYS, type DeviceFilters, type DeviceRow, type DeviceSort } from '../api.ts';
import { deviceName, fmtInt, fmtTime, riskBand } from '../format.ts';
import { devicePath, Link, navigate } from '../router.tsx';

/** Rows per request: a screenful is ~20, so a page covers a few screens of scrolling. */
export const PAGE_SIZE = 200;
const ROW_HEIGHT = 34;
/** A subnet is asked for after a pause in typing: "10.2." on the way to "10.2.0.0/16" is not one yet. */
const SUBNET_PAUSE_MS = 300;

interface Column {
  key: string;
  label: string;
  width: number;
  sort?: DeviceSort;
  render: (d: DeviceRow) => ReactNode;
  /** Text for the title attribute (a cut-off cell can still be read on hover). */
  text?: (d: DeviceRow) => string;
}

export const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', width: 150, render: (d) => <Link to={devicePath(d.id)}>{deviceName(d)}</Link>, text: deviceName },
  { key: 'ips', label: 'IP', width: 110, render: (d) => d.ips.join(', '), text: (d) => d.ips.join(', ') },
  { key: 'macs', label: 'MAC', width: 140, render: (d) => <span className="mono">{(d.macs ?? []).join(', ')}</span> },
  { key: 'vendor', label: 'Vendor', width: 140, sort: 'vendor', render: (d) => d.vendor ?? '', text: (d) => d.vendor ?? '' },
  { key: 'model', label: 'Model', width: 100, render: (d) => d.model ?? '', text: (d) => d.model ?? '' },
  { key: 'type', label: 'Type', width: 140, render: (d) => d.type ?? '', text: (d) => d.type ?? '' },
  { key: 'category', label: 'Category', width: 115, sort: 'category', render: (d) => d.category },
  { key: 'os', label: 'OS', width: 170, render: (d) => d.os ?? '', text: (d) => d.os ?? '' },
  { key: 'eol', label: 'EOL', width: 90, render: (d) => <span className={`badge eol-${d.eolState}`}>{d.eolState}</span> },
  { key: 'risk', label: 'Risk', width: 62, sort: 'risk', render: (d) => <span className={`badge risk-${riskBand(d.risk)}`}>{d.risk}</span> },
  { key: 'vlan', label: 'VLAN', width: 64, render: (d) => d.vlan ?? '' },
  { key: 'lastSeen', label: 'Last seen', width: 130, sort: 'last_seen', render: (d) => fmtTime(d.lastSeen) },
  { key: 'id', label: 'Id', width: 190, sort: 'id', render: (d) => <span className="mono">{d.id}</span>, text: (d) => d.id },
];
const DEFAULT_COLUMNS = ['name', 'ips', 'vendor', 'model', 'type', 'category', 'os', 'eol', 'risk', 'lastSeen'];
const COLUMNS_KEY = 'vigil-inventory-columns';

function storedColumns(): string[] {
  try {
    const raw = localStorage.getItem(COLUMNS_KEY);
    const cols = raw === null ? null : (JSON.parse(raw) as unknown);
    if (Array.isArray(cols) && cols.every((c) => typeof c === 'string') && cols.length > 0) return cols as string[];
  } catch {
    // Fall back to the default columns.
  }
  return DEFAULT_COLUMNS;
}

const NUMERIC = new Set<string>(['minRisk', 'maxRisk', 'vlan']);

/** The filters and sort a URL query names (unknown or malformed values are left out). */
export function filtersOf(query: URLSearchParams): DeviceFilters & { sort?: DeviceSort; order?: 'asc' | 'desc' } {
  const f: Record<string, string | number> = {};
  for (const k of FILTER_KEYS) {
    const v = query.get(k);
    if (v === null || v.trim() === '') continue;
    if (NUMERIC.has(k)) {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0) f[k] = n;
    } else f[k] = v;
  }
  const sort = query.get('sort');
  if (sort !== null && COLUMNS.some((c) => c.sort === sort)) f.sort = sort;
  const order = query.get('order');
  if (order === 'asc' || order === 'desc') f.order = order;
  return f;
}

function urlOf(f: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '/inventory' : `/inventory?${s}`;
}

export function InventoryPage({ query }: { query: URLSearchParams }) {
  // The query object is new on every navigation; its text says whether the filters changed.
  const queryText = query.toString();
  const applied = useMemo(() => filtersOf(new URLSearchParams(queryText)), [queryText]);
  const key = JSON.stringify(applied);
  const [draft, setDraft] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(applied).map(([k, v]) => [k, String(v)])));
  const [columns, setColumns] = useState<string[]>(storedColumns);
  const [total, setTotal] = useState<number | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [pages, setPages] = useState<Map<number, DeviceRow[]>>(() => new Map());
  const [settled, setSettled] = useState<string | undefined>(undefined);
  const inFlight = useRef(new Set<number>());
  const generation = useRef(key);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = 'Inventory — Vigil';
  }, []);

  // Back/forward (or a link) changed the URL: show its filters in the inputs.
  useEffect(() => {
    setDraft(Object.fromEntries(Object.entries(applied).map(([k, v]) => [k, String(v)])));
  }, [key]); // `applied` is what `key` names

  // What the requests are for: read when a request is sent, so a queued one asks for the newest filters.
  const latest = useRef({ key, applied });
  // One first-page request at a time: a filter asks at once, and while an answer is on its way only
  // the newest filters wait for their turn (the ones typed past in between are never sent).
  const firstBusy = useRef(false);
  const firstWanted = useRef<string | null>(null);

  const fetchPage = useCallback((page: number) => {
    const { key: mine, applied: q } = latest.current;
    if (page === 0) {
      if (firstBusy.current) {
        firstWanted.current = mine;
        return;
      }
      firstBusy.current = true;
    } else if (inFlight.current.has(page)) return;
    inFlight.current.add(page);
    api
      .devices({ ...q, limit: PAGE_SIZE, offset: page * PAGE_SIZE })
      .then(
        (r) => {
          if (generation.current !== mine) return;
          inFlight.current.delete(page);
          setTotal(r.total);
          setError(undefined);
          setPages((old) => new Map(old).set(page, r.items));
          if (page === 0) setSettled(mine);
        },
        (e: unknown) => {
          if (generation.current !== mine) return;
          inFlight.current.delete(page);
          setError(e instanceof Error ? e.message : String(e));
          setSettled(mine);
        },
      )
      .finally(() => {
        if (page !== 0) return;
        firstBusy.current = false;
        const next = firstWanted.current;
        firstWanted.current = null;
        if (next !== null && next !== mine && next === latest.current.key) fetchPage(0);
      });
  }, []);

  // New filters: start again from the top.
  useEffect(() => {
    latest.current = { key, applied };
    generation.current = key;
    inFlight.current = new Set();
    setPages(new Map());
    if (scroller.current !== null) scroller.current.scrollTop = 0;
    fetchPage(0);
  }, [key]); // `applied` is what `key` names

  const rowCount = total ?? 0;
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    initialRect: { width: 1200, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items[0]?.index ?? 0;
  const lastIndex = items[items.length - 1]?.index ?? 0;

  // The rows in view that are not here yet: fetch their pages.
  useEffect(() => {
    if (rowCount === 0) return;
    for (let p = Math.floor(firstIndex / PAGE_SIZE); p <= Math.floor(lastIndex / PAGE_SIZE); p++) if (!pages.has(p)) fetchPage(p);
  }, [firstIndex, lastIndex, rowCount, pages, fetchPage]);

  // Filters apply as they are typed or chosen (the requests are coalesced above); a subnet waits for a pause.
  const debounce = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const apply = (next: Record<string, string>, wait: number) => {
    clearTimeout(debounce.current);
    const go = () => {
      const f: Record<string, string> = {};
      for (const [k, v] of Object.entries(next)) if (v.trim() !== '') f[k] = v.trim();
      navigate(urlOf(f), { replace: true });
    };
    if (wait === 0) go();
    else debounce.current = setTimeout(go, wait);
  };
  useEffect(() => () => clearTimeout(debounce.current), []);
  const change = (k: string, v: string, wait = 0) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    apply(next, wait);
  };

  const sortBy = (s: DeviceSort) => {
    const current = applied.sort ?? 'risk';
    const currentOrder = applied.order ?? (current === 'risk' ? 'desc' : 'asc');
    const order = current === s ? (currentOrder === 'asc' ? 'desc' : 'asc') : s === 'risk' || s === 'last_seen' ? 'desc' : 'asc';
    const next = { ...draft, sort: s, order };
    setDraft(next);
    apply(next, 0);
  };

  const toggleColumn = (k: string) => {
    const next = columns.includes(k) ? columns.filter((c) => c !== k) : COLUMNS.filter((c) => c.key === k || columns.includes(c.key)).map((c) => c.key);
    if (next.length === 0) return;
    setColumns(next);
    try {
      localStorage.setItem(COLUMNS_KEY, JSON.stringify(next));
    } catch {
      // Not remembered: the choice holds for this page.
    }
  };

  const shown = COLUMNS.filter((c) => columns.includes(c.key));
  const sortKey = applied.sort ?? 'risk';
  const sortOrder = applied.order ?? (sortKey === 'risk' ? 'desc' : 'asc');
  const padTop = items[0]?.start ?? 0;
  const padBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const ready = settled === key;
  const text = (k: string) => draft[k] ?? '';

  return (
    <div data-page="inventory">
      <div className="page-head">
        <h1>Inventory</h1>
        <span className="muted" role="status" aria-live="polite" data-testid="inventory-count">
          {error !== undefined ? '' : total === undefined ? 'Loading…' : `${fmtInt(total)} ${total === 1 ? 'device' : 'devices'}`}
        </span>
        <div className="actions">
          <details className="columns-menu">
            <summary className="button">Columns</summary>
            <fieldset className="menu">
              <legend className="visually-hidden">Columns to show</legend>
              {COLUMNS.map((c) => (
                <label className="inline" key={c.key}>
                  <input type="checkbox" checked={columns.includes(c.key)} onChange={() => toggleColumn(c.key)} /> {c.label}
                </label>
              ))}
            </fieldset>
          </details>
          <a className="button" href={api.exportCsvUrl(applied)} download="vigil-inventory.csv">
            Export CSV
          </a>
        </div>
      </div>

      <form className="filters" role="search" aria-label="Filter the inventory" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" name="search" placeholder="name, IP, MAC, vendor, model…" value={text('search')} onChange={(e) => change('search', e.target.value)} />
        </label>
        <label>
          Category
          <select name="category" value={text('category')} onChange={(e) => change('category', e.target.value)}>
            <option value="">all</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Vendor
          <input className="vendor" name="vendor" value={text('vendor')} onChange={(e) => change('vendor', e.target.value)} />
        </label>
        <label>
          OS
          <input className="os" name="os" value={text('os')} onChange={(e) => change('os', e.target.value)} />
        </label>
        <label>
          EOL
          <select name="eol" value={text('eol')} onChange={(e) => change('eol', e.target.value)}>
            <option value="">any</option>
            <option value="eol">end of life</option>
            <option value="supported">supported</option>
            <option value="unknown">unknown</option>
          </select>
        </label>
        <label>
          Risk from
          <input type="number" name="minRisk" min={0} max={100} value={text('minRisk')} onChange={(e) => change('minRisk', e.target.value)} />
        </label>
        <label>
          Risk to
          <input type="number" name="maxRisk" min={0} max={100} value={text('maxRisk')} onChange={(e) => change('maxRisk', e.target.value)} />
        </label>
        <label>
          VLAN
          <input type="number" name="vlan" min={0} max={4095} value={text('vlan')} onChange={(e) => change('vlan', e.target.value)} />
        </label>
        <label>
          Subnet
          <input className="subnet" name="subnet" placeholder="10.2.0.0/16" value={text('subnet')} onChange={(e) => change('subnet', e.target.value, SUBNET_PAUSE_MS)} />
        </label>
        {Object.keys(applied).some((k) => k !== 'sort' && k !== 'order') && (
          <button type="button" onClick={() => apply({}, 0)}>
            Clear filters
          </button>
        )}
      </form>

      {error !== undefined && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <div className="inventory-scroll" ref={scroller} data-state={ready ? 'ready' : 'loading'} data-query={key} data-total={total ?? ''}>
        <table aria-label="Devices" aria-rowcount={rowCount + 1} style={{ minWidth: shown.reduce((s, c) => s + c.width, 0) }}>
          <colgroup>
            {shown.map((c) => (
              <col key={c.key} style={{ width: c.width }} />
            ))}
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              {shown.map((c) => (
                <th key={c.key} scope="col" aria-sort={c.sort !== undefined && c.sort === sortKey ? (sortOrder === 'asc' ? 'ascending' : 'descending') : undefined}>
                  {c.sort !== undefined ? (
                    <button type="button" className="sort" onClick={() => c.sort !== undefined && sortBy(c.sort)}>
                      {c.label}
                      {c.sort === sortKey ? (sortOrder === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr className="spacer" aria-hidden="true">
                <td colSpan={shown.length} style={{ height: padTop }} />
              </tr>
            )}
            {items.map((v) => {
              const row = pages.get(Math.floor(v.index / PAGE_SIZE))?.[v.index % PAGE_SIZE];
              return (
                <tr key={v.index} aria-rowindex={v.index + 2} style={{ height: ROW_HEIGHT }} onDoubleClick={() => row !== undefined && navigate(devicePath(row.id))}>
                  {row === undefined ? (
                    <td colSpan={shown.length} className="muted">
                      …
                    </td>
                  ) : (
                    shown.map((c) => (
                      <td key={c.key} title={c.text?.(row)}>
                        {c.render(row)}
                      </td>
                    ))
                  )}
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr className="spacer" aria-hidden="true">
                <td colSpan={shown.length} style={{ height: padBottom }} />
              </tr>
            )}
          </tbody>
        </table>
        {ready && total === 0 && <p className="empty" style={{ padding: '1rem' }}>No device matches these filters.</p>}
      </div>
    </div>
  );
}
