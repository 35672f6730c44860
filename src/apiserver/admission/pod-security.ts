// PodSecurity (upstream k8s.io/pod-security-admission): a namespace's labels
// `pod-security.kubernetes.io/{enforce,audit,warn}` (and `-version`) name a Pod Security Standard
// level. Pods that violate the enforce level are refused (403 `violates PodSecurity
// "restricted:latest": ...`); the warn level answers with `Warning` headers (`would violate ...`),
// the audit level with an audit annotation. Workloads with pod templates get warnings and audit
// annotations only, as upstream. Unlabelled namespaces are privileged (upstream's default). A
// pinned `-version` label is evaluated with that version's checks (pod-security-checks.ts).

import type { KObject } from '../../api/types.ts';
import { errors } from '../../machinery/errors.ts';
import { describe, evaluate, type Level } from './pod-security-checks.ts';
import type { AdmissionPlugin, AdmissionRequest, Lookup } from './types.ts';

const PREFIX = 'pod-security.kubernetes.io/';
const levels = new Set<Level>(['privileged', 'baseline', 'restricted']);
const versionRe = /^v1\.(0|[1-9][0-9]*)$/;
const exemptNamespaces = new Set<string>();

/** Resources with a pod template: where it is, and which groups they are in. */
const templates: Record<string, (o: KObject) => any> = {
  'apps/deployments': (o) => o.spec?.template,
  'apps/replicasets': (o) => o.spec?.template,
  'apps/statefulsets': (o) => o.spec?.template,
  'apps/daemonsets': (o) => o.spec?.template,
  '/replicationcontrollers': (o) => o.spec?.template,
  '/podtemplates': (o) => o.template,
  'batch/jobs': (o) => o.spec?.template,
  'batch/cronjobs': (o) => o.spec?.jobTemplate?.spec?.template,
};

interface Policy {
  level: Level;
  version: string;
}

/** A mode's level and version from the labels; bad values are evaluated as restricted:latest, as upstream. */
function policyOf(labels: Record<string, string> | undefined, mode: 'enforce' | 'warn' | 'audit'): Policy | undefined {
  const level = labels?.[`${PREFIX}${mode}`];
  if (level === undefined) return undefined;
  const v = labels?.[`${PREFIX}${mode}-version`] ?? 'latest';
  const version = v === 'latest' || versionRe.test(v) ? v : 'latest';
  return { level: levels.has(level as Level) ? (level as Level) : 'restricted', version };
}

const policyName = (p: Policy) => `${p.level}:${p.version}`;

export function podSecurity(lookup: Lookup): AdmissionPlugin {
  const namespace = (name: string) => lookup('', 'namespaces')?.tryGet(undefined, name)?.obj;

  function checkPodSpec(r: AdmissionRequest, meta: any, spec: any, enforce: boolean): void {
    const ns = namespace(r.obj.metadata.namespace!);
    const labels = ns?.metadata.labels;
    if (!labels || exemptNamespaces.has(r.obj.metadata.namespace!)) return;
    const e = policyOf(labels, 'enforce');
    const w = policyOf(labels, 'warn');
    const a = policyOf(labels, 'audit');
    if (!e && !w && !a) return;
    if (e && enforce) {
      if (r.annotations) r.annotations[`${PREFIX}enforce-policy`] = policyName(e);
      const v = evaluate(e.level, e.version, meta, spec);
      if (v.length) throw errors.forbidden({ group: r.def.group, resource: r.def.plural }, r.obj.metadata.name ?? '', `violates PodSecurity "${policyName(e)}": ${describe(v)}`);
    }
    if (a) {
      const v = evaluate(a.level, a.version, meta, spec);
      if (v.length && r.annotations) r.annotations[`${PREFIX}audit-violations`] = `would violate PodSecurity "${policyName(a)}": ${describe(v)}`;
    }
    // Upstream's workload warnings also report what the enforce level would refuse in the pods.
    for (const p of enforce ? [w] : [w, e]) {
      if (!p) continue;
      const v = evaluate(p.level, p.version, meta, spec);
      if (v.length) {
        r.warnings?.push(`would violate PodSecurity "${policyName(p)}": ${describe(v)}`);
        break;
      }
    }
  }

  /** Labelling a namespace with a stricter enforce level warns about its pods that violate it. */
  function checkNamespace(r: AdmissionRequest): void {
    const next = policyOf(r.obj.metadata.labels, 'enforce');
    if (!next || next.level === 'privileged' || !r.warnings) return;
    const before = r.old ? policyOf(r.old.metadata.labels, 'enforce') : undefined;
    if (before && policyName(before) === policyName(next)) return;
    const rs = lookup('', 'pods');
    if (!rs) return;
    const pods = rs.cache.list(rs.listPrefix(r.obj.metadata.name)).items.map((c) => c.obj);
    const bad: string[] = [];
    for (const p of pods) {
      const v = evaluate(next.level, next.version, p.metadata, p.spec);
      if (v.length) bad.push(`${p.metadata.name}: ${v.map((x) => x.reason).join(', ')}`);
    }
    if (!bad.length) return;
    r.warnings.push(`existing pods in namespace "${r.obj.metadata.name}" violate the new PodSecurity enforce level "${policyName(next)}"`);
    r.warnings.push(...bad.slice(0, 10));
  }

  return {
    name: 'PodSecurity',
    validate(r) {
      if (r.operation === 'DELETE') return;
      const g = r.def.group;
      if (g === '' && r.def.plural === 'namespaces') {
        if (!r.subresource) checkNamespace(r);
        return;
      }
      if (g === '' && r.def.plural === 'pods') {
        // Status, binding and the like are not checked; an update only when the spec changed.
        if (r.subresource && r.subresource !== 'ephemeralcontainers') return;
        if (r.operation === 'UPDATE' && r.old && JSON.stringify(r.obj.spec) === JSON.stringify(r.old.spec)) return;
        return checkPodSpec(r, r.obj.metadata, r.obj.spec, true);
      }
      const tpl = templates[`${g}/${r.def.plural}`];
      if (!tpl || r.subresource) return;
      const t = tpl(r.obj);
      if (t && typeof t === 'object') checkPodSpec(r, t.metadata, t.spec, false);
    },
  };
}
