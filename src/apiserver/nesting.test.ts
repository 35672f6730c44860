// Deeply nested bodies and patches: upstream's decoder accepts 10,000 levels of objects and arrays
// and refuses more. Mizzen accepts the same (an unknown field that deep is dropped as usual, a
// ControllerRevision's free-form data that deep is stored, read, updated and watched), and
// answers 400 with a clear message past it, for bodies and for merge, strategic merge and JSON
// patches alike: never a 500 "Maximum call stack size exceeded".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { stringifyJSON } from '../machinery/json-values.ts';

let api: TestApiServer;
before(async () => {
  api = await startTestApiServer({ name: 'nesting', unixSocket: true });
});
after(async () => {
  await api?.close();
});

interface Reply {
  code: number;
  text: string;
  json: any;
  warning?: string;
}

function send(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (body !== undefined) Object.assign(headers, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    const req = http.request({ socketPath: api.socketPath, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ code: res.statusCode!, text, json, warning: res.headers.warning as string | undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `[[...[]...]]`: `levels` nested arrays, as JSON text. */
const arrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const CM = '/api/v1/namespaces/default/configmaps';
const REVS = '/apis/apps/v1/namespaces/default/controllerrevisions';
const tooDeep = (r: Reply) => r.code === 400 && r.json?.kind === 'Status' && /nested too deeply/.test(r.json.message);

test('a body nested 10,000 levels is accepted (the deep unknown field dropped); 10,001 or 300,000 levels answer 400', async () => {
  // The configmap object is level 1, so its field x may hold 9,999 more.
  const ok = await send('POST', CM, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${arrays(9_999)}}`);
  assert.equal(ok.code, 201, ok.text.slice(0, 300));
  assert.match(ok.warning ?? '', /unknown field \\"x\\"/);
  assert.equal(ok.json.x, undefined);
  for (const levels of [10_000, 300_000]) {
    const r = await send('POST', CM, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deeper"},"x":${arrays(levels)}}`);
    assert.ok(tooDeep(r), `${levels}: ${r.code} ${r.text.slice(0, 300)}`);
  }
  const put = await send('PUT', `${CM}/deep`, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${arrays(300_000)}}`);
  assert.ok(tooDeep(put), put.text.slice(0, 300));
});

test('merge, strategic merge and JSON patches nested 10,000 levels apply; 300,000 answer 400', async () => {
  const patches: [string, (levels: number) => string][] = [
    ['application/merge-patch+json', (n) => `{"data":{"k":"merge"},"x":${arrays(n - 1)}}`],
    ['application/strategic-merge-patch+json', (n) => `{"data":{"k":"smp"},"x":${arrays(n - 1)}}`],
    // The patch array and the operation object are two levels.
    ['application/json-patch+json', (n) => `[{"op":"add","path":"/x","value":${arrays(n - 2)}},{"op":"add","path":"/data","value":{"k":"json"}}]`],
  ];
  for (const [type, body] of patches) {
    const ok = await send('PATCH', `${CM}/deep`, body(10_000), type);
    assert.equal(ok.code, 200, `${type}: ${ok.text.slice(0, 300)}`);
    assert.equal(ok.json.x, undefined);
    for (const levels of [10_001, 300_000]) {
      const r = await send('PATCH', `${CM}/deep`, body(levels), type);
      assert.ok(tooDeep(r), `${type} ${levels}: ${r.code} ${r.text.slice(0, 300)}`);
    }
  }
  // JSON patch operations can build a value deeper than either the object or the patch.
  const half = 6_000;
  const grow = `[{"op":"add","path":"/x","value":${arrays(half)}},{"op":"add","path":"/x${'/0'.repeat(half - 2)}/-","value":${arrays(half)}}]`;
  const grown = await send('PATCH', `${CM}/deep`, grow, 'application/json-patch+json');
  assert.ok(tooDeep(grown), grown.text.slice(0, 300));
  assert.match(grown.json.message, /the patched object is nested too deeply/);
});

test('free-form data nested near the limit is stored, listed, watched, updated and patched', async () => {
  const data = arrays(9_990);
  const created = await send('POST', REVS, `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"deep"},"revision":1,"data":{"d":${data}}}`);
  assert.equal(created.code, 201, created.text.slice(0, 300));
  const got = await send('GET', `${REVS}/deep`);
  assert.equal(got.code, 200);
  assert.ok(got.text.includes(`"data":{"d":${data}}`));
  const listed = await send('GET', REVS);
  assert.equal(listed.json.items.length, 1);
  const patched = await send('PATCH', `${REVS}/deep`, '{"metadata":{"labels":{"a":"b"}}}', 'application/merge-patch+json');
  assert.equal(patched.code, 200, patched.text.slice(0, 300));
  assert.equal(patched.json.metadata.labels.a, 'b');
  const smp = await send('PATCH', `${REVS}/deep`, '{"metadata":{"labels":{"c":"d"}}}', 'application/strategic-merge-patch+json');
  assert.equal(smp.code, 200, smp.text.slice(0, 300));
  const obj = smp.json;
  obj.metadata.labels.e = 'f';
  // (JSON.stringify itself gives up at this depth.)
  const put = await send('PUT', `${REVS}/deep`, stringifyJSON(obj));
  assert.equal(put.code, 200, put.text.slice(0, 300));
  // data is immutable: changing it deep down is a 422, not a crash.
  const changed = await send('PATCH', `${REVS}/deep`, `{"data":{"d":${arrays(9_989)}}}`, 'application/merge-patch+json');
  assert.equal(changed.code, 422, changed.text.slice(0, 300));
  const watched = await new Promise<string>((resolve, reject) => {
    const req = http.request({ socketPath: api.socketPath, path: `${REVS}?watch=1` }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
  assert.equal(JSON.parse(watched.split('\n')[0]).object.metadata.labels.e, 'f');
  const pretty = await send('GET', `${REVS}/deep?pretty=true`);
  assert.equal(pretty.code, 200);
});

test('YAML nested deeper than its parser goes answers 400, never a crash', async () => {
  for (const levels of [1_000, 300_000]) {
    const r = await send('POST', CM, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nx: ${arrays(levels)}\n`, 'application/yaml');
    assert.ok(r.code === 400 && /nested too deeply/.test(r.json?.message), `${levels}: ${r.code} ${r.text.slice(0, 300)}`);
  }
  const fine = await send('POST', CM, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nx: ${arrays(100)}\n`, 'application/yaml');
  assert.equal(fine.code, 201, fine.text.slice(0, 300));
});

test('a custom resource with free-form data near the limit is read, listed, watched, patched and applied', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'blobs.nesting.example.com' },
    spec: {
      group: 'nesting.example.com',
      scope: 'Namespaced',
      names: { plural: 'blobs', singular: 'blob', kind: 'Blob' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  assert.equal((await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(crd))).code, 201);
  const BLOBS = '/apis/nesting.example.com/v1/namespaces/default/blobs';
  let created: Reply | undefined;
  for (let i = 0; i < 100; i++) {
    created = await send('POST', BLOBS, `{"apiVersion":"nesting.example.com/v1","kind":"Blob","metadata":{"name":"deep"},"spec":{"d":${arrays(9_990)}}}`);
    if (created.code !== 404) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(created!.code, 201, created!.text.slice(0, 300));
  const got = await send('GET', `${BLOBS}/deep`);
  assert.equal(got.code, 200, got.text.slice(0, 300));
  assert.ok(got.text.includes(`"spec":{"d":${arrays(9_990)}}`));
  const listed = await send('GET', BLOBS);
  assert.equal(listed.code, 200, listed.text.slice(0, 300));
  assert.equal(listed.json.items.length, 1);
  const patched = await send('PATCH', `${BLOBS}/deep`, '{"metadata":{"labels":{"a":"b"}}}', 'application/merge-patch+json');
  assert.equal(patched.code, 200, patched.text.slice(0, 300));
  assert.equal(patched.json.metadata.labels.a, 'b');
  const table = await new Promise<Reply>((resolve, reject) => {
    const req = http.request({ socketPath: api.socketPath, path: BLOBS, headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode!, text, json: undefined }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(table.code, 200, table.text.slice(0, 300));
});

test('an apply configuration in YAML nested deeper than its parser goes answers 400 saying so', async () => {
  for (const levels of [1_000, 20_000]) {
    const r = await send('PATCH', `${CM}/applied?fieldManager=t`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {x: ${arrays(levels)}}\n`, 'application/apply-patch+yaml');
    assert.ok(r.code === 400 && /nested too deeply/.test(r.json?.message), `${levels}: ${r.code} ${r.text.slice(0, 300)}`);
  }
});
