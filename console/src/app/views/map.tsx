// The map: the master node's components as the parts they are, each with its health, and every
// node with its kubelet and pods. Pods are drawn one by one while the cluster is small, counted
// per node on a canvas when it is not.

import { useEffect, useState } from 'preact/hooks';
import { apiFetch } from '../../shared/http.ts';
import type { ComponentHealth, MiniPod, NodeSummary, Overview } from '../../shared/types.ts';
import { DETAIL_NODES } from '../../shared/types.ts';
import { store, useStore } from '../store.ts';
import { age, bytes, count, cpu, serverNow } from '../format.ts';
import { href } from '../router.ts';
import { NodeCanvas } from './node-canvas.tsx';
import { heartbeatFresh } from './node-cells.ts';
import { useNodesUsage, type Usage } from './usage.ts';

export function MapView() {
  const s = useStore();
  const ov = s.overview;
  if (!ov) return <p class="muted">connecting to the API server…</p>;
  return (
    <div class="map">
      <ControlPlane ov={ov} />
      <Queue ov={ov} />
      <Nodes ov={ov} nodes={s.nodeList()} />
      <Orphans ov={ov} />
    </div>
  );
}

function leaseState(c: ComponentHealth): { cls: string; text: string } {
  if (!c.lease) return { cls: 'unknown', text: 'no leader Lease' };
  const renewedAgo = serverNow() - c.lease.renewTime;
  const fresh = renewedAgo < c.lease.durationSeconds * 1000;
  return { cls: fresh ? 'ok' : 'bad', text: `${fresh ? 'leader' : 'lease expired:'} ${c.lease.holder || '?'} · renewed ${age(c.lease.renewTime)} ago` };
}

function Forbidden({ ov, name }: { ov: Overview; name: string }) {
  const r = ov.resources[name];
  if (r?.state !== 'forbidden') return null;
  return (
    <p class="forbidden" data-testid={`forbidden-${name}`}>
      {name}: forbidden for this user — {r.message}
    </p>
  );
}

function ControlPlane({ ov }: { ov: Overview }) {
  const [readyz, setReadyz] = useState<string[] | undefined>();
  const conn = ov.connection.state;
  useEffect(() => {
    // Asked once, and again after each reconnection: the watches themselves show the server is up.
    if (conn !== 'connected') return;
    apiFetch('/readyz?verbose')
      .then((r) => r.text())
      .then((t) => setReadyz(t.split('\n').filter((l) => l.startsWith('['))))
      .catch(() => setReadyz(undefined));
  }, [conn]);
  const comp = (name: string) => ov.components.find((c) => c.name === name) ?? { name };
  const a = ov.activity;
  const sum = (pred: (k: string) => boolean) => Object.entries(a).reduce((n, [k, v]) => n + (pred(k) ? v : 0), 0);
  const controllers = Object.keys(a)
    .filter((k) => k.startsWith('event:') && k.includes('controller') && !k.includes('cloud'))
    .map((k) => k.slice(6));
  const card = (title: string, c: ComponentHealth, lines: (string | null)[], id: string) => {
    const st = leaseState(c);
    return (
      <div class={`part ${st.cls}`} data-testid={`component-${id}`}>
        <div class="part-title">
          <span class={`dot ${st.cls}`} /> {title}
        </div>
        <div class="part-line">{st.text}</div>
        {lines.filter(Boolean).map((l) => (
          <div class="part-line">{l}</div>
        ))}
      </div>
    );
  };
  const apiOk = conn === 'connected';
  return (
    <section class="control-plane">
      <h2>Master node</h2>
      <div class="cp-row">
        {card('scheduler', comp('kube-scheduler'), [sum((k) => k === 'scheduler') ? `${sum((k) => k === 'scheduler')} pods placed in the last 10 s` : 'idle'], 'scheduler')}
        {card('controller manager', comp('kube-controller-manager'), [sum((k) => k === 'controller manager') ? `${sum((k) => k === 'controller manager')} pods created in the last 10 s` : 'idle', controllers.length ? `acting: ${controllers.join(', ')}` : null], 'controller-manager')}
        {card('cloud controller manager', comp('cloud-controller-manager'), [], 'cloud-controller-manager')}
      </div>
      <div class="cp-arrows" aria-hidden="true">
        ⇅ watch / write ⇅
      </div>
      <div
        class={`part api ${apiOk ? 'ok' : 'bad'}`}
        data-testid="component-apiserver"
        data-nodes={ov.nodes.total}
        data-pods={ov.pods.total}
        data-synced={['nodes', 'pods', 'leases', 'events'].every((r) => ov.resources[r]?.state === 'synced') ? 'true' : 'false'}
      >
        <div class="part-title">
          <span class={`dot ${apiOk ? 'ok' : 'bad'}`} /> API server
        </div>
        <div class="part-line">{apiOk ? 'watches live' : `connection lost: ${ov.connection.lastError ?? ''}`}</div>
        {readyz && <div class="part-line checks">{readyz.join('  ')}</div>}
        <div class="part-line">
          {ov.resources.nodes?.state === 'forbidden' ? 'nodes forbidden' : `${count(ov.nodes.total)} nodes`} ·{' '}
          {ov.resources.pods?.state === 'forbidden' ? 'pods forbidden' : `${count(ov.pods.total)} pods${ov.resources.pods?.state === 'loading' ? ' (loading…)' : ''}`} · {count(sum(() => true))} changes seen in the
          last 10 s
        </div>
        <Forbidden ov={ov} name="nodes" />
        <Forbidden ov={ov} name="pods" />
        <Forbidden ov={ov} name="leases" />
        <Forbidden ov={ov} name="events" />
      </div>
      <div class="cp-arrows" aria-hidden="true">
        ⇅ kubelets watch their pods, report status, renew their Leases ({count(a['kubelet heartbeats'] ?? 0)} heartbeats in 10 s) ⇅
      </div>
    </section>
  );
}

