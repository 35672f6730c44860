// The page's first paint: every node with its health, drawn from the nodes' Table by index.html's
// inline scripts as soon as the Table's body is in, before the app's script has run. build.mjs
// bundles this file on its own (a few kB, no Preact) into index.html, as `__mizzenPaint`.
//
// Why: at 5,000 nodes the app's script (compile, then its first render of the whole page with
// every node) took 0.3-1 s of the page's main thread between the Table's answer and the map on
// screen, and the Table's body waited behind it. This draws the same header and the same cells
// (node-cells.ts, natural-sort.ts) in a few milliseconds; the app then renders the live page over
// it and removes it (main.tsx), with no change to what is shown but the parts that need the
// watches (the master node's components, pods, heartbeats).

import { count } from '../app/format.ts';
import { CELLS_LEGEND, colsFor, drawNodeCells } from '../app/views/node-cells.ts';
import { naturalSort } from '../shared/natural-sort.ts';
import { DETAIL_NODES, type NodeSummary } from '../shared/types.ts';
import { nodeSummariesFromTable } from '../worker/summaries.ts';

export const FIRST_PAINT_ID = 'first-paint';

/**
 * The Table's nodes, sorted as the map sorts them (handed to the app: it does not parse them
 * again), and whether they were drawn: only when asked (the app is not running yet), on the map's page (the address's fragment says which
 * page), and only when the map draws them as canvas cells (more than DETAIL_NODES).
 */
export function paint(body: ArrayBuffer, draw = true): { nodes?: NodeSummary[]; painted: boolean } {
  let table: any;
  try {
    table = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { painted: false };
  }
  if (table?.kind !== 'Table') return { painted: false };
  const bases = nodeSummariesFromTable(table);
  performance.mark('mizzen:table-parsed', { detail: { nodes: bases.length } });
  const nodes: NodeSummary[] = naturalSort(bases.map((b) => ({ ...b, pods: 0, running: 0, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0 })));
  const page = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  if (!draw || (page && page !== 'map') || nodes.length <= DETAIL_NODES || !document.body || document.getElementById(FIRST_PAINT_ID)) return { nodes, painted: false };
  let ready = 0;
  let notReady = 0;
  for (const n of nodes) {
    if (n.health === 'Ready') ready++;
    else if (n.health === 'NotReady') notReady++;
  }
  const unknown = nodes.length - ready - notReady;
  // The app's header and map, with the same classes (its stylesheet is inline in the page).
  const root = el('div', { id: FIRST_PAINT_ID, class: 'shell' }, [
    el('header', {}, [
      el('span', { class: 'brand' }, ['Mizzen']),
      el('nav', {}, [tab('map', 'Map', true), tab('flow', 'Flow'), tab('pending', 'Pending'), tab('events', 'Events')]),
      el('span', { class: 'conn connecting' }, ['connecting…']),
    ]),
    el('main', {}, [
      el('div', { class: 'map' }, [
        el('section', { class: 'control-plane' }, [el('h2', {}, ['Master node']), el('p', { class: 'muted' }, ['connecting to the API server…'])]),
        el('section', { class: 'nodes' }, [
          el('h2', {}, [`Nodes: ${count(ready)} Ready${notReady ? `, ${count(notReady)} NotReady` : ''}${unknown ? `, ${count(unknown)} Unknown` : ''} of ${count(nodes.length)} · pods: loading…`]),
          el('div', { class: 'node-canvas', 'data-testid': 'node-canvas', 'data-nodes': String(nodes.length), 'data-draws': 'canvas' }, [
            el('p', { class: 'muted' }, [`${count(nodes.length)} ${CELLS_LEGEND}`]),
            el('canvas', {}, []),
          ]),
        ]),
      ]),
    ]),
  ]);
  document.body.insertBefore(root, document.body.firstChild);
  const canvas = root.querySelector('canvas')!;
  drawNodeCells(canvas, nodes, colsFor(canvas.parentElement!.clientWidth));
  // Marked at the next frame, the one that paints it (as the map's own drawings are).
  requestAnimationFrame(() => performance.mark('mizzen:map', { detail: { nodes: nodes.length, pods: 0, loaded: '', firstPaint: true } }));
  return { nodes, painted: true };
}

/** Takes the first paint out of the page (the app has drawn its own). */
export function dropFirstPaint(): void {
  document.getElementById(FIRST_PAINT_ID)?.remove();
}

function tab(name: string, label: string, on = false): HTMLElement {
  return el('a', { class: on ? 'tab on' : 'tab', href: `#/${name}` }, [label]);
}

function el(tag: string, attrs: Record<string, string>, children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
