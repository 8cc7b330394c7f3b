/**
 * A small router on the History API: the dashboard has a handful of pages and linkable query
 * strings (inventory filters, alert filters), which is all it needs from one.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const full = useSyncExternalStore(subscribe, snapshot, snapshot);
  const i = full.indexOf('?');
  return { path: i < 0 ? full : full.slice(0, i), query: new URLSearchParams(i < 0 ? '' : full.slice(i)) };
}

/** Goes to a page; `replace` for changes that should not add a history entry (typing in a filter). */
export function navigate(to: string, { replace = false } = {}): void {
  if (to === snapshot()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

export function devicePath(id: string): string {
  return `/devices/${encodeURIComponent(id)}`;
}

/** An anchor that navigates in the app (and still opens in a new tab with a modifier key). */
export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={click} {...rest} />;
}
