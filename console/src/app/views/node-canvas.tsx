// Thousands of nodes as one canvas: a cell per node, coloured by health, filled by how many pods
// it runs against how many it may, or (when chosen) by its cpu or memory use from the metrics API
// against its allocatable. Drawing 5,000 cells takes a few milliseconds; only the cells that look
// different are redrawn when a batch of changes arrives or the use is read again (node-cells.ts).

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { NodeSummary } from '../../shared/types.ts';
import { go, href } from '../router.ts';
import { bytes, count, cpu } from '../format.ts';
import { CELL, CELLS_LEGEND, GAP, adoptCells, colsFor, drawNodeCells } from './node-cells.ts';
import { FIRST_PAINT_ID } from '../../first-paint/main.ts';
import type { NodesUsage } from './usage.ts';

/** What a cell's fill shows. */
export type CellFill = 'pods' | 'cpu' | 'memory';

const FILLS: { fill: CellFill; label: string }[] = [
  { fill: 'pods', label: 'pods / capacity' },
  { fill: 'cpu', label: 'cpu used / allocatable' },
  { fill: 'memory', label: 'memory used / allocatable' },
];

/** The fraction a cell is filled to, or undefined when the metrics API reports no use for the node. */
function usageFill(fill: CellFill, usage: NodesUsage | undefined): ((n: NodeSummary) => number | undefined) | undefined {
  if (fill === 'pods') return undefined;
  return (n) => {
    const u = usage?.nodes.get(n.name);
    if (!u) return undefined;
    const total = fill === 'cpu' ? n.cpuAllocatable : n.memoryAllocatable;
    return total > 0 ? (fill === 'cpu' ? u.cpu : u.memory) / total : undefined;
  };
}

const pct = (used: number, total: number) => (total > 0 ? ` (${Math.round((used / total) * 100)}%)` : '');

/**
 * `loaded` says which lists are complete (e.g. "nodes leases pods"): with the number of nodes and
 * pods drawn it goes into a `mizzen:map` performance mark at each drawing, which is how `npm run
 * bench -- console` sees when the map was first drawn whole.
 */
/**
 * `usage` is the nodes' use from the metrics API, read by the map when `wantUsage` is first called
 * (a use fill chosen, a cell hovered), not before: the map's first load does not wait on it.
 */
