// The control-plane components that `mizzen up` starts after the API server.
//
// HOOK: the scheduler and the controller-manager plug in here. Add an entry to
// CONTROL_PLANE_COMPONENTS whose start() imports its module lazily (keeps `mizzen --help` fast)
// and returns something to close on shutdown. They run in-process and talk to the API server
// through the admin kubeconfig, just like an external client would.

import type { Pki } from '../apiserver/pki.ts';

export interface ComponentContext {
  /** The API server's URL as clients should use it (never a wildcard address). */
  apiServerURL: string;
  /** Path of the admin kubeconfig (written before components start). */
  kubeconfig: string;
  pki: Pki;
  dataDir: string;
  serviceCIDR?: string;
  log: (msg: string) => void;
}

export interface RunningComponent {
  close(): Promise<void>;
}

export interface ControlPlaneComponent {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/** Started in order after the API server; stopped in reverse order before it. */
export const CONTROL_PLANE_COMPONENTS: ControlPlaneComponent[] = [
  // { name: 'scheduler', start: async (ctx) => (await import('../scheduler/run.ts')).startScheduler(ctx) },
  // { name: 'controller-manager', start: async (ctx) => (await import('../controllers/run.ts')).startControllers(ctx) },
];
