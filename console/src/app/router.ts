// Routes live in the URL's fragment (/ui/#/flow/...), so the server has one page to serve.

import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const p = qi >= 0 ? h.slice(0, qi) : h;
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '') };
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setR(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

export function go(path: string): void {
  location.hash = path.startsWith('#') ? path : `#${path}`;
}

export function href(...parts: (string | undefined)[]): string {
  return `#/${parts.filter((p) => p !== undefined).map((p) => encodeURIComponent(p!)).join('/')}`;
}
