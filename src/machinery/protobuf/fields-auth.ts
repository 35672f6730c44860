// Protobuf field tables for the authentication, authorization and certificates kinds that kubectl's
// typed clients send as protobuf (`auth whoami`, `auth can-i`, `certificate approve`), transcribed
// from upstream's generated.proto files for authentication/v1, authorization/v1 and certificates/v1
// (field numbers and types only). Merged into the generated tables by decode.ts.

import type { FieldSpec } from './fields.generated.ts';

const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const authz = 'k8s.io.api.authorization.v1';
const authn = 'k8s.io.api.authentication.v1';
const certs = 'k8s.io.api.certificates.v1';

export const authMessages: Record<string, readonly FieldSpec[]> = {
  [`${authn}.SelfSubjectReview`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'status', `${authn}.SelfSubjectReviewStatus`, '']],
  [`${authn}.SelfSubjectReviewStatus`]: [[1, 'userInfo', `${authn}.UserInfo`, '']],
  [`${authz}.ExtraValue`]: [[1, 'items', 'string', 'R']],
  [`${authz}.FieldSelectorAttributes`]: [[1, 'rawSelector', 'string', ''], [2, 'requirements', `${authz}.FieldSelectorRequirement`, 'R']],
  [`${authz}.FieldSelectorRequirement`]: [[1, 'key', 'string', ''], [2, 'operator', 'string', ''], [3, 'values', 'string', 'R']],
  [`${authz}.LabelSelectorAttributes`]: [[1, 'rawSelector', 'string', ''], [2, 'requirements', `${meta}.LabelSelectorRequirement`, 'R']],
  [`${authz}.LocalSubjectAccessReview`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'spec', `${authz}.SubjectAccessReviewSpec`, ''], [3, 'status', `${authz}.SubjectAccessReviewStatus`, '']],
  [`${authz}.NonResourceAttributes`]: [[1, 'path', 'string', ''], [2, 'verb', 'string', '']],
  [`${authz}.ResourceAttributes`]: [
    [1, 'namespace', 'string', ''], [2, 'verb', 'string', ''], [3, 'group', 'string', ''], [4, 'version', 'string', ''], [5, 'resource', 'string', ''],
    [6, 'subresource', 'string', ''], [7, 'name', 'string', ''], [8, 'fieldSelector', `${authz}.FieldSelectorAttributes`, ''], [9, 'labelSelector', `${authz}.LabelSelectorAttributes`, ''],
  ],
  [`${authz}.SelfSubjectAccessReview`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'spec', `${authz}.SelfSubjectAccessReviewSpec`, ''], [3, 'status', `${authz}.SubjectAccessReviewStatus`, '']],
  [`${authz}.SelfSubjectAccessReviewSpec`]: [[1, 'resourceAttributes', `${authz}.ResourceAttributes`, ''], [2, 'nonResourceAttributes', `${authz}.NonResourceAttributes`, '']],
  [`${authz}.SelfSubjectRulesReview`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'spec', `${authz}.SelfSubjectRulesReviewSpec`, ''], [3, 'status', `${authz}.SubjectRulesReviewStatus`, '']],
  [`${authz}.SelfSubjectRulesReviewSpec`]: [[1, 'namespace', 'string', '']],
  [`${authz}.SubjectAccessReview`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'spec', `${authz}.SubjectAccessReviewSpec`, ''], [3, 'status', `${authz}.SubjectAccessReviewStatus`, '']],
  [`${authz}.SubjectAccessReviewSpec`]: [
    [1, 'resourceAttributes', `${authz}.ResourceAttributes`, ''], [2, 'nonResourceAttributes', `${authz}.NonResourceAttributes`, ''], [3, 'user', 'string', ''],
    [4, 'groups', 'string', 'R'], [5, 'extra', `map<string,${authz}.ExtraValue>`, ''], [6, 'uid', 'string', ''],
  ],
  [`${authz}.SubjectAccessReviewStatus`]: [[1, 'allowed', 'bool', 'K'], [4, 'denied', 'bool', ''], [2, 'reason', 'string', ''], [3, 'evaluationError', 'string', '']],
  [`${authz}.SubjectRulesReviewStatus`]: [[1, 'resourceRules', `${authz}.ResourceRule`, 'R'], [2, 'nonResourceRules', `${authz}.NonResourceRule`, 'R'], [3, 'incomplete', 'bool', 'K'], [4, 'evaluationError', 'string', '']],
  [`${authz}.ResourceRule`]: [[1, 'verbs', 'string', 'R'], [2, 'apiGroups', 'string', 'R'], [3, 'resources', 'string', 'R'], [4, 'resourceNames', 'string', 'R']],
  [`${authz}.NonResourceRule`]: [[1, 'verbs', 'string', 'R'], [2, 'nonResourceURLs', 'string', 'R']],
  [`${certs}.CertificateSigningRequest`]: [[1, 'metadata', `${meta}.ObjectMeta`, ''], [2, 'spec', `${certs}.CertificateSigningRequestSpec`, ''], [3, 'status', `${certs}.CertificateSigningRequestStatus`, '']],
  [`${certs}.CertificateSigningRequestSpec`]: [
    [1, 'request', 'bytes', ''], [7, 'signerName', 'string', ''], [8, 'expirationSeconds', 'int32', 'P'], [5, 'usages', 'string', 'R'],
    [2, 'username', 'string', ''], [3, 'uid', 'string', ''], [4, 'groups', 'string', 'R'], [6, 'extra', `map<string,${certs}.ExtraValue>`, ''],
  ],
  [`${certs}.CertificateSigningRequestStatus`]: [[1, 'conditions', `${certs}.CertificateSigningRequestCondition`, 'R'], [2, 'certificate', 'bytes', '']],
  [`${certs}.CertificateSigningRequestCondition`]: [
    [1, 'type', 'string', ''], [6, 'status', 'string', ''], [2, 'reason', 'string', ''], [3, 'message', 'string', ''],
    [4, 'lastUpdateTime', `${meta}.Time`, ''], [5, 'lastTransitionTime', `${meta}.Time`, ''],
  ],
  [`${certs}.ExtraValue`]: [[1, 'items', 'string', 'R']],
};

export const authKinds: Record<string, Record<string, string>> = {
  'authentication.k8s.io/v1': { SelfSubjectReview: `${authn}.SelfSubjectReview` },
  'authorization.k8s.io/v1': {
    SubjectAccessReview: `${authz}.SubjectAccessReview`,
    SelfSubjectAccessReview: `${authz}.SelfSubjectAccessReview`,
    LocalSubjectAccessReview: `${authz}.LocalSubjectAccessReview`,
    SelfSubjectRulesReview: `${authz}.SelfSubjectRulesReview`,
  },
  'certificates.k8s.io/v1': { CertificateSigningRequest: `${certs}.CertificateSigningRequest` },
};
