// One node: its health, heartbeat and resources, its pods (any number) and its events.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiJSON } from '../../shared/http.ts';
import type { EventSummary, PodSummary } from '../../shared/types.ts';
import { quantity } from '../../worker/summaries.ts';
import { savedToken } from '../auth.ts';
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
          <NodeUsage name={name} />
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

/**
 * The node's resource use from the metrics API (metrics.k8s.io), where the cluster serves it. The
 * metrics API has no watch, so it is read when the page opens and when asked, never on a timer.
 */
function NodeUsage({ name }: { name: string }) {
  const [got, setGot] = useState<{ text: string; ok: boolean } | undefined>();
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    let live = true;
    setGot(undefined);
    apiJSON(`/apis/metrics.k8s.io/v1beta1/nodes/${encodeURIComponent(name)}`, { token: savedToken() }).then(
      (m: any) => live && setGot({ ok: true, text: `used cpu ${cpu(Math.round(quantity(m.usage?.cpu) * 1000))} · memory ${bytes(quantity(m.usage?.memory))} (metrics API, ${m.timestamp ? ago(Date.parse(m.timestamp)) : 'no time'}, over ${m.window ?? '?'})` }),
      (e) => live && setGot({ ok: false, text: e instanceof ApiError && e.code === 404 ? 'no usage from the metrics API yet (a node is reported after its first collection)' : `usage not available: ${e instanceof Error ? e.message : String(e)}` }),
    );
    return () => {
      live = false;
    };
  }, [name, asked]);
  return (
    <span data-testid="node-usage" class={got && !got.ok ? 'muted' : ''}>
      {got ? got.text : 'reading usage…'}{' '}
      <button type="button" class="link" data-testid="node-usage-again" onClick={() => setAsked(asked + 1)}>
        read again
      </button>
    </span>
  );
}

function ago(t: number): string {
  const a = age(t);
  return a === 'now' ? 'just now' : `${a} ago`;
}
