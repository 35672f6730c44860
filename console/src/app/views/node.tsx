// One node: its health, heartbeat and resources, its pods (any number) and its events.

import type { EventSummary, PodSummary } from '../../shared/types.ts';
import { useStore } from '../store.ts';
import { age, bytes, cpu } from '../format.ts';
import { href } from '../router.ts';
import { VirtualList } from './virtual-list.tsx';
import { EventRow } from './events.tsx';
import { podClass } from './map.tsx';

export function NodeView({ name }: { name: string }) {
  const s = useStore();
  const n = s.nodes.get(name);
  return (
    <div>
      <h2>
        Node {name} <a href={href('object', 'core', 'v1', 'nodes', '-', name)}>YAML</a> · <a href={href('flow', 'Node', '-', name)}>flow</a>
      </h2>
      {!n ? (
        <p class="muted">This node is not in the cluster (deleted, or not yet loaded).</p>
      ) : (
        <div class="facts">
          <span>{n.health}</span>
          <span>heartbeat {n.heartbeat ? `${age(n.heartbeat)} ago` : 'not seen'}</span>
          <span>{n.simulated ? 'simulated kubelet' : `kubelet ${n.kubeletVersion}`}</span>
          <span>
            cpu {cpu(n.cpuRequested)}/{cpu(n.cpuAllocatable)} · memory {bytes(n.memoryRequested)}/{bytes(n.memoryAllocatable)} · pods {n.pods}/{n.podsAllocatable}
          </span>
          {n.problems.map((p) => (
            <span class="warn">{p}</span>
          ))}
          {n.taints.map((t) => (
            <span class="muted">taint {t}</span>
          ))}
        </div>
      )}
      <h3>Pods</h3>
      <VirtualList<PodSummary>
        query={{ kind: 'pods', filter: { node: name } }}
        height={400}
        empty="No pods on this node."
        row={(p) => (
          <div class="row">
            <span class={`chip ${podClass(p)}`}>{p.status}</span>
            <a class="col-name" href={href('object', 'core', 'v1', 'pods', p.namespace, p.name)}>
              {p.namespace}/{p.name}
            </a>
            <span class="muted">
              {age(p.created)} · cpu {cpu(p.cpu)} · {bytes(p.memory)}
            </span>
          </div>
        )}
      />
      <h3>Events</h3>
      <VirtualList<EventSummary> query={{ kind: 'events', filter: { kind: 'Node', text: name } }} height={300} empty="No events about this node." row={(e) => <EventRow e={e} />} />
    </div>
  );
}
