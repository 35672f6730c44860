// Strategic-merge-patch metadata for the built-in types: the `patchStrategy` / `patchMergeKey`
// struct tags and `+listType` / `+listMapKey` markers of upstream's API types, keyed by the
// @kubernetes/client-node model name and the JSON field name. The generated client models drop
// these tags, so we keep the facts here. The schema registry (schema.ts) attaches them to the
// OpenAPI documents and exposes them to the patch engine through `PatchSchema`.

/**
 * What the strategic merge patch engine needs to know about one object type.
 * src/machinery/patch/strategic-merge-patch.ts declares a structurally identical interface.
 */
export interface PatchSchema {
  /** Schema of a field's value (lists: the element schema; maps: the value schema). */
  field(name: string): PatchSchema | undefined;
  /** Patch strategy of a field: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys'. */
  meta(name: string): { strategy?: string; mergeKey?: string } | undefined;
}

export interface FieldPatchMeta {
  strategy?: 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';
  mergeKey?: string;
  /** x-kubernetes-list-type */
  listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys (with listType 'map') */
  listMapKeys?: string[];
  /** x-kubernetes-map-type */
  mapType?: 'atomic' | 'granular';
}

const mergeBy = (key: string, listMapKeys: string[] = [key]): FieldPatchMeta => ({ strategy: 'merge', mergeKey: key, listType: 'map', listMapKeys });
const conditions = mergeBy('type');
const atomic: FieldPatchMeta = { listType: 'atomic' };
const set: FieldPatchMeta = { listType: 'set' };

// Container and EphemeralContainer share their field tags upstream.
const containerFields: Record<string, FieldPatchMeta> = {
  ports: mergeBy('containerPort', ['containerPort', 'protocol']),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
  envFrom: atomic,
  command: atomic,
  args: atomic,
  resizePolicy: atomic,
  restartPolicyRules: atomic,
};

