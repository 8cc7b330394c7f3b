/** Who is logged in, for every page: the name shown in the header and the role that decides what is offered. */
import { createContext, useContext } from 'react';
import type { Me, Role } from './api.ts';

export const SessionContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(SessionContext);
  if (me === null) throw new Error('useMe outside a logged-in page');
  return me;
}

/**
 * What the UI offers: the actions /api/me says the user may take, or (from an older server) the
 * role table of src/server/auth.ts. The server checks again on every request; this only hides
 * what would be refused.
 */
const ROLE_ACTIONS: Record<Role, readonly string[]> = {
  admin: ['read', 'alerts.triage', 'alerts.resolve', 'reports.read', 'users.manage'],
  analyst: ['read', 'alerts.triage', 'alerts.resolve', 'reports.read'],
  'clinical-engineer': ['read', 'alerts.triage', 'alerts.resolve', 'reports.read'],
  'read-only': ['read', 'reports.read'],
};
const may = (me: Me, action: string): boolean => (me.may ?? ROLE_ACTIONS[me.role] ?? []).includes(action);
export const canTriage = (me: Me): boolean => may(me, 'alerts.triage');
export const canResolve = (me: Me): boolean => may(me, 'alerts.resolve');
export const canManageUsers = (me: Me): boolean => may(me, 'users.manage');

const KEY = 'vigil-user';
/** The login answer, kept for this tab: servers without /api/me still let a reload know who is logged in. */
export function rememberUser(me: Me | null): void {
  try {
    if (me === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, JSON.stringify(me));
  } catch {
    // No storage: a reload asks for a login again.
  }
}
export function rememberedUser(): Me | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw === null ? null : (JSON.parse(raw) as Me);
  } catch {
    return null;
  }
}
