// Proves the documents are usable by the real kubectl: a bare node:http server serves only
// /version, discovery and /openapi/v3, and `kubectl explain` must find and render the schema.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openAPIV3Document, openAPIV3IndexDocument } from './openapi.ts';
import { discoveryContentTypes, discoveryDocuments, negotiateDiscovery } from './discovery.ts';
import { testResources } from '../api/schema/test-resources.ts';

const kubectl = '/usr/bin/kubectl';
const resources = testResources();

function startServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (body: string | Buffer, type = 'application/json', code = 200) => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    const path = url.pathname;
    if (path === '/version') return send(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' }));
    if (path === '/openapi/v3') return send(openAPIV3IndexDocument(resources).body);
    if (path.startsWith('/openapi/v3/')) {
      const doc = openAPIV3Document(resources, path.slice('/openapi/v3/'.length));
      if (doc) return send(doc.body);
    }
    const docs = discoveryDocuments(resources, '127.0.0.1');
    if (path === '/api' || path === '/apis') {
      const fmt = negotiateDiscovery(req.headers.accept);
      if (fmt !== 'legacy') return send(JSON.stringify(docs.aggregated[fmt][path]), discoveryContentTypes[fmt]);
    }
    const legacy = docs.legacy[path];
    if (legacy) return send(JSON.stringify(legacy));
    send(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }), 'application/json', 404);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectl, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('kubectl explain reads our OpenAPI v3 documents', { skip: !existsSync(kubectl) && 'kubectl not installed' }, async () => {
  const server = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-explain-'));
  try {
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
        'users: [{name: u, user: {}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
    const flags = ['--cache-dir', join(dir, 'cache')];

    const strategy = await run(['explain', 'deployment.spec.strategy', ...flags], env);
    assert.equal(strategy.code, 0, strategy.stderr);
    assert.match(strategy.stdout, /^GROUP:\s+apps$/m);
    assert.match(strategy.stdout, /^KIND:\s+Deployment$/m);
    assert.match(strategy.stdout, /^VERSION:\s+v1$/m);
    assert.match(strategy.stdout, /^FIELD: strategy <DeploymentStrategy>$/m);
    assert.match(strategy.stdout, /rollingUpdate\s+<RollingUpdateDeployment>/);

    const surge = await run(['explain', 'deploy.spec.strategy.rollingUpdate.maxSurge', ...flags], env);
    assert.equal(surge.code, 0, surge.stderr);
    assert.match(surge.stdout, /FIELD: maxSurge <IntOrString>/);

    const pods = await run(['explain', 'pods.spec.containers', ...flags], env);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /^KIND:\s+Pod$/m);
    assert.match(pods.stdout, /FIELD: containers <\[\]Container>/);
    assert.match(pods.stdout, /name\s+<string> -required-/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
