import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticObjectSources } from '../objects/sources.ts';
import type { Pod, Volume } from '../pods/api-types.ts';
import { canMount, listMountPoints, SystemMounter } from './mounter.ts';
import { VolumeManager, mountedVolumeNames, volumeObjectRefs } from './volume-manager.ts';

const ROOT = canMount();
const skipNoRoot = ROOT ? false : 'needs root to mount tmpfs';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let root: string;
let hostDir: string;
let sources: StaticObjectSources;
let vm: VolumeManager;
let podCount = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mizzen-kubelet-root-'));
  hostDir = await mkdtemp(join(tmpdir(), 'mizzen-hostpath-'));
  sources = new StaticObjectSources();
  sources.addConfigMap({ metadata: { namespace: 'ns', name: 'cfg' }, data: { 'app.conf': 'a=1', other: 'x' }, binaryData: { 'blob.bin': b64('\x00\x01') } });
  sources.addSecret({ metadata: { namespace: 'ns', name: 'creds' }, data: { user: b64('admin'), pass: b64('s3cret') } });
  vm = new VolumeManager({
    rootDir: root,
    sources,
    nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }),
    mounter: ROOT ? new SystemMounter() : null,
  });
});

after(async () => {
  for (const uid of await vm.podsOnDisk()) await vm.tearDown(uid);
  await rm(root, { recursive: true, force: true });
  await rm(hostDir, { recursive: true, force: true });
});

