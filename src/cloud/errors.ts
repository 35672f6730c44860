// The errors a cloud provider answers with, as upstream's cloud-provider `cloud.go` and
// `api/retry_error.go`: callers compare codes, never messages. Each has a literal `code`.

/** The provider does not implement this call (callers fall back or skip). */
export class NotImplementedError extends Error {
  readonly code = 'NotImplemented' as const;
  constructor(message = 'unimplemented') {
    super(message);
    this.name = 'NotImplementedError';
  }
}

/** Another controller does this (e.g. load balancers handled outside the cloud controller manager). */
export class ImplementedElsewhereError extends Error {
  readonly code = 'ImplementedElsewhere' as const;
  constructor(message = 'implemented by alternate to cloud provider') {
    super(message);
    this.name = 'ImplementedElsewhereError';
  }
}

/** The node's machine is not known to the cloud. */
export class InstanceNotFoundError extends Error {
  readonly code = 'InstanceNotFound' as const;
  constructor(message = 'instance not found') {
    super(message);
    this.name = 'InstanceNotFoundError';
  }
}

/**
 * "Not done yet, look again in retryAfterMs": the service controller requeues the Service after
 * exactly that long instead of backing off, and records no failure (a load balancer that takes
 * minutes to provision is not an error).
 */
export class RetryError extends Error {
  readonly code = 'Retry' as const;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RetryError';
  }
}

/** A cloud-config that cannot be used: names the field (`loadBalancer.ipRange`) and what is wrong. */
export class CloudConfigError extends Error {
  readonly code = 'CloudConfig' as const;
  constructor(
    readonly provider: string,
    readonly field: string,
    problem: string,
  ) {
    super(field ? `cloud-config for provider "${provider}": ${field}: ${problem}` : `cloud-config for provider "${provider}": ${problem}`);
    this.name = 'CloudConfigError';
  }
}

export function isNotImplemented(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 'NotImplemented';
}
export function isImplementedElsewhere(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 'ImplementedElsewhere';
}
export function isInstanceNotFound(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 'InstanceNotFound';
}
export function isRetryError(e: unknown): e is RetryError {
  return (e as { code?: unknown })?.code === 'Retry';
}
