// The node canvas's drawing: a cell per node, coloured by health, filled by pods / pod capacity
// (or, on the map when asked, by resource use from the metrics API against allocatable).
// Shared by the map (NodeCanvas) and the page's first paint (src/first-paint), which draws the
// same cells before the app's script has run; no Preact here, so the first paint stays small.

import type { NodeSummary } from '../../shared/types.ts';
import { serverNow } from '../format.ts';

export const CELL = 12;
export const GAP = 2;

const COLOURS: Record<string, string> = { ok: '#2e9d5b', stale: '#d9912b', bad: '#d64545', unknown: '#8a8f98' };

export const CELLS_LEGEND =
  'nodes, one cell each: colour is health (green Ready, orange heartbeat late, red NotReady, grey Unknown), fill is pods / pod capacity, a yellow corner means pods starting. Click a node for its pods.';

export function colsFor(width: number): number {
  return Math.max(10, Math.floor(width / (CELL + GAP)));
}

export function heartbeatFresh(n: NodeSummary): boolean {
  if (n.heartbeat === undefined) return true;
  return serverNow() - n.heartbeat < (n.leaseDurationSeconds ?? 40) * 1000;
}

function cls(n: NodeSummary): string {
  if (n.health === 'Ready') return heartbeatFresh(n) ? 'ok' : 'stale';
  return n.health === 'NotReady' ? 'bad' : 'unknown';
}

const podsFill = (n: NodeSummary) => (n.podsAllocatable > 0 ? n.pods / n.podsAllocatable : 0);

/**
 * Sizes the canvas for `cols` columns and draws every node; says what it holds in data-drawn.
 * `fillOf` gives each cell's fill as a fraction (pods / pod capacity unless given); undefined
 * means not known (no use reported for that node), drawn as an empty cell with a dark corner.
 */
export function drawNodeCells(c: HTMLCanvasElement, nodes: NodeSummary[], cols: number, fillOf: (n: NodeSummary) => number | undefined = podsFill): void {
  const rows = Math.ceil(nodes.length / cols);
  const dpr = devicePixelRatio || 1;
  const STEP = CELL + GAP;
  const h = rows * STEP;
  c.width = cols * STEP * dpr;
  c.height = h * dpr;
  c.style.height = `${h}px`;
  c.style.width = `${cols * STEP}px`;
  const g = c.getContext('2d')!;
  g.scale(dpr, dpr);
  g.clearRect(0, 0, c.width, c.height);
  // A run of cells of one colour along a row is one rectangle, and the gaps between columns are
  // cleared after, one strip each: ~100 calls for 5,000 healthy nodes rather than a fillRect
  // per cell (5,000 of them took ~50 ms of the first load under load 3-4).
  const keys = nodes.map(cls);
  const known = nodes.map(fillOf);
  const fills = known.map((f) => Math.round(Math.max(0, Math.min(1, f ?? 0)) * CELL));
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
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.pending) g.fillRect((i % cols) * STEP + CELL - 4, Math.floor(i / cols) * STEP, 4, 4);
  g.fillStyle = '#3b3f46';
  for (let i = 0; i < nodes.length; i++) if (known[i] === undefined) g.fillRect((i % cols) * STEP, Math.floor(i / cols) * STEP + CELL - 4, 4, 4);
  // What the canvas holds (the bench's first load waits for every node drawn).
  c.dataset.drawn = String(nodes.length);
}
