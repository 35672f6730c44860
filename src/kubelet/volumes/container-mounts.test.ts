import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from '../pods/api-types.ts';
import { CreateContainerConfigError } from '../pods/env.ts';
import { expandSubPathExpr, makeContainerMounts, resolveRecursiveReadOnly, translateMountPropagation } from './container-mounts.ts';
import { managedHostsFileContent, nodeHostsFileContent } from './etc-hosts.ts';
import type { PodVolume } from './volume-manager.ts';

let dir: string;
let volumes: Map<string, PodVolume>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mizzen-mounts-'));
  await mkdir(join(dir, 'data/logs'), { recursive: true });
  await mkdir(join(dir, 'cfg'));
  await writeFile(join(dir, 'cfg/app.conf'), 'x');
  await mkdir(join(dir, 'outside'));
  await symlink(join(dir, 'outside'), join(dir, 'data/escape'));
  volumes = new Map([
    ['data', { name: 'data', plugin: 'kubernetes.io/empty-dir', hostPath: join(dir, 'data'), readOnly: false }],
    ['cfg', { name: 'cfg', plugin: 'kubernetes.io/configmap', hostPath: join(dir, 'cfg'), readOnly: true }],
  ]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pod(container: Container, spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'web-0', namespace: 'ns', uid: 'u1' }, spec: { containers: [container], ...spec } };
}

const base = () => ({ volumes, envs: [{ name: 'POD_NAME', value: 'web-0' }, { name: 'EMPTY', value: '' }], etcHostsPath: join(dir, 'etc-hosts'), podIPs: ['10.42.0.9'], hostname: 'web-0', domain: '' });

test('managed hosts file content as upstream', () => {
  assert.equal(
    managedHostsFileContent(['10.42.0.9'], 'db-0', 'db.ns.svc.cluster.local', [{ ip: '1.2.3.4', hostnames: ['foo', 'foo.bar'] }]),
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.42.0.9\tdb-0.db.ns.svc.cluster.local\tdb-0\n\n# Entries added by HostAliases.\n1.2.3.4\tfoo\tfoo.bar\n',
  );
  assert.equal(nodeHostsFileContent('127.0.0.1 localhost\n'), '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n');
});

test('makeContainerMounts: volumes, subPath, subPathExpr, read-only, propagation, /etc/hosts', async () => {
  const c: Container = {
    name: 'app',
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'data', mountPath: '/logs', subPath: 'logs', mountPropagation: 'HostToContainer' },
      { name: 'data', mountPath: '/per-pod', subPathExpr: 'pods/$(POD_NAME)' },
      { name: 'cfg', mountPath: '/etc/app/app.conf', subPath: 'app.conf' },
      { name: 'data', mountPath: '/ro', readOnly: true },
    ],
  };
  const mounts = await makeContainerMounts(pod(c), c, base());
  assert.deepEqual(mounts, [
    { containerPath: '/data', hostPath: join(dir, 'data'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/logs', hostPath: join(dir, 'data/logs'), readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    { containerPath: '/per-pod', hostPath: join(dir, 'data/pods/web-0'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/etc/app/app.conf', hostPath: join(dir, 'cfg/app.conf'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/ro', hostPath: join(dir, 'data'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    { containerPath: '/etc/hosts', hostPath: join(dir, 'etc-hosts'), readonly: false, selinuxRelabel: true },
  ]);
  assert.equal((await stat(join(dir, 'data/pods/web-0'))).isDirectory(), true, 'missing subPath directory is created');
  assert.match(await readFile(join(dir, 'etc-hosts'), 'utf8'), /10\.42\.0\.9\tweb-0\n$/);
  assert.equal((await stat(join(dir, 'etc-hosts'))).mode & 0o777, 0o644);
});

test('makeContainerMounts: no /etc/hosts before the pod has an IP, or when the container mounts its own', async () => {
  const c: Container = { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/data' }] };
  assert.equal((await makeContainerMounts(pod(c), c, { ...base(), podIPs: [] })).length, 1);
  const own: Container = { name: 'app', volumeMounts: [{ name: 'cfg', mountPath: '/etc/hosts', subPath: 'app.conf' }] };
  assert.deepEqual((await makeContainerMounts(pod(own), own, base())).map((m) => m.containerPath), ['/etc/hosts']);
  const hostNet = await makeContainerMounts(pod(c, { hostNetwork: true, hostAliases: [{ ip: '9.9.9.9', hostnames: ['nine'] }] }), c, { ...base(), podIPs: [], etcHostsPath: join(dir, 'hosts-hn') });
  assert.equal(hostNet.at(-1)?.containerPath, '/etc/hosts');
  const content = await readFile(join(dir, 'hosts-hn'), 'utf8');
  assert.ok(content.startsWith('# Kubernetes-managed hosts file (host network).\n'));
  assert.ok(content.endsWith('# Entries added by HostAliases.\n9.9.9.9\tnine\n'));
});

test('makeContainerMounts: CreateContainerConfigError messages', async () => {
  const cases: [Container['volumeMounts'], string][] = [
    [[{ name: 'nope', mountPath: '/x' }], 'cannot find volume "nope" to mount into container "app"'],
    [[{ name: 'data', mountPath: '/x', subPath: '/abs' }], 'error SubPath `/abs` must not be an absolute path'],
    [[{ name: 'data', mountPath: '/x', subPath: 'a/../../b' }], "unable to provision SubPath `a/../../b`: must not contain '..'"],
    [[{ name: 'data', mountPath: '/x', subPath: 'escape' }], 'failed to prepare subPath for volumeMount "data" of container "app"'],
    [[{ name: 'data', mountPath: '/x', subPathExpr: '$(EMPTY)/$(UNSET)' }], 'missing value for EMPTY, UNSET'],
    [[{ name: 'data', mountPath: '/x', mountPropagation: 'Sideways' }], 'invalid MountPropagation mode: "Sideways"'],
    [[{ name: 'data', mountPath: '/x', readOnly: true, recursiveReadOnly: 'Enabled' }], 'failed to resolve recursive read-only mode: volume "data" requested recursive read-only mode, but it is not supported by the runtime'],
  ];
  for (const [volumeMounts, message] of cases) {
    const c: Container = { name: 'app', volumeMounts };
    await assert.rejects(makeContainerMounts(pod(c), c, base()), (e: Error) => {
      assert.ok(e instanceof CreateContainerConfigError);
      assert.equal(e.message, message);
      return true;
    });
  }
});

test('translateMountPropagation, resolveRecursiveReadOnly, expandSubPathExpr', () => {
  assert.equal(translateMountPropagation(undefined), 'PROPAGATION_PRIVATE');
  assert.equal(translateMountPropagation('None'), 'PROPAGATION_PRIVATE');
  assert.equal(translateMountPropagation('Bidirectional'), 'PROPAGATION_BIDIRECTIONAL');
  assert.equal(resolveRecursiveReadOnly({ name: 'v', mountPath: '/x', readOnly: true, recursiveReadOnly: 'IfPossible' }, false), false);
  assert.equal(resolveRecursiveReadOnly({ name: 'v', mountPath: '/x', readOnly: true, recursiveReadOnly: 'IfPossible' }, true), true);
  assert.throws(() => resolveRecursiveReadOnly({ name: 'v', mountPath: '/x', recursiveReadOnly: 'Enabled' }, true), /requested recursive read-only mode, but it is not read-only/);
  assert.equal(expandSubPathExpr('$(A)/$$(A)', [{ name: 'A', value: 'x' }]), 'x/$(A)');
});
