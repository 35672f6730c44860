// Golden rule sets for each Service shape (testdata/service-*.rules), plus the model's reading of
// Services and EndpointSlices.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.ts';
import { endpointsFor, serviceModel } from '../model.ts';
import { assembleServiceTables, servicePortRules, type ServiceRulesConfig } from './service-rules.ts';
import { FILTER, NAT, formatRuleset } from './chains.ts';
import { assertGolden } from './golden.ts';

const NODE = 'node-a';
const cfg: ServiceRulesConfig = { clusterCIDR: '10.42.0.0/16' };

function service(spec: Record<string, unknown>, extra: Partial<KObject> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
    spec: { type: 'ClusterIP', clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec },
    ...extra,
  };
}

type Ep = { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean; node?: string };
function slice(eps: Ep[], port = 8080, protocol = 'TCP', name = 'http'): KObject {
  return {
    metadata: { name: 'web-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name, port, protocol }],
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving, terminating: e.terminating },
      nodeName: e.node ?? NODE,
    })),
  };
}

const FIXED = new Set<string>([NAT.markMasq, NAT.postrouting, FILTER.forward, FILTER.firewall]);

function render(svc: KObject, slices: KObject[], c: ServiceRulesConfig = cfg): string {
  const m = serviceModel(svc);
  const parts = m.ports.map((sp) => servicePortRules(sp, endpointsFor(sp, slices, NODE), c));
  return formatRuleset(assembleServiceTables(parts, c), (chain) => !FIXED.has(chain));
}

const three: Ep[] = [{ ip: '10.42.0.11' }, { ip: '10.42.0.12' }, { ip: '10.42.1.13', node: 'node-b' }];

const shapes: Record<string, () => string> = {
  'clusterip-spread': () => render(service({}), [slice(three)]),
  'clusterip-no-endpoints': () => render(service({}), [slice([{ ip: '10.42.0.11', ready: false }])]),
  'clusterip-affinity': () => render(service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }), [slice(three)]),
  'nodeport-cluster': () => render(service({ type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [slice(three)]),
  'nodeport-no-endpoints': () => render(service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), []),
  'nodeport-local': () => render(service({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [slice(three)]),
  'nodeport-local-none-here': () =>
    render(service({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [slice([{ ip: '10.42.1.13', node: 'node-b' }])]),
  'nodeport-addresses': () =>
    render(service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [], { ...cfg, nodePortAddresses: ['192.0.2.10'] }),
  'internal-local': () => render(service({ internalTrafficPolicy: 'Local' }), [slice(three)]),
  'internal-local-none-here': () => render(service({ internalTrafficPolicy: 'Local' }), [slice([{ ip: '10.42.1.13', node: 'node-b' }])]),
  'publish-not-ready': () => render(service({ publishNotReadyAddresses: true }), [slice([{ ip: '10.42.0.11', ready: false }, { ip: '10.42.0.12' }])]),
  'terminating-fallback': () =>
    render(service({}), [slice([{ ip: '10.42.0.11', ready: false, serving: true, terminating: true }, { ip: '10.42.0.12', ready: false, serving: false, terminating: true }])]),
  'external-and-lb-ips': () =>
    render(
      service({ type: 'LoadBalancer', externalIPs: ['192.0.2.50'], externalTrafficPolicy: 'Cluster', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }, {
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.60' }] } },
      }),
      [slice([{ ip: '10.42.0.11' }])],
    ),
  'udp-and-sctp': () =>
    render(service({ ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'sig', port: 3868, protocol: 'SCTP' }] }), [
      slice([{ ip: '10.42.0.11' }], 5353, 'UDP', 'dns'),
      slice([{ ip: '10.42.0.11' }], 3868, 'SCTP', 'sig'),
    ]),
  headless: () => render(service({ clusterIP: 'None', clusterIPs: ['None'] }), [slice(three)]),
};

for (const [name, fn] of Object.entries(shapes)) test(`golden: service ${name}`, () => assertGolden(`service-${name}`, fn()));

test('golden: the fixed chains', () => {
  assertGolden('service-fixed-chains', formatRuleset(assembleServiceTables([], cfg), (c) => FIXED.has(c)));
});

test('each of n endpoints gets probability 1/n overall', () => {
  const lines = render(service({}), [slice([1, 2, 3, 4, 5].map((i) => ({ ip: `10.42.0.${i}` })))]).split('\n').filter((l) => l.includes('DNAT'));
  const probs = lines.map((l) => Number(/--probability (\S+)/.exec(l)?.[1] ?? 1));
  let left = 1;
  for (const p of probs) {
    assert.ok(Math.abs(left * p - 0.2) < 1e-9);
    left *= 1 - p;
  }
});

test('what the kernel cannot express becomes a problem, not a throw', () => {
  const m = serviceModel(service({ externalIPs: ['fd00::1', '192.0.2.5'], loadBalancerSourceRanges: ['10.0.0.0/8'] }));
  assert.deepEqual(m.problems, ['external IP fd00::1 is not IPv4; this proxy programs IPv4 only', 'loadBalancerSourceRanges are not enforced by this proxy']);
  assert.deepEqual(m.ports[0]!.externalIPs, ['192.0.2.5']);
  const v6 = serviceModel(service({ clusterIP: 'fd00::20', clusterIPs: ['fd00::20'], ipFamilies: ['IPv6'] }));
  assert.deepEqual(v6.ports, []);
  assert.match(v6.problems[0]!, /IPv6/);
  const noSctp = serviceModel(service({ ports: [{ name: 's', port: 1, protocol: 'SCTP' }] }), new Set(['TCP', 'UDP']));
  assert.deepEqual(noSctp.ports, []);
  assert.match(noSctp.problems[0]!, /SCTP is not supported/);
  assert.deepEqual(serviceModel(service({ type: 'ExternalName', externalName: 'x.example' })).ports, []);
});

test('endpoints: IPv4 slices only, first address, duplicates once, sorted, local by nodeName', () => {
  const sp = serviceModel(service({})).ports[0]!;
  const eps = endpointsFor(sp, [slice([{ ip: '10.42.0.9' }, { ip: '10.42.0.10', node: 'other' }]), slice([{ ip: '10.42.0.9' }]), { ...slice([{ ip: 'fd00::1' }]), addressType: 'IPv6' }, slice([{ ip: '10.42.0.5' }], 9090, 'TCP', 'metrics')], NODE);
  assert.deepEqual(
    eps.map((e) => `${e.ip}:${e.port}${e.local ? ' local' : ''}`),
    ['10.42.0.9:8080 local', '10.42.0.10:8080'],
  );
});
