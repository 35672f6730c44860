// Bad requests against a real `mizzen up` over HTTPS with the admin client certificate: each gets a
// Kubernetes Status with the right code and a message naming the problem, never a 500; the server
// keeps serving and nothing stored is lost. Ends with a seeded fuzz loop over a valid pod.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { startCluster, type Cluster } from './harness.ts';

interface Reply {
  status: number;
  contentType: string;
  text: string;
  json: Record<string, unknown> | undefined;
}

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  /** The expected code, or the codes upstream could answer with. */
  code: number | number[];
  reason?: string;
  /** What the message must say (the point of the test: it names the problem). */
  message: RegExp;
}

const NS = 'bad-input';
const CM_PATH = `/api/v1/namespaces/${NS}/configmaps`;
const POD_PATH = `/api/v1/namespaces/${NS}/pods`;

/** mulberry32: a tiny seeded PRNG so the fuzz run is the same every time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = (v: unknown) => JSON.stringify(v);

describe('bad input', () => {
  let cluster: Cluster;
  let agent: Agent;
  let precious: { resourceVersion: string; uid: string };
  let fuzzServerErrors: string[] | undefined;

  const send = (method: string, path: string, body?: string | Buffer, contentType?: string, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const h: Record<string, string> = { Accept: 'application/json', ...headers };
      if (contentType) h['Content-Type'] = contentType;
      // Node frames DELETE bodies only with an explicit length.
      if (body !== undefined) h['Content-Length'] = String(Buffer.byteLength(body));
      // host/port/path (not a URL string) so paths such as `..` reach the server as written.
      const req = request({ host: '127.0.0.1', port: cluster.port, path, method, agent, headers: h }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json: parsed });
        });
        res.on('error', reject);
      });
      // The server may answer (413) and close before reading a huge body; that is fine.
      req.on('error', reject);
      req.end(body);
    });

  /** Check one reply is the Status we expect; returns a description of what is wrong, or ''. */
  const problem = (c: Case, r: Reply): string => {
    const where = `${c.name}: ${c.method} ${c.path} → ${r.status} ${r.text.slice(0, 400)}`;
    if (r.status >= 500) return `server error: ${where}`;
    if (!r.json) return `body is not JSON: ${where}`;
    if (!/^application\/json/.test(r.contentType)) return `content-type ${r.contentType}: ${where}`;
    const s = r.json;
    if (s.kind !== 'Status' || s.apiVersion !== 'v1' || s.status !== 'Failure') return `not a failure Status: ${where}`;
    const codes = Array.isArray(c.code) ? c.code : [c.code];
    if (!codes.includes(r.status) || s.code !== r.status) return `expected code ${codes.join(' or ')}: ${where}`;
    if (c.reason && s.reason !== c.reason) return `expected reason ${c.reason}: ${where}`;
    if (!c.message.test(String(s.message ?? ''))) return `message does not match ${c.message}: ${where}`;
    return '';
  };

  const runBatch = async (cases: Case[]) => {
    const problems: string[] = [];
    for (const c of cases) {
      const p = problem(c, await send(c.method, c.path, c.body, c.contentType));
      if (p) problems.push(p);
    }
    // The server keeps serving after every batch.
    const ready = await send('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(problems, []);
  };

  before(async () => {
    cluster = await startCluster();
    const cfg = parseYaml(await readFile(cluster.kubeconfig, 'utf8'));
    const b = (s: string) => Buffer.from(s, 'base64');
    agent = new Agent({
      ca: b(cfg.clusters[0].cluster['certificate-authority-data']),
      cert: b(cfg.users[0].user['client-certificate-data']),
      key: b(cfg.users[0].user['client-key-data']),
      keepAlive: true,
      maxSockets: 8,
    });
    const ns = await send('POST', '/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }), 'application/json');
    assert.equal(ns.status, 201, ns.text);
    const cm = await send('POST', CM_PATH, json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'precious', labels: { keep: 'yes' } }, data: { a: '1' } }), 'application/json');
    assert.equal(cm.status, 201, cm.text);
    const meta = cm.json!.metadata as { resourceVersion: string; uid: string };
    precious = { resourceVersion: meta.resourceVersion, uid: meta.uid };
  });
  after(async () => {
    agent?.destroy();
    await cluster?.stop();
  });

  test('malformed bodies', () =>
    runBatch([
      { name: 'truncated JSON', method: 'POST', path: CM_PATH, body: '{"apiVersion":', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /JSON/ },
      { name: 'JSON garbage', method: 'POST', path: CM_PATH, body: '}{', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /JSON/ },
      { name: 'empty JSON body', method: 'POST', path: CM_PATH, body: '', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'JSON array', method: 'POST', path: CM_PATH, body: '[]', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /array|object/ },
      { name: 'JSON null', method: 'POST', path: CM_PATH, body: 'null', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /null|object|kind/ },
      { name: 'JSON string', method: 'POST', path: CM_PATH, body: '"hello"', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'malformed YAML', method: 'POST', path: CM_PATH, body: 'a: [\n b', contentType: 'application/yaml', code: 400, reason: 'BadRequest', message: /YAML|yaml/ },
      { name: 'YAML tabs', method: 'POST', path: CM_PATH, body: 'kind: ConfigMap\n\tapiVersion: v1\n', contentType: 'application/yaml', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'random-bytes protobuf', method: 'POST', path: CM_PATH, body: Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 73 + 41) % 256)), contentType: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /protobuf|k8s/ },
      { name: 'protobuf magic then garbage', method: 'POST', path: CM_PATH, body: Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])]), contentType: 'application/vnd.kubernetes.protobuf', code: 400, reason: 'BadRequest', message: /\S/ },
    ]));

  test('wrong apiVersion or kind in the body', () =>
    runBatch([
      { name: 'wrong apiVersion', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'x' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /v2/ },
      { name: 'group version of another group', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /apps\/v1/ },
      { name: 'kind mismatch with the URL', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /Secret/ },
      { name: 'unknown kind', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'Gadget', metadata: { name: 'x' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /Gadget/ },
      { name: 'namespace mismatch with the URL', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'other' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /namespace/ },
      { name: 'name mismatch with the URL on PUT', method: 'PUT', path: `${CM_PATH}/precious`, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /name/ },
      { name: 'unknown field with fieldValidation=Strict', method: 'POST', path: `${CM_PATH}?fieldValidation=Strict`, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict' }, bogus: 1 }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /unknown field "bogus"/ },
      { name: 'bad fieldValidation value', method: 'POST', path: `${CM_PATH}?fieldValidation=Loud`, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fv' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /fieldValidation/ },
    ]));

  test('unknown resources, groups and versions', () =>
    runBatch([
      { name: 'unknown core resource', method: 'GET', path: '/api/v1/gadgets', code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'unknown namespaced resource', method: 'GET', path: `/api/v1/namespaces/${NS}/gadgets`, code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'unknown group', method: 'GET', path: '/apis/nope.example.com/v1/things', code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'unknown version', method: 'GET', path: '/apis/apps/v9/deployments', code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'unknown core version', method: 'GET', path: '/api/v2/pods', code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'unknown subresource', method: 'GET', path: `${CM_PATH}/precious/gizmo`, code: 404, reason: 'NotFound', message: /\S/ },
      { name: 'create an unknown resource', method: 'POST', path: '/apis/nope.example.com/v1/namespaces/x/things', body: '{}', contentType: 'application/json', code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
      { name: 'namespaced resource in a missing namespace', method: 'POST', path: '/api/v1/namespaces/no-such-ns/configmaps', body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), contentType: 'application/json', code: 404, reason: 'NotFound', message: /namespaces "no-such-ns" not found/ },
      { name: 'missing object', method: 'GET', path: `${CM_PATH}/absent`, code: 404, reason: 'NotFound', message: /^configmaps "absent" not found$/ },
    ]));

  test('invalid names', () =>
    runBatch([
      { name: 'uppercase name', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name"/ },
      { name: 'missing name', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /metadata\.name: Required value: name or generateName is required/ },
      { name: 'name too long', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a'.repeat(254) } }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /metadata\.name: Invalid value: .*must be no more than 253 characters/ },
      { name: 'namespace with a dot', method: 'POST', path: '/api/v1/namespaces', body: json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /metadata\.name: Invalid value: "a\.b": a lowercase RFC 1123 label/ },
      { name: 'bad label key', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'labels', labels: { 'bad key': 'x' } } }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /metadata\.labels: Invalid value: "bad key"/ },
      { name: 'bad data key', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'datakey' }, data: { 'a/b': 'x' } }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /data\[a\/b\]: Invalid value: "a\/b"/ },
      { name: 'name with a slash in the URL', method: 'GET', path: `${CM_PATH}/a%2Fb`, code: 404, message: /\S/ },
    ]));

  test('bodies over 3 MiB are 413', async () => {
    const big = json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 16) } });
    await runBatch([
      { name: 'huge create', method: 'POST', path: CM_PATH, body: big, contentType: 'application/json', code: 413, reason: 'RequestEntityTooLarge', message: /Request entity too large: limit is 3145728/ },
      { name: 'huge patch', method: 'PATCH', path: `${CM_PATH}/precious`, body: big, contentType: 'application/merge-patch+json', code: 413, reason: 'RequestEntityTooLarge', message: /Request entity too large/ },
    ]);
    // Just under the limit the request itself is accepted, but a ConfigMap that big is not (1 MiB).
    const nearly = json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nearly' }, data: { a: 'x'.repeat(1024 * 1024 + 1) } });
    await runBatch([{ name: 'configmap over 1 MiB', method: 'POST', path: CM_PATH, body: nearly, contentType: 'application/json', code: 422, reason: 'Invalid', message: /ConfigMap "nearly" is invalid: .*Too long: .*1048576 bytes/ }]);
  });

  test('wrong content types (415) and unsupported patch types', () =>
    runBatch([
      { name: 'text/plain create', method: 'POST', path: CM_PATH, body: 'hi', contentType: 'text/plain', code: 415, reason: 'UnsupportedMediaType', message: /text\/plain/ },
      { name: 'xml create', method: 'POST', path: CM_PATH, body: '<x/>', contentType: 'application/xml', code: 415, reason: 'UnsupportedMediaType', message: /application\/xml/ },
      { name: 'form create', method: 'POST', path: CM_PATH, body: 'a=b', contentType: 'application/x-www-form-urlencoded', code: 415, reason: 'UnsupportedMediaType', message: /\S/ },
      { name: 'patch with application/json', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{}', contentType: 'application/json', code: 415, reason: 'UnsupportedMediaType', message: /json-patch\+json.*merge-patch\+json.*strategic-merge-patch\+json/ },
      { name: 'patch with xml', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{}', contentType: 'application/xml', code: 415, reason: 'UnsupportedMediaType', message: /merge-patch/ },
      { name: 'patch with no content type', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{}', code: 415, reason: 'UnsupportedMediaType', message: /merge-patch/ },
    ]));

  test('invalid patches', () =>
    runBatch([
      { name: 'unknown JSON patch op', method: 'PATCH', path: `${CM_PATH}/precious`, body: '[{"op":"frob","path":"/data"}]', contentType: 'application/json-patch+json', code: 422, message: /\S/ },
      { name: 'JSON patch remove of a missing key', method: 'PATCH', path: `${CM_PATH}/precious`, body: '[{"op":"remove","path":"/data/nope"}]', contentType: 'application/json-patch+json', code: 422, message: /\S/ },
      { name: 'JSON patch test fails', method: 'PATCH', path: `${CM_PATH}/precious`, body: '[{"op":"test","path":"/data/a","value":"2"}]', contentType: 'application/json-patch+json', code: 422, message: /\S/ },
      { name: 'JSON patch that is an object', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{"op":"add"}', contentType: 'application/json-patch+json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'JSON patch that is not JSON', method: 'PATCH', path: `${CM_PATH}/precious`, body: '[{', contentType: 'application/json-patch+json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'merge patch that is not JSON', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{"data":', contentType: 'application/merge-patch+json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'strategic patch that is a list', method: 'PATCH', path: `${CM_PATH}/precious`, body: '[1,2]', contentType: 'application/strategic-merge-patch+json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'patch that changes the name', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{"metadata":{"name":"renamed"}}', contentType: 'application/merge-patch+json', code: 400, reason: 'BadRequest', message: /name/ },
      { name: 'patch that makes the object invalid', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{"metadata":{"labels":{"bad key":"x"}}}', contentType: 'application/merge-patch+json', code: 422, reason: 'Invalid', message: /metadata\.labels/ },
      { name: 'patch with a stale resourceVersion', method: 'PATCH', path: `${CM_PATH}/precious`, body: '{"metadata":{"resourceVersion":"1"},"data":{"a":"9"}}', contentType: 'application/merge-patch+json', code: 409, reason: 'Conflict', message: /the object has been modified/ },
      { name: 'patch of a missing object', method: 'PATCH', path: `${CM_PATH}/absent`, body: '{}', contentType: 'application/merge-patch+json', code: 404, reason: 'NotFound', message: /configmaps "absent" not found/ },
      // Past upstream's 10,000 levels: a 400 that says so, not a 500 "Maximum call stack size exceeded".
      ...(['application/merge-patch+json', 'application/strategic-merge-patch+json'] as const).map((contentType) => ({
        name: `${contentType} nested 300,000 levels`,
        method: 'PATCH',
        path: `${CM_PATH}/precious`,
        body: `{"data":${'{"a":'.repeat(300_000)}1${'}'.repeat(300_000)}}`,
        contentType,
        code: 400,
        reason: 'BadRequest',
        message: /the patch is nested too deeply/,
      })),
      { name: 'JSON patch nested 300,000 levels', method: 'PATCH', path: `${CM_PATH}/precious`, body: `[{"op":"add","path":"/x","value":${'['.repeat(300_000)}${']'.repeat(300_000)}}]`, contentType: 'application/json-patch+json', code: 400, reason: 'BadRequest', message: /the patch is nested too deeply/ },
      { name: 'create nested 300,000 levels', method: 'POST', path: CM_PATH, body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(300_000)}${']'.repeat(300_000)}}`, contentType: 'application/json', code: 400, reason: 'BadRequest', message: /the request body is nested too deeply/ },
    ]));

  test('invalid selectors, continue tokens and resourceVersions', () =>
    runBatch([
      { name: 'unbalanced label selector', method: 'GET', path: `${CM_PATH}?labelSelector=${encodeURIComponent('a in (')}`, code: 400, reason: 'BadRequest', message: /unable to parse requirement/ },
      { name: 'label selector with bad value', method: 'GET', path: `${CM_PATH}?labelSelector=${encodeURIComponent('a=b c')}`, code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'label selector with bad key', method: 'GET', path: `${CM_PATH}?labelSelector=${encodeURIComponent('-a=b')}`, code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'unsupported field label', method: 'GET', path: `${CM_PATH}?fieldSelector=${encodeURIComponent('data.a=b')}`, code: 400, reason: 'BadRequest', message: /field label not supported: data\.a/ },
      { name: 'malformed field selector', method: 'GET', path: `${CM_PATH}?fieldSelector=${encodeURIComponent('metadata.name')}`, code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'field selector set operator', method: 'GET', path: `${CM_PATH}?fieldSelector=${encodeURIComponent('metadata.name in (a)')}`, code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'bad continue token', method: 'GET', path: `${CM_PATH}?limit=1&continue=garbage`, code: 400, reason: 'BadRequest', message: /continue/ },
      { name: 'base64 continue token of junk', method: 'GET', path: `${CM_PATH}?limit=1&continue=${Buffer.from('{"v":"x"}').toString('base64url')}`, code: 400, reason: 'BadRequest', message: /continue/ },
      { name: 'negative limit is ignored? no: bad limit', method: 'GET', path: `${CM_PATH}?limit=abc`, code: 400, reason: 'BadRequest', message: /limit/ },
      { name: 'watch with a non-numeric resourceVersion', method: 'GET', path: `${CM_PATH}?watch=1&resourceVersion=abc`, code: 400, reason: 'BadRequest', message: /resourceVersion/ },
      { name: 'watch with a bad timeoutSeconds', method: 'GET', path: `${CM_PATH}?watch=1&timeoutSeconds=soon`, code: 400, reason: 'BadRequest', message: /timeoutSeconds/ },
      { name: 'bad dryRun value', method: 'POST', path: `${CM_PATH}?dryRun=Some`, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /dry ?run/i },
    ]));

  test('DELETE with bad bodies and options', () =>
    runBatch([
      { name: 'malformed DeleteOptions', method: 'DELETE', path: `${CM_PATH}/precious`, body: '{"kind":"DeleteOptions",', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /JSON/ },
      { name: 'bad propagationPolicy', method: 'DELETE', path: `${CM_PATH}/precious`, body: json({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Sideways' }), contentType: 'application/json', code: 422, reason: 'Invalid', message: /propagationPolicy: Unsupported value: "Sideways"/ },
      { name: 'gracePeriodSeconds not a number', method: 'DELETE', path: `${CM_PATH}/precious`, body: json({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 'x' }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /gracePeriodSeconds/ },
      { name: 'failed UID precondition', method: 'DELETE', path: `${CM_PATH}/precious`, body: json({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }), contentType: 'application/json', code: 409, reason: 'Conflict', message: /Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: / },
      { name: 'failed resourceVersion precondition', method: 'DELETE', path: `${CM_PATH}/precious`, body: json({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } }), contentType: 'application/json', code: 409, reason: 'Conflict', message: /Precondition failed: ResourceVersion in precondition: 1/ },
      { name: 'DeleteOptions of a wrong kind', method: 'DELETE', path: `${CM_PATH}/precious`, body: json({ kind: 'ConfigMap', apiVersion: 'v1' }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /\S/ },
      { name: 'delete with a bad query option', method: 'DELETE', path: `${CM_PATH}/precious?gracePeriodSeconds=later`, code: 400, reason: 'BadRequest', message: /gracePeriodSeconds/ },
      { name: 'deletecollection with a bad selector', method: 'DELETE', path: `${CM_PATH}?labelSelector=${encodeURIComponent('a in (')}`, code: 400, reason: 'BadRequest', message: /unable to parse requirement/ },
    ]));

  test('methods a resource does not support', () =>
    runBatch([
      { name: 'POST to a named object', method: 'POST', path: `${CM_PATH}/precious`, body: '{}', contentType: 'application/json', code: 405, reason: 'MethodNotAllowed', message: /\S/ },
    ]));

  test('wrong JSON types are decode errors (400), not validation errors', () =>
    runBatch([
      { name: 'metadata is a string', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: 'x' }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /cannot be handled as a ConfigMap/ },
      { name: 'data values not strings', method: 'POST', path: CM_PATH, body: json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed' }, data: { a: 1 } }), contentType: 'application/json', code: 400, reason: 'BadRequest', message: /cannot be handled as a ConfigMap/ },
    ]));

  test('strict validation reports duplicate fields', () =>
    runBatch([
      { name: 'duplicate field with fieldValidation=Strict', method: 'POST', path: `${CM_PATH}?fieldValidation=Strict`, body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}', contentType: 'application/json', code: 400, reason: 'BadRequest', message: /duplicate field "data"/ },
    ]));

  test('list options are validated', () =>
    runBatch([
      { name: 'resourceVersionMatch without resourceVersion', method: 'GET', path: `${CM_PATH}?resourceVersionMatch=Exact`, code: 422, reason: 'Invalid', message: /resourceVersionMatch/ },
    ]));

  test('collections reject PUT and PATCH with 405', () =>
    runBatch([
      { name: 'PUT to a collection', method: 'PUT', path: CM_PATH, body: '{}', contentType: 'application/json', code: 405, reason: 'MethodNotAllowed', message: /\S/ },
      { name: 'PATCH a collection', method: 'PATCH', path: CM_PATH, body: '{}', contentType: 'application/merge-patch+json', code: 405, reason: 'MethodNotAllowed', message: /\S/ },
    ]));

  test('dot segments in paths are not resolved', async () => {
    // A namespace of its own: with the bug, the DELETE below deletes it.
    const ns = 'dot-segments';
    await send('POST', '/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }), 'application/json');
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    await runBatch([
      { name: 'dot name in the URL', method: 'GET', path: `${path}/.`, code: [400, 404], message: /\S/ },
      { name: 'dot-dot name in the URL', method: 'DELETE', path: `${path}/..`, code: [400, 404], message: /\S/ },
    ]);
  });

  test('the Status for an error uses omitempty like upstream', async () => {
    const r = await send('GET', `${CM_PATH}/absent`);
    assert.deepEqual(r.json?.details, { name: 'absent', kind: 'configmaps' });
  });

  test('seeded fuzz: 300 mutated pods each get a Status or a Pod, and the server stays up', async () => {
    const valid = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'fuzz-', labels: { app: 'fuzz' }, annotations: { note: 'x' } },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'busybox:1.36',
            command: ['sleep', '3600'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'A', value: 'b' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
          },
        ],
        restartPolicy: 'Always',
        nodeSelector: { zone: 'a' },
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
    };
    const rand = prng(20240611);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const weird: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, '', 'x', '-5', '1e400', '😀', [], {}, [null], { a: 1 }, 'a'.repeat(300)];

    /** All paths to values inside an object, so a mutation can target any of them. */
    const paths = (v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
      const out: Array<Array<string | number>> = [prefix];
      if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
      return out;
    };
    const mutate = (): { body: string; contentType: string } => {
      const obj = structuredClone(valid) as Record<string, unknown>;
      const n = 1 + Math.floor(rand() * 3);
      for (let i = 0; i < n; i++) {
        const all = paths(obj).filter((p) => p.length > 0);
        const p = pick(all);
        let parent: any = obj; // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const seg of p.slice(0, -1)) parent = parent?.[seg];
        if (!parent || typeof parent !== 'object') continue;
        const last = p[p.length - 1]!;
        const r = rand();
        if (r < 0.35) {
          if (Array.isArray(parent)) parent.splice(Number(last), 1);
          else delete parent[last];
        } else if (r < 0.8) parent[last] = structuredClone(pick(weird));
        else parent[pick(['zzz', 'status', 'apiVersion', 'kind', 'metadata', 'spec'])] = structuredClone(pick(weird));
      }
      let body = JSON.stringify(obj);
      const contentType = rand() < 0.1 ? 'application/yaml' : 'application/json';
      if (rand() < 0.3) {
        // Byte-level damage: flip, drop or insert characters.
        const chars = [...body];
        const edits = 1 + Math.floor(rand() * 4);
        for (let i = 0; i < edits; i++) {
          const at = Math.floor(rand() * chars.length);
          const op = rand();
          if (op < 0.33) chars.splice(at, 1);
          else if (op < 0.66) chars.splice(at, 0, pick(['{', '}', '"', ',', ':', '[', ']', '\\', '\u0000', 'é', ' ']));
          else chars[at] = String.fromCharCode(Math.floor(rand() * 128));
        }
        body = chars.join('');
      }
      return { body, contentType };
    };

    const bodies = Array.from({ length: 300 }, mutate);
    const problems: string[] = [];
    const serverErrors: string[] = [];
    const tally = new Map<number, number>();
    const CONCURRENCY = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const { body, contentType } = bodies[i]!;
          const r = await send('POST', POD_PATH, body, contentType);
          tally.set(r.status, (tally.get(r.status) ?? 0) + 1);
          const ok2xx = r.status >= 200 && r.status < 300 && r.json?.kind === 'Pod';
          const status = r.status >= 400 && r.json?.kind === 'Status' && r.json.code === r.status && typeof r.json.message === 'string' && r.json.message !== '';
          const report = `#${i} ${r.status} ${r.text.slice(0, 300)}\n  body: ${body.slice(0, 500)}`;
          if (!ok2xx && !status) problems.push(report);
          if (r.status >= 500) serverErrors.push(report);
        }
      }),
    );
    assert.deepEqual(problems, [], `status tally: ${json(Object.fromEntries(tally))}`);
    fuzzServerErrors = serverErrors;
    assert.ok((tally.get(201) ?? 0) > 0 && [...tally.keys()].some((s) => s >= 400), `a mix of accepted and rejected: ${json(Object.fromEntries(tally))}`);
    const ready = await send('GET', '/readyz');
    assert.equal(ready.status, 200);
  });

  test('seeded fuzz: none of the 300 got a 5xx', () => {
    assert.ok(fuzzServerErrors, 'the fuzz loop ran');
    assert.deepEqual(fuzzServerErrors, []);
  });

  // Last: everything above left the first object alone.
  test('nothing stored was lost', async () => {
    const r = await send('GET', `${CM_PATH}/precious`);
    assert.equal(r.status, 200, r.text);
    const cm = r.json as { data: Record<string, string>; metadata: { uid: string; resourceVersion: string; labels: Record<string, string> } };
    assert.deepEqual(cm.data, { a: '1' });
    assert.deepEqual(cm.metadata.labels, { keep: 'yes' });
    assert.equal(cm.metadata.uid, precious.uid);
    assert.equal(cm.metadata.resourceVersion, precious.resourceVersion);
    const list = await send('GET', `${CM_PATH}?labelSelector=keep%3Dyes`);
    assert.equal((list.json!.items as unknown[]).length, 1);
    for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await send('GET', p)).text, 'ok');
  });
});
