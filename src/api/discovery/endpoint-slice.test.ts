import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointslices as eps } from './endpoint-slice.ts';

const base = () => ({
  metadata: { name: 'web-abc', creationTimestamp: '2024-01-01T00:00:00Z' },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }],
  ports: [{ port: 80 } as any],
});

test('endpointslice defaults ports', () => {
  const s: any = base();
  eps.strategy.defaults!(s);
  assert.deepEqual(s.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  assert.deepEqual(eps.strategy.validate!(s), []);
});

test('endpointslice validation paths', () => {
  const cases: [(s: any) => void, string[]][] = [
    [(s) => (s.addressType = 'IPv5'), ['addressType']],
    [(s) => delete s.addressType, ['addressType']],
    [(s) => (s.endpoints[0].addresses = []), ['endpoints[0].addresses']],
    [(s) => (s.endpoints[1].addresses = ['999.1.1.1']), ['endpoints[1].addresses[0]']],
    [(s) => (s.endpoints = Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] }))), ['endpoints']],
    [(s) => (s.ports = [{ port: 70000, protocol: 'TCP', name: '' }]), ['ports[0].port']],
    [(s) => (s.ports = [{ port: 1, protocol: 'ICMP', name: '' }]), ['ports[0].protocol']],
    [(s) => (s.ports = [{ port: 1, protocol: 'TCP', name: 'a' }, { port: 2, protocol: 'TCP', name: 'a' }]), ['ports[1].name']],
  ];
  for (const [mutate, want] of cases) {
    const s: any = base();
    eps.strategy.defaults!(s);
    mutate(s);
    assert.deepEqual(eps.strategy.validate!(s).map((e) => e.field), want, mutate.toString());
  }
  const old: any = base();
  const next: any = { ...base(), addressType: 'IPv6', endpoints: [] };
  eps.strategy.defaults!(old);
  eps.strategy.defaults!(next);
  assert.deepEqual(eps.strategy.validateUpdate!(next, old).map((e) => e.field), ['addressType']);
});

test('endpointslice table row', () => {
  const s: any = base();
  const now = Date.parse('2024-01-01T00:01:00Z');
  assert.deepEqual(eps.table!.row(s, now), ['web-abc', 'IPv4', '80', '10.0.0.1,10.0.0.2', '60s']);
  s.endpoints = [{ addresses: ['1.1.1.1', '1.1.1.2'] }, { addresses: ['1.1.1.3', '1.1.1.4', '1.1.1.5'] }];
  s.ports = [];
  assert.deepEqual(eps.table!.row(s, now).slice(2, 4), ['<unset>', '1.1.1.1,1.1.1.2,1.1.1.3 + 2 more...']);
});