function Queue({ ov }: { ov: Overview }) {
  if (!ov.pods.unscheduled) return null;
  return (
    <section class="queue" data-testid="scheduler-queue">
      <h2>
        Waiting for the scheduler: {count(ov.pods.unscheduled)} <a href="#/pending">reasons →</a>
      </h2>
      <div class="pods">
        {ov.queue.map((p) => (
          <Pod p={p} />
        ))}
      </div>
    </section>
  );
}

function Orphans({ ov }: { ov: Overview }) {
  const nodes = Object.keys(ov.orphans);
  if (!ov.pods.orphaned) return null;
  return (
    <section class="orphans" data-testid="orphans">
      <h2>Pods on nodes that are gone ({count(ov.pods.orphaned)}): the garbage collector deletes them, their owners replace them</h2>
      {nodes.map((n) => (
        <div class="node gone" data-node={n}>
          <div class="node-title">{n} (deleted)</div>
          <div class="pods">
            {ov.orphans[n]!.map((p) => (
              <Pod p={p} />
            ))}
          </div>
        </div>
      ))}
    </section>
  );
}

export function podClass(p: MiniPod): string {
  if (p.terminating) return 'terminating';
  if (p.phase === 'Running') return p.ready ? 'running' : 'starting';
  if (p.phase === 'Pending') return p.status === 'Pending' ? 'pending' : 'starting';
  if (p.phase === 'Succeeded') return 'succeeded';
  if (p.phase === 'Failed') return 'failed';
  return 'unknown';
}

function Pod({ p }: { p: MiniPod }) {
  return (
    <a class={`pod ${podClass(p)}`} href={href('object', 'core', 'v1', 'pods', p.namespace, p.name)} title={`${p.namespace}/${p.name}: ${p.status}`} data-pod={p.name} data-phase={p.phase} data-status={p.status}>
      {p.name}
    </a>
  );
}


