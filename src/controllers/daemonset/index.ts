// The DaemonSet controller's entry point for the controller manager.

import { newDaemonSetController } from './daemonset-controller.ts';

export { newDaemonSetController, REVISION_HASH_LABEL } from './daemonset-controller.ts';
export { daemonPodTolerations, nodeEligibility, targetNodeName } from './node-eligibility.ts';

/** Registered as "daemonset" in the controller manager (upstream daemonset-controller). */
export const daemonSetController = newDaemonSetController();
