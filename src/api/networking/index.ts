// networking.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { ingresses } from './ingress.ts';
import { ingressClasses } from './ingress-class.ts';
import { networkPolicies } from './network-policy.ts';

export const resources: ResourceDef[] = [ingressClasses, ingresses, networkPolicies];
