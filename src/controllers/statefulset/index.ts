// The StatefulSet controller's entry point for the controller manager.

import { newStatefulSetController } from './statefulset-controller.ts';

export { newStatefulSetController } from './statefulset-controller.ts';
export { POD_NAME_LABEL, POD_INDEX_LABEL, ordinalOf, claimName } from './identity.ts';

/** Registered as "statefulset" in the controller manager (upstream statefulset-controller). */
export const statefulSetController = newStatefulSetController();