function pod(volumes: Volume[], extra: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  podCount++;
  return {
    metadata: { name: `p${podCount}`, namespace: 'ns', uid: `uid-${podCount}`, labels: { app: 'web' }, annotations: { team: 'a' }, ...meta },
    spec: {
      serviceAccountName: 'robot',
      containers: [{ name: 'c', resources: { limits: { memory: '64Mi' } }, volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}` })) }],
      volumes,
      ...extra,
    },
  };
}

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => !n.startsWith('..'))) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) for (const [k, v] of Object.entries(await files(p))) out[`${name}/${k}`] = v;
    else out[name] = await readFile(p, 'utf8');
  }
  return out;
}

test('mountedVolumeNames and volumeObjectRefs', () => {
  const p = pod([{ name: 'a', emptyDir: {} }]);
  p.spec.volumes!.push({ name: 'unused', configMap: { name: 'x' } }, { name: 'proj', projected: { sources: [{ secret: { name: 's' } }, { configMap: { name: 'y' } }] } });
  p.spec.initContainers = [{ name: 'i', volumeMounts: [{ name: 'proj', mountPath: '/p' }] }];
  assert.deepEqual([...mountedVolumeNames(p)].sort(), ['a', 'proj']);
  assert.deepEqual(volumeObjectRefs(p), { configMaps: new Set(['x', 'y']), secrets: new Set(['s']) });
});

test('emptyDir on disk: directory under the pod dir, mode 0777', async () => {
  const p = pod([{ name: 'scratch', emptyDir: {} }]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors, []);
  const v = r.volumes.get('scratch')!;
  assert.equal(v.hostPath, join(root, 'pods', p.metadata.uid!, 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
  assert.equal(v.readOnly, false);
  assert.equal((await stat(v.hostPath)).mode & 0o777, 0o777);
  // Idempotent, and data survives a second setUp.
  await writeFile(join(v.hostPath, 'keep'), 'x');
  await vm.setUp(p);
  assert.equal(await readFile(join(v.hostPath, 'keep'), 'utf8'), 'x');
  await vm.tearDown(p.metadata.uid!);
  await assert.rejects(stat(join(root, 'pods', p.metadata.uid!)));
});

test('emptyDir medium Memory is a tmpfs sized min(node allocatable, pod limit, sizeLimit)', { skip: skipNoRoot }, async () => {
  const p = pod([{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }, { name: 'mem2', emptyDir: { medium: 'Memory' } }]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors, []);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const line = (dir: string) => info.split('\n').find((l) => l.split(' ')[4] === dir) ?? '';
  assert.match(line(r.volumes.get('mem')!.hostPath), / - tmpfs tmpfs rw,.*size=16384k/);
  assert.match(line(r.volumes.get('mem2')!.hostPath), / - tmpfs tmpfs rw,.*size=65536k/); // the pod's 64Mi limit
  await vm.setUp(p); // no second mount
  assert.equal((await listMountPoints()).filter((m) => m === r.volumes.get('mem')!.hostPath).length, 1);
  await vm.tearDown(p.metadata.uid!);
  assert.equal((await listMountPoints()).some((m) => m.startsWith(join(root, 'pods', p.metadata.uid!))), false);
});

test('emptyDir medium Memory without mount rights fails with a clear FailedMount', async () => {
  const noMount = new VolumeManager({ rootDir: root, sources, mounter: null });
  const p = pod([{ name: 'mem', emptyDir: { medium: 'Memory' } }]);
  const r = await noMount.setUp(p);
  assert.deepEqual(r.errors, [
    { volume: 'mem', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "mem" : memory-backed emptyDir needs tmpfs mounts, which this kubelet cannot make (not running as root)' },
  ]);
  await noMount.tearDown(p.metadata.uid!);
});

test('configMap volumes: all keys, items with modes, optional, errors', async () => {
  const p = pod([
    { name: 'all', configMap: { name: 'cfg' } },
    { name: 'some', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }], defaultMode: 0o640 } },
    { name: 'opt', configMap: { name: 'nope', optional: true } },
    { name: 'missing', configMap: { name: 'nope' } },
    { name: 'badkey', configMap: { name: 'cfg', items: [{ key: 'nokey', path: 'x' }] } },
    { name: 'optkey', configMap: { name: 'cfg', optional: true, items: [{ key: 'nokey', path: 'x' }, { key: 'other', path: 'y' }] } },
  ]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors.map((e) => e.message), [
    'MountVolume.SetUp failed for volume "missing" : configmap "nope" not found',
    'MountVolume.SetUp failed for volume "badkey" : configmap references non-existent config key: nokey',
  ]);
  const all = r.volumes.get('all')!;
  assert.equal(all.readOnly, true);
  assert.match(all.hostPath, /kubernetes\.io~configmap\/all$/);
  assert.deepEqual(await files(all.hostPath), { 'app.conf': 'a=1', other: 'x', 'blob.bin': '\x00\x01' });
  assert.equal((await stat(join(all.hostPath, 'app.conf'))).mode & 0o777, 0o644);
  assert.equal((await lstat(join(all.hostPath, 'app.conf'))).isSymbolicLink(), true);
  const some = r.volumes.get('some')!;
  assert.deepEqual(await files(some.hostPath), { 'conf/app.conf': 'a=1' });
  assert.equal((await stat(join(some.hostPath, 'conf/app.conf'))).mode & 0o777, 0o600);
  assert.deepEqual(await files(r.volumes.get('opt')!.hostPath), {});
  assert.deepEqual(await files(r.volumes.get('optkey')!.hostPath), { y: 'x' });
  await vm.tearDown(p.metadata.uid!);
});

test('refresh propagates ConfigMap updates atomically; a deleted ConfigMap keeps the old content', async () => {
  const cm = { metadata: { namespace: 'ns', name: 'live' }, data: { v: '1' } };
  sources.addConfigMap(cm);
  const p = pod([{ name: 'live', configMap: { name: 'live' } }]);
  const r = await vm.setUp(p);
  const dir = r.volumes.get('live')!.hostPath;
  assert.equal(await readFile(join(dir, 'v'), 'utf8'), '1');
  sources.addConfigMap({ ...cm, data: { v: '2', w: 'new' } });
  assert.deepEqual(await vm.refresh(p), []);
  assert.deepEqual(await files(dir), { v: '2', w: 'new' });
  sources.configMaps.delete('ns/live');
  assert.deepEqual(await vm.refresh(p), [{ volume: 'live', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "live" : configmap "live" not found' }]);
  assert.deepEqual(await files(dir), { v: '2', w: 'new' });
  // setUp of a running pod: the volume stays usable, the failure is a remount error only.
  const again = await vm.setUp(p);
  assert.deepEqual(again.errors, []);
  assert.equal(again.remountErrors.length, 1);
  assert.ok(again.volumes.has('live'));
  await vm.tearDown(p.metadata.uid!);
});

test('secret volumes decode data, on tmpfs when the kubelet can mount', async () => {
  const p = pod([
    { name: 's', secret: { secretName: 'creds', items: [{ key: 'pass', path: 'password' }], defaultMode: 0o400 } },
    { name: 'gone', secret: { secretName: 'nope' } },
    { name: 'opt', secret: { secretName: 'nope', optional: true } },
    { name: 'badkey', secret: { secretName: 'creds', items: [{ key: 'x', path: 'x' }] } },
  ]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors.map((e) => e.message), [
    'MountVolume.SetUp failed for volume "gone" : secret "nope" not found',
    'MountVolume.SetUp failed for volume "badkey" : references non-existent secret key: x',
  ]);
  const dir = r.volumes.get('s')!.hostPath;
  assert.match(dir, /kubernetes\.io~secret\/s$/);
  assert.deepEqual(await files(dir), { password: 's3cret' });
  assert.equal((await stat(join(dir, 'password'))).mode & 0o777, 0o400);
  if (ROOT) assert.ok((await listMountPoints()).includes(dir), 'secret volume is a tmpfs');
  await vm.tearDown(p.metadata.uid!);
});

test('downwardAPI volumes: metadata fields and resources; refresh follows label changes', async () => {
  const vol: Volume = {
    name: 'info',
    downwardAPI: {
      items: [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'meta/annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } },
        { path: 'mem_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
        { path: 'cpu_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' }, mode: 0o600 },
      ],
    },
  };
  const p = pod([vol]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors, []);
  const dir = r.volumes.get('info')!.hostPath;
  assert.deepEqual(await files(dir), { name: p.metadata.name, labels: 'app="web"', 'meta/annotations': 'team="a"', app: 'web', mem_limit: '64', cpu_limit: '2000' });
  const updated: Pod = { ...p, metadata: { ...p.metadata, labels: { app: 'web', tier: 'front' } } };
  assert.deepEqual(await vm.refresh(updated), []);
  assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'app="web"\ntier="front"');
  const bad = pod([{ name: 'bad', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }, { path: 'y', resourceFieldRef: { containerName: 'nope', resource: 'limits.cpu' } }] } }]);
  const br = await vm.setUp(bad);
  assert.deepEqual(br.errors.map((e) => e.message), ['MountVolume.SetUp failed for volume "bad" : [unsupported fieldPath: spec.nodeName, container nope not found]']);
  await vm.tearDown(p.metadata.uid!);
  await vm.tearDown(bad.metadata.uid!);
});

test('projected volumes: configMap + secret + downwardAPI + serviceAccountToken', async () => {
  let issued = 0;
  sources.issueToken = (_ns, _sa, spec) => ({ token: `token-${++issued}-${spec.audiences?.join(',')}`, expirationTimestamp: new Date(Date.now() + (spec.expirationSeconds ?? 3600) * 1000).toISOString() });
  const vol: Volume = {
    name: 'all-in-one',
    projected: {
      defaultMode: 0o440,
      sources: [
        { configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'cfg/app.conf' }] } },
        { secret: { name: 'creds', items: [{ key: 'user', path: 'creds/user' }] } },
        { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        { serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } },
      ],
    },
  };
  const p = pod([vol]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors, []);
  const dir = r.volumes.get('all-in-one')!.hostPath;
  assert.match(dir, /kubernetes\.io~projected\/all-in-one$/);
  assert.deepEqual(await files(dir), { 'cfg/app.conf': 'a=1', 'creds/user': 'admin', ns: 'ns', token: 'token-1-vault' });
  assert.equal((await stat(join(dir, 'token'))).mode & 0o777, 0o440);
  const req = sources.tokenRequests.at(-1)!;
  assert.deepEqual(req, {
    namespace: 'ns',
    serviceAccount: 'robot',
    spec: { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid } },
  });
  // A refresh reuses the token while it is fresh.
  await vm.refresh(p);
  assert.equal(issued, 1);
  await vm.tearDown(p.metadata.uid!);

  sources.issueToken = undefined;
  const q = pod([{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'nope' } }] } }]);
  const qr = await vm.setUp(q);
  assert.deepEqual(qr.errors.map((e) => e.message), [
    'MountVolume.SetUp failed for volume "kube-api-access" : [failed to fetch token: the server could not find the requested resource (serviceaccounts/token) (this API server does not serve the TokenRequest API, serviceaccounts/token), configmap "nope" not found]',
  ]);
  await vm.tearDown(q.metadata.uid!);
});

test('hostPath type checks with upstream messages', async () => {
  await mkdir(join(hostDir, 'dir'));
  await writeFile(join(hostDir, 'file'), 'x');
  const sock = join(hostDir, 'sock');
  const server = createServer();
  await new Promise<void>((res) => server.listen(sock, res));
  try {
    const cases: [string, string | undefined, string | undefined][] = [
      [join(hostDir, 'dir'), undefined, undefined],
      [join(hostDir, 'nothing-there'), '', undefined],
      [join(hostDir, 'dir'), 'Directory', undefined],
      [join(hostDir, 'file'), 'Directory', `hostPath type check failed: ${join(hostDir, 'file')} is not a directory`],
      [join(hostDir, 'nothing'), 'Directory', `hostPath type check failed: ${join(hostDir, 'nothing')} is not a directory`],
      [join(hostDir, 'made/deep'), 'DirectoryOrCreate', undefined],
      [join(hostDir, 'file'), 'DirectoryOrCreate', `hostPath type check failed: ${join(hostDir, 'file')} is not a directory`],
      [join(hostDir, 'file'), 'File', undefined],
      [join(hostDir, 'dir'), 'File', `hostPath type check failed: ${join(hostDir, 'dir')} is not a file`],
      [join(hostDir, 'newfile'), 'FileOrCreate', undefined],
      [sock, 'Socket', undefined],
      [join(hostDir, 'file'), 'Socket', `hostPath type check failed: ${join(hostDir, 'file')} is not a socket file`],
      ['/dev/null', 'CharDevice', undefined],
      [join(hostDir, 'file'), 'CharDevice', `hostPath type check failed: ${join(hostDir, 'file')} is not a character device`],
      ['/dev/null', 'BlockDevice', 'hostPath type check failed: /dev/null is not a block device'],
      [join(hostDir, 'dir'), 'Weird', 'Weird is an invalid volume type'],
      [`${hostDir}/dir/../file`, undefined, `invalid HostPath \`${hostDir}/dir/../file\`: must not contain '..'`],
    ];
    const vols: Volume[] = cases.map(([path, type], i) => ({ name: `hp${i}`, hostPath: { path, type } }));
    const p = pod(vols);
    const r = await vm.setUp(p);
    cases.forEach(([path, type, err], i) => {
      const got = r.errors.find((e) => e.volume === `hp${i}`);
      if (err === undefined) {
        assert.equal(got, undefined, `${path} ${type}`);
        assert.deepEqual(r.volumes.get(`hp${i}`), { name: `hp${i}`, plugin: 'kubernetes.io/host-path', hostPath: path, readOnly: false });
      } else {
        assert.equal(got?.message, `MountVolume.SetUp failed for volume "hp${i}" : ${err}`, `${path} ${type}`);
      }
    });
    assert.equal((await stat(join(hostDir, 'made/deep'))).isDirectory(), true);
    assert.equal((await stat(join(hostDir, 'newfile'))).mode & 0o777, 0o644);
    await vm.tearDown(p.metadata.uid!);
    assert.equal((await stat(join(hostDir, 'file'))).isFile(), true, 'tearDown never touches host paths');
  } finally {
    server.close();
  }
});

