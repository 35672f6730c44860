// Nodes' resource use from the metrics API (metrics.k8s.io), where the cluster serves it. That API
// has no watch, so the map reads it once when its node cards are shown and again when asked: never
// on a timer (the console does not poll). Absent or forbidden, nothing is shown.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { apiJSON } from '../../shared/http.ts';
import { quantity } from '../../worker/summaries.ts';
import { savedToken } from '../auth.ts';
import { serverNow } from '../format.ts';

export interface Usage {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

export function useNodesUsage(enabled: boolean): [{ at: number; nodes: Map<string, Usage> } | undefined, () => void] {
  const [asked, setAsked] = useState(0);
  const [got, setGot] = useState<{ at: number; nodes: Map<string, Usage> } | undefined>();
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    apiJSON('/apis/metrics.k8s.io/v1beta1/nodes', { token: savedToken() }).then(
      (list: any) => {
        if (!live) return;
        const nodes = new Map<string, Usage>();
        for (const m of list?.items ?? []) nodes.set(m.metadata?.name, { cpu: Math.round(quantity(m.usage?.cpu) * 1000), memory: quantity(m.usage?.memory) });
        setGot({ at: serverNow(), nodes });
      },
      () => live && setGot(undefined),
    );
    return () => {
      live = false;
    };
  }, [enabled, asked]);
  return [got, useCallback(() => setAsked((a) => a + 1), [])];
}
