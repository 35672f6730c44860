// Paged lists (limit + continue) are walked from the token's key in the watch cache: every page in
// key order, remainingItemCount counting what is left, and continue pages a snapshot at the first
// page's revision however the objects changed since (created, deleted, modified, before or after
// the page's start).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from '../testing/api-server.ts';
import { ApiClient } from '../client/api-client.ts';
import type { KObject } from '../api/types.ts';

let api: TestApiServer;
let client: ApiClient;

before(async () => {
  api = await startTestApiServer({ name: 'list-paging', unixSocket: true });
  client = new ApiClient({ socketPath: api.socketPath, maxSockets: 4 });
  for (const ns of ['paging-a', 'paging-b']) await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
  for (let i = 0; i < 23; i++) await client.create(cms('paging-a'), { metadata: { name: `cm-${String(i).padStart(2, '0')}`, labels: { odd: String(i % 2 === 1) } }, data: { v: '1' } });
  for (let i = 0; i < 4; i++) await client.create(cms('paging-b'), { metadata: { name: `cm-${i}` } });
});

after(async () => {
  client?.close();
  await api?.close();
});

const cms = (namespace?: string) => ({ version: 'v1', resource: 'configmaps', namespace });
const names = (l: { items: KObject[] }) => l.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

async function walk(ns: string | undefined, limit: number, labelSelector?: string) {
  const pages: { names: string[]; remaining?: number; rv: string }[] = [];
  let cont: string | undefined;
  do {
    const l = await client.list(cms(ns), { limit, continue: cont, labelSelector });
    pages.push({ names: names(l), remaining: l.metadata.remainingItemCount, rv: l.metadata.resourceVersion! });
    cont = l.metadata.continue;
  } while (cont);
  return pages;
}

test('every page in key order, remainingItemCount counting down, one revision for all pages', async () => {
  const all = names(await client.list(cms('paging-a')));
  assert.equal(all.length, 23);
  const pages = await walk('paging-a', 5);
  assert.deepEqual(pages.flatMap((p) => p.names), all);
  assert.deepEqual(pages.map((p) => p.names.length), [5, 5, 5, 5, 3]);
  assert.deepEqual(pages.map((p) => p.remaining), [18, 13, 8, 3, undefined]);
  assert.equal(new Set(pages.map((p) => p.rv)).size, 1);

  // Across namespaces: one namespace's keys after the other's, other namespaces' objects included.
  const every = names(await client.list(cms()));
  const across = await walk(undefined, 4);
  assert.deepEqual(across.flatMap((p) => p.names), every);
  assert.ok(every.indexOf('paging-a/cm-22') < every.indexOf('paging-b/cm-0'));

  // A selector: only matching objects, no count of what is left, no empty last page.
  const odd = await walk('paging-a', 4, 'odd=true');
  assert.deepEqual(odd.map((p) => p.names.length), [4, 4, 3]);
  assert.deepEqual(odd.map((p) => p.remaining), [undefined, undefined, undefined]);
  // A page that exactly ends the matches has no continue token.
  assert.equal((await walk('paging-a', 11, 'odd=true')).length, 1);
});

test('continue pages are a snapshot at the first page, whatever changed since', async () => {
  const ns = 'paging-a';
  const first = await client.list(cms(ns), { limit: 5 });
  const snapshot = names(await client.list(cms(ns)));
  assert.equal(first.metadata.remainingItemCount, snapshot.length - 5);
  // Changes before and after the page's start: new keys, a deleted one, a modified one.
  await client.create(cms(ns), { metadata: { name: 'cm-00a' } });
  await client.create(cms(ns), { metadata: { name: 'cm-10a' } });
  await client.delete({ ...cms(ns), name: 'cm-12' });
  await client.delete({ ...cms(ns), name: 'cm-01' });
  const cur = await client.get<KObject>({ ...cms(ns), name: 'cm-15' });
  await client.update({ ...cms(ns), name: 'cm-15' }, { ...cur, data: { v: '2' } });
  let cont = first.metadata.continue;
  const rest: KObject[] = [];
  const remaining: (number | undefined)[] = [];
  while (cont) {
    const l = await client.list(cms(ns), { limit: 5, continue: cont });
    assert.equal(l.metadata.resourceVersion, first.metadata.resourceVersion);
    rest.push(...l.items);
    remaining.push(l.metadata.remainingItemCount);
    cont = l.metadata.continue;
  }
  assert.deepEqual([...names(first), ...names({ items: rest })], snapshot);
  assert.equal(rest.find((o) => o.metadata.name === 'cm-15')!.data.v, '1', 'the object as it was at the snapshot');
  assert.deepEqual(remaining, [13, 8, 3, undefined]);
  // A fresh list sees the changes.
  const now = names(await client.list(cms(ns)));
  assert.ok(now.includes('paging-a/cm-10a') && !now.includes('paging-a/cm-12'));
});

test('a continue token is still a 400 when it is not one of ours', async () => {
  await assert.rejects(client.list(cms('paging-a'), { limit: 5, continue: 'not-a-token' }), (e: any) => e.code === 400 || e.status === 400 || /400/.test(String(e)));
});

