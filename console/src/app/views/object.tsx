// Any object: its YAML, its events, its owner chain and (for pods) its containers' logs. Read
// with GET when opened and read again when the worker sees an event about it; a forbidden object
// says so.

import { useEffect, useState } from 'preact/hooks';
import YAML from 'yaml';
import { ApiError, apiFetch, apiJSON, resourcePath } from '../../shared/http.ts';
import type { EventSummary } from '../../shared/types.ts';
import { href, type Route } from '../router.ts';
import { useQuery } from '../store.ts';
import { EventRow } from './events.tsx';
import { objectHref, resourceOf } from './links.ts';
import { savedToken } from '../auth.ts';

interface Loc {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name: string;
}

export function ObjectView({ route }: { route: Route }) {
  const [g, version, resource, ns, name] = route.path.slice(1);
  const loc: Loc = { group: g === 'core' ? '' : g!, version: version!, resource: resource!, namespace: ns === '-' ? undefined : ns, name: name! };
  const key = JSON.stringify(loc);
  const [obj, setObj] = useState<any>();
  const [err, setErr] = useState<string>();
  const [tab, setTab] = useState<'yaml' | 'events' | 'owners' | 'logs'>('yaml');
  const uid: string | undefined = obj?.metadata?.uid;
  const live = useQuery<{ rows: EventSummary[] }>(uid ? { kind: 'events', filter: { uid }, offset: 0, limit: 200 } : undefined);
  const liveKey = live?.rows.map((e) => `${e.uid}:${e.count}`).join(',');

  useEffect(() => {
    let stop = false;
    apiJSON(resourcePath(loc), { token: savedToken() })
      .then((o) => !stop && (setObj(o), setErr(undefined)))
      .catch((e) => !stop && setErr(e instanceof ApiError ? `${e.code === 403 ? 'Forbidden' : e.code === 404 ? 'Not found' : `Error ${e.code}`}: ${e.message}` : String(e)));
    return () => {
      stop = true;
    };
  }, [key, liveKey]);

  if (err) return <p class="forbidden" data-testid="object-error">{err}</p>;
  if (!obj) return <p class="muted">loading…</p>;
  const kind = obj.kind ?? resource;
  const t = (n: typeof tab, label: string) => (
    <button class={tab === n ? 'tab on' : 'tab'} onClick={() => setTab(n)}>
      {label}
    </button>
  );
  const flowable = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'Pod', 'Node'].includes(kind);
  return (
    <div class="object">
      <h2>
        {kind} {loc.namespace ? `${loc.namespace}/` : ''}
        {loc.name}
        {flowable && (
          <>
            {' '}
            · <a href={href('flow', kind, loc.namespace ?? '-', loc.name)}>flow</a>
          </>
        )}
      </h2>
      <div class="tabs">
        {t('yaml', 'YAML')}
        {t('events', 'Events')}
        {t('owners', 'Owner chain')}
        {kind === 'Pod' && t('logs', 'Logs')}
      </div>
      {tab === 'yaml' && <pre class="yaml">{YAML.stringify(obj, { lineWidth: 0 })}</pre>}
      {tab === 'events' && <Events uid={uid} loc={loc} kind={kind} live={live?.rows ?? []} />}
      {tab === 'owners' && <Owners obj={obj} loc={loc} />}
      {tab === 'logs' && <Logs pod={obj} loc={loc} />}
    </div>
  );
}

function Events({ uid, loc, kind, live }: { uid?: string; loc: Loc; kind: string; live: EventSummary[] }) {
  // The worker may hold only recent events (large clusters): ask the API for this object's own.
  const [listed, setListed] = useState<EventSummary[]>([]);
  useEffect(() => {
    if (!uid) return;
    const ns = loc.namespace ?? 'default';
    const q = new URLSearchParams({ fieldSelector: `involvedObject.uid=${uid}` });
    apiJSON(`/api/v1${loc.namespace || kind !== 'Node' ? `/namespaces/${ns}` : ''}/events?${q}`, { token: savedToken() })
      .then((l) =>
        setListed(
          (l.items ?? []).map((e: any) => ({
            uid: e.metadata.uid, namespace: e.metadata.namespace, type: e.type, reason: e.reason, message: e.message, object: e.involvedObject, source: e.source?.component ?? e.reportingComponent ?? '',
            count: e.count ?? 1, time: Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) || 0, first: Date.parse(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) || 0,
          })),
        ),
      )
      .catch(() => setListed([]));
  }, [uid]);
  const all = new Map<string, EventSummary>();
  for (const e of [...listed, ...live]) all.set(e.uid, e);
  const rows = [...all.values()].sort((a, b) => b.time - a.time);
  if (!rows.length) return <p class="muted">No events about this object.</p>;
  return (
    <div>
      {rows.map((e) => (
        <EventRow e={e} />
      ))}
    </div>
  );
}

