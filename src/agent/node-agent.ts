// The node agent `mizzen agent` runs once it holds this machine's credentials: ONE function, so the
// real kubelet can take its place. Until it lands (`mizzen kubelet --kubeconfig FILE`, from the
// kubelet work), a simulated kubelet registers a Node of this name and plays the pods bound to it
// (src/kubelet/simulated), through the kubeconfig the agent wrote.

export interface NodeAgentContext {
  /** kubeconfig with this node's credentials (system:node:<nodeName>), through the agent's load balancer. */
  kubeconfig: string;
  nodeName: string;
  /** The agent's data directory (its pki/ and kubeconfig). */
  dataDir: string;
  log: (msg: string) => void;
}

export interface RunningNodeAgent {
  close(): Promise<void>;
}

/** HOOK (kubelet): start this machine's kubelet. */
export async function startNodeAgent(ctx: NodeAgentContext): Promise<RunningNodeAgent> {
  const { startSimulatedNodes } = await import('../kubelet/simulated/simulator.ts');
  const sim = await startSimulatedNodes({ kubeconfig: ctx.kubeconfig, count: 1, names: [ctx.nodeName], log: ctx.log });
  ctx.log(`node ${ctx.nodeName} registered (simulated kubelet until the real one is wired in)`);
  return { close: () => sim.close() };
}
