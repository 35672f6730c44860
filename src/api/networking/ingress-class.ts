// networking.k8s.io/v1 IngressClass. The `ingressclass.kubernetes.io/is-default-class: "true"`
// annotation marks the class that Ingresses without spec.ingressClassName get (default-class
// admission, src/apiserver/default-class-admission.ts).

import { field, type FieldError } from '../../machinery/errors.ts';
import type { KObject, ResourceDef } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, validateImmutable } from '../validation.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { validateTypedLocalObjectReference } from './common.ts';

export const defaultIngressClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';
const maxControllerLength = 250;
const scopes = ['Cluster', 'Namespace'];
const httpPathRe = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** Upstream IsDomainPrefixedPath: `acme.io/foo`. */
export function domainPrefixedPathErrors(v: string, path: string): FieldError[] {
  if (!v) return [field.required(path)];
  const slash = v.indexOf('/');
  const host = slash < 0 ? v : v.slice(0, slash);
  const rest = slash < 0 ? '' : v.slice(slash + 1);
  if (slash < 0 || !host || !rest) return [field.invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((m) => field.invalid(path, host, m));
  if (!httpPathRe.test(rest))
    errs.push(field.invalid(path, rest, "must be a valid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
  return errs;
}

function defaultIngressClass(obj: KObject): void {
  const params = obj.spec?.parameters;
  if (params && typeof params === 'object') params.scope ??= 'Cluster';
}

function validateParameters(params: any, path: string): FieldError[] {
  const errs = validateTypedLocalObjectReference(params, path);
  if (!params.scope) {
    errs.push(field.required(`${path}.scope`));
    return errs;
  }
  if (!scopes.includes(params.scope)) errs.push(field.notSupported(`${path}.scope`, params.scope, scopes));
  else if (params.scope === 'Namespace') {
    if (!params.namespace) errs.push(field.required(`${path}.namespace`, '`parameters.scope` is set to "Namespace"'));
    else for (const m of isDNS1123Label(params.namespace)) errs.push(field.invalid(`${path}.namespace`, params.namespace, m));
  } else if (params.namespace) errs.push(field.forbidden(`${path}.namespace`, '`parameters.scope` is set to "Cluster"'));
  return errs;
}

function validateIngressClass(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const controller: string = typeof spec.controller === 'string' ? spec.controller : '';
  const errs: FieldError[] = [];
  if (controller.length > maxControllerLength) errs.push(field.tooLong('spec.controller', maxControllerLength));
  errs.push(...domainPrefixedPathErrors(controller, 'spec.controller'));
  if (spec.parameters) errs.push(...validateParameters(spec.parameters, 'spec.parameters'));
  return errs;
}

export function isDefaultClass(obj: KObject, annotation: string): boolean {
  return obj.metadata.annotations?.[annotation] === 'true';
}

export const ingressClasses: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  model: 'V1IngressClass',
  tracksGeneration: true,
  strategy: {
    defaults: defaultIngressClass,
    validate: validateIngressClass,
    validateUpdate: (obj, old) => [...validateIngressClass(obj), ...validateImmutable(obj.spec?.controller, old.spec?.controller, 'spec.controller')],
  },
  table: {
    columns: [
      nameColumn,
      col('Controller', 'string', 0, 'Controller that is responsible for handling this class'),
      col('Parameters', 'string', 0, 'A reference to a resource with additional parameters'),
      ageColumn,
    ],
    row(obj, now) {
      const p = obj.spec?.parameters;
      const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
      return [obj.metadata.name, obj.spec?.controller ?? '', params, age(obj, now)];
    },
  },
};
