// Generates fields.generated.ts: the compact field tables the protobuf decoder walks.
//
// Inputs (not in the repo): a folder of plain-text message listings, one per API package, that were
// transcribed by hand from upstream's `generated.proto` files (kubernetes/kubernetes, staging/src/k8s.io/
// api/{core,apps,batch,rbac,policy,scheduling,coordination,discovery,events,authentication,autoscaling}/v1
// and apimachinery/pkg/apis/meta/v1), read through the code-search tool. Comments and prose were dropped;
// only facts of the wire format were kept. Listing format, one item per line:
//   P <proto package> <alias>          starts a package; later `alias.Type` references resolve to it
//   M <MessageName>                    starts a message
//   <number> <jsonName> <type> [R|I]   a field; R = repeated, I = Go-embedded (json ",inline")
// Types are scalars (string, bool, bytes, int32, int64), `map<K,V>`, a message of the same package, or
// `alias.Message` (meta, core, rt, res, intstr).
//
// Which fields are Go pointers (zero is meaningful) or have no `omitempty` (zero is printed) is not in
// the .proto files; those facts come from upstream's types.go and are listed below by hand.
//
// Run: node --import tsx src/machinery/protobuf/generate-fields.ts [/tmp/proto-in]

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const aliases: Record<string, string> = {
  meta: 'k8s.io.apimachinery.pkg.apis.meta.v1',
  rt: 'k8s.io.apimachinery.pkg.runtime',
  res: 'k8s.io.apimachinery.pkg.api.resource',
  intstr: 'k8s.io.apimachinery.pkg.util.intstr',
};

