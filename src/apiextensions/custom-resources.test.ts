// Custom resources against a real in-process API server, driven by @kubernetes/client-node's
// ApiextensionsV1Api and CustomObjectsApi: the CRD's conditions and names, CRUD with validation,
// defaulting and pruning, status and scale, versions converted by None and by a webhook the test
// runs, deletion with the cleanup finalizer, and surviving a restart.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ApiextensionsV1Api, ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { startApiServer } from '../apiserver/server.ts';
import { poll } from '../testing/poll.ts';

const pollUntil = <T>(what: string, check: () => Promise<T | undefined>) => poll(check, { what, timeoutMs: 10_000 }) as Promise<T>;
import { conversionCRD, startConversionWebhook, type ConversionWebhook } from '../testing/conversion-webhook.ts';

let t: TestApiServer;
let ext: ApiextensionsV1Api;
let co: CustomObjectsApi;
let webhook: ConversionWebhook & { port: number };

const crontabCRD = () => YAML.parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8'));
const crontab = () => YAML.parse(readFileSync(new URL('./testdata/crontab.yaml', import.meta.url), 'utf8'));
const ct = { group: 'stable.example.com', version: 'v1', plural: 'crontabs', namespace: 'default' };

function clients(kubeconfig: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  ext = kc.makeApiClient(ApiextensionsV1Api);
  co = kc.makeApiClient(CustomObjectsApi);
}

async function status(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: typeof e.body === 'string' ? JSON.parse(e.body) : e.body };
    throw e;
  }
  throw new Error('expected the request to fail');
}

async function established(name: string): Promise<any> {
  return pollUntil(`CRD ${name} established`, async () => {
    const crd: any = await ext.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True') ? crd : undefined;
  });
}

/**
 * Creates a CRD with a raw request: client-node's serializer drops JSONSchemaProps fields given
 * under their wire names (`default`, `x-kubernetes-*`) in plain objects.
 */
async function createCRD(body: unknown): Promise<void> {
  const r = await raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(body), contentType: 'application/json' });
  assert.equal(r.code, 201, JSON.stringify(r.body));
}

