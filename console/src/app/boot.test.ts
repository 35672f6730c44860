// index.html's inline script asks for the map's first request before the app's scripts load:
// it must ask for what the app would (NODE_TABLE, the console's headers, the saved token).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NODE_TABLE } from '../shared/types.ts';
import { apiHeaders } from '../shared/http.ts';
import { TOKEN_KEY } from './auth.ts';

test("index.html's early request is the app's nodes' Table, with its headers", () => {
  const html = readFileSync(new URL('../../index.html', import.meta.url), 'utf8');
  const script = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).find((s) => s.includes('fetch(')) ?? '';
  assert.ok(script.includes(`fetch('${NODE_TABLE.path}'`), 'the path');
  assert.ok(script.includes(`Accept: '${NODE_TABLE.accept}'`), 'the Accept header');
  assert.ok(script.includes(`sessionStorage.getItem('${TOKEN_KEY}')`), 'the saved token');
  const h = apiHeaders('t', { Accept: NODE_TABLE.accept });
  assert.deepEqual(Object.keys(h).sort(), ['Accept', 'Authorization', 'X-Mizzen-UI']);
  assert.ok(script.includes(`'X-Mizzen-UI': '${h['X-Mizzen-UI']}'`), 'the console header');
  assert.ok(script.includes(`headers.Authorization = 'Bearer ' + token`), 'the token');
  assert.ok(script.includes(`credentials: 'same-origin', cache: 'no-store'`), 'as apiFetch asks');
});