/** Go pointer fields: zero values on the wire were set on purpose and are kept. */
const pointers: Record<string, string[]> = {
  'core.AzureDiskVolumeSource': ['cachingMode', 'fsType', 'readOnly', 'kind'],
  'core.CSIVolumeSource': ['readOnly', 'fsType', 'nodePublishSecretRef'],
  'core.ClientIPConfig': ['timeoutSeconds'],
  'core.ClusterTrustBundleProjection': ['name', 'signerName', 'optional', 'labelSelector'],
  'core.ConfigMap': ['immutable'],
  'core.ConfigMapEnvSource': ['optional'],
  'core.ConfigMapKeySelector': ['optional'],
  'core.ConfigMapProjection': ['optional'],
  'core.ConfigMapVolumeSource': ['defaultMode', 'optional'],
  'core.Container': ['restartPolicy'],
  'core.EphemeralContainerCommon': ['restartPolicy'],
  'core.ContainerStatus': ['started', 'stopSignal'],
  'core.DownwardAPIVolumeFile': ['mode'],
  'core.DownwardAPIVolumeSource': ['defaultMode'],
  'core.EmptyDirVolumeSource': ['sizeLimit'],
  'core.EndpointAddress': ['nodeName'],
  'core.EndpointPort': ['appProtocol'],
  'core.FCVolumeSource': ['lun'],
  'core.FileKeySelector': ['optional'],
  'core.GRPCAction': ['service'],
  'core.HostPathVolumeSource': ['type'],
  'core.ISCSIVolumeSource': ['initiatorName'],
  'core.ISCSIPersistentVolumeSource': ['initiatorName'],
  'core.KeyToPath': ['mode'],
  'core.Lifecycle': ['stopSignal'],
  'core.LoadBalancerIngress': ['ipMode'],
  'core.NodeFeatures': ['supplementalGroupsPolicy'],
  'core.NodeRuntimeHandlerFeatures': ['recursiveReadOnlyMounts', 'userNamespaces'],
  'core.PersistentVolumeClaimSpec': ['storageClassName', 'volumeMode', 'volumeAttributesClassName'],
  'core.PersistentVolumeClaimStatus': ['currentVolumeAttributesClassName'],
  'core.PersistentVolumeSpec': ['volumeMode', 'volumeAttributesClassName'],
  'core.PodCertificateProjection': ['maxExpirationSeconds'],
  'core.PodDNSConfigOption': ['value'],
  'core.PodResourceClaim': ['resourceClaimName', 'resourceClaimTemplateName'],
  'core.PodResourceClaimStatus': ['resourceClaimName'],
  'core.PodSecurityContext': ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroupsPolicy', 'fsGroup', 'fsGroupChangePolicy', 'seLinuxChangePolicy'],
  'core.PodSpec': [
    'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'automountServiceAccountToken', 'shareProcessNamespace',
    'priority', 'enableServiceLinks', 'preemptionPolicy', 'setHostnameAsFQDN', 'hostUsers', 'runtimeClassName', 'hostnameOverride',
  ],
  'core.Probe': ['terminationGracePeriodSeconds'],
  'core.ProjectedVolumeSource': ['defaultMode'],
  'core.ReplicationControllerSpec': ['replicas'],
  'core.Secret': ['immutable'],
  'core.SecretEnvSource': ['optional'],
  'core.SecretKeySelector': ['optional'],
  'core.SecretProjection': ['optional'],
  'core.SecretVolumeSource': ['defaultMode', 'optional'],
  'core.SeccompProfile': ['localhostProfile'],
  'core.AppArmorProfile': ['localhostProfile'],
  'core.SecurityContext': ['privileged', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'procMount'],
  'core.ServiceAccount': ['automountServiceAccountToken'],
  'core.ServiceAccountTokenProjection': ['expirationSeconds'],
  'core.ServicePort': ['appProtocol'],
  'core.ServiceSpec': ['ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution'],
  'core.Toleration': ['tolerationSeconds'],
  'core.TopologySpreadConstraint': ['minDomains', 'nodeAffinityPolicy', 'nodeTaintsPolicy'],
  'core.TypedLocalObjectReference': ['apiGroup'],
  'core.TypedObjectReference': ['apiGroup', 'namespace'],
  'core.VolumeMount': ['recursiveReadOnly', 'mountPropagation'],
  'core.VolumeMountStatus': ['recursiveReadOnly'],
  'core.WindowsSecurityContextOptions': ['gmsaCredentialSpecName', 'gmsaCredentialSpec', 'runAsUserName', 'hostProcess'],
  'apps.DaemonSetSpec': ['revisionHistoryLimit'],
  'apps.DeploymentSpec': ['replicas', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'podReplacementPolicy'],
  'apps.DeploymentStatus': ['terminatingReplicas'],
  'apps.ReplicaSetSpec': ['replicas'],
  'apps.ReplicaSetStatus': ['terminatingReplicas'],
  'apps.RollingUpdateDaemonSet': ['maxUnavailable', 'maxSurge'],
  'apps.RollingUpdateDeployment': ['maxUnavailable', 'maxSurge'],
  'apps.RollingUpdateStatefulSetStrategy': ['partition', 'maxUnavailable'],
  'apps.StatefulSetSpec': ['replicas', 'revisionHistoryLimit'],
  'batch.CronJobSpec': ['timeZone', 'startingDeadlineSeconds', 'suspend', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'],
  'batch.JobSpec': [
    'parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes',
    'manualSelector', 'ttlSecondsAfterFinished', 'completionMode', 'suspend', 'podReplacementPolicy', 'managedBy',
  ],
  'batch.JobStatus': ['ready', 'terminating'],
  'batch.PodFailurePolicyOnExitCodesRequirement': ['containerName'],
  'batch.SuccessPolicyRule': ['succeededIndexes', 'succeededCount'],
  'policy.PodDisruptionBudgetSpec': ['minAvailable', 'maxUnavailable', 'unhealthyPodEvictionPolicy'],
  'scheduling.PriorityClass': ['preemptionPolicy'],
  'coordination.LeaseSpec': ['holderIdentity', 'leaseDurationSeconds', 'leaseTransitions', 'strategy', 'preferredHolder'],
  'discovery.Endpoint': ['hostname', 'nodeName', 'zone'],
  'discovery.EndpointConditions': ['ready', 'serving', 'terminating'],
  'discovery.EndpointPort': ['name', 'protocol', 'port', 'appProtocol'],
  'authentication.TokenRequestSpec': ['expirationSeconds'],
  'meta.DeleteOptions': ['gracePeriodSeconds', 'orphanDependents', 'propagationPolicy', 'ignoreStoreReadErrorWithClusterBreakingPotential'],
  'meta.Preconditions': ['uid', 'resourceVersion'],
  'meta.OwnerReference': ['controller', 'blockOwnerDeletion'],
  'meta.ObjectMeta': ['deletionGracePeriodSeconds'],
  'meta.ListMeta': ['remainingItemCount'],
};

/** Non-pointer fields whose JSON tag lacks omitempty, so upstream prints their zero value. */
const keepZero: Record<string, string[]> = {
  'core.ContainerPort': ['containerPort'],
  'core.ServicePort': ['port'],
  'core.EndpointPort': ['port'],
  'core.GRPCAction': ['port'],
  'core.ContainerStatus': ['ready', 'restartCount'],
  'core.ContainerStateTerminated': ['exitCode'],
  'core.LinuxContainerUser': ['uid', 'gid'],
  'core.Ulimit': ['hard', 'soft'],
  'core.WeightedPodAffinityTerm': ['weight'],
  'core.PreferredSchedulingTerm': ['weight'],
  'core.TopologySpreadConstraint': ['maxSkew'],
  'core.ReplicationControllerStatus': ['replicas'],
  'core.EventSeries': ['count'],
  'core.PodCondition': ['type', 'status'],
  'core.NodeCondition': ['type', 'status'],
  'core.NamespaceCondition': ['type', 'status'],
  'core.PersistentVolumeClaimCondition': ['type', 'status'],
  'core.ReplicationControllerCondition': ['type', 'status'],
  'apps.DaemonSetStatus': ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'],
  'apps.ReplicaSetStatus': ['replicas'],
  'apps.StatefulSetStatus': ['replicas'],
  'apps.StatefulSetOrdinals': ['start'],
  'apps.DeploymentCondition': ['type', 'status'],
  'apps.ReplicaSetCondition': ['type', 'status'],
  'apps.StatefulSetCondition': ['type', 'status'],
  'apps.DaemonSetCondition': ['type', 'status'],
  'batch.JobCondition': ['type', 'status'],
  'policy.PodDisruptionBudgetStatus': ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'],
  'scheduling.PriorityClass': ['value'],
  'events.EventSeries': ['count'],
  // Scale's replicas is tagged omitempty upstream, but a zero there is always a real request to scale to 0.
  'autoscaling.ScaleSpec': ['replicas'],
  'autoscaling.ScaleStatus': ['replicas'],
  'meta.Condition': ['type', 'status', 'reason', 'message'],
};

/** Kinds that may be the top-level object of a request body, per group/version. */
const kinds: Record<string, string[]> = {
  v1: [
    'core.Namespace', 'core.ConfigMap', 'core.Secret', 'core.Service', 'core.ServiceAccount', 'core.Pod', 'core.PodTemplate',
    'core.ReplicationController', 'core.ResourceQuota', 'core.LimitRange', 'core.Endpoints', 'core.Event', 'core.Node',
    'core.PersistentVolume', 'core.PersistentVolumeClaim', 'core.Binding',
  ],
  'apps/v1': ['apps.Deployment', 'apps.ReplicaSet', 'apps.StatefulSet', 'apps.DaemonSet', 'apps.ControllerRevision'],
  'batch/v1': ['batch.Job', 'batch.CronJob'],
  'rbac.authorization.k8s.io/v1': ['rbac.Role', 'rbac.RoleBinding', 'rbac.ClusterRole', 'rbac.ClusterRoleBinding'],
  'policy/v1': ['policy.PodDisruptionBudget', 'policy.Eviction'],
  'scheduling.k8s.io/v1': ['scheduling.PriorityClass'],
  'coordination.k8s.io/v1': ['coordination.Lease'],
  'discovery.k8s.io/v1': ['discovery.EndpointSlice'],
  'events.k8s.io/v1': ['events.Event'],
  'authentication.k8s.io/v1': ['authentication.TokenRequest', 'authentication.TokenReview'],
  'autoscaling/v1': ['autoscaling.Scale'],
};

interface Field {
  num: number;
  name: string;
  type: string;
  flags: string;
}

function main(): void {
  const inputDir = process.argv[2] ?? '/tmp/proto-in';
  const messages = new Map<string, Field[]>();
  const pkgOf: Record<string, string> = { ...aliases };
  const files = readdirSync(inputDir).filter((f) => f.endsWith('.txt')).sort();
  // First pass: learn every package alias so cross-package references resolve in any file order.
  for (const file of files) {
    for (const line of readFileSync(join(inputDir, file), 'utf8').split('\n')) {
      const parts = line.trim().split(/\s+/);
      if (parts[0] === 'P') pkgOf[parts[2]] = parts[1];
    }
  }
  for (const file of files) {
    let pkg = '';
    let alias = '';
    let current: Field[] | undefined;
    let currentName = '';
    for (const raw of readFileSync(join(inputDir, file), 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      const parts = line.split(/\s+/);
      if (parts[0] === 'P') {
        pkg = parts[1];
        alias = parts[2];
        continue;
      }
      if (parts[0] === 'M') {
        currentName = `${pkg}.${parts[1]}`;
        current = [];
        messages.set(currentName, current);
        continue;
      }
      if (!current) throw new Error(`${file}: field before message: ${line}`);
      const [num, name, type, flag = ''] = parts;
      const short = `${alias}.${currentName.slice(pkg.length + 1)}`;
      let flags = flag;
      if (pointers[short]?.includes(name)) flags += 'P';
      if (keepZero[short]?.includes(name)) flags += 'K';
      current.push({ num: Number(num), name, type: resolveType(type, pkg, pkgOf), flags });
    }
  }
  checkLists(messages, pkgOf);
  const kindTable: Record<string, Record<string, string>> = {};
  for (const [gv, list] of Object.entries(kinds)) {
    kindTable[gv] = {};
    for (const k of list) {
      const full = resolveType(k, '', pkgOf);
      if (!messages.has(full)) throw new Error(`kind ${k} has no message`);
      kindTable[gv][k.split('.')[1]] = full;
    }
  }
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fields.generated.ts'), render(messages, kindTable));
}

function resolveType(type: string, pkg: string, pkgOf: Record<string, string>): string {
  const map = /^map<(\w+),(.+)>$/.exec(type);
  if (map) return `map<${map[1]},${resolveType(map[2], pkg, pkgOf)}>`;
  if (['string', 'bool', 'bytes', 'int32', 'int64'].includes(type)) return type;
  const dot = type.indexOf('.');
  if (dot < 0) return `${pkg}.${type}`;
  const target = pkgOf[type.slice(0, dot)];
  if (!target) throw new Error(`unknown package alias in ${type}`);
  return `${target}.${type.slice(dot + 1)}`;
}

/** Every hand-written pointer/keep entry must name a real field, so typos cannot pass silently. */
function checkLists(messages: Map<string, Field[]>, pkgOf: Record<string, string>): void {
  for (const list of [pointers, keepZero]) {
    for (const [short, names] of Object.entries(list)) {
      const fields = messages.get(resolveType(short, '', pkgOf));
      if (!fields) throw new Error(`no message ${short}`);
      for (const n of names) if (!fields.some((f) => f.name === n)) throw new Error(`no field ${short}.${n}`);
    }
  }
}

function render(messages: Map<string, Field[]>, kindTable: Record<string, Record<string, string>>): string {
  const out: string[] = [
    '// Generated by generate-fields.ts — do not edit by hand.',
    '// Field tuples: [number, JSON name, type, flags]; flags: R repeated, I inline (Go-embedded), P Go pointer, K zero is printed.',
    '',
    'export type FieldSpec = readonly [number, string, string, string];',
    '',
    'export const messages: Record<string, readonly FieldSpec[]> = {',
  ];
  for (const name of [...messages.keys()].sort()) {
    const fields = messages.get(name)!.map((f) => `[${f.num},'${f.name}','${f.type}','${f.flags}']`);
    out.push(`  '${name}': [${fields.join(',')}],`);
  }
  out.push('};', '', '/** apiVersion → kind → message name, for the kinds a request body may carry. */');
  out.push(`export const kinds: Record<string, Record<string, string>> = ${JSON.stringify(kindTable, null, 2).replace(/"/g, "'")};`, '');
  return out.join('\n');
}

main();