/** The raw text of an answer (watch streams). */
async function rawText(method: string, path: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(t.kubeconfig);
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.server}${path}`, { method, ca: Buffer.from(cluster.caData!, 'base64'), cert: Buffer.from(user.certData!, 'base64'), key: Buffer.from(user.keyData!, 'base64') }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request the generated client cannot make (Accept headers, raw bodies). */
async function raw(method: string, path: string, opts: { body?: string; contentType?: string; accept?: string } = {}): Promise<{ code: number; body: any; headers: Headers }> {
  const kc = new KubeConfig();
  kc.loadFromFile(t.kubeconfig);
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      {
        method,
        ca: Buffer.from(cluster.caData!, 'base64'),
        cert: Buffer.from(user.certData!, 'base64'),
        key: Buffer.from(user.keyData!, 'base64'),
        headers: { Accept: opts.accept ?? 'application/json', ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c));
        res.on('end', () => resolve({ code: res.statusCode!, body: text ? JSON.parse(text) : undefined, headers: new Headers(res.headers as Record<string, string>) }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

before(async () => {
  t = await startTestApiServer({ name: 'crd' });
  clients(t.kubeconfig);
  webhook = await startConversionWebhook(['conversion.default.svc']);
});

after(async () => {
  await webhook.close();
  await t.close();
});

test('a CRD gets accepted names, NamesAccepted and Established, and its resource is discovered', async () => {
  await createCRD(crontabCRD());
  const crd = await established('crontabs.stable.example.com');
  assert.deepEqual(JSON.parse(JSON.stringify(crd.status.acceptedNames)), { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'], categories: ['all'] });
  assert.deepEqual(crd.status.storedVersions, ['v1']);
  const na = crd.status.conditions.find((c: any) => c.type === 'NamesAccepted');
  assert.deepEqual([na.status, na.reason, na.message], ['True', 'NoConflicts', 'no conflicts found']);
  const est = crd.status.conditions.find((c: any) => c.type === 'Established');
  assert.deepEqual([est.reason, est.message], ['InitialNamesAccepted', 'the initial names have been accepted']);
  const disc = await raw('GET', '/apis/stable.example.com/v1');
  assert.equal(disc.code, 200);
  const r = disc.body.resources.find((x: any) => x.name === 'crontabs');
  assert.deepEqual([r.kind, r.namespaced, r.shortNames, r.categories, r.singularName], ['CronTab', true, ['ct'], ['all'], 'crontab']);
  assert.ok(disc.body.resources.some((x: any) => x.name === 'crontabs/status'));
  assert.ok(disc.body.resources.some((x: any) => x.name === 'crontabs/scale' && x.kind === 'Scale' && x.group === 'autoscaling'));
  const agg = await raw('GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
  assert.ok(agg.body.items.some((g: any) => g.metadata.name === 'stable.example.com'));
});

test('custom resources: create with defaults and pruning, get, list with selectors, patch, update', async () => {
  const body = crontab();
  body.metadata.labels = { app: 'cron' };
  body.spec.unknownField = 'dropped';
  const created: any = await co.createNamespacedCustomObject({ ...ct, body });
  assert.equal(created.spec.replicas, 1, 'defaulted');
  assert.equal(created.spec.unknownField, undefined, 'pruned');
  assert.equal(created.metadata.generation, 1);
  const got: any = await co.getNamespacedCustomObject({ ...ct, name: 'my-new-cron-object' });
  assert.equal(got.spec.cronSpec, '* * * * */5');
  const listed: any = await co.listNamespacedCustomObject({ ...ct, labelSelector: 'app=cron', fieldSelector: 'metadata.name=my-new-cron-object' });
  assert.equal(listed.items.length, 1);
  assert.equal((await co.listNamespacedCustomObject({ ...ct, fieldSelector: 'metadata.name=other' }) as any).items.length, 0);
  assert.equal((await co.listClusterCustomObject({ group: ct.group, version: ct.version, plural: ct.plural, fieldSelector: 'metadata.namespace=default' }) as any).items.length, 1);

  const patched: any = await co.patchNamespacedCustomObject({ ...ct, name: 'my-new-cron-object', body: { spec: { image: 'v2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(patched.spec.image, 'v2');
  assert.equal(patched.metadata.generation, 2);
  const jp: any = await co.patchNamespacedCustomObject({ ...ct, name: 'my-new-cron-object', body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  assert.equal(jp.spec.replicas, 2);
  const smp = await raw('PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object', { body: '{"spec":{"image":"x"}}', contentType: 'application/strategic-merge-patch+json' });
  assert.equal(smp.code, 415);
  assert.match(smp.body.message, /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
  const put: any = await co.replaceNamespacedCustomObject({ ...ct, name: 'my-new-cron-object', body: { ...jp, spec: { ...jp.spec, image: 'v3' } } });
  assert.equal(put.spec.image, 'v3');
});

test('validation: schema errors, CEL rules and strict field validation answer as upstream', async () => {
  const bad = crontab();
  bad.metadata.name = 'bad';
  bad.spec.replicas = 20;
  bad.spec.cronSpec = 'whenever';
  const r = await status(co.createNamespacedCustomObject({ ...ct, body: bad }));
  assert.equal(r.code, 422);
  assert.equal(r.body.reason, 'Invalid');
  assert.equal(
    r.body.message,
    `CronTab.stable.example.com "bad" is invalid: [spec.cronSpec: Invalid value: "whenever": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10, spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas.]`,
  );
  const strict = crontab();
  strict.metadata.name = 'strict';
  strict.spec.foo = 1;
  const s = await raw('POST', '/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Strict', { body: JSON.stringify(strict).replace('"image"', '"image":"dup","image"'), contentType: 'application/json' });
  assert.equal(s.code, 400);
  assert.equal(s.body.message, 'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: duplicate field "spec.image", unknown field "spec.foo"');
  const w = await raw('POST', '/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Warn&dryRun=All', { body: JSON.stringify(strict), contentType: 'application/json' });
  assert.equal(w.code, 201);
  assert.match(w.headers.get('warning') ?? '', /unknown field \\"spec.foo\\"/);
});

test('CEL transition rules (oldSelf), messageExpression and reason answer 422 with the field path', async () => {
  // The shapes of upstream's documentation ("Validation rules", "Transition rules"): a rule on the
  // object with a messageExpression, an immutability rule with a reason, and a property's own
  // `self == oldSelf`, which is not evaluated on create.
  await createCRD({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.cel.example.com' },
    spec: {
      group: 'cel.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  'x-kubernetes-validations': [
                    { rule: 'self.minReplicas <= self.replicas', messageExpression: "'minReplicas (' + string(self.minReplicas) + ') must not exceed replicas (' + string(self.replicas) + ')'" },
                    { rule: '!has(oldSelf.mode) || self.mode == oldSelf.mode', message: 'mode is immutable', reason: 'FieldValueForbidden' },
                  ],
                  properties: {
                    replicas: { type: 'integer' },
                    minReplicas: { type: 'integer', default: 0 },
                    mode: { type: 'string' },
                    value: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] },
                  },
                },
              },
            },
          },
        },
      ],
    },
  });
  await established('widgets.cel.example.com');
  const w = { group: 'cel.example.com', version: 'v1', plural: 'widgets', namespace: 'default' };
  await co.createNamespacedCustomObject({ ...w, body: { apiVersion: 'cel.example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { replicas: 2, mode: 'fast', value: 'a' } } });
  const patch = (spec: object) => status(co.patchNamespacedCustomObject({ ...w, name: 'w', body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  const expr = await patch({ minReplicas: 5 });
  assert.equal(expr.code, 422);
  assert.equal(expr.body.message, 'Widget.cel.example.com "w" is invalid: spec: Invalid value: "object": minReplicas (5) must not exceed replicas (2)');
  const forbidden = await patch({ mode: 'slow' });
  assert.equal(forbidden.code, 422);
  assert.equal(forbidden.body.message, 'Widget.cel.example.com "w" is invalid: spec: Forbidden: mode is immutable');
  assert.deepEqual(forbidden.body.details.causes, [{ reason: 'FieldValueForbidden', message: 'Forbidden: mode is immutable', field: 'spec' }]);
  const immutable = await patch({ value: 'b' });
  assert.equal(immutable.code, 422);
  assert.equal(immutable.body.message, 'Widget.cel.example.com "w" is invalid: spec.value: Invalid value: "string": Value is immutable');
  const ok: any = await co.patchNamespacedCustomObject({ ...w, name: 'w', body: { spec: { replicas: 3, minReplicas: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(ok.spec.minReplicas, 3);
});

test('status and scale subresources; generation counts spec changes only', async () => {
  const name = 'my-new-cron-object';
  const before: any = await co.getNamespacedCustomObject({ ...ct, name });
  const st: any = await co.patchNamespacedCustomObjectStatus(
    { ...ct, name, body: { status: { replicas: 2, labelSelector: 'app=cron' }, spec: { image: 'ignored' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  assert.equal(st.status.replicas, 2);
  assert.equal(st.spec.image, before.spec.image, 'spec changes are ignored on /status');
  assert.equal(st.metadata.generation, before.metadata.generation, 'a status change does not bump generation');
  const main: any = await co.patchNamespacedCustomObject({ ...ct, name, body: { status: { replicas: 9 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(main.status.replicas, 2, 'status is ignored on the main resource');
  const scale: any = await co.getNamespacedCustomObjectScale({ ...ct, name });
  assert.deepEqual([scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['Scale', 'autoscaling/v1', 2, 2, 'app=cron']);
  const scaled: any = await co.patchNamespacedCustomObjectScale({ ...ct, name, body: { spec: { replicas: 5 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(scaled.spec.replicas, 5);
  const after: any = await co.getNamespacedCustomObject({ ...ct, name });
  assert.equal(after.spec.replicas, 5);
  assert.equal(after.metadata.generation, before.metadata.generation + 1);
});

test('Table output uses the printer columns', async () => {
  const r = await raw('GET', '/apis/stable.example.com/v1/namespaces/default/crontabs', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.deepEqual(
    r.body.columnDefinitions.map((c: any) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Spec', 'string'],
      ['Replicas', 'integer'],
      ['Age', 'date'],
    ],
  );
  assert.deepEqual(r.body.rows[0].cells.slice(0, 3), ['my-new-cron-object', '* * * * */5', 5]);
});

test('a CRD whose kind another CRD of the group has is not accepted', async () => {
  const other = crontabCRD();
  other.metadata.name = 'crontabcopies.stable.example.com';
  other.spec.names = { plural: 'crontabcopies', singular: 'crontabcopy', kind: 'CronTab', shortNames: ['ct'] };
  await createCRD(other);
  const crd: any = await pollUntil('names rejected', async () => {
    const c: any = await ext.readCustomResourceDefinition({ name: 'crontabcopies.stable.example.com' });
    return c.status?.conditions?.find((x: any) => x.type === 'NamesAccepted')?.status === 'False' ? c : undefined;
  });
  const na = crd.status.conditions.find((x: any) => x.type === 'NamesAccepted');
  // Every name is checked in turn and the last conflict is reported, as upstream's naming controller does.
  assert.equal(na.reason, 'ListKindConflict');
  assert.equal(na.message, '"CronTabList" is already in use');
  assert.equal(crd.status.conditions.find((x: any) => x.type === 'Established').status, 'False');
  const r = await raw('GET', '/apis/stable.example.com/v1/namespaces/default/crontabcopies');
  assert.equal(r.code, 404);
  await ext.deleteCustomResourceDefinition({ name: 'crontabcopies.stable.example.com' });
});

test('a malformed CRD answers 422 with upstream messages', async () => {
  const bad = crontabCRD();
  bad.metadata.name = 'wrong.stable.example.com';
  delete bad.spec.versions[0].schema.openAPIV3Schema.properties.spec.type;
  const r = await raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(bad), contentType: 'application/json' });
  assert.equal(r.code, 422);
  assert.equal(
    r.body.message,
    'CustomResourceDefinition.apiextensions.k8s.io "wrong.stable.example.com" is invalid: [metadata.name: Invalid value: "wrong.stable.example.com": must be spec.names.plural+"."+spec.group, spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields]',
  );
});

test('versions: None conversion rewrites apiVersion, deprecated versions warn, storedVersions grow', async () => {
  const crd = crontabCRD();
  crd.metadata.name = 'gadgets.stable.example.com';
  crd.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' };
  const v1 = crd.spec.versions[0];
  delete v1.subresources;
  delete v1.additionalPrinterColumns;
  crd.spec.versions = [
    { ...structuredClone(v1), name: 'v1beta1', storage: true, deprecated: true },
    { ...structuredClone(v1), name: 'v1', storage: false },
  ];
  await createCRD(crd);
  await established('gadgets.stable.example.com');
  const g = { group: 'stable.example.com', plural: 'gadgets', namespace: 'default' };
  const w = await raw('POST', '/apis/stable.example.com/v1beta1/namespaces/default/gadgets', { body: JSON.stringify({ apiVersion: 'stable.example.com/v1beta1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { image: 'a' } }), contentType: 'application/json' });
  assert.equal(w.code, 201);
  assert.equal(w.headers.get('warning'), '299 - "stable.example.com/v1beta1 Gadget is deprecated; use stable.example.com/v1 Gadget"');
  const asV1: any = await co.getNamespacedCustomObject({ ...g, version: 'v1', name: 'g1' });
  assert.equal(asV1.apiVersion, 'stable.example.com/v1');
  await co.createNamespacedCustomObject({ ...g, version: 'v1', body: { apiVersion: 'stable.example.com/v1', kind: 'Gadget', metadata: { name: 'g2' }, spec: { image: 'b' } } });
  const stored = t.server.customResources.serving('stable.example.com', 'gadgets')!.storageStore.cache.list('/registry/stable.example.com/gadgets/');
  assert.deepEqual(stored.items.map((c) => c.obj.apiVersion), ['stable.example.com/v1beta1', 'stable.example.com/v1beta1']);
  // Moving storage to v1 adds it to storedVersions.
  const cur = (await raw('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.stable.example.com')).body;
  cur.spec.versions[0].storage = false;
  cur.spec.versions[1].storage = true;
  const updated = await raw('PUT', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.stable.example.com', { body: JSON.stringify(cur), contentType: 'application/json' });
  assert.equal(updated.code, 200, JSON.stringify(updated.body));
  assert.deepEqual(updated.body.status.storedVersions, ['v1beta1', 'v1']);
});

test('versions: a conversion webhook converts reads and writes between versions', async () => {
  await createCRD(conversionCRD(webhook.url, webhook.caBundle));
  await established('endpoints.conversion.example.com');
  const e = { group: 'conversion.example.com', plural: 'endpoints', namespace: 'default' };
  const created: any = await co.createNamespacedCustomObject({ ...e, version: 'v2', body: { apiVersion: 'conversion.example.com/v2', kind: 'Endpoint', metadata: { name: 'e1', labels: { a: 'b' } }, spec: { host: 'localhost', port: '8080' } } });
  assert.deepEqual(created.spec, { host: 'localhost', port: '8080' });
  assert.ok(webhook.reviews >= 1);
  const stored = t.server.customResources.serving('conversion.example.com', 'endpoints')!.storageStore.cache.list('/registry/conversion.example.com/endpoints/').items[0].obj;
  assert.deepEqual([stored.apiVersion, stored.spec], ['conversion.example.com/v1', { hostPort: 'localhost:8080' }]);
  const v1: any = await co.getNamespacedCustomObject({ ...e, version: 'v1', name: 'e1' });
  assert.deepEqual(v1.spec, { hostPort: 'localhost:8080' });
  const list: any = await co.listNamespacedCustomObject({ ...e, version: 'v2' });
  assert.deepEqual(list.items[0].spec, { host: 'localhost', port: '8080' });
  const patched: any = await co.patchNamespacedCustomObject({ ...e, version: 'v2', name: 'e1', body: { spec: { port: '9090' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.deepEqual(patched.spec, { host: 'localhost', port: '9090' });
  assert.deepEqual((await co.getNamespacedCustomObject({ ...e, version: 'v1', name: 'e1' }) as any).spec, { hostPort: 'localhost:9090' });
});

test('a conversion webhook that cannot be reached fails reads in other versions with upstream wording', async () => {
  const crd = conversionCRD('https://127.0.0.1:1/convert', webhook.caBundle);
  crd.metadata.name = 'brokens.conversion.example.com';
  crd.spec.names = { plural: 'brokens', singular: 'broken', kind: 'Broken' };
  await createCRD(crd);
  await established('brokens.conversion.example.com');
  const b = { group: 'conversion.example.com', plural: 'brokens', namespace: 'default' };
  await co.createNamespacedCustomObject({ ...b, version: 'v1', body: { apiVersion: 'conversion.example.com/v1', kind: 'Broken', metadata: { name: 'b1' }, spec: { hostPort: 'h:1' } } });
  const r = await status(co.getNamespacedCustomObject({ ...b, version: 'v2', name: 'b1' }));
  assert.equal(r.code, 500);
  assert.match(r.body.message, /^Internal error occurred: conversion webhook for conversion\.example\.com\/v1, Kind=Broken failed: Post "https:\/\/127\.0\.0\.1:1\/convert\?timeout=30s": /);
});

test("a service reference is resolved through the Service's endpoints on this host", async () => {
  await raw('POST', '/api/v1/namespaces/default/services', {
    body: JSON.stringify({ metadata: { name: 'conversion' }, spec: { ports: [{ name: 'https', port: 443, targetPort: webhook.port }] } }),
    contentType: 'application/json',
  });
  await raw('POST', '/api/v1/namespaces/default/endpoints', {
    body: JSON.stringify({ metadata: { name: 'conversion' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: webhook.port }] }] }),
    contentType: 'application/json',
  });
  const crd = conversionCRD('', webhook.caBundle);
  crd.metadata.name = 'viaservices.conversion.example.com';
  crd.spec.names = { plural: 'viaservices', singular: 'viaservice', kind: 'ViaService' };
  crd.spec.conversion.webhook.clientConfig = { caBundle: webhook.caBundle, service: { namespace: 'default', name: 'conversion', path: '/convert' } };
  await createCRD(crd);
  await established('viaservices.conversion.example.com');
  const s = { group: 'conversion.example.com', plural: 'viaservices', namespace: 'default' };
  await co.createNamespacedCustomObject({ ...s, version: 'v1', body: { apiVersion: 'conversion.example.com/v1', kind: 'ViaService', metadata: { name: 's1' }, spec: { hostPort: 'a:1' } } });
  assert.deepEqual((await co.getNamespacedCustomObject({ ...s, version: 'v2', name: 's1' }) as any).spec, { host: 'a', port: '1' });
});

test('cluster-scoped custom resources, and watches', async () => {
  const crd = crontabCRD();
  crd.metadata.name = 'clustertabs.stable.example.com';
  crd.spec.scope = 'Cluster';
  crd.spec.names = { plural: 'clustertabs', singular: 'clustertab', kind: 'ClusterTab' };
  await createCRD(crd);
  await established('clustertabs.stable.example.com');
  const c = { group: 'stable.example.com', version: 'v1', plural: 'clustertabs' };
  await co.createClusterCustomObject({ ...c, body: { apiVersion: 'stable.example.com/v1', kind: 'ClusterTab', metadata: { name: 'c1' }, spec: { cronSpec: '* * * * *' } } });
  const got: any = await co.getClusterCustomObject({ ...c, name: 'c1' });
  assert.equal(got.metadata.namespace, undefined);
  assert.equal((await raw('GET', '/apis/stable.example.com/v1/namespaces/default/clustertabs')).code, 404);
  const w = await rawText('GET', '/apis/stable.example.com/v1/clustertabs?watch=true&timeoutSeconds=1');
  const events = w.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name, e.object.spec.replicas]), [['ADDED', 'c1', 1]]);
});

test('malformed custom resource bodies answer 400 or 422, never 500', async () => {
  const path = '/apis/stable.example.com/v1/namespaces/default/crontabs';
  for (const body of ['[]', '"x"', '{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":"x"}', '{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"m","labels":[1]}}', '{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"m"},"spec":5}', '{"apiVersion":"stable.example.com/v2","kind":"CronTab","metadata":{"name":"m"}}', '{']) {
    const r = await raw('POST', path, { body, contentType: 'application/json' });
    assert.ok(r.code === 400 || r.code === 422, `${body}: ${r.code} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.kind, 'Status');
  }
  const typed = await raw('POST', path, { body: '{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"m"},"spec":5}', contentType: 'application/json' });
  assert.equal(typed.body.message, 'CronTab.stable.example.com "m" is invalid: [spec: Invalid value: 5: spec in body must be of type object: "integer", <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]');
});

