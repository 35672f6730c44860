import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage, AsyncResource, executionAsyncId } from 'node:async_hooks';
import { installFastAsyncResourceBind, useFastAsyncResourceBind } from './async-resource-bind.ts';

test('the replacement bind behaves as Node\'s: async scope, this, length, asyncResource, bad input', () => {
  installFastAsyncResourceBind();
  const als = new AsyncLocalStorage<string>();
  for (const fast of [false, true]) {
    useFastAsyncResourceBind(fast);
    const r = als.run('outer', () => new AsyncResource('T'));
    const bound = r.bind(function (this: unknown, a: number, b: number) {
      return { id: executionAsyncId(), store: als.getStore(), self: this, sum: a + b };
    });
    const out = als.run('elsewhere', () => bound.call('me', 1, 2));
    assert.equal(out.id, r.asyncId(), `fast=${fast}`);
    assert.equal(out.store, 'outer');
    assert.equal(out.self, 'me');
    assert.equal(out.sum, 3);
    assert.equal(bound.length, 2);
    assert.equal((bound as unknown as { asyncResource: AsyncResource }).asyncResource, r);
    // The thisArg form (Node's, not in @types/node's signature).
    const bindWithThis = r.bind as unknown as (fn: (this: { v: number }) => number, thisArg: { v: number }) => () => number;
    const withThis = bindWithThis.call(r, function (this: { v: number }) {
      return this.v;
    }, { v: 7 });
    assert.equal(withThis(), 7);
    assert.equal(AsyncResource.bind(() => executionAsyncId())() > 0, true);
    assert.throws(() => r.bind(42 as unknown as () => void), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  useFastAsyncResourceBind(true);
});