export function NodeCanvas({ nodes, version, loaded, pods, usage, usageError, wantUsage }: { nodes: NodeSummary[]; version: number; loaded: string; pods: number; usage?: NodesUsage; usageError?: string; wantUsage: () => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [fill, setFill] = useState<CellFill>('pods');
  const [width, setWidth] = useState(960);
  const [hover, setHover] = useState<{ n: NodeSummary; x: number; y: number } | undefined>();
  const drawn = useRef('');
  const colsNow = useRef(0);
  /** The box's width: read at the first drawing, then as the ResizeObserver reports it. */
  const boxWidth = useRef(0);
  const cols = colsFor(width);

  useEffect(() => {
    const el = ref.current?.parentElement;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      boxWidth.current = el.clientWidth;
      setWidth(el.clientWidth);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Drawn as the DOM is updated, before the browser paints: the frame that shows "5,000 nodes"
  // shows their cells too (an effect would draw them a frame or more later).
  useLayoutEffect(() => {
    const c = ref.current;
    if (!c) return;
    // The box's width read here at the first drawing, not the default's: the first drawing is the
    // right one, and the ResizeObserver's first report (the same width) does not draw all cells
    // again. Later drawings take the observer's width (reading it here would force a layout).
    // The first drawing over the page's first paint (src/first-paint) takes over its canvas:
    // the same cells, and its columns (the same box).
    if (!drawn.current && !boxWidth.current) {
      const first = document.querySelector<HTMLCanvasElement>(`#${FIRST_PAINT_ID} canvas`);
      const firstCols = first && first.dataset.drawn === String(nodes.length) ? adoptCells(c, first) : undefined;
      if (firstCols) boxWidth.current = firstCols * (CELL + GAP);
    }
    const w = (boxWidth.current ||= c.parentElement?.clientWidth ?? 0);
    const cols = w ? colsFor(w) : colsFor(width);
    const key = `${version} ${nodes.length} ${cols} ${loaded} ${fill} ${fill === 'pods' ? '' : usage?.at}`;
    if (drawn.current === key) return;
    drawn.current = key;
    colsNow.current = cols;
    drawNodeCells(c, nodes, cols, usageFill(fill, usage));
    // Marked at the next frame, the one that paints this drawing.
    const detail = { nodes: nodes.length, pods, loaded };
    requestAnimationFrame(() => performance.mark('mizzen:map', { detail }));
  }, [version, nodes.length, cols, loaded, fill, usage]);

  const at = (e: MouseEvent) => {
    const cols = colsNow.current;
    const r = (e.target as HTMLCanvasElement).getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left) / (CELL + GAP));
    const row = Math.floor((e.clientY - r.top) / (CELL + GAP));
    const i = row * cols + col;
    return col < cols ? nodes[i] : undefined;
  };

  return (
    <div class="node-canvas" data-testid="node-canvas" data-nodes={nodes.length} data-draws="canvas" data-fill={fill} data-usage-nodes={usage ? nodes.filter((n) => usage.nodes.has(n.name)).length : 0}>
      <p class="muted">
        {count(nodes.length)} {fill === 'pods' ? CELLS_LEGEND : CELLS_LEGEND.replace('fill is pods / pod capacity', `fill is ${fill} used / allocatable`)}
      </p>
      <p class="cell-fills" data-testid="cell-fills">
        Fill:{' '}
        {FILLS.map((f) => (
          <button type="button" class={fill === f.fill ? 'tab on' : 'tab'} data-testid={`cell-fill-${f.fill}`} onClick={() => (setFill(f.fill), f.fill !== 'pods' && wantUsage())}>
            {f.label}
          </button>
        ))}
        {fill !== 'pods' && (
          <span class="muted" data-testid="cell-fill-legend">
            {' '}
            {usage
              ? `a cell is filled to the node's ${fill} use from the metrics API against its allocatable ${fill}; a dark corner: no use reported for that node.`
              : usageError
                ? `no use to show: ${usageError}`
                : 'reading the use from the metrics API…'}
          </span>
        )}
      </p>
      <canvas
        ref={ref}
        onMouseMove={(e) => {
          const n = at(e as unknown as MouseEvent);
          if (n) wantUsage();
          // Placed in the box that holds the legends too, not in the canvas's own coordinates.
          const box = (e.currentTarget as HTMLElement).parentElement!.getBoundingClientRect();
          setHover(n ? { n, x: e.clientX - box.left, y: e.clientY - box.top } : undefined);
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
          <br />
          <span data-testid="tip-usage">{usageLine(hover.n, usage, usageError)}</span>
          <br />
          requested cpu {cpu(hover.n.cpuRequested)} / {cpu(hover.n.cpuAllocatable)} · memory {bytes(hover.n.memoryRequested)} / {bytes(hover.n.memoryAllocatable)}
          {hover.n.problems.length ? <br /> : null}
          {hover.n.problems.join('; ')}
        </div>
      )}
    </div>
  );
}

function usageLine(n: NodeSummary, usage: NodesUsage | undefined, error: string | undefined): string {
  const u = usage?.nodes.get(n.name);
  if (u) return `used cpu ${cpu(u.cpu)}${pct(u.cpu, n.cpuAllocatable)} · memory ${bytes(u.memory)}${pct(u.memory, n.memoryAllocatable)}`;
  if (usage) return 'no use reported by the metrics API for this node (yet)';
  return error ? `use not available: ${error}` : 'use: reading the metrics API…';
}