test('custom resources survive a restart of the API server', async () => {
  const dataDir = t.dir;
  await t.server.close();
  const server = await startApiServer({
    dataDir,
    port: 0,
    bindAddress: '127.0.0.1',
    tls: { cert: t.pki.serverCertPem, key: t.pki.serverKeyPem, clientCA: t.pki.caCertPem },
  });
  const { writeKubeconfig } = await import('../apiserver/kubeconfig.ts');
  await writeKubeconfig(t.kubeconfig, { server: server.url, caPem: t.pki.caCertPem, clientCertPem: t.pki.adminCertPem, clientKeyPem: t.pki.adminKeyPem });
  (t as { server: typeof server }).server = server;
  clients(t.kubeconfig);
  const got: any = await co.getNamespacedCustomObject({ ...ct, name: 'my-new-cron-object' });
  assert.equal(got.spec.replicas, 5);
  const v2: any = await co.getNamespacedCustomObject({ group: 'conversion.example.com', version: 'v2', plural: 'endpoints', namespace: 'default', name: 'e1' });
  assert.deepEqual(v2.spec, { host: 'localhost', port: '9090' });
});

test('deleting a CRD deletes its objects, then stops serving them', async () => {
  const name = 'crontabs.stable.example.com';
  await ext.deleteCustomResourceDefinition({ name });
  await pollUntil('CRD gone', async () => {
    try {
      await ext.readCustomResourceDefinition({ name });
      return undefined;
    } catch (e) {
      return e instanceof ApiException && e.code === 404 ? true : undefined;
    }
  });
  const r = await raw('GET', '/apis/stable.example.com/v1/namespaces/default/crontabs');
  assert.equal(r.code, 404);
  const disc = await raw('GET', '/apis/stable.example.com/v1');
  assert.ok(!disc.body?.resources?.some((x: any) => x.name === 'crontabs'));
  assert.equal(t.server.customResources.serving('stable.example.com', 'crontabs'), undefined);
});
