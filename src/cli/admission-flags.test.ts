import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authFlags } from './options.ts';

test('admission and hardening flags as upstream names them', () => {
  const f = authFlags(
    {
      'enable-admission-plugins': 'NodeRestriction,PodSecurity',
      'disable-admission-plugins': 'ResourceQuota',
      'audit-policy-file': '/etc/mizzen/audit.yaml',
      'audit-log-path': '-',
      'encryption-provider-config': '/etc/mizzen/enc.yaml',
      'max-requests-inflight': '100',
      'max-mutating-requests-inflight': '0',
    },
    'up',
  );
  assert.deepEqual(f, {
    enableAdmissionPlugins: ['NodeRestriction', 'PodSecurity'],
    disableAdmissionPlugins: ['ResourceQuota'],
    auditPolicyFile: '/etc/mizzen/audit.yaml',
    auditLogPath: '-',
    encryptionProviderConfig: '/etc/mizzen/enc.yaml',
    maxRequestsInflight: 100,
    maxMutatingRequestsInflight: 0,
  });
});

test('unknown plugin names and bad limits are usage errors', () => {
  assert.throws(() => authFlags({ 'enable-admission-plugins': 'AlwaysPullImagez' }, 'up'), /unknown admission plugins: AlwaysPullImagez/);
  assert.throws(() => authFlags({ 'max-requests-inflight': '-1' }, 'apiserver'), /invalid --max-requests-inflight "-1"/);
});
