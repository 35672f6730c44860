// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding:
// stored, defaulted and validated structurally. Each CEL expression is compiled when the policy is
// written, as upstream does: one that does not compile, or gives the wrong type (a validation must
// be a bool, a message a string), is refused with 422 naming the field.

import { field, type FieldError } from '../../machinery/errors.ts';
import { selectorToString, validateLabelSelector } from '../../machinery/labels.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { expressionErrors } from '../../apiserver/admission/cel-admission.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { defaultRules, validateCELIdentifier, validateFailurePolicy, validateMatchConditions, validateMatchPolicy, validateRuleWithOperations, validateSelectors } from './rules.ts';

const reasons = ['Forbidden', 'Invalid', 'RequestEntityTooLarge', 'Unauthorized'];
const validationActions = ['Audit', 'Deny', 'Warn'];
const notFoundActions = ['Allow', 'Deny'];

function defaultMatchResources(m: any): void {
  if (!m || typeof m !== 'object') return;
  m.matchPolicy ??= 'Equivalent';
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  defaultRules(m.resourceRules);
  defaultRules(m.excludeResourceRules);
}

function validateMatchResources(m: any, path: string, requireRules: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const rules: any[] = Array.isArray(m?.resourceRules) ? m.resourceRules : [];
  if (requireRules && rules.length === 0) errs.push(field.required(`${path}.resourceRules`, ''));
  rules.forEach((r, i) => errs.push(...validateRuleWithOperations(r, `${path}.resourceRules[${i}]`)));
  (Array.isArray(m?.excludeResourceRules) ? m.excludeResourceRules : []).forEach((r: any, i: number) =>
    errs.push(...validateRuleWithOperations(r, `${path}.excludeResourceRules[${i}]`)),
  );
  errs.push(...validateMatchPolicy(m?.matchPolicy, `${path}.matchPolicy`));
  errs.push(...validateSelectors(m, path));
  return errs;
}

function validatePolicy(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.paramKind) {
    if (!spec.paramKind.apiVersion) errs.push(field.required('spec.paramKind.apiVersion', ''));
    if (!spec.paramKind.kind) errs.push(field.required('spec.paramKind.kind', ''));
  }
  if (!spec.matchConstraints) errs.push(field.required('spec.matchConstraints', ''));
  else errs.push(...validateMatchResources(spec.matchConstraints, 'spec.matchConstraints', true));
  const validations: any[] = Array.isArray(spec.validations) ? spec.validations : [];
  const audits: any[] = Array.isArray(spec.auditAnnotations) ? spec.auditAnnotations : [];
  if (validations.length === 0 && audits.length === 0) errs.push(field.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  validations.forEach((v, i) => {
    const p = `spec.validations[${i}]`;
    if (!v?.expression || !String(v.expression).trim()) errs.push(field.required(`${p}.expression`, ''));
    else errs.push(...expressionErrors(v.expression, `${p}.expression`, 'bool'));
    errs.push(...expressionErrors(v?.messageExpression, `${p}.messageExpression`, 'string'));
    if (typeof v?.message === 'string' && v.message.includes('\n')) errs.push(field.invalid(`${p}.message`, v.message, 'message must not contain line breaks'));
    if (typeof v?.message === 'string' && v.message.length > 0 && !v.message.trim()) errs.push(field.invalid(`${p}.message`, v.message, 'message must be non-empty if specified'));
    if (v?.reason !== undefined && v?.reason !== null && !reasons.includes(v.reason)) errs.push(field.notSupported(`${p}.reason`, v.reason, reasons));
  });
  const keys = new Set<string>();
  audits.forEach((a, i) => {
    const p = `spec.auditAnnotations[${i}]`;
    const key = a?.key ?? '';
    if (!key) errs.push(field.required(`${p}.key`, ''));
    else {
      for (const m of isQualifiedName(`${obj.metadata.name}/${key}`)) errs.push(field.invalid(`${p}.key`, key, m));
      if (keys.has(key)) errs.push(field.duplicate(`${p}.key`, key));
      keys.add(key);
    }
    if (!a?.valueExpression) errs.push(field.required(`${p}.valueExpression`, ''));
    else errs.push(...expressionErrors(a.valueExpression, `${p}.valueExpression`, 'stringOrNull'));
  });
  errs.push(...validateFailurePolicy(spec.failurePolicy, 'spec.failurePolicy'));
  errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions'));
  (Array.isArray(spec.variables) ? spec.variables : []).forEach((v: any, i: number) => {
    errs.push(...validateCELIdentifier(v?.name ?? '', `spec.variables[${i}].name`));
    if (!v?.expression) errs.push(field.required(`spec.variables[${i}].expression`, ''));
    else errs.push(...expressionErrors(v.expression, `spec.variables[${i}].expression`, 'any'));
  });
  return errs;
}

