// Storage write latency for /metrics (upstream's etcd_request_duration_seconds, by operation and
// object type), measured around the store's create, update and delete: the same Store, with those
// three methods timed. Reads are served from the watch caches and are not storage requests.

import type { Store } from './store.ts';
import { storageRequestDuration } from '../metrics/prometheus.ts';

/** `typeOf` names the object type of a key (e.g. `pods`, `deployments.apps`). */
export function timedStore(store: Store, typeOf: (key: string) => string): Store {
  const time = <T>(operation: string, key: string, p: Promise<T>): Promise<T> => {
    const started = performance.now();
    const done = () => storageRequestDuration.observe({ operation, type: typeOf(key) }, (performance.now() - started) / 1000);
    p.then(done, done);
    return p;
  };
  const own: Partial<Store> = {
    create: (key, value) => time('create', key, store.create(key, value)),
    update: (key, value, rev) => time('update', key, store.update(key, value, rev)),
    delete: (key, rev) => time('delete', key, store.delete(key, rev)),
  };
  // Everything else is the store itself, methods bound to it, so its state stays in one object.
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop in own) return own[prop as keyof Store];
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let b = bound.get(prop);
      if (!b) bound.set(prop, (b = v.bind(target)));
      return b;
    },
  });
}
