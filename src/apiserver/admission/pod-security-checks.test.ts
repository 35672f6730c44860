// A namespace pinned to an older Pod Security Standards version is evaluated with that version's
// checks: what upstream's pod-security-admission added or changed later does not apply to it.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from './pod-security-checks.ts';

/** A pod that passes restricted:latest, with `patch` applied to its first container's securityContext. */
function pod(containerSC: Record<string, unknown> = {}, podSC: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, ...podSC },
    containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...containerSC } }],
    ...extra,
  };
}
const reasons = (level: 'baseline' | 'restricted', version: string, spec: any, meta: any = {}) => evaluate(level, version, meta, spec).map((v) => v.reason);

describe('PodSecurity checks by version', () => {
  test('the compliant pod passes at every version', () => {
    for (const v of ['latest', 'v1.0', 'v1.8', 'v1.19', 'v1.22', 'v1.25', 'v1.32', 'v1.99']) assert.deepEqual(reasons('restricted', v, pod()), [], v);
  });

  test('runAsUser=0 is refused from 1.23 on', () => {
    const p = pod({ runAsUser: 0 });
    assert.deepEqual(reasons('restricted', 'latest', p), ['runAsUser=0']);
    assert.deepEqual(reasons('restricted', 'v1.23', p), ['runAsUser=0']);
    assert.deepEqual(reasons('restricted', 'v1.22', p), []);
  });

  test('before 1.22 restricted checks capabilities as baseline does', () => {
    const noDrop = pod({ capabilities: {} });
    assert.deepEqual(reasons('restricted', 'v1.22', noDrop), ['unrestricted capabilities']);
    assert.deepEqual(reasons('restricted', 'v1.21', noDrop), []);
    const sysAdmin = pod({ capabilities: { add: ['SYS_ADMIN'] } });
    assert.deepEqual(reasons('restricted', 'v1.21', sysAdmin), ['non-default capabilities']);
    assert.deepEqual(reasons('restricted', 'v1.21', pod({ capabilities: { add: ['CHOWN'] } })), []);
  });

  test('allowPrivilegeEscalation is required from 1.8 on', () => {
    const p = pod({ allowPrivilegeEscalation: undefined });
    assert.deepEqual(reasons('restricted', 'v1.8', p), ['allowPrivilegeEscalation != false']);
    assert.deepEqual(reasons('restricted', 'v1.7', p), []);
  });

  test('before 1.19 seccomp is judged by the alpha annotations only', () => {
    const none = pod({}, { seccompProfile: undefined });
    assert.deepEqual(reasons('restricted', 'v1.19', none), ['seccompProfile']);
    assert.deepEqual(reasons('restricted', 'v1.18', none), []);
    const ann = { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined', 'container.seccomp.security.alpha.kubernetes.io/c': 'runtime/default' } };
    const v = evaluate('baseline', 'v1.18', ann, none);
    assert.deepEqual(v, [{ reason: 'seccompProfile', detail: 'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"' }]);
    assert.deepEqual(reasons('baseline', 'v1.19', none, ann), []);
    assert.deepEqual(reasons('baseline', 'v1.18', pod({}, { seccompProfile: { type: 'Unconfined' } })), []);
  });

  test('from 1.25 Windows pods are exempt from the Linux-only restricted checks', () => {
    const win = { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image: 'x' }] };
    assert.deepEqual(reasons('restricted', 'v1.24', win), ['allowPrivilegeEscalation != false', 'unrestricted capabilities', 'seccompProfile']);
    assert.deepEqual(reasons('restricted', 'v1.25', win), []);
    assert.deepEqual(reasons('restricted', 'latest', win), []);
  });

  test('sysctls allowed grow with the version', () => {
    const s = (name: string) => pod({}, { sysctls: [{ name, value: '1' }] });
    assert.deepEqual(reasons('baseline', 'v1.26', s('net.ipv4.ip_local_reserved_ports')), ['forbidden sysctls']);
    assert.deepEqual(reasons('baseline', 'v1.27', s('net.ipv4.ip_local_reserved_ports')), []);
    assert.deepEqual(reasons('baseline', 'v1.28', s('net.ipv4.tcp_keepalive_time')), ['forbidden sysctls']);
    assert.deepEqual(reasons('baseline', 'v1.29', s('net.ipv4.tcp_keepalive_time')), []);
    assert.deepEqual(reasons('baseline', 'latest', s('kernel.msgmax')), ['forbidden sysctls']);
  });

  test('SELinux type container_engine_t is allowed from 1.31, with upstream detail', () => {
    const p = pod({ seLinuxOptions: { type: 'container_engine_t' } });
    assert.deepEqual(evaluate('baseline', 'v1.30', {}, p), [
      { reason: 'seLinuxOptions', detail: 'container "c" set forbidden securityContext.seLinuxOptions: type "container_engine_t"' },
    ]);
    assert.deepEqual(reasons('baseline', 'v1.31', p), []);
    assert.deepEqual(evaluate('baseline', 'latest', {}, pod({ seLinuxOptions: { type: 'spc_t', user: 'u' } }))[0].detail, 'container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set');
  });

  test('the appArmorProfile field is checked from 1.30; the annotation always', () => {
    const field = pod({ appArmorProfile: { type: 'Unconfined' } });
    assert.deepEqual(reasons('baseline', 'v1.29', field), []);
    assert.deepEqual(reasons('baseline', 'v1.30', field), ['forbidden AppArmor profiles']);
    const ann = { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' } };
    assert.deepEqual(evaluate('baseline', 'v1.29', ann, pod()), [{ reason: 'forbidden AppArmor profile', detail: 'container.apparmor.security.beta.kubernetes.io/c="unconfined"' }]);
  });
});
