/** Who is logged in, for every page: the name shown in the header and the role that decides what is offered. */
import { createContext, useContext } from 'react';
import type { Me, Role } from './api.ts';

export const SessionContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(SessionContext);
  if (me === null) throw new Error('useMe outside a logged-in page');
  return me;
}

/** What each role may do in the UI — the server checks again (src/server/auth.ts); this only hides what would be refused. */
const TRIAGE: readonly Role[] = ['admin', 'analyst', 'clinical-engineer'];
export const canTriage = (role: Role): boolean => TRIAGE.includes(role);
export const canResolve = (role: Role): boolean => TRIAGE.includes(role);
export const canManageUsers = (role: Role): boolean => role === 'admin';

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
