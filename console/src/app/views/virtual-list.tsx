// A list of any length that draws only the rows in view. The rows live in the worker, which
// answers each scroll position with the window of rows there.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Query, Window } from '../../shared/types.ts';
import { store } from '../store.ts';

const ROW = 26;
const OVERSCAN = 20;

export function VirtualList<T>(props: { query: Omit<Query & { kind: 'pods' | 'events' }, 'offset' | 'limit'>; height?: number; row(item: T): ComponentChildren; empty: string; testid?: string }) {
  const height = props.height ?? 560;
  const [top, setTop] = useState(0);
  const [win, setWin] = useState<Window<T> | undefined>();
  const handle = useRef<ReturnType<typeof store.query> | undefined>(undefined);
  const visible = Math.ceil(height / ROW);
  const offset = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const limit = visible + 2 * OVERSCAN;
  const filterKey = JSON.stringify(props.query);

  useEffect(() => {
    setWin(undefined);
    const h = store.query({ ...(props.query as Query & { kind: 'pods' }), offset: 0, limit }, (d) => setWin(d as Window<T>));
    handle.current = h;
    return () => h.close();
  }, [filterKey]);

  useEffect(() => {
    handle.current?.update({ ...(props.query as Query & { kind: 'pods' }), offset, limit });
  }, [offset, limit]);

  if (!win) return <p class="muted">loading…</p>;
  if (win.total === 0) return <p class="muted" data-testid={props.testid ? `${props.testid}-empty` : undefined}>{props.empty}</p>;
  return (
    <div class="vlist" style={{ height: `${Math.min(height, win.total * ROW + 2)}px` }} onScroll={(e) => setTop((e.target as HTMLElement).scrollTop)} data-testid={props.testid} data-total={win.total}>
      <div style={{ height: `${win.total * ROW}px`, position: 'relative' }}>
        {win.rows.map((r, i) => (
          <div class="vrow" style={{ top: `${(win.offset + i) * ROW}px`, height: `${ROW}px` }}>
            {props.row(r)}
          </div>
        ))}
      </div>
    </div>
  );
}