function Nodes({ ov, nodes }: { ov: Overview; nodes: NodeSummary[] }) {
  const n = ov.nodes;
  const cards = ov.detailed && nodes.length <= DETAIL_NODES;
  // Cards read the use at once. The grid reads it when first wanted (a use fill chosen, a cell
  // hovered), not with the map: at 5,000 nodes the NodeMetrics list is ~2 MB of JSON, whose parse
  // (60-100 ms on this machine under load) would land in the first load.
  const [wanted, setWanted] = useState(false);
  const [usage, readUsage, usageError] = useNodesUsage(cards || wanted);
  return (
    <section class="nodes">
      <h2>
        Nodes: {count(n.ready)} Ready{n.notReady ? `, ${count(n.notReady)} NotReady` : ''}
        {n.unknown ? `, ${count(n.unknown)} Unknown` : ''} of {count(n.total)}
        {n.simulated ? <span class="muted"> ({count(n.simulated)} simulated)</span> : null} ·{' '}
        {ov.resources.pods?.state === 'forbidden' ? (
          // Not "0 pods": this user may not read them, so their numbers are unknown.
          <span class="forbidden-inline" data-testid="pods-forbidden">
            pods: not readable by this user (requests and pod counts unknown)
          </span>
        ) : (
          <>
            pods: {count(ov.pods.running)} Running, {count(ov.pods.pending)} Pending
            {ov.pods.failed ? `, ${count(ov.pods.failed)} Failed` : ''}
            {ov.pods.succeeded ? `, ${count(ov.pods.succeeded)} Succeeded` : ''}
            {ov.pods.terminating ? `, ${count(ov.pods.terminating)} Terminating` : ''}
          </>
        )}
      </h2>
      {/* Cards only for a few nodes, even if the overview saying otherwise is a batch late. */}
      {usage || usageError ? (
        <p class="muted" data-testid="nodes-usage">
          {usage ? `Use from the metrics API, read ${age(usage.at) === 'now' ? 'just now' : `${age(usage.at)} ago`}` : `Use from the metrics API: not available (${usageError})`}{' '}
          <button type="button" class="link" data-testid="nodes-usage-again" onClick={readUsage}>
            read again
          </button>
        </p>
      ) : (
        // The grid's line is there before the use is read, so the grid does not move under the pointer when it comes.
        !cards && (
          <p class="muted" data-testid="nodes-usage-unread">
            {wanted ? 'Use from the metrics API: reading…' : 'Use from the metrics API: read when a use fill is chosen or a node hovered (that API has no watch, so it is read when wanted)'}
          </p>
        )
      )}
      {cards ? (
        <>
          <div class="node-cards">
            {nodes.map((node) => (
              <NodeCard node={node} usage={usage?.nodes.get(node.name)} />
            ))}
          </div>
        </>
      ) : (
        <NodeCanvas
          nodes={nodes}
          version={store.nodesVersion}
          pods={ov.pods.total}
          loaded={['nodes', 'leases', 'pods', 'events'].filter((r) => ov.resources[r]?.state === 'synced').join(' ')}
          usage={usage}
          usageError={usageError}
          wantUsage={() => setWanted(true)}
        />
      )}
    </section>
  );
}

function Bar({ used, total, label }: { used: number; total: number; label: string }) {
  const f = total > 0 ? Math.min(1, used / total) : 0;
  return (
    <div class="bar" title={label}>
      <div class="bar-fill" style={{ width: `${(f * 100).toFixed(1)}%` }} />
      <span>{label}</span>
    </div>
  );
}

function NodeCard({ node, usage }: { node: NodeSummary; usage?: Usage }) {
  const fresh = heartbeatFresh(node);
  const cls = node.health === 'Ready' ? (fresh ? 'ok' : 'stale') : node.health === 'NotReady' ? 'bad' : 'unknown';
  return (
    <div class={`node ${cls}`} data-node={node.name} data-health={node.health}>
      <div class="node-title">
        <span class={`dot ${cls}`} />
        <a href={href('node', node.name)}>{node.name}</a>
        <span class="muted"> kubelet {node.simulated ? '(simulated)' : node.kubeletVersion}</span>
      </div>
      <div class="node-line">
        {node.health}
        {node.heartbeat ? ` · heartbeat ${age(node.heartbeat)} ago` : ''}
        {node.unschedulable ? ' · cordoned' : ''}
      </div>
      {node.problems.length > 0 && <div class="node-line warn">{node.problems.join('; ')}</div>}
      {node.taints.length > 0 && <div class="node-line muted">taints: {node.taints.join(', ')}</div>}
      <Bar used={node.cpuRequested} total={node.cpuAllocatable} label={`cpu ${cpu(node.cpuRequested)} / ${cpu(node.cpuAllocatable)} requested`} />
      <Bar used={node.memoryRequested} total={node.memoryAllocatable} label={`memory ${bytes(node.memoryRequested)} / ${bytes(node.memoryAllocatable)}`} />
      {usage && (
        <div class="node-line" data-testid="node-card-usage">
          used cpu {cpu(usage.cpu)} · memory {bytes(usage.memory)}
        </div>
      )}
      <div class="pods">
        {(node.podList ?? []).map((p) => (
          <Pod p={p} />
        ))}
      </div>
    </div>
  );
}
