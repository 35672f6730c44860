// Errors from CRI calls. The kubelet shows the runtime's message to users (a pod's
// `RunContainerError` message is what containerd said), so `message` is exactly that text; the
// gRPC status code says what kind of failure it was.

/** The gRPC status codes (a table here, so that the kubelet need not load a gRPC library for it). */
const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** gRPC status code names ('NOT_FOUND', 'UNAVAILABLE', ...), by number. */
const CODE_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

export class CriError extends Error {
  override readonly name = 'CriError';
  /** The gRPC status code (grpc-js `status`: 5 NOT_FOUND, 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, ...). */
  readonly code: number;
  /** The runtime's message, e.g. 'failed to create containerd task: ...' (also `message`). */
  readonly details: string;
  /** The CRI method, e.g. 'RunPodSandbox'. */
  readonly method: string;

  constructor(method: string, code: number, details: string) {
    super(details || `${method} failed with ${codeName(code)}`);
    this.code = code;
    this.details = details;
    this.method = method;
  }

  get codeName(): string {
    return codeName(this.code);
  }

  /** One line for logs: 'RunPodSandbox: UNKNOWN: failed to ...'. */
  describe(): string {
    return `${this.method}: ${this.codeName}: ${this.message}`;
  }
}

export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `code ${code}`;
}

export function isCriError(err: unknown): err is CriError {
  return err instanceof CriError;
}

/** The object (sandbox, container, image) does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcStatus.NOT_FOUND;
}

/** The runtime could not be reached (not running, restarting, socket missing). */
export function isUnavailable(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcStatus.UNAVAILABLE;
}

export function isDeadlineExceeded(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcStatus.DEADLINE_EXCEEDED;
}

export { GrpcStatus };
