// Scheduling-related pod spec fields: tolerations and affinity (upstream validateTolerations,
// validateAffinity and friends).

import { field, type FieldError } from '../../machinery/errors.ts';
import { validateLabelSelector } from '../../machinery/labels.ts';
import { isQualifiedName, isValidLabelValue } from '../validation.ts';

const tolerationOperators = ['Equal', 'Exists'];
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (tolerations === undefined || tolerations === null) return errs;
  if (!Array.isArray(tolerations)) return [field.invalid(path, tolerations, 'must be a list')];
  tolerations.forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!t || typeof t !== 'object') return errs.push(field.invalid(p, t, 'must be an object'));
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(field.invalid(`${p}.key`, t.key, m));
    if (!t.key && t.operator !== 'Exists')
      errs.push(field.invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(field.invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    if (t.operator === undefined || t.operator === '' || t.operator === 'Equal') {
      if (t.value) for (const m of isValidLabelValue(t.value)) errs.push(field.invalid(`${p}.value`, t.value, m));
    } else if (t.operator === 'Exists') {
      if (t.value) errs.push(field.invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(field.notSupported(`${p}.operator`, t.operator, tolerationOperators));
    }
    if (t.effect !== undefined && t.effect !== '' && !taintEffects.includes(t.effect))
      errs.push(field.notSupported(`${p}.effect`, t.effect, taintEffects));
  });
  return errs;
}

const nodeSelectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];

function validateNodeSelectorRequirement(r: any, path: string, isField: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!r || typeof r !== 'object') return [field.invalid(path, r, 'must be an object')];
  const values: unknown[] = Array.isArray(r.values) ? r.values : [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(field.required(`${path}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(field.forbidden(`${path}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(field.required(`${path}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(field.invalid(`${path}.operator`, r.operator ?? '', 'not a valid selector operator'));
  }
  if (isField) {
    if (r.key !== 'metadata.name') errs.push(field.invalid(`${path}.key`, r.key ?? '', 'not a valid field selector key'));
  } else if (!r.key) errs.push(field.invalid(`${path}.key`, '', "name part must be non-empty"));
  else for (const m of isQualifiedName(r.key)) errs.push(field.invalid(`${path}.key`, r.key, m));
  return errs;
}

function validateNodeSelectorTerm(term: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (term?.matchExpressions ?? []).forEach((r: any, i: number) => errs.push(...validateNodeSelectorRequirement(r, `${path}.matchExpressions[${i}]`, false)));
  (term?.matchFields ?? []).forEach((r: any, i: number) => errs.push(...validateNodeSelectorRequirement(r, `${path}.matchFields[${i}]`, true)));
  return errs;
}

function validateWeight(w: unknown, path: string): FieldError[] {
  if (typeof w !== 'number' || w < 1 || w > 100) return [field.invalid(path, w ?? 0, 'must be in the range 1-100')];
  return [];
}

function validatePodAffinityTerm(term: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!term || typeof term !== 'object') return [field.invalid(path, term, 'must be an object')];
  if (term.labelSelector) errs.push(...validateLabelSelector(term.labelSelector, `${path}.labelSelector`));
  if (term.namespaceSelector) errs.push(...validateLabelSelector(term.namespaceSelector, `${path}.namespaceSelector`));
  if (!term.topologyKey) errs.push(field.required(`${path}.topologyKey`, 'can not be empty'));
  else for (const m of isQualifiedName(term.topologyKey)) errs.push(field.invalid(`${path}.topologyKey`, term.topologyKey, m));
  return errs;
}

function validatePodAffinityBlock(a: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!a) return errs;
  const req = a.requiredDuringSchedulingIgnoredDuringExecution;
  if (Array.isArray(req)) req.forEach((t: any, i: number) => errs.push(...validatePodAffinityTerm(t, `${path}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`)));
  const pref = a.preferredDuringSchedulingIgnoredDuringExecution;
  if (Array.isArray(pref))
    pref.forEach((t: any, i: number) => {
      const p = `${path}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      errs.push(...validateWeight(t?.weight, `${p}.weight`));
      errs.push(...validatePodAffinityTerm(t?.podAffinityTerm, `${p}.podAffinityTerm`));
    });
  return errs;
}

export function validateAffinity(affinity: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!affinity || typeof affinity !== 'object') return errs;
  const na = affinity.nodeAffinity;
  if (na) {
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) {
      const p = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
      if (!Array.isArray(req.nodeSelectorTerms) || req.nodeSelectorTerms.length === 0)
        errs.push(field.required(`${p}.nodeSelectorTerms`, 'must have at least one node selector term'));
      else req.nodeSelectorTerms.forEach((t: any, i: number) => errs.push(...validateNodeSelectorTerm(t, `${p}.nodeSelectorTerms[${i}]`)));
    }
    const pref = na.preferredDuringSchedulingIgnoredDuringExecution;
    if (Array.isArray(pref))
      pref.forEach((t: any, i: number) => {
        const p = `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
        errs.push(...validateWeight(t?.weight, `${p}.weight`));
        errs.push(...validateNodeSelectorTerm(t?.preference, `${p}.preference`));
      });
  }
  errs.push(...validatePodAffinityBlock(affinity.podAffinity, `${path}.podAffinity`));
  errs.push(...validatePodAffinityBlock(affinity.podAntiAffinity, `${path}.podAntiAffinity`));
  return errs;
}
