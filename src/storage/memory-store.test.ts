import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.ts';
import { runStoreSuite } from './store-suite.ts';
import { StorageError } from './store.ts';

runStoreSuite('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore history limit', () => {
  it('compacts automatically once history exceeds maxHistory', async () => {
    const s = new MemoryStore({ maxHistory: 10 });
    for (let i = 0; i < 25; i++) await s.create(`/k${i}`, 'v');
    assert.ok(s.compactedRevision() > 0);
    assert.throws(() => s.watch('/', 0, () => {}), (e: unknown) => e instanceof StorageError && e.code === 'Compacted');
    const seen: number[] = [];
    s.watch('/', s.compactedRevision(), (ev) => seen.push(ev.revision));
    assert.equal(seen[seen.length - 1], 25);
    assert.equal(seen[0], s.compactedRevision() + 1);
    assert.equal((await s.list('/')).items.length, 25);
  });
});
