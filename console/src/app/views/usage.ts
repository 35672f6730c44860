// Nodes' resource use from the metrics API (metrics.k8s.io), where the cluster serves it. That API
// has no watch, so the map reads it once when its nodes are shown (cards, or the canvas grid once
// the nodes' list is in) and again when asked: never on a timer (the console does not poll).
// Absent or forbidden, the cards show nothing and the grid says why.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, apiJSON } from '../../shared/http.ts';
import { quantity } from '../../worker/summaries.ts';
import { savedToken } from '../auth.ts';
import { serverNow } from '../format.ts';

export interface Usage {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

export interface NodesUsage {
  /** When it was read (server time, ms). */
  at: number;
  nodes: Map<string, Usage>;
}

/** The nodes' use, a function that reads it again, and why it could not be read (if so). */
export function useNodesUsage(enabled: boolean): [NodesUsage | undefined, () => void, string | undefined] {
  const [asked, setAsked] = useState(0);
  const [got, setGot] = useState<NodesUsage | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    apiJSON('/apis/metrics.k8s.io/v1beta1/nodes', { token: savedToken() }).then(
      (list: any) => {
        if (!live) return;
        const nodes = new Map<string, Usage>();
        for (const m of list?.items ?? []) nodes.set(m.metadata?.name, { cpu: Math.round(quantity(m.usage?.cpu) * 1000), memory: quantity(m.usage?.memory) });
        setGot({ at: serverNow(), nodes });
        setError(undefined);
      },
      (e) => {
        if (!live) return;
        setGot(undefined);
        setError(e instanceof ApiError && e.code === 404 ? 'the cluster serves no metrics API' : e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      live = false;
    };
  }, [enabled, asked]);
  return [got, useCallback(() => setAsked((a) => a + 1), []), error];
}
