// admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration and MutatingWebhookConfiguration:
// stored with upstream's defaults and validation. Calling the webhooks belongs to the API server's
// admission chain (the security work), which reads these objects.

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import {
  defaultRules,
  validateClientConfig,
  validateFailurePolicy,
  validateFullyQualifiedName,
  validateMatchConditions,
  validateMatchPolicy,
  validateRuleWithOperations,
  validateSelectors,
} from './rules.ts';

const sideEffectClasses = ['None', 'NoneOnDryRun'];
const reinvocationPolicies = ['IfNeeded', 'Never'];
const reviewVersions = ['v1', 'v1beta1'];

/** Upstream SetDefaults_ValidatingWebhook / SetDefaults_MutatingWebhook (v1). */
function defaultWebhook(hook: any, mutating: boolean): void {
  if (!hook || typeof hook !== 'object') return;
  hook.failurePolicy ??= 'Fail';
  hook.matchPolicy ??= 'Equivalent';
  hook.namespaceSelector ??= {};
  hook.objectSelector ??= {};
  hook.timeoutSeconds ??= 10;
  if (mutating) hook.reinvocationPolicy ??= 'Never';
  if (hook.clientConfig?.service && typeof hook.clientConfig.service === 'object') hook.clientConfig.service.port ??= 443;
  defaultRules(hook.rules);
}

function validateWebhook(hook: any, path: string, mutating: boolean): FieldError[] {
  const errs = validateFullyQualifiedName(hook?.name ?? '', `${path}.name`);
  (Array.isArray(hook?.rules) ? hook.rules : []).forEach((r: any, i: number) => errs.push(...validateRuleWithOperations(r, `${path}.rules[${i}]`)));
  errs.push(...validateFailurePolicy(hook?.failurePolicy, `${path}.failurePolicy`));
  errs.push(...validateMatchPolicy(hook?.matchPolicy, `${path}.matchPolicy`));
  if (!hook?.sideEffects) errs.push(field.required(`${path}.sideEffects`, `must specify one of ${sideEffectClasses.join(', ')}`));
  else if (!sideEffectClasses.includes(hook.sideEffects)) errs.push(field.notSupported(`${path}.sideEffects`, hook.sideEffects, sideEffectClasses));
  const t = hook?.timeoutSeconds;
  if (t !== undefined && t !== null && (t < 1 || t > 30)) errs.push(field.invalid(`${path}.timeoutSeconds`, t, 'the timeout value must be between 1 and 30 seconds'));
  const versions: unknown[] = Array.isArray(hook?.admissionReviewVersions) ? hook.admissionReviewVersions : [];
  if (versions.length === 0) errs.push(field.required(`${path}.admissionReviewVersions`, `must specify one of ${reviewVersions.join(', ')}`));
  else {
    const seen = new Set<unknown>();
    versions.forEach((v, i) => {
      if (seen.has(v)) errs.push(field.invalid(`${path}.admissionReviewVersions[${i}]`, v, 'duplicate version'));
      seen.add(v);
    });
    if (!versions.some((v) => reviewVersions.includes(v as string)))
      errs.push(field.invalid(`${path}.admissionReviewVersions`, versions, `must include at least one of ${reviewVersions.join(', ')}`));
  }
  errs.push(...validateSelectors(hook, path));
  errs.push(...validateClientConfig(hook?.clientConfig, `${path}.clientConfig`));
  if (mutating && hook?.reinvocationPolicy !== undefined && !reinvocationPolicies.includes(hook.reinvocationPolicy))
    errs.push(field.notSupported(`${path}.reinvocationPolicy`, hook.reinvocationPolicy, reinvocationPolicies));
  errs.push(...validateMatchConditions(hook?.matchConditions, `${path}.matchConditions`));
  return errs;
}

function validateConfiguration(obj: KObject, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (Array.isArray(obj.webhooks) ? obj.webhooks : []).forEach((h: any, i: number) => {
    const p = `webhooks[${i}]`;
    errs.push(...validateWebhook(h, p, mutating));
    if (h?.name && names.has(h.name)) errs.push(field.duplicate(`${p}.name`, h.name));
    if (h?.name) names.add(h.name);
  });
  return errs;
}

function webhookConfiguration(kind: string, plural: string, mutating: boolean): ResourceDef {
  return {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind,
    plural,
    singular: plural.slice(0, -1),
    namespaced: false,
    model: `V1${kind}`,
    tracksGeneration: true,
    strategy: {
      defaults(obj) {
        for (const h of Array.isArray(obj.webhooks) ? obj.webhooks : []) defaultWebhook(h, mutating);
      },
      validate: (obj) => validateConfiguration(obj, mutating),
    },
    table: {
      columns: [nameColumn, col('Webhooks', 'integer', 0, 'Webhooks indicates the number of webhooks registered in this configuration'), ageColumn],
      row: (obj, now) => [obj.metadata.name, Array.isArray(obj.webhooks) ? obj.webhooks.length : 0, age(obj, now)],
    },
  };
}

export const validatingWebhookConfigurations = webhookConfiguration('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false);
export const mutatingWebhookConfigurations = webhookConfiguration('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', true);
