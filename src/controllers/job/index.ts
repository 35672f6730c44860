// The Job controller's entry point for the controller manager.

import { newJobController } from './job-controller.ts';

export { newJobController, JOB_TRACKING_FINALIZER, isJobFinished, type JobControllerOptions } from './job-controller.ts';

/** Registered as "job" in the controller manager (upstream job-controller). */
export const jobController = newJobController();
