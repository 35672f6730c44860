import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingresses } from './ingress.ts';
import { ingressClasses } from './ingress-class.ts';
import { networkPolicies } from './network-policy.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);
const backend = { service: { name: 'test', port: { number: 80 } } };

test('ingress validation follows upstream paths and messages', () => {
  const v = (spec: any, annotations?: Record<string, string>) => ingresses.strategy.validate!({ metadata: { name: 'i', annotations }, spec });
  assert.deepEqual(v({ rules: [{ http: { paths: [{ path: '/testpath', pathType: 'Prefix', backend }] } }] }), []);
  assert.deepEqual(v({ defaultBackend: backend }), []);
  assert.deepEqual(fields(v({})), ['spec']);
  assert.match(v({})[0].detail, /either `defaultBackend` or `rules` must be specified/);
  const cases: [any, string[]][] = [
    [{ rules: [{ host: '1.2.3.4', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] }, ['spec.rules[0].host']],
    [{ rules: [{ host: '*.foo.com', http: { paths: [{ path: '/', pathType: 'Exact', backend }] } }] }, []],
    [{ rules: [{ host: 'a.*.com', http: { paths: [{ path: '/', pathType: 'Exact', backend }] } }] }, ['spec.rules[0].host']],
    [{ rules: [{ http: { paths: [{ path: '/', backend }] } }] }, ['spec.rules[0].http.paths[0].pathType']],
    [{ rules: [{ http: { paths: [{ path: 'rel', pathType: 'Prefix', backend }] } }] }, ['spec.rules[0].http.paths[0].path']],
    [{ rules: [{ http: { paths: [{ path: '/a//b', pathType: 'Exact', backend }] } }] }, ['spec.rules[0].http.paths[0].path']],
    [{ rules: [{ http: { paths: [{ path: '/', pathType: 'Glob', backend }] } }] }, ['spec.rules[0].http.paths[0].pathType']],
    [{ rules: [{ http: { paths: [] } }] }, ['spec.rules[0].http.paths']],
    [{ defaultBackend: { service: { name: 'x', port: { name: 'http', number: 80 } } } }, ['spec.defaultBackend.service.port']],
    [{ defaultBackend: { service: { name: 'x', port: {} } } }, ['spec.defaultBackend']],
    [{ defaultBackend: { service: { name: 'Bad_Name', port: { number: 80 } } } }, ['spec.defaultBackend.service.name']],
    [{ defaultBackend: { service: { name: 'x', port: { number: 70000 } } } }, ['spec.defaultBackend.service.port.number']],
    [{ defaultBackend: { ...backend, resource: { kind: 'Bucket', name: 'b' } } }, ['spec.defaultBackend']],
    [{ defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } } }, []],
    [{ defaultBackend: backend, tls: [{ hosts: ['bad_host'] }] }, ['spec.tls[0].hosts[0]']],
    [{ defaultBackend: backend, ingressClassName: 'Not/Valid' }, ['spec.ingressClassName']],
  ];
  for (const [spec, want] of cases) assert.deepEqual(fields(v(spec)), want, JSON.stringify(spec));
  const both = v({ defaultBackend: backend, ingressClassName: 'nginx' }, { 'kubernetes.io/ingress.class': 'nginx' });
  assert.deepEqual(fields(both), ['annotations.kubernetes.io/ingress.class']);
  assert.match(both[0].detail, /can not be set when the class field is also set/);
});

