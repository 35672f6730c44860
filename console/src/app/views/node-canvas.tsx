// Thousands of nodes as one canvas: a cell per node, coloured by health, filled by how many pods
// it runs against how many it may. Drawing 5,000 cells takes a few milliseconds; only the canvas
// is redrawn when a batch of changes arrives.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { NodeSummary } from '../../shared/types.ts';
import { go, href } from '../router.ts';
import { heartbeatFresh } from './map.tsx';
import { count } from '../format.ts';

const CELL = 12;
const GAP = 2;

const COLOURS: Record<string, string> = { ok: '#2e9d5b', stale: '#d9912b', bad: '#d64545', unknown: '#8a8f98' };

function cls(n: NodeSummary): string {
  if (n.health === 'Ready') return heartbeatFresh(n) ? 'ok' : 'stale';
  return n.health === 'NotReady' ? 'bad' : 'unknown';
}

/**
 * `loaded` says which lists are complete (e.g. "nodes leases pods"): with the number of nodes and
 * pods drawn it goes into a `mizzen:map` performance mark at each drawing, which is how `npm run
 * bench -- console` sees when the map was first drawn whole.
 */
export function NodeCanvas({ nodes, version, loaded, pods }: { nodes: NodeSummary[]; version: number; loaded: string; pods: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(960);
  const [hover, setHover] = useState<{ n: NodeSummary; x: number; y: number } | undefined>();
  const drawn = useRef('');
  const colsNow = useRef(0);
  const colsFor = (w: number) => Math.max(10, Math.floor(w / (CELL + GAP)));
  const cols = colsFor(width);

  useEffect(() => {
    const el = ref.current?.parentElement;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Drawn as the DOM is updated, before the browser paints: the frame that shows "5,000 nodes"
  // shows their cells too (an effect would draw them a frame or more later).
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    // The box's width read here, not the default's: the first drawing is the right one, and the
    // ResizeObserver's first report (the same width) does not draw all cells again.
    const w = c.parentElement?.clientWidth;
    const cols = w ? colsFor(w) : colsFor(width);
    const key = `${version} ${nodes.length} ${cols} ${loaded}`;
    if (drawn.current === key) return;
    drawn.current = key;
    colsNow.current = cols;
    const rows = Math.ceil(nodes.length / cols);
    const dpr = devicePixelRatio || 1;
    const h = rows * (CELL + GAP);
    c.width = cols * (CELL + GAP) * dpr;
    c.height = h * dpr;
    c.style.height = `${h}px`;
    c.style.width = `${cols * (CELL + GAP)}px`;
    const g = c.getContext('2d')!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, c.width, c.height);
    // Grouped by colour: one fillStyle and globalAlpha per group rather than per cell (5,000
    // cells' state changes took ~0.1 s on a loaded machine).
    const groups = new Map<string, number[]>();
    for (let i = 0; i < nodes.length; i++) {
      const k = cls(nodes[i]!);
      let list = groups.get(k);
      if (!list) groups.set(k, (list = []));
      list.push(i);
    }
    for (const [k, idx] of groups) {
      g.fillStyle = COLOURS[k]!;
      g.globalAlpha = 0.35;
      for (const i of idx) g.fillRect((i % cols) * (CELL + GAP), Math.floor(i / cols) * (CELL + GAP), CELL, CELL);
      g.globalAlpha = 1;
      for (const i of idx) {
        const n = nodes[i]!;
        const f = n.podsAllocatable > 0 ? Math.min(1, n.pods / n.podsAllocatable) : 0;
        const fh = Math.round(f * CELL);
        if (fh > 0) g.fillRect((i % cols) * (CELL + GAP), Math.floor(i / cols) * (CELL + GAP) + CELL - fh, CELL, fh);
      }
    }
    g.fillStyle = '#f2c94c';
    for (let i = 0; i < nodes.length; i++) if (nodes[i]!.pending) g.fillRect((i % cols) * (CELL + GAP) + CELL - 4, Math.floor(i / cols) * (CELL + GAP), 4, 4);
    // What the canvas holds (the bench's first load waits for every node drawn).
    c.dataset.drawn = String(nodes.length);
    // Marked at the next frame, the one that paints this drawing.
    const detail = { nodes: nodes.length, pods, loaded };
    requestAnimationFrame(() => performance.mark('mizzen:map', { detail }));
  }, [version, nodes.length, cols, loaded]);

  const at = (e: MouseEvent) => {
    const cols = colsNow.current;
    const r = (e.target as HTMLCanvasElement).getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left) / (CELL + GAP));
    const row = Math.floor((e.clientY - r.top) / (CELL + GAP));
    const i = row * cols + col;
    return col < cols ? nodes[i] : undefined;
  };

  return (
    <div class="node-canvas" data-testid="node-canvas" data-nodes={nodes.length} data-draws="canvas">
      <p class="muted">
        {count(nodes.length)} nodes, one cell each: colour is health (green Ready, orange heartbeat late, red NotReady, grey Unknown), fill is pods / pod capacity, a yellow corner
        means pods starting. Click a node for its pods.
      </p>
      <canvas
        ref={ref}
        onMouseMove={(e) => {
          const n = at(e as unknown as MouseEvent);
          setHover(n ? { n, x: (e as MouseEvent).offsetX, y: (e as MouseEvent).offsetY } : undefined);
        }}
        onMouseLeave={() => setHover(undefined)}
        onClick={(e) => {
          const n = at(e as unknown as MouseEvent);
          if (n) go(href('node', n.name));
        }}
      />
      {hover && (
        <div class="tip" style={{ left: `${hover.x + 16}px`, top: `${hover.y + 16}px` }}>
          <b>{hover.n.name}</b> {hover.n.health}
          <br />
          {hover.n.pods} pods ({hover.n.running} Running, {hover.n.pending} Pending)
          {hover.n.problems.length ? <br /> : null}
          {hover.n.problems.join('; ')}
        </div>
      )}
    </div>
  );
}