export const validatingAdmissionPolicies: ResourceDef = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicy',
  plural: 'validatingadmissionpolicies',
  singular: 'validatingadmissionpolicy',
  namespaced: false,
  model: 'V1ValidatingAdmissionPolicy',
  tracksGeneration: true,
  strategy: {
    defaults(obj) {
      const spec = (obj.spec ??= {});
      spec.failurePolicy ??= 'Fail';
      defaultMatchResources(spec.matchConstraints);
    },
    validate: validatePolicy,
  },
  status: {},
  table: {
    columns: [
      nameColumn,
      col('Validations', 'integer', 0, 'Validations indicates the number of validation rules defined in this configuration'),
      col('ParamKind', 'string', 0, 'ParamKind specifies the kind of resources used to parameterize this policy'),
      ageColumn,
    ],
    row(obj, now) {
      const pk = obj.spec?.paramKind;
      return [obj.metadata.name, (obj.spec?.validations ?? []).length, pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>', age(obj, now)];
    },
  },
};

function validateBinding(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (!spec.policyName) errs.push(field.required('spec.policyName', ''));
  else for (const m of isDNS1123Subdomain(spec.policyName)) errs.push(field.invalid('spec.policyName', spec.policyName, m));
  const pr = spec.paramRef;
  if (pr) {
    if (pr.name && pr.selector) errs.push(field.forbidden('spec.paramRef.name', 'name and selector are mutually exclusive'));
    if (!pr.name && !pr.selector) errs.push(field.required('spec.paramRef', 'one of name or selector must be specified'));
    if (pr.name) for (const m of isDNS1123Subdomain(pr.name)) errs.push(field.invalid('spec.paramRef.name', pr.name, m));
    if (pr.namespace) for (const m of isDNS1123Label(pr.namespace)) errs.push(field.invalid('spec.paramRef.namespace', pr.namespace, m));
    if (pr.selector) errs.push(...validateLabelSelector(pr.selector, 'spec.paramRef.selector'));
    if (!pr.parameterNotFoundAction) errs.push(field.required('spec.paramRef.parameterNotFoundAction', ''));
    else if (!notFoundActions.includes(pr.parameterNotFoundAction)) errs.push(field.notSupported('spec.paramRef.parameterNotFoundAction', pr.parameterNotFoundAction, notFoundActions));
  }
  if (spec.matchResources) errs.push(...validateMatchResources(spec.matchResources, 'spec.matchResources', false));
  const actions: unknown[] = Array.isArray(spec.validationActions) ? spec.validationActions : [];
  if (actions.length === 0) errs.push(field.required('spec.validationActions', 'at least one validation action is required'));
  const seen = new Set<unknown>();
  actions.forEach((a, i) => {
    const p = `spec.validationActions[${i}]`;
    if (seen.has(a)) errs.push(field.duplicate(p, a));
    seen.add(a);
    if (!validationActions.includes(a as string)) errs.push(field.notSupported(p, a, validationActions));
  });
  if (seen.has('Deny') && seen.has('Warn')) errs.push(field.invalid('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
  return errs;
}

export const validatingAdmissionPolicyBindings: ResourceDef = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  plural: 'validatingadmissionpolicybindings',
  singular: 'validatingadmissionpolicybinding',
  namespaced: false,
  model: 'V1ValidatingAdmissionPolicyBinding',
  tracksGeneration: true,
  strategy: {
    defaults(obj) {
      defaultMatchResources(obj.spec?.matchResources);
    },
    validate: validateBinding,
  },
  table: {
    columns: [
      nameColumn,
      col('PolicyName', 'string', 0, 'PolicyName indicates the policy definition which the policy binding binded to'),
      col('ParamRef', 'string', 0, 'ParamRef indicates the param resource which sets the configration param'),
      ageColumn,
    ],
    row(obj, now) {
      const pr = obj.spec?.paramRef;
      let param = '<unset>';
      if (pr?.name) param = pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
      else if (pr?.selector) param = selectorToString(pr.selector);
      return [obj.metadata.name, obj.spec?.policyName ?? '', param, age(obj, now)];
    },
  },
};
