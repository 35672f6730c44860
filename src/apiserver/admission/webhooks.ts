// Dynamic admission through webhooks (upstream apiserver/pkg/admission/plugin/webhook): every
// MutatingWebhookConfiguration's webhooks in name order, then (after the kind's validation) every
// ValidatingWebhookConfiguration's webhooks at once. A matching webhook gets an
// admission.k8s.io/v1 AdmissionReview; a denial is answered as `admission webhook "<name>"
// denied the request: <message>`, a call that fails as failurePolicy says (Fail: 500 `failed
// calling webhook`; Ignore: skipped). Mutations are JSONPatches; with reinvocationPolicy
// IfNeeded a webhook runs again when a later one changed the object.

import { randomUUID } from 'node:crypto';
import type { KObject } from '../../api/types.ts';
import { errors, StatusError, type StatusReason } from '../../machinery/errors.ts';
import { applyJSONPatch } from '../../machinery/patch/json-patch.ts';
import { deepEqual } from '../../api/validation.ts';
import { admissionRequestOf, celContext, compile } from './cel-admission.ts';
import { matches } from './matching.ts';
import { callWebhook, WebhookCallError, type Services } from './webhook-client.ts';
import { listCached, type AdmissionPlugin, type AdmissionRequest, type Lookup } from './types.ts';

const GROUP = 'admissionregistration.k8s.io';

interface Hook {
  config: string;
  spec: any;
}

function hooksOf(lookup: Lookup, plural: string): Hook[] {
  const out: Hook[] = [];
  for (const cfg of listCached(lookup, GROUP, plural)) for (const w of cfg.webhooks ?? []) if (w && typeof w === 'object') out.push({ config: cfg.metadata.name!, spec: w });
  return out;
}

/** Writes to the admission configuration itself never go to webhooks (so a bad webhook cannot lock it). */
const exempt = (r: AdmissionRequest) => r.def.group === GROUP;

function deniedError(name: string, status: any): StatusError {
  const denied = `admission webhook ${JSON.stringify(name)} denied the request`;
  const msg = status?.message ? `${denied}: ${status.message}` : status?.reason ? `${denied}: ${status.reason}` : `${denied} without explanation`;
  const code = typeof status?.code === 'number' && status.code >= 400 && status.code < 600 ? status.code : 403;
  const reason = (typeof status?.reason === 'string' && status.reason) || (code === 403 ? 'Forbidden' : '');
  return new StatusError(code, reason as StatusReason, msg, status?.details);
}

function callFailed(name: string, why: string): StatusError {
  return errors.internal(`failed calling webhook ${JSON.stringify(name)}: ${why}`);
}

/** matchConditions: all must be true; an error counts as the failure policy says (Fail: refuse). */
function conditionsHold(hook: any, r: AdmissionRequest, lookup: Lookup): boolean | StatusError {
  const conds = hook.matchConditions;
  if (!Array.isArray(conds) || !conds.length) return true;
  const ctx = celContext(r, { namespaceObject: r.def.namespaced ? lookup('', 'namespaces')?.tryGet(undefined, r.obj.metadata.namespace!)?.obj : undefined });
  for (const c of conds) {
    const p = compile(String(c?.expression ?? ''));
    if (typeof p === 'string') return callFailed(hook.name, `matchCondition ${JSON.stringify(c?.name)}: ${p}`);
    try {
      if (p(ctx) !== true) return false;
    } catch (e) {
      return callFailed(hook.name, `matchCondition ${JSON.stringify(c?.name)} error: ${(e as Error).message}`);
    }
  }
  return true;
}

export interface WebhookDeps {
  lookup: Lookup;
  services: Services;
}

/** Call one webhook; resolves its `response`, or undefined when it failed and failurePolicy is Ignore. */
async function review(deps: WebhookDeps, hook: any, r: AdmissionRequest): Promise<any | undefined> {
  const uid = randomUUID();
  const versions: string[] = hook.admissionReviewVersions ?? ['v1'];
  const version = versions.includes('v1') ? 'v1' : 'v1beta1';
  const body = JSON.stringify({ apiVersion: `admission.k8s.io/${version}`, kind: 'AdmissionReview', request: admissionRequestOf(r, uid) });
  const timeoutMs = (typeof hook.timeoutSeconds === 'number' ? hook.timeoutSeconds : 10) * 1000;
  const ignore = hook.failurePolicy === 'Ignore';
  let text: string;
  try {
    text = await callWebhook(hook.clientConfig ?? {}, deps.services, body, timeoutMs);
  } catch (e) {
    if (ignore) return undefined;
    throw callFailed(hook.name, `failed to call webhook: ${e instanceof WebhookCallError ? e.message : (e as Error).message}`);
  }
  let resp: any;
  try {
    resp = JSON.parse(text)?.response;
  } catch (e) {
    resp = undefined;
  }
  const invalid = !resp ? 'response is missing' : resp.uid !== uid ? `expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(resp.uid ?? '')}` : undefined;
  if (invalid) {
    if (ignore) return undefined;
    throw callFailed(hook.name, `received invalid webhook response: ${invalid}`);
  }
  return resp;
}