test('persistentVolumeClaim volumes: bound to hostPath or local PVs; upstream errors otherwise', async () => {
  await mkdir(join(hostDir, 'pv-data'), { recursive: true });
  sources.addClaim({ metadata: { namespace: 'ns', name: 'unbound', uid: 'c0' }, spec: {}, status: { phase: 'Pending' } });
  sources.addClaim({ metadata: { namespace: 'ns', name: 'data', uid: 'c1' }, spec: { volumeName: 'pv-host' }, status: { phase: 'Bound' } });
  sources.addClaim({ metadata: { namespace: 'ns', name: 'local', uid: 'c2' }, spec: { volumeName: 'pv-local' }, status: { phase: 'Bound' } });
  sources.addClaim({ metadata: { namespace: 'ns', name: 'stolen', uid: 'c3' }, spec: { volumeName: 'pv-host' }, status: { phase: 'Bound' } });
  sources.addClaim({ metadata: { namespace: 'ns', name: 'nfs', uid: 'c4' }, spec: { volumeName: 'pv-nfs' }, status: { phase: 'Bound' } });
  sources.addVolume({ metadata: { name: 'pv-host' }, spec: { hostPath: { path: join(hostDir, 'pv-data'), type: 'Directory' }, claimRef: { namespace: 'ns', name: 'data', uid: 'c1' } } });
  sources.addVolume({ metadata: { name: 'pv-local' }, spec: { local: { path: join(hostDir, 'pv-data') }, claimRef: { namespace: 'ns', name: 'local', uid: 'c2' } } });
  sources.addVolume({ metadata: { name: 'pv-nfs' }, spec: { nfs: { server: 'x', path: '/' }, claimRef: { namespace: 'ns', name: 'nfs', uid: 'c4' } } });
  const p = pod([
    { name: 'a', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
    { name: 'b', persistentVolumeClaim: { claimName: 'local' } },
    { name: 'c', persistentVolumeClaim: { claimName: 'unbound' } },
    { name: 'd', persistentVolumeClaim: { claimName: 'missing' } },
    { name: 'e', persistentVolumeClaim: { claimName: 'stolen' } },
    { name: 'f', persistentVolumeClaim: { claimName: 'nfs' } },
  ]);
  const r = await vm.setUp(p);
  assert.deepEqual(r.volumes.get('a'), { name: 'a', plugin: 'kubernetes.io/host-path', hostPath: join(hostDir, 'pv-data'), readOnly: true });
  assert.deepEqual(r.volumes.get('b'), { name: 'b', plugin: 'kubernetes.io/local-volume', hostPath: join(hostDir, 'pv-data'), readOnly: false });
  assert.deepEqual(r.errors.map((e) => e.message), [
    'error processing PVC ns/unbound: PVC is not bound',
    'error processing PVC ns/missing: failed to fetch PVC from API server: persistentvolumeclaims "missing" not found',
    'error processing PVC ns/stolen: found PV object pv-host but its pv.Spec.ClaimRef.UID c1 does not point to claim.UID c3',
    'MountVolume.SetUp failed for volume "f" : no volume plugin matched',
  ]);
  await vm.tearDown(p.metadata.uid!);
});

test('fsGroup: managed volumes are group-owned and group-readable', { skip: ROOT ? false : 'needs root to chown volumes to the fsGroup' }, async () => {
  const p = pod([{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o600 } }], { securityContext: { fsGroup: 4321 } });
  const r = await vm.setUp(p);
  assert.deepEqual(r.errors, []);
  const scratch = await stat(r.volumes.get('scratch')!.hostPath);
  assert.equal(scratch.gid, 4321);
  assert.equal(scratch.mode & 0o2000, 0o2000);
  const conf = await stat(join(r.volumes.get('cfg')!.hostPath, 'app.conf'));
  assert.equal(conf.gid, 4321);
  assert.equal(conf.mode & 0o777, 0o640);
  await vm.tearDown(p.metadata.uid!);
});

