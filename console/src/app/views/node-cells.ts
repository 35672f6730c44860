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

/** A cell's fill as a fraction of the cell; undefined when not known (no use reported for the node). */
export type FillOf = (n: NodeSummary) => number | undefined;

/**
 * What a cell shows, as one number: its colour (health), its dark corner (fill not known), its
 * fill (pods / pod capacity unless `fillOf` says otherwise, in pixels) and its yellow corner (pods
 * starting). Two cells with the same code look the same, whichever node they are.
 */
export function cellCodes(nodes: NodeSummary[], fillOf: FillOf = podsFill): Int32Array {
  const codes = new Int32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const f = fillOf(n);
    const fill = Math.round(Math.max(0, Math.min(1, f ?? 0)) * CELL);
    codes[i] = (KEYS.indexOf(cls(n)) << 9) | ((f === undefined ? 1 : 0) << 8) | (fill << 1) | (n.pending ? 1 : 0);
  }
  return codes;
}

/**
 * The cells whose code differs between two drawings of the same number of cells; undefined when
 * so many changed that drawing all of them (runs of one colour as one rectangle) is cheaper.
 */
export function changedCells(prev: Int32Array, next: Int32Array): number[] | undefined {
  if (prev.length !== next.length) return undefined;
  const out: number[] = [];
  const most = Math.max(64, next.length >> 3);
  for (let i = 0; i < next.length; i++) {
    if (prev[i] === next[i]) continue;
    if (out.length >= most) return undefined;
    out.push(i);
  }
  return out;
}

const KEYS = ['ok', 'stale', 'bad', 'unknown'];
const colourOf = (code: number) => COLOURS[KEYS[code >> 9]!]!;
const unknownFill = (code: number) => ((code >> 8) & 1) === 1;
const fillPx = (code: number) => (code >> 1) & 0x7f;

/**
 * What a canvas holds now (its size and every cell's code), for the next drawing: kept on the
 * element, where the app finds the first paint's (a bundle of its own) to take it over.
 */
interface Held {
  cols: number;
  dpr: number;
  codes: Int32Array;
}
const HELD = '__mizzenCells';
const heldOf = (c: HTMLCanvasElement) => (c as unknown as { [HELD]?: Held })[HELD];
const hold = (c: HTMLCanvasElement, h: Held) => void ((c as unknown as { [HELD]?: Held })[HELD] = h);

/**
 * Takes over another canvas's drawing (the page's first paint): its pixels copied in one call,
 * and what its cells hold, so the next drawNodeCells redraws only what changed since. Returns its
 * number of columns (the app need not read the box's width, which would force a layout in the
 * task of its first render), or undefined if it has none.
 */
export function adoptCells(c: HTMLCanvasElement, from: HTMLCanvasElement): number | undefined {
  const h = heldOf(from);
  if (!h || !from.width || !from.height) return undefined;
  c.width = from.width;
  c.height = from.height;
  c.style.width = from.style.width;
  c.style.height = from.style.height;
  c.getContext('2d')!.drawImage(from, 0, 0);
  hold(c, h);
  c.dataset.drawn = from.dataset.drawn ?? '';
  return h.cols;
}

/**
 * Sizes the canvas for `cols` columns and draws every node; says what it holds in data-drawn.
 * `fillOf` gives each cell's fill (see cellCodes); an unknown fill is an empty cell with a dark
 * corner. Drawn again with the same size and number of nodes, only the cells that look different are
 * redrawn: under a burst of pod changes a batch touches a few hundred nodes of 5,000, and the
 * whole canvas (with its 5,000 yellow corners while pods start) took tens of milliseconds of the
 * page's main thread at every batch.
 */
export function drawNodeCells(c: HTMLCanvasElement, nodes: NodeSummary[], cols: number, fillOf: FillOf = podsFill): void {
  const rows = Math.ceil(nodes.length / cols);
  const dpr = devicePixelRatio || 1;
  const STEP = CELL + GAP;
  const h = rows * STEP;
  const codes = cellCodes(nodes, fillOf);
  const prev = heldOf(c);
  const g = c.getContext('2d')!;
  const same = prev && prev.cols === cols && prev.dpr === dpr && c.width === cols * STEP * dpr && c.height === h * dpr;
  const changed = same ? changedCells(prev.codes, codes) : undefined;
  hold(c, { cols, dpr, codes });
  c.dataset.drawn = String(nodes.length);
  if (changed) {
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const i of changed) {
      const x = (i % cols) * STEP;
      const y = Math.floor(i / cols) * STEP;
      const code = codes[i]!;
      g.clearRect(x, y, CELL, CELL);
      g.fillStyle = colourOf(code);
      g.globalAlpha = 0.35;
      g.fillRect(x, y, CELL, CELL);
      g.globalAlpha = 1;
      const fh = fillPx(code);
      if (fh > 0) g.fillRect(x, y + CELL - fh, CELL, fh);
      if (code & 1) {
        g.fillStyle = '#f2c94c';
        g.fillRect(x + CELL - 4, y, 4, 4);
      }
      if (unknownFill(code)) {
        g.fillStyle = '#3b3f46';
        g.fillRect(x, y + CELL - 4, 4, 4);
      }
    }
    return;
  }
  // A new size reallocates the canvas's pixels: only when it changes.
  if (!same) {
    c.width = cols * STEP * dpr;
    c.height = h * dpr;
    c.style.height = `${h}px`;
    c.style.width = `${cols * STEP}px`;
  }
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cols * STEP, h);
  // A run of cells of one colour along a row is one rectangle, and the gaps between columns are
  // cleared after, one strip each: ~100 calls for 5,000 healthy nodes rather than a fillRect
  // per cell (5,000 of them took ~50 ms of the first load under load 3-4).
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
      g.fillStyle = colourOf(codes[i]!);
      g.fillRect((i % cols) * STEP, Math.floor(i / cols) * STEP, (j - i) * STEP - GAP, CELL);
    },
    (a, b) => codes[a]! >> 9 === codes[b]! >> 9,
  );
  g.globalAlpha = 1;
  runs(
    (i, j) => {
      const fh = fillPx(codes[i]!);
      if (fh <= 0) return;
      g.fillStyle = colourOf(codes[i]!);
      g.fillRect((i % cols) * STEP, Math.floor(i / cols) * STEP + CELL - fh, (j - i) * STEP - GAP, fh);
    },
    (a, b) => codes[a]! >> 1 === codes[b]! >> 1,
  );
  for (let col = 1; col < cols; col++) g.clearRect(col * STEP - GAP, 0, GAP, h);
  // The yellow corners as one path, one fill (every node has one while its pods start).
  g.fillStyle = '#f2c94c';
  g.beginPath();
  for (let i = 0; i < nodes.length; i++) if (codes[i]! & 1) g.rect((i % cols) * STEP + CELL - 4, Math.floor(i / cols) * STEP, 4, 4);
  g.fill();
  g.fillStyle = '#3b3f46';
  g.beginPath();
  for (let i = 0; i < nodes.length; i++) if (unknownFill(codes[i]!)) g.rect((i % cols) * STEP, Math.floor(i / cols) * STEP + CELL - 4, 4, 4);
  g.fill();
}