/** model name -> field name -> metadata */
export const patchMetaTable: Record<string, Record<string, FieldPatchMeta>> = {
  // meta/v1
  V1ObjectMeta: {
    finalizers: { strategy: 'merge', listType: 'set' },
    ownerReferences: mergeBy('uid'),
  },
  V1LabelSelector: { matchExpressions: atomic },
  V1LabelSelectorRequirement: { values: atomic },

  // core/v1
  V1PodSpec: {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: mergeBy('name'),
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    tolerations: atomic,
    readinessGates: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    schedulingGates: mergeBy('name'),
  },
  V1Container: containerFields,
  V1EphemeralContainer: containerFields,
  V1ResourceRequirements: { claims: { listType: 'map', listMapKeys: ['name'] } },
  V1PodStatus: {
    conditions: mergeBy('type'),
    podIPs: mergeBy('ip'),
    // Merged by ip in a strategic merge patch, but atomic for server-side apply (+listType=atomic).
    hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  V1ContainerStatus: {
    volumeMounts: mergeBy('mountPath'),
    allocatedResourcesStatus: mergeBy('name'),
  },
  V1PodSecurityContext: { supplementalGroups: atomic, sysctls: atomic },
  V1PodDNSConfig: { nameservers: atomic, searches: atomic, options: atomic },
  V1HostAlias: { hostnames: atomic },
  V1NodeSpec: { podCIDRs: { strategy: 'merge', listType: 'set' }, taints: atomic },
  V1NodeStatus: {
    conditions: mergeBy('type'),
    addresses: mergeBy('type'),
    images: atomic,
    volumesInUse: atomic,
    volumesAttached: atomic,
  },
  V1ServiceSpec: {
    ports: mergeBy('port', ['port', 'protocol']),
    externalIPs: atomic,
    clusterIPs: atomic,
    ipFamilies: atomic,
    loadBalancerSourceRanges: atomic,
  },
  V1ServiceStatus: { conditions: mergeBy('type') },
  V1LoadBalancerStatus: { ingress: atomic },
  V1LoadBalancerIngress: { ports: atomic },
  V1ServiceAccount: { secrets: mergeBy('name'), imagePullSecrets: atomic },
  V1NamespaceStatus: { conditions: mergeBy('type') },
  V1PersistentVolumeClaimStatus: { conditions: mergeBy('type'), accessModes: atomic },
  V1PersistentVolumeClaimSpec: { accessModes: atomic },
  V1PersistentVolumeSpec: { accessModes: atomic, mountOptions: atomic },
  V1ReplicationControllerStatus: { conditions: mergeBy('type') },
  V1ComponentStatus: { conditions: mergeBy('type') },
  V1EndpointSubset: { addresses: atomic, notReadyAddresses: atomic, ports: atomic },
  V1Endpoints: { subsets: atomic },
  V1NodeSelector: { nodeSelectorTerms: atomic },
  V1NodeSelectorTerm: { matchExpressions: atomic, matchFields: atomic },
  V1NodeSelectorRequirement: { values: atomic },
  V1PodAffinity: { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  V1PodAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic },
  V1PodAffinityTerm: { namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic },
  V1NodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: atomic },
  V1TopologySpreadConstraint: { matchLabelKeys: atomic },
  V1Capabilities: { add: atomic, drop: atomic },
  V1ConfigMapVolumeSource: { items: atomic },
  V1SecretVolumeSource: { items: atomic },
  V1ProjectedVolumeSource: { sources: atomic },
  V1DownwardAPIVolumeSource: { items: atomic },
  V1LimitRangeSpec: { limits: atomic },
  V1ResourceQuotaSpec: { scopes: atomic },
  V1ScopeSelector: { matchExpressions: atomic },
  V1NamespaceSpec: { finalizers: atomic },

  // apps/v1
  V1DeploymentSpec: { strategy: { strategy: 'retainKeys' } },
  V1DeploymentStatus: { conditions: conditions },
  V1ReplicaSetStatus: { conditions: conditions },
  V1DaemonSetStatus: { conditions: conditions },
  V1StatefulSetStatus: { conditions: conditions },
  V1StatefulSetSpec: { volumeClaimTemplates: atomic },

  // batch/v1
  V1JobStatus: { conditions: { strategy: 'merge', mergeKey: 'type', listType: 'atomic' } },
  V1CronJobStatus: { active: atomic },
  V1PodFailurePolicy: { rules: atomic },
  V1PodFailurePolicyRule: { onPodConditions: atomic },
  V1PodFailurePolicyOnExitCodesRequirement: { values: set },
  V1SuccessPolicy: { rules: atomic },
  V1UncountedTerminatedPods: { succeeded: set, failed: set },

  // discovery/v1, storage/v1, admissionregistration/v1 (list types only: no strategic-merge tags recorded)
  V1Endpoint: { addresses: set },
  V1CSINodeSpec: { drivers: { listType: 'map', listMapKeys: ['name'] } },
  V1MutatingWebhookConfiguration: { webhooks: { listType: 'map', listMapKeys: ['name'] } },
  V1ValidatingWebhookConfiguration: { webhooks: { listType: 'map', listMapKeys: ['name'] } },
  V1MutatingWebhook: { matchConditions: { listType: 'map', listMapKeys: ['name'] } },
  V1ValidatingWebhook: { matchConditions: { listType: 'map', listMapKeys: ['name'] } },
  V1ValidatingAdmissionPolicySpec: { matchConditions: { listType: 'map', listMapKeys: ['name'] }, variables: { listType: 'map', listMapKeys: ['name'] } },
  V1ValidatingAdmissionPolicyStatus: { conditions: { listType: 'map', listMapKeys: ['type'] } },
  V1ValidatingAdmissionPolicyBindingSpec: { validationActions: set },

  // autoscaling/v2, policy/v1, networking/v1
  V2HorizontalPodAutoscalerStatus: { conditions: mergeBy('type'), currentMetrics: atomic },
  V2HorizontalPodAutoscalerSpec: { metrics: atomic },
  V1PodDisruptionBudgetStatus: { conditions: mergeBy('type') },
  V1IngressSpec: { tls: atomic, rules: atomic },
  V1IngressTLS: { hosts: atomic },
  V1HTTPIngressRuleValue: { paths: atomic },
  V1NetworkPolicySpec: { ingress: atomic, egress: atomic, policyTypes: atomic },
};

/** Patch metadata of one field of a client-node model, if upstream tags it. */
export function fieldPatchMeta(model: string, fieldName: string): FieldPatchMeta | undefined {
  return patchMetaTable[model]?.[fieldName];
}
