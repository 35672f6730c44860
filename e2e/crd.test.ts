// A CustomResourceDefinition's full life with the real kubectl against a real `mizzen up`: create
// the CronTab CRD of the Kubernetes documentation, use it (short names, categories, printer
// columns, explain), be refused by its schema and its CEL rule, drive its status and scale
// subresources, convert between versions through a conversion webhook this test runs on
// 127.0.0.1 with a certificate from its own CA, survive a restart, and delete it.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasKubectl, REPO_ROOT, startCluster, type Cluster } from './harness.ts';
import { eventually } from './poll.ts';
import { conversionCRD, startConversionWebhook, type ConversionWebhook } from '../src/testing/conversion-webhook.ts';

const testdata = join(REPO_ROOT, 'src', 'apiextensions', 'testdata');

describe('CustomResourceDefinition life with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed at /usr/bin/kubectl' }, () => {
  let c: Cluster;
  let webhook: ConversionWebhook;
  const k = (args: string[], input?: string) => c.kubectl(args, { input });
  const fails = async (args: string[], input?: string) => {
    const r = await c.kubectl(args, { input, allowFail: true });
    assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail:\n${r.stdout}`);
    return r.stderr;
  };

  before(async () => {
    // A short HPA period, so the HPA test does not wait 15 s for the first evaluation.
    c = await startCluster({ extraArgs: ['--horizontal-pod-autoscaler-sync-period', '1s'] });
    webhook = await startConversionWebhook();
  });
  after(async () => {
    await webhook?.close();
    await c?.stop();
  });

  test('create the CRD: established at once, discovered without a restart', async () => {
    await k(['apply', '-f', join(testdata, 'crontab-crd.yaml')]);
    await k(['wait', '--for=condition=Established', '--timeout=10s', 'crd/crontabs.stable.example.com']);
    const names = (await k(['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.acceptedNames.kind} {.status.storedVersions}'])).stdout;
    assert.equal(names, 'CronTab ["v1"]');
    const res = (await k(['api-resources', '--api-group=stable.example.com'])).stdout;
    assert.match(res, /crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
  });

  test('use it: create, short names, categories, printer columns, explain', async () => {
    await k(['apply', '-f', join(testdata, 'crontab.yaml')]);
    const table = (await k(['get', 'ct'])).stdout;
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
    assert.match(table, /my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s/);
    assert.match((await k(['get', 'all'])).stdout, /crontab\.stable\.example\.com\/my-new-cron-object/);
    const yaml = (await k(['get', 'crontab', 'my-new-cron-object', '-o', 'yaml'])).stdout;
    assert.match(yaml, /maxReplicas: 10/, 'defaults applied');
    const explain = (await k(['explain', 'crontab.spec.cronSpec'])).stdout;
    assert.match(explain, /FIELD: cronSpec <string>/);
    assert.match(explain, /A cron expression\./);
    assert.match((await k(['get', 'crontabs', '--field-selector', 'metadata.name=my-new-cron-object', '-o', 'name'])).stdout, /crontab\.stable\.example\.com\/my-new-cron-object/);
  });

  test('validate: the schema and the CEL rule refuse bad objects with upstream messages', async () => {
    const bad = (await readFile(join(testdata, 'crontab.yaml'), 'utf8')).replace('my-new-cron-object', 'bad').replace('"* * * * */5"', '"every minute"');
    const err = await fails(['apply', '-f', '-'], bad + '  replicas: 11\n');
    assert.match(err, /The CronTab "bad" is invalid: /);
    assert.match(err, /spec\.cronSpec: Invalid value: "every minute": spec\.cronSpec in body should match/);
    assert.match(err, /spec\.replicas: Invalid value: 11: spec\.replicas in body should be less than or equal to 10/);
    const cel = await fails(['patch', 'crontab', 'my-new-cron-object', '--type=merge', '-p', '{"spec":{"replicas":5,"maxReplicas":4}}']);
    assert.match(cel, /spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas\./);
    const strict = await fails(['apply', '--validate=strict', '-f', '-'], bad.replace('"every minute"', '"* * * * *"') + '  colour: red\n');
    assert.match(strict, /unknown field "spec\.colour"/);
  });

  test('status and scale subresources; kubectl scale', async () => {
    await k(['patch', 'crontab', 'my-new-cron-object', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":1,"labelSelector":"app=cron"}}']);
    await k(['scale', 'crontab', 'my-new-cron-object', '--replicas=3']);
    const got = (await k(['get', 'crontab', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas} {.status.replicas} {.metadata.generation}'])).stdout;
    assert.equal(got, '3 1 2');
    const scale = JSON.parse((await k(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale'])).stdout);
    assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['Scale', 3, 1, 'app=cron']);
  });

  test('an HPA drives the custom resource through its scale subresource', async () => {
    // Below minReplicas the HPA rescales before it has metrics, as upstream's does.
    await k(['autoscale', 'crontab', 'my-new-cron-object', '--min=4', '--max=6', '--cpu-percent=50']);
    await eventually(async () => (await k(['get', 'crontab', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas}'])).stdout === '4', { what: 'the HPA scaled the CronTab to its minimum', timeoutMs: 20_000 });
    assert.match((await k(['get', 'hpa', 'my-new-cron-object'])).stdout, /my-new-cron-object\s+CronTab\/my-new-cron-object\s+cpu: <unknown>\/50%\s+4\s+6\s+/);
    await k(['delete', 'hpa', 'my-new-cron-object']);
    await k(['scale', 'crontab', 'my-new-cron-object', '--replicas=3']);
  });

  test('versions: conversion through a webhook', async () => {
    await k(['apply', '-f', '-'], JSON.stringify(conversionCRD(webhook.url, webhook.caBundle)));
    await k(['wait', '--for=condition=Established', '--timeout=10s', 'crd/endpoints.conversion.example.com']);
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'conversion.example.com/v2', kind: 'Endpoint', metadata: { name: 'e1', namespace: 'default' }, spec: { host: 'localhost', port: '8080' } }));
    const v1 = (await k(['get', 'endpoints.v1.conversion.example.com', 'e1', '-o', 'jsonpath={.apiVersion} {.spec.hostPort}'])).stdout;
    assert.equal(v1, 'conversion.example.com/v1 localhost:8080');
    const v2 = (await k(['get', 'endpoints.v2.conversion.example.com', 'e1', '-o', 'jsonpath={.spec.host} {.spec.port}'])).stdout;
    assert.equal(v2, 'localhost 8080');
    assert.ok(webhook.reviews > 0);
  });

  test('custom resources survive a restart', async () => {
    await c.restart();
    assert.match((await k(['get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas}'])).stdout, /^3$/);
    const v2 = (await k(['get', 'endpoints.v2.conversion.example.com', 'e1', '-o', 'jsonpath={.spec.port}'])).stdout;
    assert.equal(v2, '8080');
  });

  test('delete the CRD: its objects go, then the resource is no longer served', async () => {
    await k(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=20s']);
    // kubectl may still know the type from its discovery cache: then the server answers NotFound.
    const err = await fails(['get', 'crontabs']);
    assert.match(err, /the server doesn't have a resource type "crontabs"|\(NotFound\).*crontabs/);
    await eventually(async () => !(await k(['api-resources', '--api-group=stable.example.com'])).stdout.includes('crontabs'), { what: 'crontabs gone from discovery' });
    await k(['delete', 'crd', 'endpoints.conversion.example.com']);
  });
});
