// Making sure a container's image is on the node before it is created (upstream
// images/image_manager.go): imagePullPolicy Always / IfNotPresent / Never, pulls with the pod's
// imagePullSecrets, a back-off per pod and image after failures, and upstream's reasons and event
// texts (ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName).
//
// Mizzen difference: an image that is present without a registry digest was imported from an
// archive (Mizzen's own busybox, `mizzen images import`), so no registry has it; with policy Always
// it is used as it is instead of asking a registry (which would send traffic off the machine).

import type { CriClient } from '../cri/services.ts';
import type { AuthConfig, PodSandboxConfig } from '../cri/types.ts';
import type { Container, Pod } from '../pods/api-types.ts';
import type { ImageUser } from '../pods/security-context.ts';
import type { ObjectSources } from '../objects/sources.ts';
import { normalizeImageRef } from '../images/refs.ts';
import { Backoff } from './backoff.ts';
import { credentialsFor } from './pull-secrets.ts';

export class ImagePullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

export interface PulledImage {
  /** What CreateContainer runs (the image ID). */
  imageRef: string;
  user: ImageUser;
}

export type ImageEventRecorder = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

function defaultPolicy(image: string): string {
  const last = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export class ImagePuller {
  private readonly backoff: Backoff;

  constructor(
    private readonly cri: CriClient,
    private readonly sources: ObjectSources,
    opts: { backoff?: Backoff } = {},
  ) {
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 10_000, maxMs: 300_000 });
  }

  async ensureImage(pod: Pod, container: Container, sandboxConfig: PodSandboxConfig, record: ImageEventRecorder): Promise<PulledImage> {
    const image = container.image ?? '';
    try {
      normalizeImageRef(image);
    } catch (e) {
      const msg = `Failed to apply default image tag "${image}": ${(e as Error).message}`;
      record('Warning', 'InspectFailed', msg);
      throw new ImagePullError('InvalidImageName', msg);
    }
    if (!image) {
      record('Warning', 'InspectFailed', 'Failed to apply default image tag "": couldn\'t parse image name "": invalid reference format');
      throw new ImagePullError('InvalidImageName', 'Failed to apply default image tag "": couldn\'t parse image name "": invalid reference format');
    }
    const policy = container.imagePullPolicy || defaultPolicy(image);
    const present = (await this.cri.imageStatus({ image })).image;
    const local = present && present.repoDigests.length === 0;
    if (present && (policy !== 'Always' || local)) {
      record('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { imageRef: present.id, user: imageUser(present) };
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      record('Warning', 'ErrImageNeverPull', msg);
      throw new ImagePullError('ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata.uid}/${image}`;
    if (this.backoff.inBackOffNow(key)) {
      const msg = `Back-off pulling image "${image}"`;
      record('Normal', 'BackOff', msg);
      throw new ImagePullError('ImagePullBackOff', msg);
    }
    record('Normal', 'Pulling', `Pulling image "${image}"`);
    const start = Date.now();
    let ref: string;
    try {
      const auth = await this.auth(pod, image);
      ref = await this.cri.pullImage({ image }, auth, sandboxConfig);
    } catch (e) {
      this.backoff.next(key);
      const msg = (e as Error).message;
      record('Warning', 'Failed', `Failed to pull image "${image}": ${msg}`);
      throw new ImagePullError('ErrImagePull', msg);
    }
    this.backoff.reset(key);
    const st = (await this.cri.imageStatus({ image: ref })).image ?? (await this.cri.imageStatus({ image })).image;
    const secs = ((Date.now() - start) / 1000).toFixed(3).replace(/\.?0+$/, '');
    record('Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s. Image size: ${st?.size ?? 0} bytes.`);
    return { imageRef: st?.id || ref, user: st ? imageUser(st) : {} };
  }

  /** Back-off state for the pods that are gone. */
  prune(liveUids: Set<string>): void {
    const keep = (k: string) => liveUids.has(k.slice(0, k.indexOf('/')));
    this.backoff.prune(keep);
  }

  private async auth(pod: Pod, image: string): Promise<AuthConfig | undefined> {
    const secrets = [];
    for (const ref of (pod.spec as any).imagePullSecrets ?? []) {
      if (!ref?.name) continue;
      try {
        secrets.push(await this.sources.getSecret(pod.metadata.namespace ?? '', ref.name));
      } catch {
        /* upstream: a missing pull secret is skipped (a warning), the pull goes on without it */
      }
    }
    return credentialsFor(image, secrets);
  }
}

function imageUser(img: { uid: { value: number } | null; username: string }): ImageUser {
  const u: ImageUser = {};
  if (img.uid) u.uid = img.uid.value;
  if (img.username) u.username = img.username;
  return u;
}
