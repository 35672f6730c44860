// Every cloud provider, by name. Each is a module loaded only when chosen, so `mizzen` does not
// load (or pay memory for) a cloud SDK it does not use. Adding a provider is one line here and a
// folder under providers/.

import type { CloudProvider } from './provider.ts';
import { readCloudConfig, type CloudConfig } from './cloud-config.ts';

export interface ProviderOptions {
  /** The parsed --cloud-config ({} without one). */
  config: CloudConfig;
  /**
   * Seams for tests: explicit credentials, clients, etc. Each provider documents what it reads;
   * the command never sets this.
   */
  overrides?: Record<string, unknown>;
  log?: (msg: string) => void;
}

export interface ProviderModule {
  /** Check the config (throwing CloudConfigError naming the field) and build the provider. */
  createProvider(opts: ProviderOptions): Promise<CloudProvider>;
}

export const cloudProviders: Record<string, () => Promise<ProviderModule>> = {
  local: () => import('./providers/local/index.ts'),
  aws: () => import('./providers/aws/index.ts'),
  gcp: () => import('./providers/gcp/index.ts'),
  azure: () => import('./providers/azure/index.ts'),
};

export class UnknownProviderError extends Error {
  constructor(name: string) {
    super(`unknown cloud provider "${name}" (known: ${Object.keys(cloudProviders).join(', ')})`);
    this.name = 'UnknownProviderError';
  }
}

/** Load the named provider with the config file at configPath (if any). */
export async function loadCloudProvider(
  name: string,
  configPath?: string,
  extra: Omit<ProviderOptions, 'config'> = {},
): Promise<CloudProvider> {
  const load = cloudProviders[name];
  if (!load) throw new UnknownProviderError(name);
  const config = readCloudConfig(name, configPath);
  const mod = await load();
  return mod.createProvider({ ...extra, config });
}
