// The node agent `mizzen agent` runs once it holds this machine's credentials: the real kubelet
// (src/kubelet/run.ts) when this machine can run one (Linux, root, containerd and friends, which
// it installs with apt-get when it can); otherwise, after saying why in one line, a simulated
// kubelet (src/kubelet/simulated) registers a Node of this name and plays the pods bound to it.

export interface NodeAgentContext {
  /** kubeconfig with this node's credentials (system:node:<nodeName>), through the agent's load balancer. */
  kubeconfig: string;
  nodeName: string;
  /** The agent's data directory (its pki/ and kubeconfig; the node's containerd, pods, network). */
  dataDir: string;
  log: (msg: string) => void;
  /** A simulated kubelet even when a real one could run. */
  simulated?: boolean;
  /** The kubelet's serving certificate (from the join); without it the kubelet asks with a CSR. */
  serving?: { cert: string; key: string };
}

export interface RunningNodeAgent {
  close(): Promise<void>;
}

export async function startNodeAgent(ctx: NodeAgentContext): Promise<RunningNodeAgent> {
  if (!ctx.simulated) {
    const { startNode } = await import('../kubelet/run.ts');
    const r = await startNode({ kubeconfig: ctx.kubeconfig, nodeName: ctx.nodeName, dataDir: ctx.dataDir, serving: ctx.serving, log: (m) => ctx.log(`kubelet: ${m}`), progress: ctx.log });
    if (r.ok) {
      void r.node.ready.then(() => ctx.log(`node ${ctx.nodeName} is Ready`), () => {});
      return { close: () => r.node.stop() };
    }
    ctx.log(`${r.message}; running a simulated kubelet for node ${ctx.nodeName} instead`);
  }
  const { startSimulatedNodes } = await import('../kubelet/simulated/simulator.ts');
  const sim = await startSimulatedNodes({ kubeconfig: ctx.kubeconfig, count: 1, names: [ctx.nodeName], log: ctx.log });
  ctx.log(`node ${ctx.nodeName} registered (simulated kubelet)`);
  return { close: () => sim.close() };
}