function Owners({ obj, loc }: { obj: any; loc: Loc }) {
  const [chain, setChain] = useState<{ kind: string; apiVersion: string; name: string; namespace?: string; note?: string }[]>([]);
  useEffect(() => {
    let stop = false;
    (async () => {
      const out: typeof chain = [];
      let cur = obj;
      for (let i = 0; i < 8; i++) {
        const o = (cur.metadata?.ownerReferences ?? []).find((r: any) => r.controller) ?? cur.metadata?.ownerReferences?.[0];
        if (!o) break;
        const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
        const ref = { kind: o.kind, apiVersion: o.apiVersion, name: o.name, namespace: loc.namespace };
        try {
          cur = await apiJSON(resourcePath({ group, version, resource: resourceOf(o.kind), namespace: loc.namespace, name: o.name }), { token: savedToken() });
          out.push(ref);
        } catch (e) {
          out.push({ ...ref, note: e instanceof ApiError ? (e.code === 403 ? 'forbidden' : e.code === 404 ? 'gone' : e.message) : String(e) });
          break;
        }
      }
      if (!stop) setChain(out);
    })();
    return () => {
      stop = true;
    };
  }, [obj?.metadata?.uid]);
  return (
    <ol class="owners">
      <li>
        {obj.kind} {obj.metadata?.name} (this object)
      </li>
      {chain.map((c) => (
        <li>
          owned by <a href={objectHref(c)}>{c.kind} {c.name}</a>
          {c.note ? <span class="warn"> ({c.note})</span> : null}
        </li>
      ))}
      {chain.length === 0 && <li class="muted">no owner: made by a user or a tool</li>}
    </ol>
  );
}

/** How much of a followed log the page keeps (the newest), so a chatty container cannot fill the tab. */
const FOLLOW_KEEP = 256 * 1024;

function Logs({ pod, loc }: { pod: any; loc: Loc }) {
  const containers: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const [c, setC] = useState(containers[0] ?? '');
  const [text, setText] = useState<string>();
  const [follow, setFollow] = useState(false);
  const [ended, setEnded] = useState<string>();
  useEffect(() => {
    let stop = false;
    const abort = new AbortController();
    setText(undefined);
    setEnded(undefined);
    const q = new URLSearchParams({ container: c, tailLines: '500', ...(follow ? { follow: 'true' } : {}) });
    apiFetch(`${resourcePath({ ...loc, resource: 'pods' }, 'log')}?${q}`, { token: savedToken(), headers: { Accept: '*/*' }, signal: abort.signal })
      .then(async (r) => {
        if (!follow) {
          const t = await r.text();
          if (!stop) setText(t || '(no output yet)');
          return;
        }
        // Followed: the kubelet's stream, shown as it comes (one open request, ended when the
        // container's output ends, the user stops following or leaves the page).
        const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
        let all = '';
        setText('');
        for (;;) {
          const { done, value } = await reader.read();
          if (stop) return;
          if (done) break;
          all += value;
          if (all.length > FOLLOW_KEEP) all = all.slice(all.indexOf('\n', all.length - FOLLOW_KEEP) + 1);
          setText(all);
        }
        setEnded('the log stream ended (the container stopped, or the kubelet closed it)');
      })
      .catch((e) => !stop && setText(e instanceof ApiError ? `The logs cannot be read: ${e.message}` : String(e)));
    return () => {
      stop = true;
      abort.abort();
    };
  }, [c, loc.name, follow]);
  return (
    <div>
      {containers.length > 1 && (
        <select value={c} onChange={(e) => setC((e.target as HTMLSelectElement).value)}>
          {containers.map((n) => (
            <option>{n}</option>
          ))}
        </select>
      )}{' '}
      <label>
        <input type="checkbox" data-testid="logs-follow" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow
      </label>
      <pre class="logs" data-testid="logs" data-following={follow && !ended ? 'true' : 'false'}>
        {text === undefined ? 'loading…' : text === '' && follow ? '(waiting for output…)' : text}
      </pre>
      {ended && <p class="muted">{ended}</p>}
    </div>
  );
}
