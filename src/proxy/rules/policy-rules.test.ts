// Golden rule sets for each NetworkPolicy shape (testdata/policy-*.rules) and the CIDR arithmetic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { buildPolicyRules, podFromObject, type PolicyPod } from './policy-rules.ts';
import { subtractCidrs } from './cidr-set.ts';
import { formatRuleset } from './chains.ts';
import { assertGolden } from './golden.ts';

const NODE = 'node-a';

function pod(ns: string, name: string, ip: string, labels: Record<string, string>, node = NODE, ports: Record<string, number> = { http: 8080 }): PolicyPod {
  return podFromObject(
    {
      metadata: { namespace: ns, name, labels },
      spec: { nodeName: node, containers: [{ name: 'c', ports: Object.entries(ports).map(([n, p]) => ({ name: n, containerPort: p })) }] },
      status: { phase: 'Running', podIP: ip },
    },
    NODE,
  )!;
}

const pods: PolicyPod[] = [
  pod('shop', 'web', '10.42.0.10', { app: 'web' }),
  pod('shop', 'client', '10.42.0.11', { role: 'client' }),
  pod('shop', 'db', '10.42.1.12', { app: 'db' }, 'node-b', { sql: 5432 }),
  pod('ops', 'probe', '10.42.1.13', { app: 'probe' }, 'node-b'),
  pod('ops', 'other', '10.42.1.14', { app: 'other' }, 'node-b'),
];
const namespaceLabels = new Map<string, Record<string, string>>([
  ['shop', { 'kubernetes.io/metadata.name': 'shop' }],
  ['ops', { 'kubernetes.io/metadata.name': 'ops', team: 'ops' }],
]);

function policy(name: string, spec: Record<string, unknown>, ns = 'shop'): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

function render(...policies: KObject[]): string {
  const out = buildPolicyRules({ policies, pods, namespaceLabels });
  return formatRuleset({ nat: new Map(), filter: out.filter });
}

const web = { matchLabels: { app: 'web' } };
const shapes: Record<string, () => string> = {
  'deny-all-ingress': () => render(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] })),
  'deny-all-egress': () => render(policy('deny', { podSelector: {}, policyTypes: ['Egress'] })),
  'allow-all-ingress': () => render(policy('all', { podSelector: web, ingress: [{}] })),
  'pod-selector-named-port': () => render(policy('p', { podSelector: web, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }] })),
  'namespace-selector': () => render(policy('p', { podSelector: web, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] })),
  'namespace-and-pod-selector': () =>
    render(policy('p', { podSelector: web, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'probe' } } }] }] })),
  'ip-block-except-and-port-range': () =>
    render(policy('p', { podSelector: web, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.42.0.0/16', '10.1.2.0/24'] } }], ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }, { protocol: 'UDP', port: 53 }] }] })),
  'egress-named-port-to-pods': () =>
    render(policy('e', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 'sql' }] }, { ports: [{ protocol: 'UDP', port: 53 }] }] })),
  'two-policies-one-pod': () =>
    render(
      policy('a', { podSelector: web, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] }),
      policy('b', { podSelector: {}, ingress: [{ ports: [{ protocol: 'TCP', port: 9090 }] }] }),
      policy('c', { podSelector: {}, ingress: [{}] }, 'ops'), // another namespace: selects nothing here
    ),
  'default-policy-types': () => render(policy('d', { podSelector: web, egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] })),
};

for (const [name, fn] of Object.entries(shapes)) test(`golden: policy ${name}`, () => assertGolden(`policy-${name}`, fn()));

test('no policy: only the replies rule, no pod chains', () => {
  assert.equal(render(), '*filter\n:MZ-POLICY - [0:0]\n-A MZ-POLICY -m comment --comment "replies of allowed connections" -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN\nCOMMIT\n');
});

test('an IPv6 ipBlock is a problem; the peer is left out (fails closed)', () => {
  const out = buildPolicyRules({ policies: [policy('v6', { podSelector: web, ingress: [{ from: [{ ipBlock: { cidr: 'fd00::/64' } }] }] })], pods, namespaceLabels });
  assert.deepEqual(out.problems.get('shop/v6'), ['ipBlock fd00::/64 is not IPv4; this node programs IPv4 only (peer left out)']);
  const chain = [...out.filter.entries()].find(([c]) => c.startsWith('MZ-PI-'))![1];
  assert.equal(chain.length, 1);
  assert.match(chain[0]!, /-j DROP$/);
});

test('subtractCidrs', () => {
  assert.deepEqual(subtractCidrs('10.0.0.0/30', ['10.0.0.1/32']), ['10.0.0.0/32', '10.0.0.2/31']);
  assert.deepEqual(subtractCidrs('10.0.0.0/24', []), ['10.0.0.0/24']);
  assert.deepEqual(subtractCidrs('10.0.0.0/24', ['10.0.0.0/24']), []);
  assert.deepEqual(subtractCidrs('0.0.0.0/0', ['10.0.0.0/8']), [
    '0.0.0.0/5',
    '8.0.0.0/7',
    '11.0.0.0/8',
    '12.0.0.0/6',
    '16.0.0.0/4',
    '32.0.0.0/3',
    '64.0.0.0/2',
    '128.0.0.0/1',
  ]);
});

test('pods without an IPv4 address, on the host network or finished are not policy pods', () => {
  const base = { metadata: { namespace: 'a', name: 'p' }, spec: { nodeName: NODE, containers: [] } };
  assert.equal(podFromObject({ ...base, status: {} }, NODE), undefined);
  assert.equal(podFromObject({ ...base, spec: { ...base.spec, hostNetwork: true }, status: { podIP: '10.0.0.1' } }, NODE), undefined);
  assert.equal(podFromObject({ ...base, status: { podIP: '10.0.0.1', phase: 'Succeeded' } }, NODE), undefined);
  assert.equal(podFromObject({ ...base, status: { podIP: '10.0.0.1', phase: 'Running' } }, NODE)?.local, true);
});
