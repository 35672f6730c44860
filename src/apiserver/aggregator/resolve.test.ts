import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { resolveService, type ResolverLookups } from './resolve.ts';
import { compareKubeVersions, orderGroups } from './priorities.ts';

function lookups(objs: { services?: KObject[]; endpoints?: KObject[]; slices?: KObject[]; pods?: KObject[]; nodes?: KObject[] }): ResolverLookups {
  const find = (list: KObject[] | undefined, ns: string | undefined, name: string) => list?.find((o) => o.metadata.name === name && (ns === undefined || o.metadata.namespace === ns));
  return {
    service: (ns, n) => find(objs.services, ns, n),
    endpoints: (ns, n) => find(objs.endpoints, ns, n),
    endpointSlices: (ns, svc) => (objs.slices ?? []).filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc),
    pod: (ns, n) => find(objs.pods, ns, n),
    node: (n) => find(objs.nodes, undefined, n),
  };
}

const svc = (ports: any[], extra: any = {}): KObject => ({ metadata: { name: 'api', namespace: 'ns' }, spec: { ports, ...extra } });
const ref = { namespace: 'ns', name: 'api', port: 443 };

test('resolves to an endpoint address and the target port of the named service port', () => {
  const l = lookups({
    services: [svc([{ name: 'https', port: 443, targetPort: 8443 }])],
    endpoints: [{ metadata: { name: 'api', namespace: 'ns' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 8443 }] }] }],
  });
  assert.deepEqual(resolveService(ref, l), { host: '127.0.0.1', port: 8443, serverName: 'api.ns.svc' });
});

test('prefers EndpointSlices and skips endpoints that are not ready', () => {
  const l = lookups({
    services: [svc([{ port: 443 }])],
    slices: [
      {
        metadata: { name: 'api-x', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'api' } },
        ports: [{ name: '', port: 9443 }],
        endpoints: [
          { addresses: ['127.0.0.2'], conditions: { ready: false } },
          { addresses: ['127.0.0.3'], conditions: { ready: true } },
        ],
      },
    ],
  });
  assert.deepEqual(resolveService(ref, l), { host: '127.0.0.3', port: 9443, serverName: 'api.ns.svc' });
});

test("upstream's reasons when it cannot resolve", () => {
  assert.deepEqual(resolveService(ref, lookups({})), { reason: 'ServiceNotFound', message: 'service/api in "ns" is not present' });
  assert.equal((resolveService(ref, lookups({ services: [svc([{ port: 80 }])] })) as any).reason, 'ServicePortError');
  assert.equal((resolveService(ref, lookups({ services: [svc([{ port: 443 }])] })) as any).reason, 'EndpointsNotFound');
  const noAddr = lookups({ services: [svc([{ name: 'https', port: 443 }])], endpoints: [{ metadata: { name: 'api', namespace: 'ns' }, subsets: [] }] });
  assert.deepEqual(resolveService(ref, noAddr), { reason: 'MissingEndpoints', message: 'endpoints for service/api in "ns" have no addresses with port name "https"' });
});

test('never a pod on a simulated node', () => {
  const l = lookups({
    services: [svc([{ port: 443 }])],
    endpoints: [{ metadata: { name: 'api', namespace: 'ns' }, subsets: [{ addresses: [{ ip: '10.42.0.7', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p' } }], ports: [{ port: 8443 }] }] }],
    pods: [{ metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'sim-0' } }],
    nodes: [{ metadata: { name: 'sim-0', labels: { 'mizzen.dev/simulated': 'true' } } }],
  });
  const r: any = resolveService(ref, l);
  assert.equal(r.reason, 'NoReachableEndpoints');
  assert.match(r.message, /endpoint 10\.42\.0\.7 is pod ns\/p on node sim-0, which is simulated and runs no containers/);
});

test('ExternalName services resolve to their name', () => {
  assert.deepEqual(resolveService(ref, lookups({ services: [svc([], { type: 'ExternalName', externalName: 'api.example.com' })] })), { host: 'api.example.com', port: 443, serverName: 'api.ns.svc' });
});

test('kube-aware version order and group order by priority', () => {
  const sorted = ['foo1', 'v1', 'v10', 'v11alpha2', 'v12alpha1', 'v2', 'v3beta1', 'v10beta3', 'v11beta2', 'foo10'].sort(compareKubeVersions);
  assert.deepEqual(sorted, ['v10', 'v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v12alpha1', 'v11alpha2', 'foo1', 'foo10']);
  const groups = orderGroups([
    { group: 'b.io', version: 'v1', priority: { group: 100, version: 1 } },
    { group: 'apps', version: 'v1', priority: { group: 17800, version: 15 } },
    { group: 'a.io', version: 'v1', priority: { group: 100, version: 1 } },
    { group: 'autoscaling', version: 'v1', priority: { group: 17500, version: 15 } },
    { group: 'autoscaling', version: 'v2', priority: { group: 17500, version: 30 } },
  ]);
  assert.deepEqual(groups, [
    { name: 'apps', versions: ['v1'] },
    { name: 'autoscaling', versions: ['v2', 'v1'] },
    { name: 'a.io', versions: ['v1'] },
    { name: 'b.io', versions: ['v1'] },
  ]);
});
