// Well-known taints, labels and annotations the cloud controllers read and write (upstream's
// k8s.io/api core/v1 well-known labels and k8s.io/cloud-provider/api).

/** Set by a kubelet started with --cloud-provider=external until the cloud node controller initialises the node. */
export const TAINT_UNINITIALIZED = 'node.cloudprovider.kubernetes.io/uninitialized';
/** Put on NotReady nodes whose machine is shut down. */
export const TAINT_SHUTDOWN = 'node.cloudprovider.kubernetes.io/shutdown';
/** The cluster autoscaler's "about to delete this node" taint; such nodes leave load balancers. */
export const TAINT_TO_BE_DELETED = 'ToBeDeletedByClusterAutoscaler';

export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_INSTANCE_TYPE_BETA = 'beta.kubernetes.io/instance-type';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_ZONE_BETA = 'failure-domain.beta.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_REGION_BETA = 'failure-domain.beta.kubernetes.io/region';
/** Nodes with this label (any value) are never load balancer backends. */
export const LABEL_EXCLUDE_FROM_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** Nodes with this label are never deleted or tainted by the cloud node lifecycle controller. */
export const LABEL_EXCLUDE_FROM_LIFECYCLE = 'node.kubernetes.io/exclude-from-lifecycle-management';

/** The node IP a kubelet was given with --node-ip, when the cloud provider is external. */
export const ANNOTATION_PROVIDED_NODE_IP = 'alpha.kubernetes.io/provided-node-ip';

/** Keeps a LoadBalancer Service until its balancer is deleted. */
export const FINALIZER_LB_CLEANUP = 'service.kubernetes.io/load-balancer-cleanup';

/** Simulated (kwok-style) nodes carry this label = "true" (src/kubelet/simulated/node-object.ts). */
export { SIMULATED_LABEL } from '../kubelet/simulated/node-object.ts';