test('a list at an exact resourceVersion is the collection as it was then, paged or not', async () => {
  const ns = 'paging-exact';
  await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
  for (let i = 0; i < 6; i++) await client.create(cms(ns), { metadata: { name: `cm-${i}` }, data: { v: '1' } });
  const then = await client.list(cms(ns));
  const rv = then.metadata.resourceVersion!;
  // Changed since: one created, one deleted, one modified.
  await client.create(cms(ns), { metadata: { name: 'cm-0a' } });
  await client.delete({ ...cms(ns), name: 'cm-3' });
  await client.patch({ ...cms(ns), name: 'cm-5' }, 'merge', { data: { v: '2' } });
  const asThen = names(then);
  const v5 = (l: { items: KObject[] }) => (l.items.find((o) => o.metadata.name === 'cm-5') as { data?: { v?: string } } | undefined)?.data?.v;

  const exact = await client.list(cms(ns), { resourceVersion: rv, resourceVersionMatch: 'Exact' });
  assert.deepEqual(names(exact), asThen);
  assert.equal(exact.metadata.resourceVersion, rv);
  assert.equal(v5(exact), '1');
  // Paged: a limit with a resourceVersion other than "0" and no match is exact too (upstream's
  // legacy semantics), and its continue pages stay at that revision.
  const pages: string[] = [];
  let cont: string | undefined;
  let first: { remaining?: number; rv?: string } | undefined;
  do {
    const l = await client.list(cms(ns), cont ? { limit: 4, continue: cont } : { limit: 4, resourceVersion: rv });
    first ??= { remaining: l.metadata.remainingItemCount, rv: l.metadata.resourceVersion };
    pages.push(...names(l));
    cont = l.metadata.continue;
  } while (cont);
  assert.deepEqual(pages, asThen);
  assert.deepEqual(first, { remaining: 2, rv });
  // NotOlderThan (and no match without a limit) is the current state.
  const now = await client.list(cms(ns), { resourceVersion: rv, resourceVersionMatch: 'NotOlderThan' });
  assert.deepEqual(names(now), [...asThen.slice(0, 1), `${ns}/cm-0a`, ...asThen.slice(1).filter((n) => n !== `${ns}/cm-3`)]);
  assert.equal(v5(now), '2');
  assert.ok(Number(now.metadata.resourceVersion) > Number(rv));
});

test('writes between every page, two lists paged at once: each stays its own snapshot', async () => {
  const ns = 'paging-churn';
  await client.create({ version: 'v1', resource: 'namespaces' }, { metadata: { name: ns } });
  for (let i = 0; i < 20; i++) await client.create(cms(ns), { metadata: { name: `cm-${String(i).padStart(2, '0')}` }, data: { v: '1' } });
  const value = (l: { items: KObject[] }) => l.items.map((o) => `${o.metadata.name}=${(o as { data?: { v?: string } }).data?.v}`);
  const a = await client.list(cms(ns), { limit: 3 });
  const snapA = value(await client.list(cms(ns)));
  // Before and after each page's cursor: a key changed twice (the first change tells what it
  // held), a key deleted and made again, new keys; then a second list starts in the middle of it.
  const churn = async (i: number) => {
    const key = `cm-${String((i * 7) % 20).padStart(2, '0')}`;
    await client.patch({ ...cms(ns), name: key }, 'merge', { data: { v: `x${i}` } });
    await client.patch({ ...cms(ns), name: 'cm-10' }, 'merge', { data: { v: `y${i}` } });
    await client.create(cms(ns), { metadata: { name: `cm-${String(i).padStart(2, '0')}n` } });
    if (i === 2) await client.delete({ ...cms(ns), name: 'cm-15' });
    if (i === 4) await client.create(cms(ns), { metadata: { name: 'cm-15' }, data: { v: 'again' } });
  };
  const pagesA = value(a);
  let contA = a.metadata.continue;
  let b: { cont?: string; items: string[]; snap: string[] } | undefined;
  for (let i = 0; contA; i++) {
    await churn(i);
    const l = await client.list(cms(ns), { limit: 3, continue: contA });
    assert.equal(l.metadata.resourceVersion, a.metadata.resourceVersion);
    pagesA.push(...value(l));
    contA = l.metadata.continue;
    if (i === 2) {
      const first = await client.list(cms(ns), { limit: 4 });
      b = { cont: first.metadata.continue, items: value(first), snap: value(await client.list(cms(ns))) };
    } else if (b?.cont) {
      const l2 = await client.list(cms(ns), { limit: 4, continue: b.cont });
      b.items.push(...value(l2));
      b.cont = l2.metadata.continue;
    }
  }
  assert.deepEqual(pagesA, snapA);
  let extra = 20;
  while (b?.cont) {
    await churn(extra++);
    const l2 = await client.list(cms(ns), { limit: 4, continue: b.cont });
    b.items.push(...value(l2));
    b.cont = l2.metadata.continue;
  }
  assert.deepEqual(b!.items, b!.snap);
  assert.notDeepEqual(b!.snap, snapA);
});
