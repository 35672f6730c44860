// Boolean query parameters as upstream reads them: `watch=True` (the Python client) is a watch,
// only "0"/"false" in any case are false, and `pretty` follows Go's ParseBool.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { optionalQueryFlag, parseGoBool, queryFlag } from './query-params.ts';
import { indentJSON } from './http-util.ts';
import { parseRequestInfo } from './request-info.ts';

test('a boolean parameter is false only when absent, "0" or "false" in any case', () => {
  const flag = (v: string) => queryFlag(new URLSearchParams(`watch=${v}`), 'watch');
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True', 'yes', '', 'anything']) assert.equal(flag(v), true, v);
  for (const v of ['0', 'false', 'False', 'FALSE', 'fAlSe']) assert.equal(flag(v), false, v);
  assert.equal(queryFlag(new URLSearchParams(''), 'watch'), false);
  assert.equal(optionalQueryFlag(new URLSearchParams(''), 'orphanDependents'), undefined);
  // Only the first value counts, as upstream's conversion reads it.
  assert.equal(queryFlag(new URLSearchParams('watch=0&watch=1'), 'watch'), false);
});

test('the watch verb follows the same rule', () => {
  const verb = (qs: string, path = '/api/v1/pods') => parseRequestInfo('GET', path, new URLSearchParams(qs)).verb;
  assert.equal(verb('watch=True'), 'watch');
  assert.equal(verb('watch=1'), 'watch');
  assert.equal(verb('watch=False'), 'list');
  assert.equal(verb('watch=0'), 'list');
  assert.equal(verb(''), 'list');
  assert.equal(verb('watch=True', '/api/v1/namespaces/default/pods/p'), 'watch');
  assert.equal(verb('watch=FALSE', '/api/v1/namespaces/default/pods/p'), 'get');
});

test("Go's ParseBool spellings", () => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(v), true);
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(v), false);
  for (const v of ['', 'yes', 'tRUE', 'on']) assert.equal(parseGoBool(v), undefined);
});

test('indentJSON indents like json.Indent, at any depth', () => {
  assert.equal(indentJSON('{"a":[1,{"b":"x,:{"}],"c":{},"d":[]}'), '{\n  "a": [\n    1,\n    {\n      "b": "x,:{"\n    }\n  ],\n  "c": {},\n  "d": []\n}');
  assert.equal(indentJSON('"a\\"{"'), '"a\\"{"');
  // Deeper than JSON.stringify can go on Node's default stack (the output grows with depth²).
  const deep = '['.repeat(5_000) + ']'.repeat(5_000);
  assert.equal(JSON.parse(indentJSON(deep)).length, 1);
});

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer({ name: 'query-params', unixSocket: true });
});
after(async () => {
  await api?.close();
});

/** GET over the private socket; resolves with the status, headers and the first chunk of the body. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ code: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: api.socketPath, path, headers }, (res) => {
      const watching = String(res.headers['transfer-encoding'] ?? '') === 'chunked' && !res.headers['content-length'];
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        // A watch never ends by itself: its first event is enough.
        if (watching && text.includes('\n')) {
          req.destroy();
          resolve({ code: res.statusCode!, type: 'watch', text });
        }
      });
      res.on('end', () => resolve({ code: res.statusCode!, type: watching ? 'watch' : 'list', text }));
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

test('watch=True streams events; watch=False lists', async () => {
  const w = await get('/api/v1/namespaces?watch=True');
  assert.equal(w.code, 200);
  assert.equal(w.type, 'watch');
  assert.equal(JSON.parse(w.text.split('\n')[0]).type, 'ADDED');
  const l = await get('/api/v1/namespaces?watch=False');
  assert.equal(l.type, 'list');
  assert.equal(JSON.parse(l.text).kind, 'NamespaceList');
});

test('pretty=true indents the answer; pretty=yes (not a ParseBool spelling) does not; curl gets it indented', async () => {
  const p = await get('/api/v1/namespaces/default?pretty=true');
  assert.match(p.text, /^\{\n {2}"apiVersion": "v1",\n {2}"kind": "Namespace",/);
  const y = await get('/api/v1/namespaces/default?pretty=yes');
  assert.match(y.text, /^\{"apiVersion":"v1","kind":"Namespace"/);
  const c = await get('/api/v1/namespaces/default', { 'User-Agent': 'curl/8.5.0' });
  assert.match(c.text, /^\{\n/);
  const c0 = await get('/api/v1/namespaces/default?pretty=0', { 'User-Agent': 'curl/8.5.0' });
  assert.match(c0.text, /^\{"apiVersion"/);
});
