// The node authorizer (upstream plugin/pkg/auth/authorizer/node, with 1.32's default
// AuthorizeNodeWithSelectors): a kubelet, `system:node:<name>` in `system:nodes`, may read only its
// own Node, the pods bound to it (list/watch only with the `spec.nodeName=<name>` field selector),
// and the secrets, configmaps, claims, volumes and service-account tokens those pods use; its own
// Lease; and whatever the fixed node rules allow. Everyone else gets no opinion here.

import type { KObject } from '../../api/types.ts';
import { nodeIdentity } from '../authn/user.ts';
import type { Attributes, Authorizer, AuthorizerResult } from './attributes.ts';
import type { NodeGraph, VertexKind } from './node-graph.ts';
import { rulesAllow, type PolicyRule } from './rbac.ts';

export interface NodeObjects {
  pod(namespace: string, name: string): KObject | undefined;
  pvc(namespace: string, name: string): KObject | undefined;
}

const allow: AuthorizerResult = { decision: 'Allow', reason: '' };
const no = (reason = ''): AuthorizerResult => ({ decision: 'NoOpinion', reason });
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly graph: NodeGraph,
    private readonly objects: NodeObjects,
    private readonly nodeRules: PolicyRule[],
  ) {}

  authorize(a: Attributes): AuthorizerResult {
    const { isNode, nodeName } = nodeIdentity(a.user);
    if (!isNode) return no();
    if (!nodeName) return no(`unknown node for user ${JSON.stringify(a.user.name)}`);
    if (a.isResourceRequest) {
      const gr = `${a.apiGroup}/${a.resource}`;
      switch (gr) {
        case '/secrets':
          return this.readNamespaced(nodeName, 'secret', a);
        case '/configmaps':
          return this.readNamespaced(nodeName, 'configmap', a);
        case '/persistentvolumeclaims':
          if (a.subresource === 'status') {
            if (a.verb !== 'update' && a.verb !== 'patch') return no('can only get/update/patch this type');
            return this.related(nodeName, 'pvc', a);
          }
          return this.get(nodeName, a, () => this.related(nodeName, 'pvc', a));
        case '/persistentvolumes':
          return this.get(nodeName, a, () => this.volume(nodeName, a));
        case '/serviceaccounts':
          return this.createToken(nodeName, a);
        case 'coordination.k8s.io/leases':
          return this.lease(nodeName, a);
        case 'storage.k8s.io/csinodes':
          return this.csiNode(nodeName, a);
        case '/nodes':
          return this.node(nodeName, a);
        case '/pods':
          return this.pod(nodeName, a);
      }
    }
    return rulesAllow(a, this.nodeRules) ? allow : no();
  }

  private relationship(nodeName: string, found: boolean): AuthorizerResult {
    return found ? allow : no(`no relationship found between node '${nodeName}' and this object`);
  }

  private related(nodeName: string, kind: VertexKind, a: Attributes): AuthorizerResult {
    if (!a.name) return no('No Object name found');
    return this.relationship(nodeName, this.graph.hasPath(nodeName, kind, a.namespace, a.name));
  }

  private get(nodeName: string, a: Attributes, then: () => AuthorizerResult): AuthorizerResult {
    void nodeName;
    if (a.verb !== 'get') return no('can only get individual resources of this type');
    if (a.subresource) return no('cannot get subresource');
    return then();
  }

  private readNamespaced(nodeName: string, kind: VertexKind, a: Attributes): AuthorizerResult {
    if (a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch') return no('can only read resources of this type');
    if (a.subresource) return no('cannot read subresource');
    if (!a.namespace) return no('can only read namespaced object of this type');
    return this.related(nodeName, kind, a);
  }

  private volume(nodeName: string, a: Attributes): AuthorizerResult {
    if (!a.name) return no('No Object name found');
    for (const key of this.graph.claimsOf(nodeName)) {
      const i = key.indexOf('/');
      const pvc = this.objects.pvc(key.slice(0, i), key.slice(i + 1));
      if (pvc?.spec?.volumeName === a.name) return allow;
    }
    return this.relationship(nodeName, false);
  }

  private createToken(nodeName: string, a: Attributes): AuthorizerResult {
    if (a.verb !== 'create' || !a.name) return no('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return no('can only create token subresource of serviceaccount');
    return this.relationship(nodeName, this.graph.hasPath(nodeName, 'serviceaccount', a.namespace, a.name));
  }

  private lease(nodeName: string, a: Attributes): AuthorizerResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return no('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== NODE_LEASE_NAMESPACE) return no(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    if (a.verb !== 'create' && a.name !== nodeName) return no('can only access node lease with the same name as the requesting node');
    return allow;
  }

  private csiNode(nodeName: string, a: Attributes): AuthorizerResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return no('can only get, create, update, patch, or delete a CSINode');
    if (a.subresource) return no('cannot authorize CSINode subresources');
    if (a.verb !== 'create' && a.name !== nodeName) return no('can only access CSINode with the same name as the requesting node');
    return allow;
  }

  private node(nodeName: string, a: Attributes): AuthorizerResult {
    if (a.subresource === '') {
      if (a.verb === 'create' || a.verb === 'update' || a.verb === 'patch') return allow;
      if (a.verb === 'get' || a.verb === 'list' || a.verb === 'watch') {
        if (a.name === nodeName) return allow;
        if (a.name === '') return no(`node '${nodeName}' cannot read all nodes, only its own Node object`);
        return no(`node '${nodeName}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return allow;
    return no();
  }

  private pod(nodeName: string, a: Attributes): AuthorizerResult {
    if (a.subresource === '') {
      if (a.verb === 'get') return this.boundPod(nodeName, a);
      if (a.verb === 'list' || a.verb === 'watch') {
        if (a.fieldSelector?.some((r) => r.field === 'spec.nodeName' && r.operator === '=' && r.value === nodeName)) return allow;
        if (a.name) return this.boundPod(nodeName, a);
        return no('can only list/watch pods with spec.nodeName field selector');
      }
      // Mirror pods; the NodeRestriction admission plugin limits them to the node's own.
      if (a.verb === 'create' || a.verb === 'delete') return allow;
    } else if (a.subresource === 'status') {
      if (a.verb === 'update' || a.verb === 'patch') return allow;
    } else if (a.subresource === 'eviction' && a.verb === 'create') return allow;
    return no();
  }

  private boundPod(nodeName: string, a: Attributes): AuthorizerResult {
    if (!a.name) return no('No Object name found');
    const pod = this.objects.pod(a.namespace, a.name);
    return this.relationship(nodeName, pod?.spec?.nodeName === nodeName);
  }
}
