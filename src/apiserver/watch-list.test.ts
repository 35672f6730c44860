// Streaming lists (watch with sendInitialEvents), as the web console reads every collection, and
// upstream's validation of their options.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startTestApiServer } from '../testing/api-server.ts';

test('watch with sendInitialEvents: the objects, then a bookmark marking their end; options validated as upstream', async () => {
  const t = await startTestApiServer({ name: 'watch-list' });
  const get = (path: string, untilLines = 0): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = https.get(new URL(path, t.server.url), { ca: t.pki.caCertPem, cert: t.pki.adminCertPem, key: t.pki.adminKeyPem, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (untilLines && body.split('\n').length > untilLines) {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => (untilLines ? undefined : reject(e)));
    });
  try {
    const cms = t.server.resource('', 'configmaps');
    for (const name of ['a', 'b']) await cms.create('default', { metadata: { name } });
    const base = '/api/v1/namespaces/default/configmaps?watch=1';
    const ok = await get(`${base}&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`, 3);
    assert.equal(ok.status, 200);
    const evs = ok.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(evs.slice(0, 2).map((e) => [e.type, e.object.metadata.name]).sort(), [['ADDED', 'a'], ['ADDED', 'b']]);
    assert.equal(evs[2].type, 'BOOKMARK');
    assert.equal(evs[2].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
    const noMatch = await get(`${base}&sendInitialEvents=true&allowWatchBookmarks=true`);
    assert.equal(noMatch.status, 422);
    assert.match(JSON.parse(noMatch.body).message, /resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/);
    const matchAlone = await get(`${base}&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
    assert.equal(matchAlone.status, 422);
    assert.match(JSON.parse(matchAlone.body).message, /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/);
  } finally {
    await t.close();
  }
});
