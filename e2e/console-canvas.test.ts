// The map's node canvas draws only the cells that changed (console/src/app/views/node-cells.ts):
// which cells those are, and, in a real browser (Debian's chromium, headless), that a canvas
// drawn again cell by cell (or taken over from the first paint's, then drawn again) holds exactly
// the pixels of one drawn whole from the same nodes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from './harness.ts';
import { browserMissing, launchBrowser } from './browser.ts';
import { CELL, cellCodes, changedCells } from '../console/src/app/views/node-cells.ts';
import type { NodeSummary } from '../console/src/shared/types.ts';

function node(i: number, pods: number, over: Partial<NodeSummary> = {}): NodeSummary {
  return {
    name: `sim-${i}`, uid: `u${i}`, health: 'Ready', problems: [], unschedulable: false, taints: [], simulated: true, kubeletVersion: 'v1', created: 0,
    cpuAllocatable: 64000, memoryAllocatable: 1 << 30, podsAllocatable: 110, pods, running: pods, pending: 0, failed: 0, succeeded: 0, cpuRequested: 0, memoryRequested: 0,
    ...over,
  };
}

test('cell codes say what a cell looks like; changedCells finds the cells that look different', () => {
  const a = Array.from({ length: 1000 }, (_, i) => node(i, 30));
  const ca = cellCodes(a);
  // Same look whichever node: one more pod that does not move the fill by a pixel is no change.
  assert.deepEqual(changedCells(ca, cellCodes(a.map((n, i) => (i === 5 ? { ...n, name: 'other', pods: 31 } : n)))), []);
  const b = a.map((n, i) => (i === 7 ? { ...n, health: 'NotReady' as const } : i === 9 ? { ...n, pods: 110 } : i === 11 ? { ...n, pending: 2 } : n));
  assert.deepEqual(changedCells(ca, cellCodes(b)), [7, 9, 11]);
  // A full cell's fill is the cell's height.
  assert.equal((cellCodes([node(0, 500)])[0]! >> 1) & 0x7f, CELL);
  // Most cells changed: drawn whole (undefined), as is a different number of cells.
  assert.equal(changedCells(ca, cellCodes(a.map((n) => ({ ...n, pods: 100 })))), undefined);
  assert.equal(changedCells(ca, cellCodes(a.slice(1))), undefined);
});

const missing = await browserMissing();

describe('node canvas in a browser', { skip: missing }, () => {
  test('drawing only the changed cells gives the pixels of a whole drawing', async () => {
    // node-cells.ts bundled for the page with Vite (as console/build.mjs bundles the first paint).
    const vite = await import('vite');
    const out = await vite.build({
      configFile: false,
      root: path.join(REPO_ROOT, 'console'),
      logLevel: 'warn',
      build: { write: false, target: 'es2022', minify: false, reportCompressedSize: false, lib: { entry: path.join(REPO_ROOT, 'console/src/app/views/node-cells.ts'), formats: ['iife'], name: '__cells' } },
    });
    const code = (Array.isArray(out) ? out : [out]).flatMap((o: any) => o.output).find((o: any) => o.type === 'chunk')!.code as string;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.setContent('<html><body></body></html>');
      await page.addScriptTag({ content: code });
      // A string, not a function: tsx would wrap the function's inner functions in a helper that
      // does not exist in the page.
      const result: { mismatches: string[]; drawn: string } = await page.evaluate(`(() => {
        const { drawNodeCells } = window.__cells;
        // A deterministic walk of states: each step changes a few nodes (cells redrawn one by
        // one) or most of them (drawn whole again), in health, pods and pods starting.
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        const nodes = Array.from({ length: 5000 }, (_, i) => ({ name: 'sim-' + i, health: 'Ready', podsAllocatable: 110, pods: 30, pending: 0 }));
        const live = document.createElement('canvas');
        document.body.append(live);
        const pixels = (c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const mismatches = [];
        const cols = 99;
        for (let step = 0; step < 12; step++) {
          const many = step % 4 === 3;
          const k = many ? 4000 : 1 + Math.floor(rnd() * 300);
          for (let j = 0; j < k; j++) {
            const n = nodes[Math.floor(rnd() * nodes.length)];
            const r = rnd();
            if (r < 0.2) n.health = n.health === 'Ready' ? 'NotReady' : r < 0.1 ? 'Unknown' : 'Ready';
            else if (r < 0.6) n.pods = Math.floor(rnd() * 130);
            else n.pending = n.pending ? 0 : 1 + Math.floor(rnd() * 3);
          }
          const copy = nodes.map((n) => ({ ...n }));
          drawNodeCells(live, copy, cols);
          const whole = document.createElement('canvas');
          drawNodeCells(whole, copy, cols);
          const a = pixels(live);
          const b = pixels(whole);
          let diff = a.length === b.length ? 0 : -1;
          if (diff === 0) for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
          if (diff) mismatches.push('step ' + step + ' (' + k + ' nodes changed): ' + diff + ' bytes differ');
        }
        // The app taking over the first paint's canvas (adoptCells), then drawing changes on it.
        const adopted = document.createElement('canvas');
        const adoptedCols = window.__cells.adoptCells(adopted, live);
        if (adoptedCols !== cols) mismatches.push('adopted ' + adoptedCols + ' columns');
        for (let j = 0; j < 50; j++) nodes[j * 97].pods = (nodes[j * 97].pods + 40) % 130;
        const copy = nodes.map((n) => ({ ...n }));
        drawNodeCells(adopted, copy, cols);
        const whole = document.createElement('canvas');
        drawNodeCells(whole, copy, cols);
        const a = pixels(adopted);
        const b = pixels(whole);
        let diff = a.length === b.length ? 0 : -1;
        if (diff === 0) for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
        if (diff) mismatches.push('adopted: ' + diff + ' bytes differ');
        return { mismatches, drawn: live.dataset.drawn };
      })()`);
      assert.deepEqual(result.mismatches, []);
      assert.equal(result.drawn, '5000');
    } finally {
      await browser.close();
    }
  });
});
