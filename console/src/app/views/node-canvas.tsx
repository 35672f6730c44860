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
    // A run of cells of one colour along a row is one rectangle, and the gaps between columns are
    // cleared after, one strip each: ~100 calls for 5,000 healthy nodes rather than a fillRect
    // per cell (5,000 of them took ~50 ms of the first load under load 3-4).
    const STEP = CELL + GAP;
    const keys = nodes.map(cls);
    const fills = nodes.map((n) => Math.round((n.podsAllocatable > 0 ? Math.min(1, n.pods / n.podsAllocatable) : 0) * CELL));
    const runs = (draw: (from: number, to: number) => void, same: (a: number, b: number) => boolean) => {
      for (let i = 0; i < nodes.length; ) {
        let j = i + 1;
        while (j < nodes.length && j % cols !== 0 && same(i, j)) j++;
        draw(i, j);
        i = j;
      }
    };
    g.globalAlpha = 0.35;
    runs(
      (i, j) => {
        g.fillStyle = COLOURS[keys[i]!]!;
        g.fillRect((i % cols) * STEP, Math.floor(i / cols) * STEP, (j - i) * STEP - GAP, CELL);
      },
      (a, b) => keys[a] === keys[b],
    );
    g.globalAlpha = 1;
    runs(
      (i, j) => {
        const fh = fills[i]!;
        if (fh <= 0) return;
        g.fillStyle = COLOURS[keys[i]!]!;
        g.fillRect((i % cols) * STEP, Math.floor(i / cols) * STEP + CELL - fh, (j - i) * STEP - GAP, fh);
      },
      (a, b) => keys[a] === keys[b] && fills[a] === fills[b],
    );
    for (let col = 1; col < cols; col++) g.clearRect(col * STEP - GAP, 0, GAP, h);
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
