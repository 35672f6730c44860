import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { KObject } from '../api/types.ts';
import { validateCRD } from './crd-validation.ts';
import { customResourceDefinitions } from '../api/apiextensions/custom-resource-definition.ts';

const crontab = (): KObject => {
  const crd = YAML.parse(readFileSync(new URL('./testdata/crontab-crd.yaml', import.meta.url), 'utf8'));
  customResourceDefinitions.strategy.defaults!(crd);
  customResourceDefinitions.strategy.prepareForCreate!(crd, {});
  return crd;
};
const messages = (crd: KObject) => validateCRD(crd).map((e) => `${e.field}: ${e.detail}`);

test('the CronTab example is valid', () => {
  assert.deepEqual(messages(crontab()), []);
});

test('the name must be <plural>.<group>, and names must be DNS labels', () => {
  const crd = crontab();
  crd.metadata.name = 'crontab.stable.example.com';
  crd.spec.names.shortNames = ['C T'];
  assert.deepEqual(messages(crd), [
    'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
    "spec.names.shortNames[0]: Invalid value: \"C T\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('group, scope, versions and storage', () => {
  const crd = crontab();
  crd.spec.group = 'example';
  crd.spec.scope = 'Everywhere';
  crd.spec.versions.push({ ...crd.spec.versions[0], name: 'v2' });
  const m = messages(crd);
  assert.ok(m.includes('spec.group: Invalid value: "example": should be a domain with at least one dot'), m.join('\n'));
  assert.ok(m.includes('spec.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespaced"'), m.join('\n'));
  assert.ok(m.some((x) => x.startsWith('spec.versions: Invalid value: ') && x.endsWith(': must have exactly one version marked as storage version')), m.join('\n'));
});

test('non-structural schemas are refused with upstream messages', () => {
  const crd = crontab();
  delete crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.type;
  assert.deepEqual(messages(crd), ['spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']);
});

test('per-version schemas that differ are checked at their own path', () => {
  const crd = crontab();
  const v2 = structuredClone(crd.spec.versions[0]);
  v2.name = 'v2';
  v2.storage = false;
  v2.schema.openAPIV3Schema.properties.spec.properties.image = { description: 'no type' };
  crd.spec.versions.push(v2);
  assert.deepEqual(messages(crd), ['spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields']);
});

test('defaults must be valid and pruned; the root metadata may not have defaults', () => {
  const crd = crontab();
  const props = crd.spec.versions[0].schema.openAPIV3Schema.properties;
  props.spec.properties.replicas.default = 'one';
  props.metadata = { type: 'object', properties: { name: { type: 'string', default: 'x' } } };
  const m = messages(crd);
  assert.ok(m.includes('spec.validation.openAPIV3Schema.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata'), m.join('\n'));
  props.metadata = undefined;
  delete props.metadata;
  assert.deepEqual(messages(crd), ['spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "one": in body must be of type integer: "string"']);
});

test('schemas are required, list types need items and keys, x-kubernetes-preserve-unknown-fields may not be false', () => {
  const crd = crontab();
  delete crd.spec.versions[0].schema;
  assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']);
  const c2 = crontab();
  c2.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.l = { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'string' } };
  c2.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.p = { type: 'object', 'x-kubernetes-preserve-unknown-fields': false };
  assert.deepEqual(messages(c2), [
    'spec.validation.openAPIV3Schema.properties[spec].properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map',
    'spec.validation.openAPIV3Schema.properties[spec].properties[l].items.type: Invalid value: "string": must be object if parent array\'s x-kubernetes-list-type is map',
    'spec.validation.openAPIV3Schema.properties[spec].properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined',
  ]);
});

test('subresources, printer columns and conversion', () => {
  const crd = crontab();
  const v = crd.spec.versions[0];
  v.subresources.scale.specReplicasPath = '.status.replicas';
  v.additionalPrinterColumns[0].type = 'text';
  crd.spec.conversion = { strategy: 'Webhook' };
  assert.deepEqual(messages(crd), [
    'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
    'spec.additionalPrinterColumns[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string',
    'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
    'spec.conversion.conversionReviewVersions: Required value',
  ]);
  crd.spec.conversion = { strategy: 'Webhook', webhook: { clientConfig: { url: 'http://127.0.0.1/x' }, conversionReviewVersions: ['v1'] } };
  v.subresources.scale.specReplicasPath = '.spec.replicas';
  v.additionalPrinterColumns[0].type = 'string';
  assert.deepEqual(messages(crd), ['spec.conversion.webhookClientConfig.url: Invalid value: "http://127.0.0.1/x": \'https\' is the only allowed URL scheme']);
});

test('with the status subresource the root schema may only hold certain fields', () => {
  const crd = crontab();
  crd.spec.versions[0].schema.openAPIV3Schema.additionalProperties = { type: 'string' };
  assert.match(messages(crd)[0], /^spec\.validation\.openAPIV3Schema: Invalid value: .*: only \[Description Type .*\] fields are allowed at the root of the schema if the status subresource is enabled$/);
});

test('protected groups need the api-approved annotation', () => {
  const crd = crontab();
  crd.spec.group = 'stable.k8s.io';
  crd.metadata.name = 'crontabs.stable.k8s.io';
  assert.deepEqual(messages(crd), [
    'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
  ]);
});
