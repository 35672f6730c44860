// Field tables for the kinds of issue 13's groups that kubectl's generators send as protobuf
// (`kubectl autoscale` writes an autoscaling/v1 HorizontalPodAutoscaler, `kubectl create ingress`
// a networking/v1 Ingress). Transcribed by hand from upstream's generated.proto files (field
// numbers and types only) and types.go (P: Go pointer; K: no omitempty), in the format of
// fields.generated.ts, which the generator there would overwrite without its inputs.

import type { FieldSpec } from './fields.generated.ts';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const AS = 'k8s.io.api.autoscaling.v1';
const NET = 'k8s.io.api.networking.v1';

export const groupMessages: Record<string, readonly FieldSpec[]> = {
  [`${AS}.HorizontalPodAutoscaler`]: [[1, 'metadata', `${META}.ObjectMeta`, ''], [2, 'spec', `${AS}.HorizontalPodAutoscalerSpec`, ''], [3, 'status', `${AS}.HorizontalPodAutoscalerStatus`, '']],
  [`${AS}.HorizontalPodAutoscalerSpec`]: [[1, 'scaleTargetRef', `${AS}.CrossVersionObjectReference`, ''], [2, 'minReplicas', 'int32', 'P'], [3, 'maxReplicas', 'int32', 'K'], [4, 'targetCPUUtilizationPercentage', 'int32', 'P']],
  [`${AS}.CrossVersionObjectReference`]: [[1, 'kind', 'string', 'K'], [2, 'name', 'string', 'K'], [3, 'apiVersion', 'string', '']],
  [`${AS}.HorizontalPodAutoscalerStatus`]: [[1, 'observedGeneration', 'int64', 'P'], [2, 'lastScaleTime', `${META}.Time`, ''], [3, 'currentReplicas', 'int32', 'K'], [4, 'desiredReplicas', 'int32', 'K'], [5, 'currentCPUUtilizationPercentage', 'int32', 'P']],

  [`${NET}.Ingress`]: [[1, 'metadata', `${META}.ObjectMeta`, ''], [2, 'spec', `${NET}.IngressSpec`, ''], [3, 'status', `${NET}.IngressStatus`, '']],
  [`${NET}.IngressSpec`]: [[4, 'ingressClassName', 'string', 'P'], [1, 'defaultBackend', `${NET}.IngressBackend`, ''], [2, 'tls', `${NET}.IngressTLS`, 'R'], [3, 'rules', `${NET}.IngressRule`, 'R']],
  [`${NET}.IngressBackend`]: [[4, 'service', `${NET}.IngressServiceBackend`, ''], [3, 'resource', 'k8s.io.api.core.v1.TypedLocalObjectReference', '']],
  [`${NET}.IngressServiceBackend`]: [[1, 'name', 'string', ''], [2, 'port', `${NET}.ServiceBackendPort`, '']],
  [`${NET}.ServiceBackendPort`]: [[1, 'name', 'string', ''], [2, 'number', 'int32', '']],
  [`${NET}.IngressTLS`]: [[1, 'hosts', 'string', 'R'], [2, 'secretName', 'string', '']],
  [`${NET}.IngressRule`]: [[1, 'host', 'string', ''], [2, 'ingressRuleValue', `${NET}.IngressRuleValue`, 'I']],
  [`${NET}.IngressRuleValue`]: [[1, 'http', `${NET}.HTTPIngressRuleValue`, '']],
  [`${NET}.HTTPIngressRuleValue`]: [[1, 'paths', `${NET}.HTTPIngressPath`, 'R']],
  [`${NET}.HTTPIngressPath`]: [[1, 'path', 'string', ''], [3, 'pathType', 'string', 'P'], [2, 'backend', `${NET}.IngressBackend`, '']],
  [`${NET}.IngressStatus`]: [[1, 'loadBalancer', `${NET}.IngressLoadBalancerStatus`, '']],
  [`${NET}.IngressLoadBalancerStatus`]: [[1, 'ingress', `${NET}.IngressLoadBalancerIngress`, 'R']],
  [`${NET}.IngressLoadBalancerIngress`]: [[1, 'ip', 'string', ''], [2, 'hostname', 'string', ''], [4, 'ports', `${NET}.IngressPortStatus`, 'R']],
  [`${NET}.IngressPortStatus`]: [[1, 'port', 'int32', 'K'], [2, 'protocol', 'string', 'K'], [3, 'error', 'string', 'P']],
  'k8s.io.api.core.v1.TypedLocalObjectReference': [[1, 'apiGroup', 'string', 'P'], [2, 'kind', 'string', ''], [3, 'name', 'string', '']],
};

export const groupKinds: Record<string, Record<string, string>> = {
  'autoscaling/v1': { HorizontalPodAutoscaler: `${AS}.HorizontalPodAutoscaler` },
  'networking.k8s.io/v1': { Ingress: `${NET}.Ingress` },
};
