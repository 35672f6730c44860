import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticObjectSources } from '../objects/sources.ts';
import type { Container, Pod, Service } from './api-types.ts';
import { CreateContainerConfigError, makeEnvironmentVariables } from './env.ts';
import { envVariableName, envVarsFromServices, serviceEnvVarMap } from './service-env.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function svc(ns: string, name: string, clusterIP: string, ports: NonNullable<Service['spec']>['ports']): Service {
  return { metadata: { namespace: ns, name }, spec: { clusterIP, ports } };
}

const services: Service[] = [
  svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
  svc('shop', 'web-front', '10.43.0.20', [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
  svc('shop', 'headless', 'None', [{ port: 80 }]),
  svc('other', 'db', '10.43.0.30', [{ port: 5432 }]),
];

function sources(): StaticObjectSources {
  const s = new StaticObjectSources();
  s.services = services;
  s.addConfigMap({ metadata: { namespace: 'shop', name: 'cfg' }, data: { MODE: 'prod', LEVEL: 'debug', 'bad=key': 'x' } });
  s.addSecret({ metadata: { namespace: 'shop', name: 'creds' }, data: { USER: b64('admin'), PASS: b64('s3cret') } });
  return s;
}

function podWith(container: Container, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'shop', uid: 'u1', labels: { app: 'web' } },
    spec: { nodeName: 'n1', serviceAccountName: 'default', containers: [container], ...extra },
    status: { podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }] },
  };
}

const asMap = (kv: { name: string; value: string }[]) => new Map(kv.map((e) => [e.name, e.value]));

test('envVariableName and service env vars follow upstream naming', () => {
  assert.equal(envVariableName('web-front.v2'), 'WEB_FRONT_V2');
  assert.equal(envVariableName('9lives'), '_9LIVES');
  const vars = new Map(envVarsFromServices([services[1]]));
  assert.deepEqual(Object.fromEntries(vars), {
    WEB_FRONT_SERVICE_HOST: '10.43.0.20',
    WEB_FRONT_SERVICE_PORT: '80',
    WEB_FRONT_SERVICE_PORT_HTTP: '80',
    WEB_FRONT_SERVICE_PORT_DNS: '53',
    WEB_FRONT_PORT: 'tcp://10.43.0.20:80',
    WEB_FRONT_PORT_80_TCP: 'tcp://10.43.0.20:80',
    WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
    WEB_FRONT_PORT_80_TCP_PORT: '80',
    WEB_FRONT_PORT_80_TCP_ADDR: '10.43.0.20',
    WEB_FRONT_PORT_53_UDP: 'udp://10.43.0.20:53',
    WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
    WEB_FRONT_PORT_53_UDP_PORT: '53',
    WEB_FRONT_PORT_53_UDP_ADDR: '10.43.0.20',
  });
  const v6 = new Map(envVarsFromServices([svc('x', 's', 'fd00::1', [{ port: 80 }])]));
  assert.equal(v6.get('S_PORT'), 'tcp://[fd00::1]:80');
});

