// The ValidatingAdmissionPolicy status controller (upstream's
// validatingadmissionpolicy-status-controller): for each policy whose status has not seen its
// latest generation, type-checks its expressions against the kinds it matches
// (src/apiserver/admission/policy-type-check.ts) and writes status.typeChecking and
// status.observedGeneration.

import { allResources } from '../../api/registry.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import { typeCheckPolicy } from '../../apiserver/admission/policy-type-check.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

const VAP = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingadmissionpolicies' };

export function createPolicyStatusController(ctx: ControllerContext): Controller {
  const policies = ctx.informers.informerFor(VAP);
  const worker = new KeyWorker('validatingadmissionpolicy-status-controller', sync, ctx.log);
  policies.addEventHandler({ onAdd: (p) => worker.add(p.metadata.name!), onUpdate: (_o, p) => worker.add(p.metadata.name!) });

  async function sync(name: string): Promise<void> {
    const policy = policies.lister().get(name);
    if (!policy) return;
    const generation = policy.metadata.generation ?? 0;
    if (policy.status?.observedGeneration === generation && policy.status?.typeChecking) return;
    const warnings = typeCheckPolicy(policy, allResources);
    const next = structuredClone(policy);
    next.status = { ...(policy.status ?? {}), observedGeneration: generation, typeChecking: warnings.length ? { expressionWarnings: warnings } : {} };
    try {
      await ctx.client.updateStatus({ ...VAP, name }, next);
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) throw e; // requeued; the informer brings the newer copy
      throw e;
    }
  }

  return { name: 'validatingadmissionpolicy-status-controller', run: () => worker.run(1), stop: () => worker.stop() };
}

export const policyStatusController: ControllerFactory = (ctx) => createPolicyStatusController(ctx);
