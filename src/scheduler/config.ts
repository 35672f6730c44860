// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1 in spirit): profiles, per-extension
// point enable/disable lists over the default multiPoint set, pluginConfig args, and
// percentageOfNodesToScore. Builds a Framework per profile.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Framework, emptyProfilePlugins, type ProfilePlugins } from './framework/framework.ts';
import type { Handle, Plugin } from './framework/types.ts';
import { DEFAULT_PLUGINS, REGISTRY } from './plugins/registry.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

export const EXTENSION_POINTS = ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind'] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

export interface Profile {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
  pluginConfig?: Array<{ name: string; args?: any }>;
}

export interface SchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  profiles?: Profile[];
}

export function parseSchedulerConfiguration(text: string): SchedulerConfiguration {
  const doc = parse(text) ?? {};
  if (typeof doc !== 'object') throw new Error('scheduler configuration must be a YAML mapping');
  if (doc.kind && doc.kind !== 'KubeSchedulerConfiguration') throw new Error(`unexpected kind ${doc.kind}, want KubeSchedulerConfiguration`);
  const cfg = doc as SchedulerConfiguration;
  validateConfiguration(cfg);
  return cfg;
}

export function loadSchedulerConfiguration(path: string): SchedulerConfiguration {
  return parseSchedulerConfiguration(readFileSync(path, 'utf8'));
}

export function validateConfiguration(cfg: SchedulerConfiguration): void {
  const pct = (v: unknown, where: string) => {
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 100)) throw new Error(`${where}: Invalid value: ${v}: not in valid range [0-100]`);
  };
  pct(cfg.percentageOfNodesToScore, 'percentageOfNodesToScore');
  const names = new Set<string>();
  (cfg.profiles ?? []).forEach((p, i) => {
    const name = p.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    if (names.has(name)) throw new Error(`profiles[${i}].schedulerName: Duplicate value: "${name}"`);
    names.add(name);
    pct(p.percentageOfNodesToScore, `profiles[${i}].percentageOfNodesToScore`);
    for (const set of Object.values(p.plugins ?? {})) {
      for (const ref of set?.enabled ?? []) if (!REGISTRY[ref.name]) throw new Error(`profiles[${i}]: plugin "${ref.name}" does not exist`);
    }
  });
}

const methodOf: Record<ExtensionPoint, string> = {
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  permit: 'permit',
  preBind: 'preBind',
  bind: 'bind',
};

/** Resolved plugin names (and weights) per extension point for a profile. */
export function resolvePluginNames(profile: Profile, implementsPoint: (name: string, point: ExtensionPoint) => boolean): Record<ExtensionPoint, PluginRef[]> {
  const plugins = profile.plugins ?? {};
  const mpDisabled = new Set((plugins.multiPoint?.disabled ?? []).map((r) => r.name));
  const multi: PluginRef[] = mpDisabled.has('*') ? [] : DEFAULT_PLUGINS.filter((p) => !mpDisabled.has(p.name));
  for (const ref of plugins.multiPoint?.enabled ?? []) {
    const i = multi.findIndex((p) => p.name === ref.name);
    if (i >= 0) multi[i] = { ...multi[i], ...ref };
    else multi.push(ref);
  }
  const out = {} as Record<ExtensionPoint, PluginRef[]>;
  for (const point of EXTENSION_POINTS) {
    const set = plugins[point] ?? {};
    const disabled = new Set((set.disabled ?? []).map((r) => r.name));
    const enabled = set.enabled ?? [];
    const explicit = new Set(enabled.map((r) => r.name));
    const list: PluginRef[] = [];
    if (!disabled.has('*')) {
      for (const p of multi) if (!disabled.has(p.name) && !explicit.has(p.name) && implementsPoint(p.name, point)) list.push(p);
    }
    // Explicitly enabled plugins run after the multiPoint ones, with their own weight.
    for (const ref of enabled) {
      const base = multi.find((p) => p.name === ref.name);
      list.push({ name: ref.name, weight: ref.weight ?? base?.weight });
    }
    out[point] = list;
  }
  return out;
}

/** Instantiate a profile's plugins (one instance per plugin, shared across points). */
export function buildFramework(profile: Profile, handleFor: (fwk: () => Framework) => Handle, globalPercentage = 0): Framework {
  const instances = new Map<string, Plugin>();
  const args = new Map((profile.pluginConfig ?? []).map((c) => [c.name, c.args]));
  let fwk!: Framework;
  const handle = handleFor(() => fwk);
  const get = (name: string): Plugin => {
    let p = instances.get(name);
    if (!p) {
      const factory = REGISTRY[name];
      if (!factory) throw new Error(`plugin "${name}" does not exist`);
      p = factory({ handle, args: args.get(name) });
      instances.set(name, p);
    }
    return p;
  };
  const implementsPoint = (name: string, point: ExtensionPoint) => typeof (get(name) as any)[methodOf[point]] === 'function';
  const names = resolvePluginNames(profile, implementsPoint);
  const pp: ProfilePlugins = emptyProfilePlugins();
  for (const point of EXTENSION_POINTS) {
    for (const ref of names[point]) {
      const p = get(ref.name) as any;
      if (typeof p[methodOf[point]] !== 'function') throw new Error(`plugin "${ref.name}" does not extend ${point} plugin`);
      if (point === 'score') pp.score.push({ plugin: p, weight: ref.weight || 1 });
      else (pp[point] as Plugin[]).push(p);
    }
  }
  const pct = profile.percentageOfNodesToScore ?? globalPercentage ?? 0;
  fwk = new Framework(profile.schedulerName ?? DEFAULT_SCHEDULER_NAME, pp, pct);
  return fwk;
}

export function profilesOf(cfg: SchedulerConfiguration | undefined): Profile[] {
  return cfg?.profiles?.length ? cfg.profiles : [{ schedulerName: DEFAULT_SCHEDULER_NAME }];
}
