// Pending pods and why: the scheduler's reason for each pod it cannot place, then pods placed on
// a node whose kubelet has not started them yet.

import { useState } from 'preact/hooks';
import type { PodSummary } from '../../shared/types.ts';
import { useStore } from '../store.ts';
import { age, count } from '../format.ts';
import { href } from '../router.ts';
import { VirtualList } from './virtual-list.tsx';

export function PendingView() {
  const s = useStore();
  const [text, setText] = useState('');
  const ov = s.overview;
  return (
    <div>
      <h2>Pods the scheduler cannot place ({count(ov?.pods.unscheduled ?? 0)})</h2>
      <input class="filter" placeholder="filter by name, node, reason" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      <VirtualList<PodSummary>
        testid="unscheduled"
        query={{ kind: 'pods', filter: { phase: 'unscheduled', text: text || undefined } }}
        empty="None: every pod has a node."
        row={(p) => (
          <div class="row pending-row" data-pod={p.name}>
            <span class="col-age">{age(p.created)}</span>
            <a class="col-name" href={href('object', 'core', 'v1', 'pods', p.namespace, p.name)}>
              {p.namespace}/{p.name}
            </a>
            <span class="col-reason" data-testid="pending-reason">
              {p.unschedulable ? `${p.unschedulable.reason}: ${p.unschedulable.message}` : 'not yet tried by the scheduler'}
            </span>
          </div>
        )}
      />
      <h2>Placed, waiting for their kubelet ({count(Math.max(0, (ov?.pods.pending ?? 0) - (ov?.pods.unscheduled ?? 0)))})</h2>
      <VirtualList<PodSummary>
        query={{ kind: 'pods', filter: { phase: 'Pending', text: text || undefined } }}
        empty="None."
        height={300}
        row={(p) =>
          p.node ? (
            <div class="row">
              <span class="col-age">{age(p.created)}</span>
              <a class="col-name" href={href('object', 'core', 'v1', 'pods', p.namespace, p.name)}>
                {p.namespace}/{p.name}
              </a>
              <span class="col-reason">
                on <a href={href('node', p.node)}>{p.node}</a>: {p.status}
              </span>
            </div>
          ) : (
            <div class="row muted">
              {p.namespace}/{p.name}: no node yet
            </div>
          )
        }
      />
    </div>
  );
}
