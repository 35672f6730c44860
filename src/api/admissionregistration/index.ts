// admissionregistration.k8s.io/v1 kinds.

import type { ResourceDef } from '../types.ts';
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from './webhook-configurations.ts';
import { validatingAdmissionPolicies, validatingAdmissionPolicyBindings } from './validating-admission-policy.ts';

export const resources: ResourceDef[] = [mutatingWebhookConfigurations, validatingWebhookConfigurations, validatingAdmissionPolicies, validatingAdmissionPolicyBindings];