function takeExtras(hook: any, resp: any, r: AdmissionRequest): void {
  if (Array.isArray(resp.warnings)) for (const w of resp.warnings) if (typeof w === 'string') r.warnings?.push(w);
  if (resp.auditAnnotations && typeof resp.auditAnnotations === 'object' && r.annotations)
    for (const [k, v] of Object.entries(resp.auditAnnotations)) r.annotations[`${hook.name}/${k}`] = String(v);
}

function dryRunRefused(hook: any, r: AdmissionRequest): boolean {
  return !!r.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun';
}

function applies(deps: WebhookDeps, hook: any, r: AdmissionRequest): boolean {
  if (!matches({ ...hook, rules: hook.rules }, r, deps.lookup)) return false;
  const c = conditionsHold(hook, r, deps.lookup);
  if (c instanceof StatusError) {
    if (hook.failurePolicy === 'Ignore') return false;
    throw c;
  }
  return c;
}

export function mutatingWebhooks(deps: WebhookDeps): AdmissionPlugin {
  async function callOne(hook: any, r: AdmissionRequest): Promise<boolean> {
    if (dryRunRefused(hook, r)) throw errors.badRequest(`admission webhook ${JSON.stringify(hook.name)} does not support dry run`);
    const resp = await review(deps, hook, r);
    if (!resp) return false;
    takeExtras(hook, resp, r);
    if (resp.allowed !== true) throw deniedError(hook.name, resp.status);
    if (!resp.patch || r.operation === 'DELETE') return false;
    if (resp.patchType !== 'JSONPatch') throw callFailed(hook.name, `received invalid webhook response: unsupported patch type ${JSON.stringify(resp.patchType)}`);
    let patched: KObject;
    try {
      patched = applyJSONPatch(structuredClone(r.obj), JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8')));
    } catch (e) {
      throw callFailed(hook.name, `JSON patch failed: ${(e as Error).message}`);
    }
    if (deepEqual(patched, r.obj)) return false;
    // The request's object is the registry's: replace its contents in place.
    for (const k of Object.keys(r.obj)) delete (r.obj as any)[k];
    Object.assign(r.obj, patched);
    return true;
  }

  return {
    name: 'MutatingAdmissionWebhook',
    mutate(r) {
      if (exempt(r)) return;
      const hooks = hooksOf(deps.lookup, 'mutatingwebhookconfigurations');
      if (!hooks.length) return;
      const todo = hooks.filter((h) => applies(deps, h.spec, r));
      if (!todo.length) return;
      return (async () => {
        let lastChange = -1;
        for (let i = 0; i < todo.length; i++) if (await callOne(todo[i].spec, r)) lastChange = i;
        // Reinvocation: once, for IfNeeded webhooks after which another one changed the object.
        for (let i = 0; i < lastChange; i++) if (todo[i].spec.reinvocationPolicy === 'IfNeeded') await callOne(todo[i].spec, r);
      })();
    },
  };
}

export function validatingWebhooks(deps: WebhookDeps): AdmissionPlugin {
  return {
    name: 'ValidatingAdmissionWebhook',
    validate(r) {
      if (exempt(r)) return;
      const hooks = hooksOf(deps.lookup, 'validatingwebhookconfigurations');
      if (!hooks.length) return;
      const todo = hooks.filter((h) => applies(deps, h.spec, r));
      if (!todo.length) return;
      for (const h of todo) if (dryRunRefused(h.spec, r)) throw errors.badRequest(`admission webhook ${JSON.stringify(h.spec.name)} does not support dry run`);
      return (async () => {
        // All at once; the first refusal in configuration order is the answer, as upstream.
        const results = await Promise.allSettled(todo.map((h) => review(deps, h.spec, r)));
        for (let i = 0; i < todo.length; i++) {
          const res = results[i];
          if (res.status === 'rejected') throw res.reason;
          const resp = res.value;
          if (!resp) continue;
          takeExtras(todo[i].spec, resp, r);
          if (resp.allowed !== true) throw deniedError(todo[i].spec.name, resp.status);
        }
      })();
    },
  };
}
