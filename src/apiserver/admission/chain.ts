// The admission chain: plugins in upstream's order, every mutating step first, then (after the
// kind's own validation) every validating step. Steps are synchronous unless one has to wait (a
// webhook, a quota write); the chain awaits only those, so a plain create costs no extra turns.

import type { AdmissionPlugin, AdmissionRequest, AdmitStep } from './types.ts';

/** Upstream's plugin order (kube-apiserver AllOrderedPlugins), limited to those Mizzen has. */
export const pluginOrder = [
  'NamespaceLifecycle',
  'LimitRanger',
  'ServiceAccount',
  'NodeRestriction',
  'PodSecurity',
  'Priority',
  'DefaultTolerationSeconds',
  'DefaultStorageClass',
  'CertificateApproval',
  'CertificateSigning',
  'DefaultIngressClass',
  'MutatingAdmissionWebhook',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionWebhook',
  'ResourceQuota',
];

/**
 * On unless turned off. Upstream leaves NodeRestriction to the installer; kubeadm and k3s turn it
 * on, and so does Mizzen.
 */
export const defaultOnPlugins = new Set(pluginOrder);

export interface PluginSelection {
  /** --enable-admission-plugins: added to the defaults. */
  enable?: string[];
  /** --disable-admission-plugins: removed (wins over enable, as upstream). */
  disable?: string[];
}

/** Names that neither flag may carry: refused at start with upstream's wording. */
export function unknownPlugins(sel: PluginSelection): string[] {
  const known = new Set(pluginOrder);
  return [...(sel.enable ?? []), ...(sel.disable ?? [])].filter((n) => n && !known.has(n));
}

export function enabledPlugins(sel: PluginSelection): Set<string> {
  const on = new Set(defaultOnPlugins);
  for (const n of sel.enable ?? []) on.add(n);
  for (const n of sel.disable ?? []) on.delete(n);
  return on;
}

export class AdmissionChain {
  private readonly mutators: AdmitStep[];
  private readonly validators: AdmitStep[];

  /** `plugins` in the order they run; `internal` ones (not upstream plugins) always run first. */
  constructor(plugins: AdmissionPlugin[]) {
    this.mutators = plugins.filter((p) => p.mutate).map((p) => p.mutate!.bind(p));
    this.validators = plugins.filter((p) => p.validate).map((p) => p.validate!.bind(p));
  }

  mutate = (r: AdmissionRequest): void | Promise<void> => run(this.mutators, r, 0);
  validate = (r: AdmissionRequest): void | Promise<void> => run(this.validators, r, 0);
}

function run(steps: AdmitStep[], r: AdmissionRequest, from: number): void | Promise<void> {
  for (let i = from; i < steps.length; i++) {
    const p = steps[i](r);
    if (p) return p.then(() => run(steps, r, i + 1));
  }
}
