// Plugin results, with upstream's codes: a rejection says whether preemption could help
// (Unschedulable) or not (UnschedulableAndUnresolvable).

export enum Code {
  Success = 0,
  Error = 1,
  Unschedulable = 2,
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

export class Status {
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: string[] = [],
    readonly error?: Error,
  ) {}

  isSuccess(): boolean {
    return this.code === Code.Success;
  }
  isSkip(): boolean {
    return this.code === Code.Skip;
  }
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }
  message(): string {
    return this.error ? this.error.message : this.reasons.join(', ');
  }
  withPlugin(name: string): Status {
    this.plugin ||= name;
    return this;
  }
}

/** A nil status is success, as upstream. */
export type MaybeStatus = Status | undefined | null;

export const success = (): MaybeStatus => undefined;
export const unschedulable = (...reasons: string[]): Status => new Status(Code.Unschedulable, reasons);
export const unresolvable = (...reasons: string[]): Status => new Status(Code.UnschedulableAndUnresolvable, reasons);
export const skip = (): Status => new Status(Code.Skip);
export const asStatus = (e: unknown): Status => new Status(Code.Error, [], e instanceof Error ? e : new Error(String(e)));

export function isSuccess(s: MaybeStatus): boolean {
  return !s || s.code === Code.Success;
}
