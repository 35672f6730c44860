// Resource metrics with the control plane split into its own processes, as upstream runs it:
// `mizzen apiserver` (which serves metrics.k8s.io and so runs the metrics pipeline that answers
// it, from the first request for it on), `mizzen simulate` (the nodes) and `mizzen controller-manager` (the HPA, with upstream's
// --horizontal-pod-autoscaler-* flags). `kubectl top` and an HPA work as under `mizzen up`.
// The Deployment's pods name their node; the scheduler runs for its secure port. The scheduler's
// and controller manager's /metrics are authorized through the API server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, MIZZEN_BIN, freePort, hasKubectl, run } from './harness.ts';
import { eventually } from './poll.ts';

const MANIFEST = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: busy}
spec:
  replicas: 1
  selector: {matchLabels: {app: busy}}
  template:
    metadata:
      labels: {app: busy}
      annotations: {mizzen.dev/simulate-cpu: 80m}
    spec:
      nodeName: split-0
      containers:
      - {name: main, image: busybox, resources: {requests: {cpu: 100m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: busy}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: busy}
  minReplicas: 1
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`;

class Proc {
  readonly child: ChildProcess;
  out = '';
  constructor(readonly name: string, args: string[]) {
    this.child = spawn(process.execPath, [MIZZEN_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
  }
  ready(marker: RegExp): Promise<unknown> {
    return eventually(() => {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.out}`);
      return marker.test(this.out);
    }, { what: `${this.name}: ${marker}`, timeoutMs: 90_000, intervalMs: 200 });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }
}

describe('metrics with a standalone API server, simulator and controller manager', { skip: !hasKubectl && 'kubectl not installed', timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-metrics-split-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const procs: Proc[] = [];
  let cmPort = 0;
  let schedPort = 0;
  /** GET on a component's secure port (self-signed, so not verified, as \`curl -k\`). */
  const get = (port: number, path: string, auth: { cert?: string; key?: string; token?: string } = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, cert: auth.cert, key: auth.key, headers: auth.token ? { Authorization: `Bearer ${auth.token}` } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const kubectl = async (args: string[], input?: string) => {
    const r = await run(KUBECTL, args, { input, env: { ...process.env, KUBECONFIG: kubeconfig } });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    const port = await freePort();
    const api = new Proc('apiserver', ['apiserver', '--data-dir', dir, '--port', String(port), '--metric-resolution', '1s']);
    procs.push(api);
    await api.ready(/mizzen apiserver is ready/);
    const sim = new Proc('simulate', ['simulate', '--kubeconfig', kubeconfig, '--nodes', '1', '--prefix', 'split']);
    cmPort = await freePort();
    schedPort = await freePort();
    const sched = new Proc('scheduler', ['scheduler', '--kubeconfig', kubeconfig, '--leader-elect=false', '--secure-port', String(schedPort), '--bind-address', '127.0.0.1']);
    const cm = new Proc('controller-manager', ['controller-manager', '--kubeconfig', kubeconfig, '--leader-elect=false', '--secure-port', String(cmPort), '--bind-address', '127.0.0.1',
      '--horizontal-pod-autoscaler-sync-period', '1s', '--horizontal-pod-autoscaler-cpu-initialization-period', '0', '--horizontal-pod-autoscaler-tolerance', '0.1']);
    procs.push(sim, sched, cm);
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the API server runs the pipeline it serves: kubectl top nodes and pods', async () => {
    await kubectl(['apply', '-f', '-'], MANIFEST);
    const nodes = await eventually(async () => {
      const r = await run(KUBECTL, ['top', 'nodes'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
      return r.code === 0 && /split-0/.test(r.stdout) ? r.stdout : undefined;
    }, { what: `kubectl top nodes\n${procs.map((p) => p.out).join('\n')}`, timeoutMs: 60_000 });
    assert.match(nodes, /split-0\s+\d+m\s+\d+%/);
    // Started by the first metrics.k8s.io request (kubectl top, or the HPA controller's).
    assert.match(procs[0]!.out, /metrics-server: collecting resource metrics every 1s/);
    const pods = await eventually(async () => {
      const r = await run(KUBECTL, ['top', 'pods'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
      return r.code === 0 && /busy-/.test(r.stdout) ? r.stdout : undefined;
    }, { what: `kubectl top pods\n${procs.map((p) => p.out).join('\n')}`, timeoutMs: 60_000 });
    assert.match(pods, /busy-\S+\s+80m/);
    const svc = JSON.parse(await kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'json']));
    assert.equal(svc.status.conditions.find((x: any) => x.type === 'Available').status, 'True');
  });

  test('the standalone controller manager\'s HPA scales on those metrics', async () => {
    // 80 % of the request against 50 %: 1 → 2 (ceil(1.6)), then 2 pods at 80 % → 4, capped at 3.
    await eventually(async () => JSON.parse(await kubectl(['get', 'deploy', 'busy', '-o', 'json'])).spec.replicas === 3, { what: 'scale up to 3', timeoutMs: 90_000 });
    const hpa = JSON.parse(await kubectl(['get', 'hpa', 'busy', '-o', 'json']));
    assert.equal(hpa.status.desiredReplicas, 3);
    assert.match(await kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler']), /SuccessfulRescale/);
  });

  test('the controller manager and scheduler serve /metrics on their secure ports, authorized by the API server', async () => {
    const admin = { cert: readFileSync(join(dir, 'pki', 'admin.crt'), 'utf8'), key: readFileSync(join(dir, 'pki', 'admin.key'), 'utf8') };
    for (const port of [cmPort, schedPort]) {
      const health = await eventually(() => get(port, '/healthz').catch(() => undefined), { what: `healthz on ${port}\n${procs.map((p) => p.out).join('\n')}` });
      assert.deepEqual(health, { status: 200, body: 'ok' });
      assert.equal((await get(port, '/metrics')).status, 401);
    }
    const cm = await get(cmPort, '/metrics', admin);
    assert.equal(cm.status, 200);
    assert.match(cm.body, /^workqueue_adds_total\{name="horizontal-pod-autoscaler"\} \d+$/m);
    assert.match(cm.body, /^process_cpu_seconds_total \d/m);
    const sched = await get(schedPort, '/metrics', admin);
    assert.equal(sched.status, 200);
    assert.match(sched.body, /^scheduler_pending_pods\{queue="active"\} \d+$/m);
    // A ServiceAccount token: authenticated (TokenReview) but not allowed until bound to system:monitoring.
    await kubectl(['create', 'serviceaccount', 'prometheus']);
    const token = (await kubectl(['create', 'token', 'prometheus'])).trim();
    const denied = await get(cmPort, '/metrics', { token });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /system:serviceaccount:default:prometheus/);
    await kubectl(['create', 'clusterrolebinding', 'prometheus-monitoring', '--clusterrole=system:monitoring', '--serviceaccount=default:prometheus']);
    const ok = await eventually(async () => ((await get(cmPort, '/metrics', { token })).status === 200 ? true : undefined), { what: 'the token may read /metrics' });
    assert.ok(ok);
  });
});
