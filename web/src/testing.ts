/**
 * For component tests: a fetch that answers like the Vigil API from a table of routes, recording
 * what was asked. The end-to-end test (test/e2e/) drives the real server; these test the pages.
 */
import { vi } from 'vitest';

export type Handler = (req: { method: string; url: URL; body: unknown }) => { status?: number; body?: unknown; type?: string } | unknown;

export interface FakeApi {
  calls: { method: string; path: string; query: string; body: unknown }[];
  restore: () => void;
}

/** Routes are "METHOD /path" (exact path) → a handler or a fixed JSON answer; anything else is a 404. */
export function fakeApi(routes: Record<string, Handler | object>): FakeApi {
  const calls: FakeApi['calls'] = [];
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://vigil.test');
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method, path: url.pathname, query: url.search, body });
    const route = routes[`${method} ${url.pathname}`];
    if (route === undefined) return new Response(JSON.stringify({ error: 'no route' }), { status: 404, headers: { 'content-type': 'application/json' } });
    // A handler may answer later (a promise): tests of what happens while a request is on its way.
    const answer: unknown = typeof route === 'function' ? await (route as Handler)({ method, url, body }) : route;
    // An answer with a numeric status is a response envelope; anything else is the JSON body itself.
    const envelope = answer !== null && typeof answer === 'object' && typeof (answer as { status?: unknown }).status === 'number';
    const r = (envelope ? answer : { body: answer }) as { status?: number; body?: unknown; type?: string };
    const text = typeof r.body === 'string' && r.type !== undefined ? r.body : JSON.stringify(r.body ?? null);
    return new Response(text, { status: r.status ?? 200, headers: { 'content-type': r.type ?? 'application/json' } });
  });
  return { calls, restore: () => spy.mockRestore() };
}