test('ingress table: CLASS HOSTS ADDRESS PORTS as upstream prints them', () => {
  const now = Date.parse('2024-01-01T00:01:00Z');
  const meta = { name: 'i', creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(ingresses.table!.columns.map((c) => c.name), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  assert.deepEqual(ingresses.table!.row({ metadata: meta, spec: { rules: [{}] } }, now), ['i', '<none>', '*', '', '80', '60s']);
  const rules = ['a.com', 'b.com', 'c.com', 'd.com', 'e.com'].map((host) => ({ host }));
  const lb = { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.1' }] } };
  assert.deepEqual(ingresses.table!.row({ metadata: meta, spec: { ingressClassName: 'nginx', rules, tls: [{}] }, status: lb }, now), [
    'i',
    'nginx',
    'a.com,b.com,c.com + 2 more...',
    '10.0.0.1,10.0...',
    '80, 443',
    '60s',
  ]);
});

test('ingress class: domain-prefixed controller, parameters scope default and rules', () => {
  const ok: any = { metadata: { name: 'external-lb' }, spec: { controller: 'example.com/ingress-controller', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } };
  ingressClasses.strategy.defaults!(ok);
  assert.equal(ok.spec.parameters.scope, 'Cluster');
  assert.deepEqual(ingressClasses.strategy.validate!(ok), []);
  const v = (spec: any) => fields(ingressClasses.strategy.validate!({ metadata: { name: 'c' }, spec }));
  assert.deepEqual(v({ controller: 'nodomain' }), ['spec.controller']);
  assert.deepEqual(v({}), ['spec.controller']);
  assert.deepEqual(v({ controller: 'a.io/x', parameters: { kind: 'K', name: 'n', scope: 'Namespace' } }), ['spec.parameters.namespace']);
  assert.deepEqual(v({ controller: 'a.io/x', parameters: { kind: 'K', name: 'n', scope: 'Cluster', namespace: 'x' } }), ['spec.parameters.namespace']);
  const changed = structuredClone(ok);
  changed.spec.controller = 'example.com/other';
  assert.deepEqual(fields(ingressClasses.strategy.validateUpdate!(changed, ok)), ['spec.controller']);
  assert.deepEqual(ingressClasses.table!.row({ ...ok, metadata: { name: 'external-lb', creationTimestamp: '2024-01-01T00:00:00Z' } }, Date.parse('2024-01-01T00:00:05Z')), [
    'external-lb',
    'example.com/ingress-controller',
    'IngressParameters.k8s.example.com/external-lb',
    '5s',
  ]);
});

test('network policy: defaults (policyTypes, TCP) and validation', () => {
  const np: any = { metadata: { name: 'p' }, spec: { podSelector: { matchLabels: { role: 'db' } }, egress: [{ ports: [{ port: 53 }] }] } };
  networkPolicies.strategy.defaults!(np);
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(np.spec.egress[0].ports[0].protocol, 'TCP');
  assert.deepEqual(networkPolicies.strategy.validate!(np), []);
  const v = (spec: any) => fields(networkPolicies.strategy.validate!({ metadata: { name: 'p' }, spec: { podSelector: {}, ...spec } }));
  assert.deepEqual(v({ ingress: [{ from: [{}] }] }), ['spec.ingress[0].from[0]']);
  assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }), ['spec.ingress[0].from[0]']);
  assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }] }), []);
  assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['10.0.0.0/24'] } }] }] }), ['spec.ingress[0].from[0].ipBlock.except[0]']);
  assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: 'nonsense' } }] }] }), ['spec.ingress[0].from[0].ipBlock.cidr']);
  assert.deepEqual(v({ ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/8', except: ['fd00:1::/32'] } }] }] }), []);
  assert.deepEqual(v({ egress: [{ ports: [{ protocol: 'ICMP', port: 80 }] }] }), ['spec.egress[0].ports[0].protocol']);
  assert.deepEqual(v({ egress: [{ ports: [{ port: 80, endPort: 70 }] }] }), ['spec.egress[0].ports[0].endPort']);
  assert.deepEqual(v({ egress: [{ ports: [{ port: 'http', endPort: 90 }] }] }), ['spec.egress[0].ports[0].endPort']);
  assert.deepEqual(v({ egress: [{ ports: [{ endPort: 90 }] }] }), ['spec.egress[0].ports[0].endPort']);
  assert.deepEqual(v({ policyTypes: ['Ingress', 'Sideways'] }), ['spec.policyTypes[1]']);
  const now = Date.parse('2024-01-01T00:00:03Z');
  assert.deepEqual(networkPolicies.table!.row({ metadata: { name: 'p', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { podSelector: {} } }, now), ['p', '<none>', '3s']);
  assert.deepEqual(networkPolicies.table!.row({ metadata: { name: 'p', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { podSelector: { matchLabels: { role: 'db' } } } }, now), ['p', 'role=db', '3s']);
});
