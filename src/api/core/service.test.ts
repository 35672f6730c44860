import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../machinery/errors.ts';
import { ServiceAllocators } from './service-allocator.ts';
import { services } from './service.ts';

const created = '2024-01-01T00:00:00Z';

function create(spec: any, alloc: ServiceAllocators, name = 's'): any {
  const svc: any = { metadata: { name, namespace: 'default', creationTimestamp: created }, spec };
  services.strategy.defaults!(svc);
  services.strategy.prepareForCreate!(svc, { allocators: alloc });
  return svc;
}

function update(old: any, mut: (s: any) => void, alloc: ServiceAllocators): any {
  const svc = structuredClone(old);
  mut(svc);
  services.strategy.defaults!(svc);
  services.strategy.prepareForUpdate!(svc, old, { allocators: alloc });
  return svc;
}

test('allocator: kubernetes IP, no duplicates, release, reload', () => {
  const a = new ServiceAllocators();
  assert.equal(a.serviceCIDR, '10.43.0.0/16');
  assert.equal(a.kubernetesServiceIP, '10.43.0.1');
  assert.equal(a.allocateClusterIP('10.43.0.1'), '10.43.0.1');
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(a.allocateClusterIP());
  assert.equal(seen.size, 300);
  assert.ok(!seen.has('10.43.0.1'));
  assert.throws(() => a.allocateClusterIP('10.43.0.1'), (e: StatusError) => e.code === 422 && /provided IP is already allocated/.test(e.message));
  assert.throws(() => a.allocateClusterIP('10.0.0.5'), /provided IP is not in the valid range. The range of valid IPs is 10.43.0.0\/16/);
  a.releaseClusterIP('10.43.0.1');
  assert.equal(a.allocateClusterIP('10.43.0.1'), '10.43.0.1');

  const ports = new Set<number>();
  for (let i = 0; i < 200; i++) ports.add(a.allocateNodePort());
  assert.equal(ports.size, 200);
  for (const p of ports) assert.ok(p >= 30000 && p <= 32767);
  assert.throws(() => a.allocateNodePort([...ports][0]), /provided port is already allocated/);
  assert.throws(() => a.allocateNodePort(80), /provided port is not in the valid range. The range of valid ports is 30000-32767/);

  const b = new ServiceAllocators();
  b.load([{ metadata: {}, spec: { clusterIP: '10.43.5.5', clusterIPs: ['10.43.5.5'], ports: [{ port: 80, nodePort: 30080 }] } }]);
  assert.ok(b.isIPAllocated('10.43.5.5'));
  assert.ok(b.isNodePortAllocated(30080));
  assert.throws(() => b.allocateNodePort(30080));
});

test('allocator: small ranges fill up', () => {
  const a = new ServiceAllocators({ serviceCIDR: '10.0.0.0/29', nodePortRange: [30000, 30001] });
  const ips = new Set<string>();
  // 6 usable addresses, offset 1 is kept for the kubernetes Service.
  for (let i = 0; i < 5; i++) ips.add(a.allocateClusterIP());
  assert.equal(ips.size, 5);
  assert.throws(() => a.allocateClusterIP(), /range is full/);
  a.allocateNodePort();
  a.allocateNodePort();
  assert.throws(() => a.allocateNodePort(), /range is full/);
});