test('tearDown and cleanupOrphans', async () => {
  const a = pod([{ name: 'x', emptyDir: {} }]);
  const b = pod([{ name: 'y', secret: { secretName: 'creds' } }]);
  await vm.setUp(a);
  await vm.setUp(b);
  assert.ok((await vm.podsOnDisk()).includes(a.metadata.uid!));
  // A pod log directory (<ns>_<name>_<uid>) beside the pod directories is not a pod.
  await mkdir(join(root, 'pods', 'ns_web_uid-x'), { recursive: true });
  await vm.cleanupOrphans(new Set([a.metadata.uid!]));
  assert.ok((await stat(join(root, 'pods', 'ns_web_uid-x'))).isDirectory());
  const left = await vm.podsOnDisk();
  assert.ok(left.includes(a.metadata.uid!));
  assert.ok(!left.includes(b.metadata.uid!));
  await vm.tearDown(a.metadata.uid!);
  await vm.tearDown(a.metadata.uid!); // repeatable
  assert.equal(vm.volumesFor(a.metadata.uid!), undefined);
});

test('a symlink inside an emptyDir does not make tearDown follow it out', async () => {
  const p = pod([{ name: 'x', emptyDir: {} }]);
  const r = await vm.setUp(p);
  await writeFile(join(hostDir, 'precious'), 'keep');
  await symlink(hostDir, join(r.volumes.get('x')!.hostPath, 'escape'));
  await vm.tearDown(p.metadata.uid!);
  assert.equal(await readFile(join(hostDir, 'precious'), 'utf8'), 'keep');
});

