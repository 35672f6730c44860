import type { CloudProvider } from '../../provider.ts';
import type { ProviderOptions } from '../../registry.ts';
export async function createProvider(_opts: ProviderOptions): Promise<CloudProvider> {
  throw new Error('not yet');
}
