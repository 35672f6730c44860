// The gnostic protobuf form of /openapi/v2: decoded back with a generic wire reader, served with
// upstream's negotiation, and used by the real kubectl to validate `kind: List` manifests.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';
import { ProtoReader } from '../machinery/protobuf-reader.ts';
import { StatusError } from '../machinery/errors.ts';
import { ResourceRegistry } from '../api/registry.ts';
import { openAPIV2, openAPIV2Document } from './openapi.ts';
import { encodeOpenAPIV2Protobuf, negotiateOpenAPIV2, openAPIV2ProtobufDocument } from './openapi-protobuf.ts';
import { serveOpenAPI } from './discovery-routes.ts';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';

// --- a schema-less reader: field number -> raw values, in order --------------------------------

type Raw = Uint8Array | bigint | number;
type Msg = Map<number, Raw[]>;

function decode(buf: Uint8Array): Msg {
  const r = new ProtoReader(Buffer.from(buf.buffer, buf.byteOffset, buf.length));
  const out: Msg = new Map();
  while (r.more) {
    const t = r.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    let v: Raw;
    if (wire === 2) v = r.buf.subarray(...r.span());
    else if (wire === 0) v = BigInt(r.uint64String());
    else if (wire === 1) v = r.double();
    else throw new Error(`unexpected wire type ${wire}`);
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(v);
  }
  return out;
}

const text = (b: Raw | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b as Uint8Array));
const str = (m: Msg, f: number) => text(m.get(f)?.[0]);
const strs = (m: Msg, f: number) => (m.get(f) ?? []).map((b) => text(b)!);
const sub = (m: Msg, f: number) => {
  const b = m.get(f)?.[0];
  return b === undefined ? undefined : decode(b as Uint8Array);
};
const subs = (m: Msg, f: number) => (m.get(f) ?? []).map((b) => decode(b as Uint8Array));

/** A repeated Named* list ({name = 1; value = 2}) as a name -> decoded value map. */
function named(list: Msg[]): Map<string, Msg> {
  return new Map(list.map((e) => [str(e, 1)!, sub(e, 2) ?? new Map()]));
}

/** Schema.vendor_extension (31) as name -> parsed YAML of Any.yaml (2). */
function extensions(schema: Msg, field = 31): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, any] of named(subs(schema, field))) out[name] = YAML.parse(str(any, 2)!);
  return out;
}

const resources = new ResourceRegistry().resources;

