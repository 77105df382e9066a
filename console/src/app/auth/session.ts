import { useSyncExternalStore } from 'react';

/**
 * The bearer token of the signed-in person, in memory: read by the Apollo links on every request and by
 * file downloads. OIDC sign-in keeps it nowhere else; development sign-in also keeps it in this tab's
 * sessionStorage so a reload stays signed in (development tokens guard nothing).
 */
type Listener = () => void;
let current: string | null = null;
const listeners = new Set<Listener>();

export const session = {
  token(): string | null {
    return current;
  },
  set(token: string | null): void {
    if (token === current) return;
    current = token;
    for (const l of listeners) l();
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useToken(): string | null {
  return useSyncExternalStore(session.subscribe, session.token);
}

/** Headers for the server's file routes (/files/...), which take the same bearer token as the API. */
export function authHeaders(): Record<string, string> {
  const token = session.token();
  return token ? { authorization: `Bearer ${token}` } : {};
}
