// Revision data and names as upstream computes them (pkg/controller/daemon/update.go getPatch,
// statefulset's getPatch, history.HashControllerRevision).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv32, hashRevision, revisionPatch, safeEncode, templateFromRevision } from './revision-history.ts';

// A template as Mizzen stores it after defaulting (what a kubectl-created DaemonSet holds).
const stored = {
  metadata: { labels: { app: 'ds' } },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'img',
        command: ['sh', '-c', 'a && b'],
        ports: [{ containerPort: 9376, protocol: 'TCP' }],
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: {},
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  },
};

// What json.Marshal of the typed DaemonSet, re-read as a map and written again, gives upstream.
const upstream =
  '{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"ds"}},"spec":{"containers":[{"command":["sh","-c","a \\u0026\\u0026 b"],"image":"img","imagePullPolicy":"IfNotPresent","name":"app","ports":[{"containerPort":9376,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"terminationGracePeriodSeconds":30}}}}';

test("revisionPatch is upstream's getPatch bytes for the template a Go client decodes", () => {
  assert.equal(revisionPatch(stored), upstream);
  // The zero values a Go client writes back (creationTimestamp: null, resources: {}) change nothing.
  const fromGoClient = structuredClone(stored) as any;
  fromGoClient.metadata.creationTimestamp = null;
  assert.equal(revisionPatch(fromGoClient), upstream);
  const noResources = structuredClone(stored) as any;
  delete noResources.spec.containers[0].resources;
  assert.equal(revisionPatch(noResources), upstream);
});

test('a revision gives back the template it recorded', () => {
  assert.deepEqual(templateFromRevision({ metadata: {}, data: JSON.parse(upstream) }), stored);
});

test('hashes are FNV-1 of the data then the collision count, in decimal, in the safe alphabet', () => {
  // FNV-1 32 test vectors.
  assert.equal(fnv32(''), 0x811c9dc5);
  assert.equal(fnv32('a'), 0x050c5d7e);
  assert.equal(fnv32('foobar'), 0x31f0b262);
  const h = hashRevision(upstream, 0);
  assert.equal(h, safeEncode(String(fnv32('0', fnv32(upstream)))));
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.notEqual(hashRevision(upstream, 1), h);
});
