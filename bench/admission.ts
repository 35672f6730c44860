// Admission chain cost: CPU per pod create spent in admission (mutating + validating steps) with
// the full chain as `mizzen up` runs it, against the chain as it was before LimitRanger,
// NodeRestriction, PodSecurity, webhooks, policies and ResourceQuota (those turned off), on a real
// in-process API server's caches with no LimitRanges, quotas, webhooks or policies (the apiserver
// benchmark's setting), and with a LimitRange and a labelled restricted namespace. Alternating
// rounds; the machine's noise shows in the spread. Compare with ~200 µs of server CPU per create
// (docs/design.md, "Cost").

import { parseArgs } from 'node:util';
import { startTestApiServer } from '../src/testing/api-server.ts';
import { builtinAdmission } from '../src/apiserver/admission.ts';
import type { Admission } from '../src/apiserver/registry/resource-store.ts';

const newPlugins = ['LimitRanger', 'NodeRestriction', 'PodSecurity', 'MutatingAdmissionWebhook', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionWebhook', 'ResourceQuota'];

function pod(i: number, ns: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${i}`, namespace: ns, labels: { app: 'bench', tier: 'web' } },
    spec: {
      containers: [{ name: 'c', image: 'registry.local/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } }, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } }],
    },
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '6' } } });
  const n = Number(values.pods);
  const t = await startTestApiServer({ name: 'bench-admission' });
  try {
    const lookup = (g: string, p: string) => {
      try {
        return t.server.resource(g, p);
      } catch {
        return undefined;
      }
    };
    const ns = t.server.resource('', 'namespaces');
    await ns.create(undefined, { metadata: { name: 'plain' } });
    await ns.create(undefined, { metadata: { name: 'guarded', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } });
    await t.server.resource('', 'limitranges').create('guarded', { metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', default: { cpu: '100m', memory: '64Mi' }, defaultRequest: { cpu: '10m', memory: '16Mi' }, max: { cpu: '1' } }] } });
    const def = t.server.registry.lookup('', 'v1', 'pods')!;
    const before = builtinAdmission({ lookup, disabled: ['ServiceAccount', ...newPlugins] });
    const now = builtinAdmission({ lookup, disabled: ['ServiceAccount'] });
    const user = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
    const perCreate = async (a: Admission, nsName: string) => {
      const pods = Array.from({ length: n }, (_, i) => pod(i, nsName) as any);
      const c0 = process.cpuUsage();
      for (const obj of pods) {
        const r = { operation: 'CREATE' as const, def, obj, user, warnings: [] as string[] };
        const m = a.mutate(r);
        if (m) await m;
        const v = a.validate(r);
        if (v) await v;
      }
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / n;
    };
    const runs: Record<string, number[]> = { before: [], now: [], nowLimitRangeRestricted: [] };
    await perCreate(now, 'plain');
    for (let r = 0; r < Number(values.rounds); r++) {
      runs.before.push(await perCreate(before, 'plain'));
      runs.now.push(await perCreate(now, 'plain'));
      runs.nowLimitRangeRestricted.push(await perCreate(now, 'guarded'));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const fig = (xs: number[]) => ({ medianUs: Number(med(xs).toFixed(2)), minUs: Number(Math.min(...xs).toFixed(2)), maxUs: Number(Math.max(...xs).toFixed(2)) });
    console.log(
      JSON.stringify({
        bench: 'admission',
        pods: n,
        cpuPerCreate: { before: fig(runs.before), now: fig(runs.now), nowWithLimitRangeAndRestricted: fig(runs.nowLimitRangeRestricted) },
        compareWith: 'about 200 µs of API server CPU per pod create (docs/design.md, Cost)',
      }),
    );
  } finally {
    await t.close();
  }
}
