// Discovery order: upstream sorts API groups by their APIServices' groupPriorityMinimum (highest
// first, then by name) and versions within a group by versionPriority, then "kube-aware" version
// order. Built-in groups have the priorities kube-apiserver registers its local APIServices with.

export interface Priority {
  group: number;
  version: number;
}

const builtin: Record<string, Priority> = {
  '/v1': { group: 18000, version: 1 },
  'apiregistration.k8s.io/v1': { group: 18000, version: 15 },
  'apps/v1': { group: 17800, version: 15 },
  'events.k8s.io/v1': { group: 17750, version: 15 },
  'authentication.k8s.io/v1': { group: 17700, version: 15 },
  'authorization.k8s.io/v1': { group: 17600, version: 15 },
  'autoscaling/v2': { group: 17500, version: 30 },
  'autoscaling/v1': { group: 17500, version: 15 },
  'batch/v1': { group: 17400, version: 15 },
  'certificates.k8s.io/v1': { group: 17300, version: 15 },
  'networking.k8s.io/v1': { group: 17200, version: 15 },
  'policy/v1': { group: 17100, version: 15 },
  'rbac.authorization.k8s.io/v1': { group: 17000, version: 15 },
  'storage.k8s.io/v1': { group: 16800, version: 15 },
  'admissionregistration.k8s.io/v1': { group: 16700, version: 15 },
  'apiextensions.k8s.io/v1': { group: 16700, version: 15 },
  'scheduling.k8s.io/v1': { group: 16600, version: 15 },
  'coordination.k8s.io/v1': { group: 16500, version: 15 },
  'node.k8s.io/v1': { group: 16300, version: 15 },
  'discovery.k8s.io/v1': { group: 16200, version: 15 },
  'flowcontrol.apiserver.k8s.io/v1': { group: 16100, version: 21 },
  // metrics-server's APIService (Mizzen serves the group itself).
  'metrics.k8s.io/v1beta1': { group: 100, version: 100 },
};

/** What upstream gives the APIServices of CustomResourceDefinition groups. */
export const customResourcePriority: Priority = { group: 1000, version: 100 };

/** Priority of a group/version this server serves itself. */
export function localPriority(group: string, version: string): Priority {
  return builtin[`${group}/${version}`] ?? customResourcePriority;
}

const kubeVersionRe = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Upstream's CompareKubeAwareVersionStrings, as a sort comparator (negative = a first): GA before
 * beta before alpha, higher numbers first, then non-kube versions alphabetically.
 */
export function compareKubeVersions(a: string, b: string): number {
  const ma = kubeVersionRe.exec(a);
  const mb = kubeVersionRe.exec(b);
  if (!ma && !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (!ma) return 1;
  if (!mb) return -1;
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (Number(ma[1]) !== Number(mb[1])) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

export interface RankedVersion {
  group: string;
  version: string;
  priority: Priority;
}

/** Groups in discovery order, each with its versions in order (the first is the preferred one). */
export function orderGroups(versions: RankedVersion[]): Array<{ name: string; versions: string[] }> {
  const byGroup = new Map<string, RankedVersion[]>();
  for (const v of versions) {
    const list = byGroup.get(v.group) ?? [];
    if (!list.some((x) => x.version === v.version)) list.push(v);
    byGroup.set(v.group, list);
  }
  const groups = [...byGroup].map(([name, vs]) => {
    vs.sort((a, b) => b.priority.version - a.priority.version || compareKubeVersions(a.version, b.version));
    return { name, top: Math.max(...vs.map((v) => v.priority.group)), versions: vs.map((v) => v.version) };
  });
  groups.sort((a, b) => b.top - a.top || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return groups.map(({ name, versions }) => ({ name, versions }));
}
