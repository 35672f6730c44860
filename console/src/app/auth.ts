// Login state. A pasted bearer token is kept in this tab's sessionStorage (gone when the tab
// closes) and sent as Authorization on every request; a login link's session is an HttpOnly
// cookie the page never sees. Either way the page learns whether it may in by asking the API.

import { ApiError, NetworkError, apiFetch, apiJSON } from '../shared/http.ts';

/** sessionStorage's key for a pasted token (index.html's inline script reads it too). */
export const TOKEN_KEY = 'mizzen-console-token';

export function savedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

export type Probe = { ok: true } | { ok: false; reason: string; network?: boolean };

/**
 * Whether the API lets these credentials in (the token, or else the session cookie): from `answer`
 * (a request already made with them, the nodes' Table) or else by asking for /api.
 */
export async function probe(token: string | undefined, answer?: Promise<Response>): Promise<Probe> {
  try {
    await (answer ?? apiFetch('/api', { token }));
  } catch (e) {
    if (e instanceof ApiError && e.code === 401) {
      return { ok: false, reason: token ? `The API server did not accept this token (${e.message}).` : e.message === 'Unauthorized' ? '' : e.message };
    }
    if (e instanceof NetworkError) return { ok: false, reason: 'The API server cannot be reached.', network: true };
    if (!(e instanceof ApiError)) throw e;
    // 403 and others: the credentials were accepted; what they may see is another matter.
  }
  return { ok: true };
}

/** The user's name, from a SelfSubjectReview (kubectl auth whoami), where the server has them. */
export async function whoAmI(token: string | undefined): Promise<string | undefined> {
  try {
    const r = await apiJSON('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    return r?.status?.userInfo?.username;
  } catch {
    return undefined;
  }
}

export async function logout(token: string | undefined): Promise<void> {
  saveToken(undefined);
  if (!token) {
    try {
      await apiFetch('/ui/logout', { method: 'POST' });
    } catch {
      // the cookie will expire anyway
    }
  }
}
