// The event stream, newest first, with filters.

import { useState } from 'preact/hooks';
import type { EventFilter, EventSummary } from '../../shared/types.ts';
import { useStore } from '../store.ts';
import { age, count } from '../format.ts';
import { objectHref } from './links.ts';
import { VirtualList } from './virtual-list.tsx';

export function EventRow({ e }: { e: EventSummary }) {
  return (
    <div class={`row event ${e.type === 'Warning' ? 'warn' : ''}`}>
      <span class="col-age">{age(e.time)}</span>
      <span class="col-type">{e.type}</span>
      <span class="col-reason-short">{e.reason}</span>
      <a class="col-object" href={objectHref(e.object)}>
        {e.object.kind.toLowerCase()}/{e.object.name}
      </a>
      <span class="col-msg" title={e.message}>
        {e.message}
        {e.count > 1 ? ` (×${e.count})` : ''}
      </span>
      <span class="col-source muted">{e.source}</span>
    </div>
  );
}

export function EventsView() {
  const s = useStore();
  const [f, setF] = useState<EventFilter>({});
  const set = (k: keyof EventFilter) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value || undefined });
  const r = s.overview?.resources.events;
  return (
    <div>
      <h2>Events</h2>
      {r?.partial && <p class="muted">The cluster holds {count(r.partial.total)} events: showing those since the console connected. An object's page lists all of its own.</p>}
      {r?.state === 'forbidden' && <p class="forbidden">events: forbidden for this user — {r.message}</p>}
      <div class="filters">
        <select onChange={set('type')}>
          <option value="">all types</option>
          <option>Normal</option>
          <option>Warning</option>
        </select>
        <input placeholder="reason" onInput={set('reason')} />
        <input placeholder="kind (Pod, Node…)" onInput={set('kind')} />
        <input placeholder="namespace" onInput={set('namespace')} />
        <input placeholder="text" onInput={set('text')} />
      </div>
      <VirtualList<EventSummary> testid="events" query={{ kind: 'events', filter: f }} empty="No events match." row={(e) => <EventRow e={e} />} />
    </div>
  );
}
