// `mizzen cloud-controller-manager` start-up: usage errors (status 2) and cloud-config errors that
// name the file or the field (status 1), before anything runs; `mizzen up --cloud-provider` checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMizzen } from '../../e2e/harness.ts';

test('usage and cloud-config errors are clear and early', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mizzen-ccm-cli-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    const help = await runMizzen(['cloud-controller-manager', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: mizzen cloud-controller-manager --kubeconfig FILE --cloud-provider NAME/);
    assert.match(help.stdout, /--cloud-config FILE/);

    const noKubeconfig = await runMizzen(['cloud-controller-manager', '--cloud-provider', 'local']);
    assert.equal(noKubeconfig.code, 2);
    assert.match(noKubeconfig.stderr, /--kubeconfig is required/);
    const unknown = await runMizzen(['cloud-controller-manager', '--kubeconfig', kubeconfig, '--cloud-provider', 'openstack']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown --cloud-provider "openstack" \(known: local, aws, gcp, azure\)/);

    const missing = await runMizzen(['cloud-controller-manager', '--kubeconfig', kubeconfig, '--cloud-provider', 'aws', '--cloud-config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), `mizzen: cloud-config for provider "aws": cannot read ${join(dir, 'nope.yaml')}: ENOENT`);

    await writeFile(join(dir, 'aws.yaml'), 'vpcId: vpc-1\n');
    const noRegion = await runMizzen(['cloud-controller-manager', '--kubeconfig', kubeconfig, '--cloud-provider', 'aws', '--cloud-config', join(dir, 'aws.yaml')]);
    assert.equal(noRegion.code, 1);
    assert.equal(noRegion.stderr.trim(), 'mizzen: cloud-config for provider "aws": region: is required');

    await writeFile(join(dir, 'local.yaml'), 'loadBalancer: {ipRange: 127.0.100.0/99}\n');
    const badRange = await runMizzen(['cloud-controller-manager', '--kubeconfig', kubeconfig, '--cloud-provider', 'local', '--cloud-config', join(dir, 'local.yaml')]);
    assert.equal(badRange.code, 1);
    assert.match(badRange.stderr, /cloud-config for provider "local": loadBalancer\.ipRange: must be an IPv4 CIDR/);

    const upBad = await runMizzen(['up', '--data-dir', join(dir, 'data'), '--cloud-provider', 'nimbus']);
    assert.equal(upBad.code, 2);
    assert.match(upBad.stderr, /invalid --cloud-provider "nimbus": must be one of local, aws, gcp, azure, none/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
