// The console's data worker: holds the cluster's state off the page's main thread, so that loading
// and following 150,000 pods never stops the page from drawing or answering clicks.

import type { FromWorker, ToWorker } from '../shared/types.ts';
import { ClusterState } from './cluster-state.ts';

declare const self: { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };

let state: ClusterState | undefined;

self.onmessage = (e) => {
  const m = e.data;
  switch (m.t) {
    case 'init':
      state?.stop();
      state = new ClusterState((out) => self.postMessage(out), m.token, m.nodeTable);
      state.start();
      return;
    case 'nodeTable':
      state?.receiveNodeTable(m.body, m.drawn);
      return;
    case 'subscribe':
      state?.subscribe(m.id, m.query);
      return;
    case 'unsubscribe':
      state?.unsubscribe(m.id);
      return;
    case 'follow':
      state?.setFollow(m.armed);
      return;
  }
};