test('refresh leaves volumes whose inputs did not change alone; changed ConfigMaps, labels and renewed tokens still reach the files', async () => {
  // A real mounter that counts how often the mount table is read (root only; on disk otherwise).
  class CountingMounter extends SystemMounter {
    reads = 0;
    override mountPointsUnder(dir: string): Promise<string[]> {
      this.reads++;
      return super.mountPointsUnder(dir);
    }
  }
  const mounter = ROOT ? new CountingMounter() : null;
  let now = Date.now();
  let issued = 0;
  const src = new StaticObjectSources();
  src.addConfigMap({ metadata: { namespace: 'ns', name: 'steady', resourceVersion: '1' }, data: { v: '1' } });
  src.issueToken = (_ns, _sa, spec) => ({ token: `tok-${++issued}`, expirationTimestamp: new Date(now + (spec.expirationSeconds ?? 3600) * 1000).toISOString() });
  const own = new VolumeManager({ rootDir: root, sources: src, mounter, now: () => now });
  const p = pod([
    { name: 'cm', configMap: { name: 'steady' } },
    { name: 'labels', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
    { name: 'api', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { configMap: { name: 'steady' } }] } },
  ]);
  const r = await own.setUp(p);
  assert.deepEqual(r.errors, []);
  const dir = (name: string) => r.volumes.get(name)!.hostPath;
  const dataDir = async (name: string) => (await import('node:fs/promises')).readlink(join(dir(name), '..data'));
  const before = { cm: await dataDir('cm'), labels: await dataDir('labels'), api: await dataDir('api') };
  const mountReads = mounter?.reads ?? 0;

  // Nothing changed: no mount table read, no file read back (an edit made on the host inside the
  // timestamped directory stays), no new timestamped directory.
  await writeFile(join(dir('cm'), before.cm, 'v'), 'edited on the host');
  assert.deepEqual(await own.refresh(p), []);
  assert.deepEqual(await own.refresh(p), []);
  assert.equal(mounter?.reads ?? 0, mountReads);
  assert.deepEqual({ cm: await dataDir('cm'), labels: await dataDir('labels'), api: await dataDir('api') }, before);
  assert.equal(await readFile(join(dir('cm'), 'v'), 'utf8'), 'edited on the host');
  assert.equal(issued, 1);

  // The ConfigMap changed: both volumes that show it are written, the other one is not.
  src.addConfigMap({ metadata: { namespace: 'ns', name: 'steady', resourceVersion: '2' }, data: { v: '2' } });
  assert.deepEqual(await own.refresh(p), []);
  assert.deepEqual(await files(dir('cm')), { v: '2' });
  assert.deepEqual(await files(dir('api')), { token: 'tok-1', v: '2' });
  assert.notEqual(await dataDir('cm'), before.cm);
  assert.notEqual(await dataDir('api'), before.api);
  assert.equal(await dataDir('labels'), before.labels);

  // The pod's labels changed: the downwardAPI volume follows.
  const relabelled: Pod = { ...p, metadata: { ...p.metadata, labels: { app: 'web', tier: 'db' } } };
  assert.deepEqual(await own.refresh(relabelled), []);
  assert.equal(await readFile(join(dir('labels'), 'labels'), 'utf8'), 'app="web"\ntier="db"');

  // The token reached 80 % of its life: a new one is requested and written.
  now += 3000 * 1000;
  assert.deepEqual(await own.refresh(relabelled), []);
  assert.equal(issued, 2);
  assert.equal(await readFile(join(dir('api'), 'token'), 'utf8'), 'tok-2');

  // After a tear-down, a new set-up writes everything again.
  await own.tearDown(p.metadata.uid!);
  const again = await own.setUp(relabelled);
  assert.deepEqual(await files(again.volumes.get('cm')!.hostPath), { v: '2' });
  await own.tearDown(p.metadata.uid!);
  mounter?.close();
});
