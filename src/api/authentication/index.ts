// authentication.k8s.io/v1: TokenReview and SelfSubjectReview, questions the API server answers
// (never stored; see src/apiserver/reviews.ts).

import type { ResourceDef } from '../types.ts';

const review = (kind: string, plural: string, model: string): ResourceDef => ({
  group: 'authentication.k8s.io',
  version: 'v1',
  kind,
  plural,
  singular: plural.slice(0, -1),
  namespaced: false,
  verbs: ['create'],
  virtual: true,
  model,
  strategy: {},
});

export const resources: ResourceDef[] = [review('SelfSubjectReview', 'selfsubjectreviews', 'V1SelfSubjectReview'), review('TokenReview', 'tokenreviews', 'V1TokenReview')];
