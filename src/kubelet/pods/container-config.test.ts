import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from './api-types.ts';
import {
  containerConfig,
  containerHash,
  expandCommandAndArgs,
  portMappings,
  resolveProcessArgs,
  sandboxConfig,
  CONTAINER_HASH_ANNOTATION,
  PRESTOP_HANDLER_ANNOTATION,
} from './container-config.ts';
import { CreateContainerConfigError } from './env.ts';

const GiB = 1024 ** 3;

function pod(containers: Container[], spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-9', labels: { app: 'web' }, annotations: { note: 'x' } },
    spec: { containers, terminationGracePeriodSeconds: 30, ...spec },
  };
}

const dns = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', resolvConfText: 'nameserver 192.168.1.1\n' };

test('resolveProcessArgs: command replaces ENTRYPOINT (and drops CMD), args replace CMD', () => {
  const image = { entrypoint: ['/entry'], cmd: ['--default'] };
  const cases: [string[], string[], string[]][] = [
    [[], [], ['/entry', '--default']],
    [[], ['--mine'], ['/entry', '--mine']],
    [['/bin/sh', '-c'], [], ['/bin/sh', '-c']],
    [['/bin/sh'], ['-c', 'true'], ['/bin/sh', '-c', 'true']],
  ];
  for (const [command, args, want] of cases) assert.deepEqual(resolveProcessArgs(command, args, image), want);
  assert.deepEqual(resolveProcessArgs([], [], { cmd: ['sh'] }), ['sh']);
});

test('expandCommandAndArgs uses the final environment', () => {
  const c: Container = { name: 'c', command: ['echo', '$(GREETING)'], args: ['$$(GREETING)', '$(MISSING)'] };
  assert.deepEqual(expandCommandAndArgs(c, [{ name: 'GREETING', value: 'hi' }]), { command: ['echo', 'hi'], args: ['$(GREETING)', '$(MISSING)'] });
});

test('portMappings: every container port, name-deduplicated per container', () => {
  const p = pod([
    {
      name: 'a',
      ports: [
        { name: 'http', containerPort: 80, hostPort: 8080 },
        { name: 'http', containerPort: 81 },
        { containerPort: 53, protocol: 'UDP', hostIP: '127.0.0.1', hostPort: 5353 },
      ],
    },
    { name: 'b', ports: [{ name: 'http', containerPort: 9090 }] },
  ]);
  assert.deepEqual(portMappings(p), [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080 },
    { protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' },
    { protocol: 'TCP', containerPort: 9090, hostPort: 0 },
  ]);
});

test('sandboxConfig', () => {
  const p = pod([{ name: 'c', resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }], {
    hostname: 'db',
    subdomain: 'backend',
    securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
  });
  const cfg = sandboxConfig(p, { dns, attempt: 1 });
  assert.deepEqual(cfg.metadata, { name: 'web-0', namespace: 'shop', uid: 'uid-9', attempt: 1 });
  assert.equal(cfg.hostname, 'db');
  assert.equal(cfg.logDirectory, '/var/log/pods/shop_web-0_uid-9');
  assert.deepEqual(cfg.labels, { app: 'web', 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-9' });
  assert.deepEqual(cfg.annotations, { note: 'x' });
  assert.deepEqual(cfg.dnsConfig?.servers, ['10.43.0.10']);
  assert.deepEqual(cfg.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080 }]);
  assert.equal(cfg.linux?.cgroupParent, '/kubepods/burstable/poduid-9');
  assert.deepEqual(cfg.linux?.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(cfg.linux?.resources, { cpuShares: 102, cpuQuota: 20000, cpuPeriod: 100000, memoryLimitInBytes: 64 * 1024 * 1024 });
  assert.deepEqual(cfg.linux?.securityContext?.seccomp, { profileType: 'RuntimeDefault' });
  assert.equal(sandboxConfig(pod([{ name: 'c' }], { hostNetwork: true }), { dns }).hostname, undefined);
  assert.equal(sandboxConfig(pod([{ name: 'c' }], { subdomain: 'svc', setHostnameAsFQDN: true }), { dns }).hostname, 'web-0.svc.shop.svc.cluster.local');
});

test('containerConfig', () => {
  const c: Container = {
    name: 'app',
    image: 'busybox',
    command: ['sh', '-c', 'echo $(MSG)'],
    workingDir: '/work',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    tty: true,
    resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
    lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
    securityContext: { runAsUser: 1000 },
  };
  const p = pod([c]);
  const cfg = containerConfig(p, c, {
    imageRef: 'sha256:abc',
    restartCount: 2,
    envs: [{ name: 'MSG', value: 'hello' }],
    mounts: [{ containerPath: '/data', hostPath: '/var/lib/kubelet/pods/uid-9/volumes/kubernetes.io~empty-dir/data' }],
    memoryCapacity: 8 * GiB,
    seccompProfileRoot: '/var/lib/kubelet/seccomp',
  });
  assert.deepEqual(cfg.metadata, { name: 'app', attempt: 2 });
  assert.deepEqual(cfg.image, { image: 'sha256:abc', userSpecifiedImage: 'busybox' });
  assert.deepEqual(cfg.command, ['sh', '-c', 'echo hello']);
  assert.deepEqual(cfg.args, []);
  assert.equal(cfg.workingDir, '/work');
  assert.deepEqual(cfg.envs, [{ key: 'MSG', value: 'hello' }]);
  assert.equal(cfg.logPath, 'app/2.log');
  assert.equal(cfg.tty, true);
  assert.equal(cfg.labels?.['io.kubernetes.container.name'], 'app');
  assert.equal(cfg.annotations?.['io.kubernetes.container.restartCount'], '2');
  assert.equal(cfg.annotations?.['io.kubernetes.container.terminationMessagePath'], '/dev/termination-log');
  assert.equal(cfg.annotations?.['io.kubernetes.pod.terminationGracePeriod'], '30');
  assert.equal(cfg.annotations?.[PRESTOP_HANDLER_ANNOTATION], '{"exec":{"command":["sleep","1"]}}');
  assert.equal(cfg.annotations?.[CONTAINER_HASH_ANNOTATION], containerHash(c));
  assert.deepEqual(cfg.linux?.resources, { cpuShares: 1024, cpuQuota: 100000, cpuPeriod: 100000, memoryLimitInBytes: GiB, oomScoreAdj: -997 });
  assert.deepEqual(cfg.linux?.securityContext?.runAsUser, { value: 1000 });
  const nonRoot: Container = { name: 'app', securityContext: { runAsNonRoot: true } };
  assert.throws(
    () => containerConfig(pod([nonRoot]), nonRoot, { imageRef: 'x', restartCount: 0, envs: [], mounts: [], memoryCapacity: GiB, seccompProfileRoot: '/s', imageUser: { uid: 0 } }),
    (e: Error) => e instanceof CreateContainerConfigError && /image will run as root/.test(e.message),
  );
});

test('containerHash ignores resources and key order, changes with the spec', () => {
  const a: Container = { name: 'c', image: 'x', resources: { limits: { cpu: '1' } } };
  const b: Container = { image: 'x', name: 'c', resources: { limits: { cpu: '2' } } };
  assert.equal(containerHash(a), containerHash(b));
  assert.notEqual(containerHash(a), containerHash({ ...a, image: 'y' }));
});
