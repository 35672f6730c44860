import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from './api-types.ts';
import { CreateContainerConfigError } from './env.ts';
import {
  DEFAULT_MASKED_PATHS,
  appArmorProfile,
  containerSecurityContext,
  namespacesForPod,
  podSysctls,
  sandboxSecurityContext,
  seccompProfile,
  sysctlDotName,
  verifyRunAsNonRoot,
} from './security-context.ts';

function pod(container: Container, spec: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1', annotations }, spec: { containers: [container], ...spec } };
}
const opts = { seccompProfileRoot: '/var/lib/kubelet/seccomp' };

test('verifyRunAsNonRoot: upstream messages', () => {
  const where = '(pod: "p_ns(u1)", container: c)';
  const cases: [string, Pod, { uid?: number; username?: string }, string | undefined][] = [
    ['not requested', pod({ name: 'c' }), { uid: 0 }, undefined],
    ['runAsUser 0', pod({ name: 'c', securityContext: { runAsNonRoot: true, runAsUser: 0 } }), {}, `container's runAsUser breaks non-root policy ${where}`],
    ['runAsUser 1000', pod({ name: 'c', securityContext: { runAsNonRoot: true, runAsUser: 1000 } }), { uid: 0 }, undefined],
    ['image root', pod({ name: 'c' }, { securityContext: { runAsNonRoot: true } }), { uid: 0 }, `container has runAsNonRoot and image will run as root ${where}`],
    ['image non-root', pod({ name: 'c' }, { securityContext: { runAsNonRoot: true } }), { uid: 65534 }, undefined],
    [
      'image named user',
      pod({ name: 'c', securityContext: { runAsNonRoot: true } }),
      { username: 'nobody' },
      `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root ${where}`,
    ],
    ['pod runAsUser satisfies', pod({ name: 'c', securityContext: { runAsNonRoot: true } }, { securityContext: { runAsUser: 5 } }), { uid: 0 }, undefined],
    ['container false overrides pod true', pod({ name: 'c', securityContext: { runAsNonRoot: false } }, { securityContext: { runAsNonRoot: true } }), { uid: 0 }, undefined],
  ];
  for (const [name, p, image, message] of cases) {
    if (message === undefined) assert.doesNotThrow(() => verifyRunAsNonRoot(p, p.spec.containers[0], image), name);
    else
      assert.throws(
        () => verifyRunAsNonRoot(p, p.spec.containers[0], image),
        (e: Error) => e instanceof CreateContainerConfigError && e.message === message,
        name,
      );
  }
});

test('containerSecurityContext maps the fields', () => {
  const c: Container = {
    name: 'c',
    securityContext: {
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsGroup: 3000,
    },
  };
  const p = pod(c, { securityContext: { runAsUser: 1000, fsGroup: 2000, supplementalGroups: [4000, 5000] } });
  assert.deepEqual(containerSecurityContext(p, c, { uid: 0 }, opts), {
    capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
    privileged: false,
    runAsUser: { value: 1000 },
    runAsGroup: { value: 3000 },
    readonlyRootfs: true,
    seccomp: { profileType: 'Unconfined' },
    namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
    supplementalGroups: [2000, 4000, 5000],
    noNewPrivs: true,
    maskedPaths: DEFAULT_MASKED_PATHS,
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  });
  // Image user fills runAsUser only when nothing sets it; procMount Unmasked clears the masks.
  const bare: Container = { name: 'c', securityContext: { procMount: 'Unmasked', privileged: true } };
  const sc = containerSecurityContext(pod(bare), bare, { uid: 33, username: 'www' }, opts);
  assert.deepEqual(sc.runAsUser, { value: 33 });
  assert.equal(sc.runAsUsername, 'www');
  assert.equal(sc.privileged, true);
  assert.equal(sc.noNewPrivs, false);
  assert.deepEqual(sc.maskedPaths, []);
});

test('seccomp: container field over pod field over default', () => {
  const cases: [string, Pod, boolean, object][] = [
    ['none', pod({ name: 'c' }), false, { profileType: 'Unconfined' }],
    ['none with seccompDefault', pod({ name: 'c' }), true, { profileType: 'RuntimeDefault' }],
    ['pod RuntimeDefault', pod({ name: 'c' }, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }), false, { profileType: 'RuntimeDefault' }],
    [
      'container Unconfined wins',
      pod({ name: 'c', securityContext: { seccompProfile: { type: 'Unconfined' } } }, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }),
      true,
      { profileType: 'Unconfined' },
    ],
    [
      'Localhost',
      pod({ name: 'c', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } }),
      false,
      { profileType: 'Localhost', localhostRef: '/var/lib/kubelet/seccomp/profiles/audit.json' },
    ],
  ];
  for (const [name, p, seccompDefault, want] of cases) assert.deepEqual(seccompProfile(p, p.spec.containers[0], { ...opts, seccompDefault }), want, name);
  const bad = pod({ name: 'c', securityContext: { seccompProfile: { type: 'Localhost' } } });
  assert.throws(() => seccompProfile(bad, bad.spec.containers[0], opts), /localhostProfile must be set if seccompProfile type is Localhost\./);
});

test('appArmor: fields and the deprecated annotation', () => {
  assert.equal(appArmorProfile(pod({ name: 'c' }), { name: 'c' }), undefined);
  const viaAnn = pod({ name: 'c' }, {}, { 'container.apparmor.security.beta.kubernetes.io/c': 'localhost/k8s-nginx' });
  assert.deepEqual(appArmorProfile(viaAnn, viaAnn.spec.containers[0]), { profileType: 'Localhost', localhostRef: 'k8s-nginx' });
  const viaField = pod({ name: 'c', securityContext: { appArmorProfile: { type: 'Unconfined' } } });
  assert.deepEqual(appArmorProfile(viaField, viaField.spec.containers[0]), { profileType: 'Unconfined' });
});

test('namespaces, sandbox security context and sysctls', () => {
  assert.deepEqual(namespacesForPod(pod({ name: 'c' }, { hostNetwork: true, hostPID: true, hostIPC: true })), { network: 'NODE', pid: 'NODE', ipc: 'NODE' });
  assert.deepEqual(namespacesForPod(pod({ name: 'c' }, { shareProcessNamespace: true })), { network: 'POD', pid: 'POD', ipc: 'POD' });
  const p = pod({ name: 'c', securityContext: { privileged: true } }, {
    securityContext: { runAsUser: 1, runAsGroup: 2, fsGroup: 3, supplementalGroups: [4], sysctls: [{ name: 'net/ipv4/ip_local_port_range', value: '1024 65000' }, { name: 'kernel.shm_rmid_forced', value: '1' }] },
  });
  assert.deepEqual(sandboxSecurityContext(p), {
    privileged: true,
    seccomp: { profileType: 'RuntimeDefault' },
    namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
    runAsUser: { value: 1 },
    runAsGroup: { value: 2 },
    supplementalGroups: [3, 4],
  });
  assert.deepEqual(podSysctls(p), { 'net.ipv4.ip_local_port_range': '1024 65000', 'kernel.shm_rmid_forced': '1' });
  assert.equal(sysctlDotName('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  assert.equal(sysctlDotName('net.ipv4.conf.eno2/100.rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
});