test('service defaults and ClusterIP allocation', () => {
  const a = new ServiceAllocators();
  const s = create({ selector: { app: 'web' }, ports: [{ port: 80 }] }, a);
  assert.equal(s.spec.type, 'ClusterIP');
  assert.equal(s.spec.sessionAffinity, 'None');
  assert.equal(s.spec.internalTrafficPolicy, 'Cluster');
  assert.deepEqual(s.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.match(s.spec.clusterIP, /^10\.43\./);
  assert.deepEqual(s.spec.clusterIPs, [s.spec.clusterIP]);
  assert.deepEqual(s.spec.ipFamilies, ['IPv4']);
  assert.equal(s.spec.ipFamilyPolicy, 'SingleStack');
  assert.equal(s.spec.externalTrafficPolicy, undefined);
  assert.deepEqual(s.status, { loadBalancer: {} });
  assert.deepEqual(services.strategy.validate!(s), []);
  assert.deepEqual(services.table!.row(s, Date.parse(created) + 5000), ['s', 'ClusterIP', s.spec.clusterIP, '<none>', '80/TCP', '5s', 'app=web']);
});

test('NodePort allocation, duplicates and type changes', () => {
  const a = new ServiceAllocators();
  const np = create({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 443 }] }, a);
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports[0].nodePort, 30080);
  assert.ok(np.spec.ports[1].nodePort >= 30000);
  assert.equal(services.table!.row(np, Date.parse(created))[4], `80:30080/TCP,443:${np.spec.ports[1].nodePort}/TCP`);
  assert.throws(
    () => create({ type: 'NodePort', ports: [{ port: 81, nodePort: 30080 }] }, a, 'other'),
    (e: StatusError) => e.code === 422 && e.message === 'Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
  );
  // Updates that omit allocated values keep them.
  const kept = update(np, (s) => {
    delete s.spec.clusterIP;
    delete s.spec.clusterIPs;
    delete s.spec.ports[1].nodePort;
  }, a);
  assert.equal(kept.spec.clusterIP, np.spec.clusterIP);
  assert.equal(kept.spec.ports[1].nodePort, np.spec.ports[1].nodePort);
  // NodePort -> ClusterIP releases the ports.
  const cip = update(np, (s) => (s.spec.type = 'ClusterIP'), a);
  assert.equal(cip.spec.ports[0].nodePort, undefined);
  assert.equal(a.isNodePortAllocated(30080), false);
  assert.equal(cip.spec.clusterIP, np.spec.clusterIP);
  // ClusterIP -> NodePort allocates again.
  const back = update(cip, (s) => (s.spec.type = 'NodePort'), a);
  assert.ok(back.spec.ports.every((p: any) => a.isNodePortAllocated(p.nodePort)));
  services.strategy.afterDelete!(back, { allocators: a });
  assert.equal(a.isIPAllocated(back.spec.clusterIP), false);
  assert.ok(back.spec.ports.every((p: any) => !a.isNodePortAllocated(p.nodePort)));
});

test('headless, ExternalName and failed validation allocate nothing', () => {
  const a = new ServiceAllocators();
  const h = create({ clusterIP: 'None', selector: { app: 'db' } }, a);
  assert.equal(h.spec.clusterIP, 'None');
  assert.deepEqual(h.spec.clusterIPs, ['None']);
  assert.deepEqual(services.strategy.validate!(h), []);
  const e = create({ type: 'ExternalName', externalName: 'example.com' }, a);
  assert.equal(e.spec.clusterIP, undefined);
  assert.equal(e.spec.internalTrafficPolicy, undefined);
  assert.deepEqual(services.strategy.validate!(e), []);
  assert.equal(services.table!.row(e, Date.parse(created))[3], 'example.com');
  const bad = create({ type: 'NodePort', ports: [{ port: 0, nodePort: 30001 }] }, a);
  assert.equal(a.isNodePortAllocated(30001), false);
  assert.ok(services.strategy.validate!(bad).some((x) => x.field === 'spec.ports[0].port'));
});

test('service validation paths', () => {
  const a = new ServiceAllocators();
  const cases: [any, string][] = [
    [{ ports: [] }, 'spec.ports'],
    [{ ports: [{ port: 80, nodePort: 30001 }] }, 'spec.ports[0].nodePort'],
    [{ ports: [{ port: 80 }, { port: 81 }] }, 'spec.ports[0].name'],
    [{ ports: [{ port: 80, protocol: 'HTTP' }] }, 'spec.ports[0].protocol'],
    [{ type: 'Weird', ports: [{ port: 80 }] }, 'spec.type'],
    [{ type: 'ExternalName' }, 'spec.externalName'],
    [{ clusterIP: 'abc', ports: [{ port: 80 }] }, 'spec.clusterIPs[0]'],
    [{ ports: [{ port: 80, targetPort: 'Bad_Name' }] }, 'spec.ports[0].targetPort'],
  ];
  for (const [spec, path] of cases) {
    const s: any = { metadata: { name: 's' }, spec };
    services.strategy.defaults!(s);
    const errs = services.strategy.validate!(s);
    assert.ok(errs.some((e) => e.field === path), `${path}: ${JSON.stringify(errs)}`);
  }
  const s = create({ ports: [{ port: 80 }] }, a);
  const changed = structuredClone(s);
  changed.spec.clusterIP = changed.spec.clusterIPs[0] = '10.43.9.9';
  assert.equal(services.strategy.validateUpdate!(changed, s)[0]?.field, 'spec.clusterIPs[0]');
  const badName: any = { metadata: { name: '1abc' }, spec: { ports: [{ port: 80 }] } };
  services.strategy.defaults!(badName);
  assert.equal(services.strategy.validate!(badName)[0]?.field, 'metadata.name');
});