describe('encoding', () => {
  const doc = decode(encodeOpenAPIV2Protobuf(openAPIV2(resources) as Record<string, any>));
  const definitions = named(subs(sub(doc, 9)!, 1));

  test('document header and info', () => {
    assert.equal(str(doc, 1), '2.0');
    const info = sub(doc, 2)!;
    assert.equal(str(info, 1), 'Kubernetes');
    assert.match(str(info, 2)!, /^v1\.\d+\.\d+$/);
  });

  test('ConfigMap definition: type, properties, refs, maps and its GVK extension', () => {
    const cm = definitions.get('io.k8s.api.core.v1.ConfigMap');
    assert.ok(cm, 'ConfigMap definition present');
    assert.deepEqual(strs(sub(cm, 22)!, 1), ['object']);
    assert.match(str(cm, 4)!, /^ConfigMap holds configuration data/);
    const props = named(subs(sub(cm, 25)!, 1));
    assert.deepEqual([...props.keys()].sort(), ['apiVersion', 'binaryData', 'data', 'immutable', 'kind', 'metadata']);
    assert.equal(str(props.get('metadata')!, 1), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(sub(props.get('metadata')!, 22), undefined, 'a $ref carries no type');
    const data = props.get('data')!;
    assert.deepEqual(strs(sub(data, 22)!, 1), ['object']);
    const valueSchema = sub(sub(data, 21)!, 1)!;
    assert.deepEqual(strs(sub(valueSchema, 22)!, 1), ['string']);
    assert.deepEqual(strs(sub(props.get('immutable')!, 22)!, 1), ['boolean']);
    assert.deepEqual(extensions(cm)['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  });

  test('arrays, required lists and patch extensions', () => {
    const containers = named(subs(sub(definitions.get('io.k8s.api.core.v1.PodSpec')!, 25)!, 1)).get('containers')!;
    assert.deepEqual(strs(sub(containers, 22)!, 1), ['array']);
    const items = subs(sub(containers, 23)!, 1);
    assert.equal(items.length, 1);
    assert.equal(str(items[0], 1), '#/definitions/io.k8s.api.core.v1.Container');
    const ext = extensions(containers);
    assert.equal(ext['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(ext['x-kubernetes-patch-strategy'], 'merge');
    assert.deepEqual(ext['x-kubernetes-list-map-keys'], ['name']);
    assert.deepEqual(strs(definitions.get('io.k8s.api.core.v1.Container')!, 19), ['name']);
    const replicas = named(subs(sub(definitions.get('io.k8s.api.apps.v1.DeploymentSpec')!, 25)!, 1)).get('replicas')!;
    assert.equal(str(replicas, 2), 'int32');
  });

  test('every JSON definition is encoded, in order', () => {
    const json = openAPIV2(resources) as { definitions: Record<string, unknown> };
    assert.deepEqual([...definitions.keys()], Object.keys(json.definitions));
  });

  test('paths: operations, body and query parameters, responses', () => {
    const paths = named(subs(sub(doc, 8)!, 2));
    const coll = paths.get('/api/v1/namespaces/{namespace}/configmaps');
    assert.ok(coll);
    const post = sub(coll, 4)!;
    assert.equal(str(post, 5), 'createCoreV1NamespacedConfigMap');
    assert.deepEqual(extensions(post, 13)['x-kubernetes-group-version-kind'], { group: '', kind: 'ConfigMap', version: 'v1' });
    const params = subs(post, 8).map((p) => sub(p, 1)!);
    const body = sub(params[0], 1)!;
    assert.equal(str(body, 2), 'body');
    assert.equal(str(body, 3), 'body');
    assert.equal(body.get(4)?.[0], 1n);
    assert.equal(str(sub(body, 5)!, 1), '#/definitions/io.k8s.api.core.v1.ConfigMap');
    const query = params.slice(1).map((p) => sub(sub(p, 2)!, 3)!);
    assert.ok(query.some((q) => str(q, 4) === 'fieldValidation' && str(q, 2) === 'query' && str(q, 6) === 'string'));
    const codes = named(subs(sub(post, 9)!, 1));
    assert.deepEqual([...codes.keys()], ['200', '201', '202', '401']);
    const created = sub(codes.get('201')!, 1)!;
    assert.equal(str(created, 1), 'Created');
    assert.equal(str(sub(sub(created, 2)!, 1)!, 1), '#/definitions/io.k8s.api.core.v1.ConfigMap');
    // Path parameters use the layout without allow_empty_value: type is field 5.
    const nsParam = subs(coll, 9)
      .map((p) => sub(sub(p, 1)!, 2)!)
      .find((p) => sub(p, 4));
    const path = sub(nsParam!, 4)!;
    assert.equal(str(path, 4), 'namespace');
    assert.equal(str(path, 5), 'string');
    assert.equal(path.get(1)?.[0], 1n);
  });

  test('security definitions and requirements', () => {
    const defs = named(subs(sub(doc, 13)!, 1));
    const apiKey = sub(defs.get('BearerToken')!, 2)!;
    assert.equal(str(apiKey, 1), 'apiKey');
    assert.equal(str(apiKey, 2), 'authorization');
    assert.equal(str(apiKey, 3), 'header');
    const req = named(subs(subs(doc, 12)[0], 1));
    assert.deepEqual(strs(req.get('BearerToken')!, 1), []);
  });

  test('oneof booleans, empty property lists, numbers and YAML 1.1 quoting', () => {
    const d = decode(
      encodeOpenAPIV2Protobuf({
        swagger: '2.0',
        definitions: {
          Closed: { type: 'object', properties: {}, additionalProperties: false, 'x-flag': 'yes', minLength: 2, maximum: 1.5 },
        },
      }),
    );
    const closed = named(subs(sub(d, 9)!, 1)).get('Closed')!;
    assert.ok(closed.has(25), 'an empty properties object is still present');
    assert.equal(subs(sub(closed, 25)!, 1).length, 0);
    assert.equal(sub(closed, 21)!.get(2)?.[0], 0n, 'additionalProperties: false is encoded');
    assert.equal(str(sub(subs(closed, 31)[0], 2)!, 2), '"yes"\n');
    assert.equal(closed.get(12)?.[0], 2n);
    assert.equal(closed.get(7)?.[0], 1.5);
  });

  test('memoised, with the JSON document ETag', () => {
    const a = openAPIV2ProtobufDocument(resources);
    assert.equal(openAPIV2ProtobufDocument(resources), a);
    assert.equal(a.etag, openAPIV2Document(resources).etag);
  });
});

test('negotiation follows upstream: JSON by default, protobuf when asked, 406 otherwise', () => {
  assert.equal(negotiateOpenAPIV2(undefined), 'json');
  assert.equal(negotiateOpenAPIV2(''), 'json');
  assert.equal(negotiateOpenAPIV2('*/*'), 'json');
  assert.equal(negotiateOpenAPIV2('application/json'), 'json');
  assert.equal(negotiateOpenAPIV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('application/com.github.proto-openapi.spec.v2.v1.0+protobuf'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('*/*, application/com.github.proto-openapi.spec.v2.v1.0+protobuf'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('text/html'), undefined);
  assert.equal(negotiateOpenAPIV2('application/vnd.kubernetes.protobuf'), undefined);
});

test('served over HTTP with upstream content type, ETag and 304', async () => {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      serveOpenAPI(req, res, url.pathname, url.searchParams, resources);
    } catch (e) {
      res.writeHead(e instanceof StatusError ? e.code : 500);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi/v2`;
    const pb = await fetch(base, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    assert.equal(pb.status, 200);
    assert.equal(pb.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const expected = openAPIV2ProtobufDocument(resources);
    assert.equal(pb.headers.get('etag'), expected.etag);
    assert.deepEqual(Buffer.from(await pb.arrayBuffer()), expected.body);

    const again = await fetch(base, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'If-None-Match': expected.etag } });
    assert.equal(again.status, 304);

    const json = await fetch(base, { headers: { Accept: '*/*' } });
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.equal((await json.json()).swagger, '2.0');

    assert.equal((await fetch(base, { headers: { Accept: 'text/html' } })).status, 406);
  } finally {
    server.close();
  }
});

// --- the real kubectl against the real API server ---------------------------------------------

const kubectl = '/usr/bin/kubectl';

describe('kubectl validates List manifests with the protobuf document', { skip: !existsSync(kubectl) && 'kubectl not installed' }, () => {
  let api: TestApiServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    api = await startTestApiServer({ name: 'openapi-pb' });
    dir = api.dir;
    env = { ...process.env, KUBECONFIG: api.kubeconfig, HOME: dir };
  });

  after(async () => {
    await api?.close();
  });

  function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(kubectl, [...args, '--cache-dir', join(dir, 'cache')], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  const list = (...items: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

  test('kubectl apply -f <List> creates the items', async () => {
    const file = join(dir, 'list.json');
    await writeFile(file, list({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l1' }, data: { a: 'b' } }));
    const applied = await run(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /configmap\/l1 created/);
    const got = await run(['get', 'configmap', 'l1', '-o', 'jsonpath={.data.a}']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, 'b');
  });

  test('kubectl apply --validate=strict rejects an unknown field in a List item', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, list({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l2' }, data: { a: 'b' }, bogusField: 1 }));
    const applied = await run(['apply', '--validate=strict', '-f', file]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /unknown field "bogusField" in io\.k8s\.api\.core\.v1\.ConfigMap/);
    const got = await run(['get', 'configmap', 'l2']);
    assert.notEqual(got.code, 0, 'nothing was created');
  });

  test('nested type errors are found through $refs', async () => {
    const file = join(dir, 'deploy.json');
    await writeFile(
      file,
      list({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd1' },
        spec: {
          replicas: 'three',
          selector: { matchLabels: { app: 'd' } },
          template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx', imagePullPolicyy: 'Always' }] } },
        },
      }),
    );
    const applied = await run(['apply', '-f', file]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /ValidationError\(Deployment\.spec\.replicas\): invalid type for io\.k8s\.api\.apps\.v1\.DeploymentSpec\.replicas: got "string", expected "integer"/);
    assert.match(applied.stderr, /unknown field "imagePullPolicyy" in io\.k8s\.api\.core\.v1\.Container/);
  });
});
