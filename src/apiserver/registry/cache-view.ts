// The registry's view of a watch cache (objects rather than cache entries), shared by the built-in
// resources' stores and the custom resources' ones.

import { errors } from '../../machinery/errors.ts';
import { StorageError } from '../../storage/store.ts';
import type { WatchCache } from '../../storage/watch-cache.ts';
import type { WatchableCache } from '../watch.ts';
import type { CachedObject } from './cached-object.ts';
import type { CacheView } from './resource-store.ts';

/**
 * On shared storage (etcd with other API servers) the view offers `sync`, which a read that must be
 * current awaits; a storage failure there is a 503.
 */
export function cacheView(cache: WatchCache<CachedObject>, shared: boolean): CacheView & WatchableCache {
  return {
    get: (key) => cache.get(key)?.obj,
    list: (prefix) => cache.list(prefix),
    scan: (prefix, after) => cache.scan(prefix, after),
    countAfter: (prefix, after) => cache.countAfter(prefix, after),
    get revision() {
      return cache.revision;
    },
    get oldestRevision() {
      return cache.oldestRevision;
    },
    watch: (from, prefix, cb, onEnd) => cache.watch(from, prefix, cb as any, onEnd),
    waitFor: (revision, timeoutMs) => cache.waitFor(revision, timeoutMs),
    sync: shared
      ? () =>
          cache.sync().then(
            () => undefined,
            (e: unknown) => {
              throw e instanceof StorageError ? errors.serviceUnavailable(e.message, 1) : e;
            },
          )
      : undefined,
  };
}
