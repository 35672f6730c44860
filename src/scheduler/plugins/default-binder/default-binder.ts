// Binds through the API server's pods/<name>/binding subresource.

import { asStatus, type MaybeStatus } from '../../framework/status.ts';
import type { BindPlugin, CycleState, Handle, Pod, PluginFactory } from '../../framework/types.ts';

export const NAME = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;
  constructor(private readonly handle: Handle) {}

  async bind(_s: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    if (!this.handle.bindPod) return asStatus(new Error('no API client to bind with'));
    try {
      await this.handle.bindPod(pod, nodeName);
    } catch (e) {
      return asStatus(e);
    }
    return undefined;
  }
}

export const factory: PluginFactory = ({ handle }) => new DefaultBinder(handle);
