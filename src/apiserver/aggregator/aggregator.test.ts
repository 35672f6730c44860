// The aggregation layer against a real API server: Local APIServices at start, a test aggregated
// server on 127.0.0.1 behind a selector-less Service with manual Endpoints (proxied requests carry
// the caller's identity, its group joins legacy and aggregated discovery), and the 503s for what
// cannot be reached. Also the API Priority and Fairness headers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from '../../testing/api-server.ts';
import { ensurePki } from '../pki.ts';
import { poll } from '../../testing/poll.ts';
import { startAggregatedServer, type AggregatedServer } from '../../../e2e/support/aggregated-server.ts';

let api: TestApiServer;
let backend: AggregatedServer;
let caBundle: string;

function call(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<{ status: number; headers: Record<string, any>; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(api.server.url);
    const req = https.request(
      { host: u.hostname, port: u.port, method, path, ca: api.pki.caCertPem, cert: api.pki.adminCertPem, key: api.pki.adminKeyPem, headers: { Accept: accept, 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const create = async (path: string, obj: unknown) => {
  const r = await call('POST', path, obj);
  assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
};

const condition = async (name: string) => {
  const r = await call('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${name}`);
  return (r.json.status?.conditions ?? []).find((c: any) => c.type === 'Available');
};

before(async () => {
  api = await startTestApiServer({ name: 'aggregator' });
  const pki = await ensurePki(join(api.dir, 'backend-pki'), ['widgets.default.svc']);
  caBundle = Buffer.from(pki.caCertPem).toString('base64');
  const clientCA = readFileSync(join(api.dir, 'pki', 'front-proxy-ca.crt'), 'utf8');
  backend = await startAggregatedServer({ group: 'demo.mizzen.dev', version: 'v1beta1', cert: pki.serverCertPem, key: pki.serverKeyPem, clientCA });
});
after(async () => {
  await backend?.close();
  await api?.close();
});

test('Local APIServices for every served group version, Available', async () => {
  const list = (await call('GET', '/apis/apiregistration.k8s.io/v1/apiservices')).json.items;
  const names = list.map((o: any) => o.metadata.name);
  for (const n of ['v1.', 'v1.apps', 'v2.autoscaling', 'v1.autoscaling', 'v1.networking.k8s.io', 'v1.storage.k8s.io', 'v1.apiregistration.k8s.io']) assert.ok(names.includes(n), n);
  const apps = list.find((o: any) => o.metadata.name === 'v1.apps');
  assert.deepEqual(apps.spec, { group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 });
  assert.deepEqual(
    apps.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]),
    [['Available', 'True', 'Local', 'Local APIServices are always available']],
  );
  // Discovery lists groups by those priorities; autoscaling prefers v2.
  const groups = (await call('GET', '/apis')).json.groups;
  assert.equal(groups[0].name, 'apiregistration.k8s.io');
  assert.equal(groups[1].name, 'apps');
  assert.equal(groups.find((g: any) => g.name === 'autoscaling').preferredVersion.version, 'v2');
});

test('an aggregated group on 127.0.0.1 is proxied and discovered', async () => {
  await create('/api/v1/namespaces/default/services', { metadata: { name: 'widgets' }, spec: { ports: [{ name: 'https', port: 443, targetPort: backend.port }] } });
  await create('/api/v1/namespaces/default/endpoints', { metadata: { name: 'widgets' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: backend.port }] }] });
  await create('/apis/apiregistration.k8s.io/v1/apiservices', {
    metadata: { name: 'v1beta1.demo.mizzen.dev' },
    spec: { group: 'demo.mizzen.dev', version: 'v1beta1', groupPriorityMinimum: 1000, versionPriority: 15, caBundle, service: { namespace: 'default', name: 'widgets' } },
  });
  const cond = await poll(() => condition('v1beta1.demo.mizzen.dev'), { what: 'Available', timeoutMs: 15_000, done: (c) => c?.status === 'True' });
  assert.deepEqual([cond.reason, cond.message], ['Passed', 'all checks passed']);

  const list = await call('GET', '/apis/demo.mizzen.dev/v1beta1/namespaces/default/widgets');
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.items.map((w: any) => w.metadata.name), ['alpha', 'beta']);
  assert.equal(backend.users.at(-1), 'admin', 'the backend learns who asked');
  assert.equal(backend.clients.at(-1), 'front-proxy-client', 'from the front proxy it trusts');
  const cm = (await call('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).json;
  assert.deepEqual(JSON.parse(cm.data['requestheader-allowed-names']), ['front-proxy-client']);
  assert.deepEqual(JSON.parse(cm.data['requestheader-username-headers']), ['X-Remote-User']);
  assert.equal(cm.data['requestheader-client-ca-file'], readFileSync(join(api.dir, 'pki', 'front-proxy-ca.crt'), 'utf8'));
  assert.equal(cm.data['client-ca-file'], api.pki.caCertPem);

  const legacy = await call('GET', '/apis');
  assert.ok(legacy.json.groups.some((g: any) => g.name === 'demo.mizzen.dev' && g.preferredVersion.version === 'v1beta1'));
  const group = await call('GET', '/apis/demo.mizzen.dev');
  assert.equal(group.json.kind, 'APIGroup');
  const agg = await poll(async () => (await call('GET', '/apis', undefined, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')).json, {
    what: 'aggregated discovery with widgets',
    done: (d) => d.items?.some((g: any) => g.metadata.name === 'demo.mizzen.dev' && g.versions[0].resources?.length),
  });
  const demo = agg.items.find((g: any) => g.metadata.name === 'demo.mizzen.dev');
  assert.equal(demo.versions[0].freshness, 'Current');
  assert.deepEqual(demo.versions[0].resources[0], {
    resource: 'widgets',
    responseKind: { group: 'demo.mizzen.dev', version: 'v1beta1', kind: 'Widget' },
    scope: 'Namespaced',
    singularResource: 'widget',
    verbs: ['get', 'list'],
    shortNames: ['wd'],
    subresources: [{ subresource: 'status', responseKind: { group: 'demo.mizzen.dev', version: 'v1beta1', kind: 'Widget' }, verbs: ['get'] }],
  });
});

test('unreachable backends: 503 with the reason, condition as upstream names it', async () => {
  await create('/api/v1/nodes', { metadata: { name: 'sim-agg', labels: { 'mizzen.dev/simulated': 'true' } } });
  await create('/api/v1/namespaces/default/pods', { metadata: { name: 'fake-backend' }, spec: { nodeName: 'sim-agg', containers: [{ name: 'c', image: 'busybox' }] } });
  await create('/api/v1/namespaces/default/services', { metadata: { name: 'simbackend' }, spec: { ports: [{ port: 443, targetPort: 8443 }] } });
  await create('/api/v1/namespaces/default/endpoints', {
    metadata: { name: 'simbackend' },
    subsets: [{ addresses: [{ ip: '10.42.0.7', targetRef: { kind: 'Pod', namespace: 'default', name: 'fake-backend' } }], ports: [{ port: 8443 }] }],
  });
  await create('/apis/apiregistration.k8s.io/v1/apiservices', {
    metadata: { name: 'v1.sim.mizzen.dev' },
    spec: { group: 'sim.mizzen.dev', version: 'v1', groupPriorityMinimum: 1000, versionPriority: 15, insecureSkipTLSVerify: true, service: { namespace: 'default', name: 'simbackend' } },
  });
  const cond = await poll(() => condition('v1.sim.mizzen.dev'), { what: 'not available', timeoutMs: 15_000, done: (c) => c?.status === 'False' });
  assert.equal(cond.reason, 'NoReachableEndpoints');
  const r = await call('GET', '/apis/sim.mizzen.dev/v1/things');
  assert.equal(r.status, 503);
  assert.equal(r.json.reason, 'ServiceUnavailable');
  assert.match(r.json.message, /simulated and runs no containers/);

  await create('/apis/apiregistration.k8s.io/v1/apiservices', {
    metadata: { name: 'v1.missing.mizzen.dev' },
    spec: { group: 'missing.mizzen.dev', version: 'v1', groupPriorityMinimum: 1000, versionPriority: 15, insecureSkipTLSVerify: true, service: { namespace: 'default', name: 'nothing-here' } },
  });
  const gone = await poll(() => condition('v1.missing.mizzen.dev'), { what: 'not available', timeoutMs: 15_000, done: (c) => c?.status === 'False' });
  assert.deepEqual([gone.reason, gone.message], ['ServiceNotFound', 'service/nothing-here in "default" is not present']);
  // Still listed in discovery (clients then report the group version as unavailable), stale in aggregated discovery.
  const agg = (await call('GET', '/apis', undefined, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')).json;
  assert.equal(agg.items.find((g: any) => g.metadata.name === 'missing.mizzen.dev').versions[0].freshness, 'Stale');
});

test('API Priority and Fairness headers name the matching FlowSchema and level', async () => {
  const r = await call('GET', '/api/v1/namespaces');
  const exempt = (await call('GET', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/exempt')).json;
  const level = (await call('GET', '/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations/exempt')).json;
  assert.equal(r.headers['x-kubernetes-pf-flowschema-uid'], exempt.metadata.uid);
  assert.equal(r.headers['x-kubernetes-pf-prioritylevel-uid'], level.metadata.uid);
});

test('CustomResourceDefinitions get Local APIServices that follow them, with upstream\'s CRD priorities', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.agg.mizzen.dev' },
    spec: {
      group: 'agg.mizzen.dev',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  };
  await create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  for (const v of ['v1', 'v1beta1']) {
    const svc = await poll(async () => (await call('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${v}.agg.mizzen.dev`)).json, {
      what: `the APIService of ${v}`,
      timeoutMs: 15_000,
      done: (o) => o?.kind === 'APIService' && o.status?.conditions?.some((c: any) => c.type === 'Available' && c.status === 'True'),
    });
    assert.equal(svc.metadata.labels['kube-aggregator.kubernetes.io/automanaged'], 'true');
    assert.deepEqual([svc.spec.group, svc.spec.version, svc.spec.groupPriorityMinimum, svc.spec.versionPriority, svc.spec.service], ['agg.mizzen.dev', v, 1000, 100, undefined]);
    assert.equal(svc.status.conditions.find((c: any) => c.type === 'Available').reason, 'Local');
  }
  // Discovery: the CRD group after the built-in ones, its GA version preferred.
  const groups = (await call('GET', '/apis')).json.groups;
  const g = groups.find((x: any) => x.name === 'agg.mizzen.dev');
  assert.equal(g.preferredVersion.version, 'v1');
  assert.ok(groups.indexOf(g) > groups.findIndex((x: any) => x.name === 'flowcontrol.apiserver.k8s.io'));
  // The CRD deleted: its APIServices go.
  const r = await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.agg.mizzen.dev');
  assert.ok(r.status === 200 || r.status === 202, JSON.stringify(r.json));
  for (const v of ['v1', 'v1beta1'])
    await poll(async () => (await call('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${v}.agg.mizzen.dev`)).status, { what: `${v}'s APIService to go`, timeoutMs: 15_000, done: (s) => s === 404 });
});
