// The CronJob controller's entry point for the controller manager.

import { newCronJobController } from './cronjob-controller.ts';

export { newCronJobController, jobNameFor, SCHEDULED_TIMESTAMP_ANNOTATION, type CronJobControllerOptions } from './cronjob-controller.ts';
export { parseSchedule, nextTime, mostRecentTime, type CronSchedule } from './schedule.ts';

/** Registered as "cronjob" in the controller manager (upstream cronjob-controller). */
export const cronJobController = newCronJobController();
