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

/** RGBA as one little-endian 32-bit pixel (ImageData's byte order: R, G, B, A). */
function rgba(hex: string, alpha: number): number {
  const v = Number.parseInt(hex.slice(1), 16);
  return ((Math.round(alpha * 255) << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
}

const BACK = Object.fromEntries(Object.entries(COLOURS).map(([k, v]) => [k, rgba(v, 0.35)]));
const FRONT = Object.fromEntries(Object.entries(COLOURS).map(([k, v]) => [k, rgba(v, 1)]));
const PENDING = rgba('#f2c94c', 1);

/** The canvas's pixels as last drawn, and what each cell showed (to redraw only cells that changed). */
interface Pixels {
  img: ImageData;
  words: Uint32Array;
  cols: number;
  step: number;
  cell: number;
  keys: string[];
}

/**
 * Every cell written into the canvas's pixels and put in one call: 5,000 cells as fillRect calls
 * (two or three each) were 0.36-0.49 s of the page's main thread under load (a drawing command
 * each); as pixels it is a loop over typed memory. Cells whose colour, fill and corner did not
 * change are left as they are, so a batch of a few heartbeats or pods touches only their cells.
 */
function drawCells(c: HTMLCanvasElement, pix: { current?: Pixels }, nodes: NodeSummary[], cols: number, rows: number): void {
  const dpr = devicePixelRatio || 1;
  const step = Math.round((CELL + GAP) * dpr);
  const cell = Math.round(CELL * dpr);
  const w = cols * step;
  const h = Math.max(1, rows * step);
  let p = pix.current;
  if (!p || p.cols !== cols || p.step !== step || p.img.width !== w || p.img.height !== h || c.width !== w || c.height !== h) {
    c.width = w;
    c.height = h;
    c.style.width = `${w / dpr}px`;
    c.style.height = `${h / dpr}px`;
    const img = new ImageData(w, h);
    p = pix.current = { img, words: new Uint32Array(img.data.buffer), cols, step, cell, keys: [] };
  }
  const { words, keys } = p;
  const corner = Math.max(1, Math.round(4 * dpr));
  let y0 = h;
  let y1 = -1;
  const count = Math.max(nodes.length, keys.length);
  for (let i = 0; i < count; i++) {
    const n = nodes[i];
    let key = '';
    let fh = 0;
    let k = '';
    if (n) {
      k = cls(n);
      const f = n.podsAllocatable > 0 ? Math.min(1, n.pods / n.podsAllocatable) : 0;
      fh = Math.round(f * cell);
      key = `${k}|${fh}|${n.pending ? 1 : 0}`;
    }
    if (keys[i] === key) continue;
    keys[i] = key;
    const x = (i % cols) * step;
    const y = Math.floor(i / cols) * step;
    if (y >= h) continue;
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y + cell);
    for (let r = 0; r < cell; r++) {
      const at = (y + r) * w + x;
      words.fill(!n ? 0 : r >= cell - fh ? FRONT[k]! : BACK[k]!, at, at + cell);
    }
    if (n?.pending) for (let r = 0; r < corner; r++) words.fill(PENDING, (y + r) * w + x + cell - corner, (y + r) * w + x + cell);
  }
  keys.length = nodes.length;
  const g = c.getContext('2d')!;
  if (y1 >= y0) g.putImageData(p.img, 0, 0, 0, y0, w, y1 - y0);
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
  const cols = Math.max(10, Math.floor(width / (CELL + GAP)));
  const rows = Math.ceil(nodes.length / cols);

  useEffect(() => {
    const el = ref.current?.parentElement;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Drawn as the DOM is updated, before the browser paints: the frame that shows "5,000 nodes"
  // shows their cells too (an effect would draw them a frame or more later).
  const pix = useRef<Pixels | undefined>(undefined);
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    drawCells(c, pix, nodes, cols, rows);
    // What the canvas holds (the bench's first load waits for every node drawn).
    c.dataset.drawn = String(nodes.length);
    // Marked at the next frame, the one that paints this drawing.
    const detail = { nodes: nodes.length, pods, loaded };
    requestAnimationFrame(() => performance.mark('mizzen:map', { detail }));
  }, [version, nodes.length, cols, loaded]);

  const at = (e: MouseEvent) => {
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
