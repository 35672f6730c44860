// The components of `mizzen up` that are API clients (controller manager, scheduler, simulated
// nodes), started by name from plain-data options, so the same code runs in-process or inside
// the components worker thread.

import type { RunningComponent } from './components.ts';

export interface ClientComponentSpec {
  name: 'controller-manager' | 'scheduler' | 'simulated-nodes';
  /** Plain data only: it crosses the worker boundary. */
  options: Record<string, unknown>;
}

export async function startClientComponent(spec: ClientComponentSpec, kubeconfig: string, log: (m: string) => void): Promise<RunningComponent> {
  switch (spec.name) {
    case 'controller-manager': {
      const { controllerManagerComponent } = await import('../controllers/manager.ts');
      return controllerManagerComponent({ options: spec.options }).start({ kubeconfig, log });
    }
    case 'scheduler': {
      const { schedulerComponent } = await import('../scheduler/index.ts');
      return schedulerComponent.start({ kubeconfig, log });
    }
    case 'simulated-nodes': {
      const { simulatedNodesComponent } = await import('../kubelet/simulated/component.ts');
      const o = spec.options as { count: number; capacity?: string };
      return simulatedNodesComponent({ count: o.count, capacity: o.capacity }).start({ kubeconfig, log });
    }
  }
}
