// authorization.k8s.io/v1: access reviews, questions the API server answers (never stored; see
// src/apiserver/reviews.ts). LocalSubjectAccessReview is the namespaced one.

import type { ResourceDef } from '../types.ts';

const review = (kind: string, plural: string, namespaced = false): ResourceDef => ({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind,
  plural,
  singular: plural.slice(0, -1),
  namespaced,
  verbs: ['create'],
  virtual: true,
  model: `V1${kind}`,
  strategy: {},
});

export const resources: ResourceDef[] = [
  review('LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('SubjectAccessReview', 'subjectaccessreviews'),
];
