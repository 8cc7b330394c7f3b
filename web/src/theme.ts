/**
 * Light and dark themes are CSS variables (styles.css); with no choice made the system's
 * preference (prefers-color-scheme) rules, and a choice is remembered in this browser.
 */
export type Theme = 'light' | 'dark';
const KEY = 'vigil-theme';

export function storedTheme(): Theme | null {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

export function effectiveTheme(): Theme {
  return storedTheme() ?? (window.matchMedia?.('(prefers-color-scheme: dark)').matches === true ? 'dark' : 'light');
}

export function applyTheme(t: Theme | null): void {
  if (t === null) document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
  try {
    if (t === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, t);
  } catch {
    // Storage can be unavailable (private mode): the choice then lasts for this page only.
  }
}
