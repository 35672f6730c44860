// NodeRestriction (upstream plugin/pkg/admission/noderestriction): a kubelet (`system:node:<name>`
// in `system:nodes`) may write only its own Node and the pods bound to it. It may create only mirror
// pods of its own, delete or update the status of only its own pods, and never set or change labels
// under node-restriction.kubernetes.io/ (nor kubernetes.io / k8s.io labels beyond the kubelet's
// own set), which administrators use to steer workloads to trusted nodes.

import { errors } from '../../machinery/errors.ts';
import { nodeIdentity } from '../authn/user.ts';
import type { AdmissionPlugin, AdmissionRequest } from './types.ts';

const MIRROR = 'kubernetes.io/config.mirror';

/** Labels a kubelet sets on itself (upstream kubeletapis.KubeletLabels and label namespaces). */
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

const inDomain = (ns: string, d: string) => ns === d || ns.endsWith(`.${d}`);

/** Upstream's rule: node-restriction.kubernetes.io/, and kubernetes.io / k8s.io ones the kubelet does not own. */
export function forbiddenNodeLabel(key: string): boolean {
  const ns = labelNamespace(key);
  if (inDomain(ns, 'node-restriction.kubernetes.io')) return true;
  if (!inDomain(ns, 'kubernetes.io') && !inDomain(ns, 'k8s.io')) return false;
  if (kubeletLabels.has(key)) return false;
  return !kubeletLabelNamespaces.some((d) => inDomain(ns, d));
}

export function nodeRestriction(): AdmissionPlugin {
  function admitNode(r: AdmissionRequest, node: string): void {
    const gr = { group: '', resource: 'nodes' };
    const name = r.obj.metadata.name ?? '';
    if (name !== node) throw errors.forbidden(gr, name, `node "${node}" is not allowed to modify node "${name}"`);
    if (r.operation === 'CREATE') {
      const bad = Object.keys(r.obj.metadata.labels ?? {}).filter(forbiddenNodeLabel).sort();
      if (bad.length) throw errors.forbidden(gr, name, `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
      return;
    }
    if (r.operation !== 'UPDATE' || !r.old) return;
    const now = r.obj.metadata.labels ?? {};
    const before = r.old.metadata.labels ?? {};
    const changed = [...new Set([...Object.keys(now), ...Object.keys(before)])].filter((k) => now[k] !== before[k] && forbiddenNodeLabel(k)).sort();
    if (changed.length) throw errors.forbidden(gr, name, `node "${node}" is not allowed to modify labels: ${changed.join(', ')}`);
    if (!r.subresource && JSON.stringify(r.obj.spec?.taints ?? []) !== JSON.stringify(r.old.spec?.taints ?? []))
      throw errors.forbidden(gr, name, `node "${node}" is not allowed to modify taints`);
  }

  function admitPod(r: AdmissionRequest, node: string): void {
    const gr = { group: '', resource: 'pods' };
    const name = r.obj.metadata.name ?? '';
    if (r.operation === 'CREATE' && !r.subresource) {
      if (r.obj.metadata.annotations?.[MIRROR] === undefined)
        throw errors.forbidden(gr, name, `pod does not have "${MIRROR}" annotation, node "${node}" can only create mirror pods`);
      if (r.obj.spec?.nodeName !== node) throw errors.forbidden(gr, name, `node "${node}" can only create pods with spec.nodeName set to itself`);
      const owners = r.obj.metadata.ownerReferences ?? [];
      if (owners.some((o: any) => !(o?.kind === 'Node' && o?.name === node && o?.apiVersion === 'v1')))
        throw errors.forbidden(gr, name, `node "${node}" can only create pods with an owner reference set to itself`);
      return;
    }
    const boundTo = (r.old ?? r.obj).spec?.nodeName;
    if (r.operation === 'DELETE') {
      if (boundTo !== node) throw errors.forbidden(gr, name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
      return;
    }
    if (r.subresource === 'status') {
      if (boundTo !== node) throw errors.forbidden(gr, name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      return;
    }
    if (r.subresource === 'eviction') {
      if (boundTo !== node) throw errors.forbidden(gr, name, `node "${node}" can only evict pods with spec.nodeName set to itself`);
      return;
    }
    throw errors.forbidden(gr, name, `unexpected operation ${r.operation}, node "${node}" can only create and delete mirror pods`);
  }

  return {
    name: 'NodeRestriction',
    mutate(r) {
      if (!r.user || r.def.group !== '') return;
      const plural = r.def.plural;
      if (plural !== 'nodes' && plural !== 'pods') return;
      const { isNode, nodeName } = nodeIdentity(r.user);
      if (!isNode) return;
      // A node user without a name (bare system:nodes) is refused everything here, as upstream.
      if (!nodeName) throw errors.forbidden({ group: '', resource: plural }, r.obj.metadata.name ?? '', `could not determine node from user "${r.user.name}"`);
      if (plural === 'nodes') admitNode(r, nodeName);
      else admitPod(r, nodeName);
    },
  };
}
