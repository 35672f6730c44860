// Who holds what in a heap snapshot: `node --import tsx bench/lib/heap-holders.ts FILE.heapsnapshot`.
// The self-size summary (heap-summary.ts) says "strings, 300 MB"; this says which strings (stored
// JSON by kind, keys, other) and what holds them: for each group, the constructor and property of
// the object that holds each node (its first non-weak retainer), with counts and bytes. Large
// snapshots are read as bytes, never JSON.parse'd whole.

import { readSnapshot, type Snapshot } from './heap-summary.ts';

/** A category for a string's text: stored JSON by kind, storage keys, or short/other. */
function stringCategory(s: string): string {
  if (s.startsWith('{"apiVersion"') || s.startsWith('{"kind"') || s.startsWith('{"metadata"')) {
    const m = /"kind":"([^"]*)"/.exec(s);
    return `json:${m ? m[1] : '?'}`;
  }
  if (s.startsWith('{')) return 'json:other';
  if (s.startsWith('/registry/')) return `key:${s.split('/')[2] ?? '?'}`;
  return s.length > 200 ? 'string>200' : s.length > 40 ? 'string41-200' : 'string<=40';
}

export interface HolderReport {
  totalMB: number;
  groups: { name: string; count: number; MB: number; heldBy: { by: string; count: number; MB: number }[] }[];
}

/** Groups (strings by category, objects by constructor), largest first, each with its holders. */
export function heapHolders(snap: Snapshot, n = 25, holders = 6): HolderReport {
  const { nodes, edges, strings, nf, ef, fType, fName, fSize, fEdges, eType, eName, eTo, typeNames, edgeTypeNames } = snap;
  const nodeCount = nodes.length / nf;
  const isString = (i: number) => typeNames[nodes[i * nf + fType]].includes('string');
  // First strong retainer of every node (reverse of the first edge that points at it).
  const retainer = new Int32Array(nodeCount).fill(-1);
  const retEdgeName = new Int32Array(nodeCount).fill(-1);
  const retEdgeType = new Int8Array(nodeCount);
  let e = 0;
  for (let i = 0; i < nodeCount; i++) {
    const count = nodes[i * nf + fEdges];
    for (let k = 0; k < count; k++, e += ef) {
      const t = edgeTypeNames[edges[e + eType]];
      if (t === 'weak' || t === 'shortcut') continue;
      const to = edges[e + eTo] / nf;
      // Parts of a concatenated or sliced string are attributed to the whole string's holder.
      if (retainer[to] < 0 || (isString(retainer[to]) && !isString(i))) {
        retainer[to] = i;
        retEdgeName[to] = edges[e + eName];
        retEdgeType[to] = edges[e + eType];
      }
    }
  }
  const firstEdge = new Uint32Array(nodeCount);
  for (let i = 0, fe = 0; i < nodeCount; i++) {
    firstEdge[i] = fe;
    fe += nodes[i * nf + fEdges] * ef;
  }
  /** A string's text, through a concatenated string's first part or a sliced string's parent. */
  const textOf = (i: number): string => {
    for (let hop = 0; hop < 1000; hop++) {
      const type = typeNames[nodes[i * nf + fType]];
      if ((type !== 'concatenated string' && type !== 'sliced string') || nodes[i * nf + fEdges] === 0) break;
      let next = -1;
      for (let k = 0; k < nodes[i * nf + fEdges]; k++) {
        const ed = firstEdge[i] + k * ef;
        const en = strings[edges[ed + eName]];
        if (en === 'first' || en === 'parent') next = edges[ed + eTo] / nf;
      }
      if (next < 0) break;
      i = next;
    }
    return strings[nodes[i * nf + fName]] ?? '';
  };
  const nameOf = (i: number): string => {
    const type = typeNames[nodes[i * nf + fType]];
    if (type.includes('string')) {
      // A part of a larger string counts as that string.
      let top = i;
      for (let hop = 0; hop < 50 && retainer[top] >= 0 && isString(retainer[top]); hop++) top = retainer[top];
      return `(string) ${stringCategory(textOf(top))}`;
    }
    if (type === 'object' || type === 'closure' || type === 'native') return strings[nodes[i * nf + fName]] ?? '?';
    return `(${type})`;
  };
  // A string's text is only in the snapshot for flat strings; cons/sliced strings are named by type.
  const holderOf = (i: number): string => {
    while (isString(i) && retainer[i] >= 0 && isString(retainer[i])) i = retainer[i];
    const r = retainer[i];
    if (r < 0) return '(none)';
    const et = edgeTypeNames[retEdgeType[i]];
    const en = et === 'element' || et === 'hidden' ? `[${et}]` : strings[retEdgeName[i]];
    // Walk up through arrays and internal holders to something named.
    let up = r;
    let path = nameOf(r);
    for (let hop = 0; hop < 3 && /^\((array|hidden|internal|object shape|code|system)/.test(path) ; hop++) {
      const rr = retainer[up];
      if (rr < 0) break;
      up = rr;
      path = `${nameOf(up)}>${path}`;
    }
    return `${path}.${en}`;
  };
  const groups = new Map<string, { count: number; bytes: number; by: Map<string, { count: number; bytes: number }> }>();
  let total = 0;
  for (let i = 0; i < nodeCount; i++) {
    const bytes = nodes[i * nf + fSize];
    total += bytes;
    const name = nameOf(i);
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { count: 0, bytes: 0, by: new Map() }));
    g.count++;
    g.bytes += bytes;
    const h = holderOf(i);
    const b = g.by.get(h);
    if (b) {
      b.count++;
      b.bytes += bytes;
    } else g.by.set(h, { count: 1, bytes });
  }
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return {
    totalMB: mb(total),
    groups: [...groups.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, n)
      .map(([name, g]) => ({
        name,
        count: g.count,
        MB: mb(g.bytes),
        heldBy: [...g.by.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, holders).map(([by, x]) => ({ by, count: x.count, MB: mb(x.bytes) })),
      })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of process.argv.slice(2)) {
    const r = heapHolders(readSnapshot(f), Number(process.env.GROUPS ?? 25));
    console.log(`${f}: ${r.totalMB} MB`);
    for (const g of r.groups) {
      console.log(`${g.MB.toFixed(1).padStart(8)} MB ${String(g.count).padStart(9)}  ${g.name}`);
      for (const h of g.heldBy) console.log(`           ${h.MB.toFixed(1).padStart(8)} MB ${String(h.count).padStart(9)}  <- ${h.by}`);
    }
  }
}
