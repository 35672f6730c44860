// Thousands of nodes as one canvas: a cell per node, coloured by health, filled by how many pods
// it runs against how many it may. Drawing 5,000 cells takes a few milliseconds; only the cells
// that look different are redrawn when a batch of changes arrives (node-cells.ts).

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { NodeSummary } from '../../shared/types.ts';
import { go, href } from '../router.ts';
import { count } from '../format.ts';
import { CELL, CELLS_LEGEND, GAP, adoptCells, colsFor, drawNodeCells } from './node-cells.ts';
import { FIRST_PAINT_ID } from '../../first-paint/main.ts';

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
    const key = `${version} ${nodes.length} ${cols} ${loaded}`;
    if (drawn.current === key) return;
    drawn.current = key;
    colsNow.current = cols;
    drawNodeCells(c, nodes, cols);
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
        {count(nodes.length)} {CELLS_LEGEND}
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