test('serviceEnvVarMap: kubernetes always, own namespace only with enableServiceLinks, headless skipped', () => {
  const on = serviceEnvVarMap(services, 'shop', true);
  assert.equal(on.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  assert.equal(on.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
  assert.equal(on.get('WEB_FRONT_SERVICE_HOST'), '10.43.0.20');
  assert.equal(on.has('DB_SERVICE_HOST'), false);
  assert.equal(on.has('HEADLESS_SERVICE_HOST'), false);
  const off = serviceEnvVarMap(services, 'shop', false);
  assert.equal(off.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  assert.equal(off.has('WEB_FRONT_SERVICE_HOST'), false);
  // A Service named kubernetes in the pod's own namespace wins over default's.
  const own = serviceEnvVarMap([...services, svc('shop', 'kubernetes', '10.43.9.9', [{ port: 1 }])], 'shop', true);
  assert.equal(own.get('KUBERNETES_SERVICE_HOST'), '10.43.9.9');
});

test('makeEnvironmentVariables: envFrom, env with expansion and valueFrom, then service vars', async () => {
  const events: string[] = [];
  const c: Container = {
    name: 'app',
    resources: { requests: { cpu: '250m' }, limits: { memory: '64Mi' } },
    envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
    env: [
      { name: 'GREETING', value: 'hello $(MODE) $(DB_USER) $$(MODE) $(NOPE) $(WEB_FRONT_SERVICE_HOST)' },
      { name: 'MODE', value: 'staging' },
      { name: 'AFTER', value: '$(MODE)' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'MEM_LIMIT_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'LEVEL_COPY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
      { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASS' } } },
      { name: 'OPT_MISSING_KEY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
      { name: 'OPT_MISSING_CM', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } },
      { name: 'EMPTY', value: '' },
    ],
  };
  const env = await makeEnvironmentVariables(podWith(c), c, {
    sources: sources(),
    nodeAllocatable: { cpu: '3', memory: '4Gi' },
    recordEvent: (_t, reason, msg) => events.push(`${reason}: ${msg}`),
  });
  const m = asMap(env);
  assert.equal(m.get('GREETING'), 'hello prod admin $(MODE) $(NOPE) 10.43.0.20');
  assert.equal(m.get('MODE'), 'staging');
  assert.equal(m.get('AFTER'), 'staging');
  assert.equal(m.get('LEVEL'), 'debug');
  assert.equal(m.get('DB_USER'), 'admin');
  assert.equal(m.get('POD_NAME'), 'p');
  assert.equal(m.get('POD_IP'), '10.42.0.5');
  assert.equal(m.get('NODE'), 'n1');
  assert.equal(m.get('APP'), 'web');
  assert.equal(m.get('CPU_M'), '250');
  assert.equal(m.get('MEM_LIMIT_MI'), '64');
  assert.equal(m.get('CPU_LIMIT'), '3');
  assert.equal(m.get('LEVEL_COPY'), 'debug');
  assert.equal(m.get('PASS'), 's3cret');
  assert.equal(m.has('OPT_MISSING_KEY'), false);
  assert.equal(m.has('OPT_MISSING_CM'), false);
  assert.equal(m.get('EMPTY'), '');
  assert.equal(m.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  assert.equal(m.has('bad=key'), false);
  assert.deepEqual(events, ['InvalidEnvironmentVariableNames: Keys [bad=key] from the EnvFrom configMap shop/cfg were skipped since they are considered invalid environment variable names.']);
  // Declared variables come first, in order; service vars after.
  assert.equal(env.findIndex((e) => e.name === 'KUBERNETES_SERVICE_HOST') > env.findIndex((e) => e.name === 'EMPTY'), true);
  assert.equal(env.filter((e) => e.name === 'MODE').length, 1);
});

test('makeEnvironmentVariables: declared vars override service vars of the same name', async () => {
  const c: Container = { name: 'app', env: [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }] };
  const env = await makeEnvironmentVariables(podWith(c, { enableServiceLinks: false }), c, { sources: sources() });
  assert.deepEqual(env.filter((e) => e.name === 'KUBERNETES_SERVICE_HOST'), [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }]);
});

test('makeEnvironmentVariables: upstream CreateContainerConfigError messages', async () => {
  const cases: [string, Container['env'] | undefined, Container['envFrom'] | undefined, string][] = [
    ['missing configmap', [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }], undefined, 'configmap "gone" not found'],
    ['missing key in configmap', [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }], undefined, "couldn't find key k in ConfigMap shop/cfg"],
    ['missing secret', [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }], undefined, 'secret "gone" not found'],
    ['missing key in secret', [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }], undefined, "couldn't find key k in Secret shop/creds"],
    ['missing envFrom configmap', undefined, [{ configMapRef: { name: 'gone' } }], 'configmap "gone" not found'],
    ['missing envFrom secret', undefined, [{ secretRef: { name: 'gone' } }], 'secret "gone" not found'],
    ['bad fieldRef', [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }], undefined, 'field label not supported: spec.bogus'],
  ];
  for (const [name, env, envFrom, message] of cases) {
    const c: Container = { name: 'app', env, envFrom };
    await assert.rejects(makeEnvironmentVariables(podWith(c), c, { sources: sources() }), (e: Error) => {
      assert.ok(e instanceof CreateContainerConfigError, name);
      assert.equal(e.message, message, name);
      return true;
    });
  }
  const optional: Container = { name: 'app', envFrom: [{ configMapRef: { name: 'gone', optional: true } }, { secretRef: { name: 'gone', optional: true } }] };
  const env = await makeEnvironmentVariables(podWith(optional, { enableServiceLinks: false }), optional, { sources: sources() });
  assert.deepEqual(env.map((e) => e.name).filter((n) => !n.startsWith('KUBERNETES_')), []);
});
