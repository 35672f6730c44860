// Who a request is from, as upstream's user.Info: a name, an optional uid, groups and extra
// attributes. The well-known names below are the ones RBAC's bootstrap policy binds.

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const SYSTEM_MASTERS = 'system:masters';
export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const MONITORING_GROUP = 'system:monitoring';
export const KUBE_SCHEDULER = 'system:kube-scheduler';
export const KUBE_CONTROLLER_MANAGER = 'system:kube-controller-manager';
export const KUBE_PROXY = 'system:kube-proxy';
export const SA_PREFIX = 'system:serviceaccount:';
export const ALL_SERVICE_ACCOUNTS = 'system:serviceaccounts';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** The user of a ServiceAccount: `system:serviceaccount:<ns>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

/** The groups every ServiceAccount token user is in. */
export function serviceAccountGroups(namespace: string): string[] {
  return [ALL_SERVICE_ACCOUNTS, `${ALL_SERVICE_ACCOUNTS}:${namespace}`, ALL_AUTHENTICATED];
}

/** namespace and name of a ServiceAccount user name, or undefined when it is not one. */
export function parseServiceAccountUsername(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const rest = user.slice(SA_PREFIX.length);
  const i = rest.indexOf(':');
  if (i <= 0 || i === rest.length - 1 || rest.indexOf(':', i + 1) >= 0) return undefined;
  return { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
}

/** The node name of a kubelet identity (`system:node:<name>` in `system:nodes`), as upstream's NodeIdentity. */
export function nodeIdentity(user: UserInfo): { isNode: boolean; nodeName: string } {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice(NODE_USER_PREFIX.length) };
}

export function anonymousUser(): UserInfo {
  return { name: ANONYMOUS, groups: [ALL_UNAUTHENTICATED] };
}

const withGroup = new WeakMap<UserInfo, UserInfo>();

/** Add system:authenticated unless the user is anonymous or already has it (upstream's group adder); one copy per user object. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.name === ANONYMOUS || u.groups.includes(ALL_AUTHENTICATED)) return u;
  let out = withGroup.get(u);
  if (!out) withGroup.set(u, (out = { ...u, groups: [...u.groups, ALL_AUTHENTICATED] }));
  return out;
}

/** A stable text key for caches of decisions about a user. */
export function userKey(u: UserInfo): string {
  let k = `${u.name}\u0000${u.uid ?? ''}\u0000${u.groups.join('\u0001')}`;
  if (u.extra) for (const key of Object.keys(u.extra).sort()) k += `\u0000${key}=${u.extra[key]!.join('\u0001')}`;
  return k;
}
