// The flow: an object's way through the system, step by step, with who acted and how long each
// step took. Pick an object, or follow the next one created.

import { useEffect, useState } from 'preact/hooks';
import type { Flow, FlowLane, Ref } from '../../shared/types.ts';
import { store, useQuery } from '../store.ts';
import { go, href, type Route } from '../router.ts';
import { duration } from '../format.ts';
import { objectHref, resourceOf } from './links.ts';

const GROUPS: Record<string, string> = { Deployment: 'apps', ReplicaSet: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', Job: 'batch', Pod: '', Node: '' };

export function FlowView({ route }: { route: Route }) {
  const [kind, ns, name] = route.path.slice(1);
  const root: Ref | undefined = kind && name ? { group: GROUPS[kind] ?? 'apps', version: 'v1', kind, resource: resourceOf(kind), namespace: ns === '-' ? undefined : ns, name } : undefined;
  return (
    <div>
      <Picker current={root} />
      {root ? <FlowOf root={root} /> : <p class="muted">Pick an object, or follow the next one created (say, <code>kubectl create deployment web --image=nginx --replicas=3</code>).</p>}
    </div>
  );
}

function Picker({ current }: { current?: Ref }) {
  const [armed, setArmed] = useState(false);
  const [kind, setKind] = useState(current?.kind ?? 'Deployment');
  const [text, setText] = useState(current ? `${current.namespace ? `${current.namespace}/` : ''}${current.name}` : '');
  useEffect(() => {
    setArmed(false);
    store.send({ t: 'follow', armed: false });
  }, [current?.name, current?.kind]);
  const show = (e: Event) => {
    e.preventDefault();
    const [a, b] = text.includes('/') ? text.split('/') : [kind === 'Node' ? '-' : 'default', text];
    if (b) go(href('flow', kind, a, b));
  };
  return (
    <form class="picker" onSubmit={show}>
      <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
        {Object.keys(GROUPS).map((k) => (
          <option>{k}</option>
        ))}
      </select>
      <input placeholder="namespace/name" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      <button type="submit">show</button>
      <button
        type="button"
        class={armed ? 'armed' : ''}
        data-testid="follow-next"
        onClick={() => {
          setArmed(!armed);
          store.send({ t: 'follow', armed: !armed });
        }}
      >
        {armed ? 'waiting for the next object created…' : 'follow the next one created'}
      </button>
    </form>
  );
}

function FlowOf({ root }: { root: Ref }) {
  const flow = useQuery<Flow>({ kind: 'flow', root });
  if (!flow) return <p class="muted">loading…</p>;
  if (!flow.found) return <p class="forbidden">{flow.message}</p>;
  const end = Math.max(flow.start + 1000, ...flow.lanes.flatMap((l) => l.steps.map((s) => s.at)));
  return (
    <div class="flow" data-testid="flow">
      <h2>
        {root.kind} {root.namespace ? `${root.namespace}/` : ''}
        {root.name} <a href={objectHref({ kind: root.kind, apiVersion: root.group ? `${root.group}/${root.version}` : root.version, namespace: root.namespace, name: root.name })}>YAML</a>
      </h2>
      <p class="muted">
        Times in ms were seen live by this page; times in s come from the objects' own timestamps and events (second precision). Each step says how long it took after the one
        before.
      </p>
      {flow.lanes.map((l) => (
        <Lane lane={l} start={flow.start} end={end} />
      ))}
    </div>
  );
}

function Lane({ lane, start, end }: { lane: FlowLane; start: number; end: number }) {
  const span = end - start;
  return (
    <div class={`lane ${lane.gone ? 'gone' : ''}`} data-lane={lane.ref.name} data-kind={lane.ref.kind}>
      <div class="lane-head">
        <a href={objectHref({ kind: lane.ref.kind, apiVersion: lane.ref.group ? `${lane.ref.group}/${lane.ref.version}` : lane.ref.version, namespace: lane.ref.namespace, name: lane.ref.name })}>{lane.title}</a>
        <span class="lane-state">{lane.state}</span>
        {lane.node && <span class="muted"> on {lane.node}</span>}
      </div>
      <div class="track">
        {lane.steps.map((s) => (
          <span class={`mark ${s.warning ? 'warn' : ''}`} style={{ left: `${(((s.at - start) / span) * 100).toFixed(2)}%` }} title={`${s.actor}: ${s.what}`} />
        ))}
      </div>
      <ol class="steps">
        {lane.steps.map((s) => (
          <li class={s.warning ? 'warn' : ''} data-step={s.what}>
            <span class="at">+{duration(s.at - start)}</span>
            <span class="actor">{s.actor}</span> {s.what}
            {s.took !== undefined && (
              <span class="took">
                {' '}
                took {s.tookPrecision === 's' ? (s.took < 1000 ? 'under a second' : `about ${Math.round(s.took / 1000)} s`) : duration(s.took)}
              </span>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
