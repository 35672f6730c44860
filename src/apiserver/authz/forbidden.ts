// 403 answers worded as upstream's responsewriters.Forbidden:
//   pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"
//   secrets "s" is forbidden: User "u" cannot get resource "secrets" in API group "" at the cluster scope: <reason>
//   forbidden: User "system:anonymous" cannot get path "/apis"

import { StatusError } from '../../machinery/errors.ts';
import type { Attributes } from './attributes.ts';

export function forbiddenMessage(a: Attributes): string {
  const user = a.user.name;
  if (!a.isResourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

export function forbiddenError(a: Attributes, reason: string): StatusError {
  const msg = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  if (!a.resource) return new StatusError(403, 'Forbidden', `forbidden: ${msg}`, {});
  return new StatusError(403, 'Forbidden', `${qualified}${a.name ? ` ${JSON.stringify(a.name)}` : ''} is forbidden: ${msg}`, {
    name: a.name,
    group: a.apiGroup,
    kind: a.resource,
  });
}
