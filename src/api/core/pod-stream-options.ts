// The query options of pods/log, pods/exec, pods/attach and pods/portforward (PodLogOptions,
// PodExecOptions, PodAttachOptions, PodPortForwardOptions), decoded from a URL's query the way
// upstream's parameter codec does, with upstream's defaults and validation. The kubelet's
// containerLogs endpoint decodes the same PodLogOptions.

import { errors, field, type FieldError } from '../../machinery/errors.ts';

/**
 * A boolean query parameter as upstream converts one (Convert_Slice_string_To_bool): absent is
 * false, "false" (any case) and "0" are false, anything else (even an empty value) is true.
 */
export function queryBool(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.getAll(name);
  if (v.length === 0) return dflt;
  return !(v[0] === '0' || v[0].toLowerCase() === 'false');
}

/** An int64 query parameter; a value that is not an integer is a 400, as upstream's decoder answers. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.getAll(name);
  if (v.length === 0) return undefined;
  const s = v[0];
  if (!/^[+-]?\d+$/.test(s)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time (metav1.Time in a query), as milliseconds since the epoch. */
export function queryTime(q: URLSearchParams, name: string): number | undefined {
  const v = q.getAll(name);
  if (v.length === 0 || v[0] === '') return undefined;
  const s = v[0];
  const t = RFC3339.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t)) throw errors.badRequest(`parsing time ${JSON.stringify(s)} as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time`);
  return t;
}

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceSeconds?: number;
  /** Milliseconds since the epoch. */
  sinceTime?: number;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend: boolean;
}

export function parsePodLogOptions(q: URLSearchParams): PodLogOptions {
  return {
    container: q.get('container') || undefined,
    follow: queryBool(q, 'follow'),
    previous: queryBool(q, 'previous'),
    timestamps: queryBool(q, 'timestamps'),
    sinceSeconds: queryInt(q, 'sinceSeconds'),
    sinceTime: queryTime(q, 'sinceTime'),
    tailLines: queryInt(q, 'tailLines'),
    limitBytes: queryInt(q, 'limitBytes'),
    insecureSkipTLSVerifyBackend: queryBool(q, 'insecureSkipTLSVerifyBackend'),
  };
}

/** Upstream's ValidatePodLogOptions. */
export function validatePodLogOptions(o: PodLogOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0) errs.push(field.invalid('tailLines', o.tailLines, 'must be greater than or equal to 0'));
  if (o.limitBytes !== undefined && o.limitBytes < 1) errs.push(field.invalid('limitBytes', o.limitBytes, 'must be greater than 0'));
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) errs.push(field.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) errs.push(field.invalid('sinceSeconds', o.sinceSeconds, 'must be greater than 0'));
  return errs;
}

/** The query the API server sends the kubelet's /containerLogs for these options. */
export function kubeletLogQuery(o: PodLogOptions): URLSearchParams {
  const p = new URLSearchParams();
  if (o.follow) p.set('follow', 'true');
  if (o.previous) p.set('previous', 'true');
  if (o.timestamps) p.set('timestamps', 'true');
  if (o.sinceSeconds !== undefined) p.set('sinceSeconds', String(o.sinceSeconds));
  if (o.sinceTime !== undefined) p.set('sinceTime', new Date(o.sinceTime).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (o.tailLines !== undefined) p.set('tailLines', String(o.tailLines));
  if (o.limitBytes !== undefined) p.set('limitBytes', String(o.limitBytes));
  return p;
}

/** PodExecOptions and PodAttachOptions (attach has no command). */
export interface PodStreamOptions {
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  command: string[];
}

/** Stdout and stderr default to true, as upstream's SetDefaults_PodExecOptions/PodAttachOptions. */
export function parsePodStreamOptions(q: URLSearchParams): PodStreamOptions {
  return {
    container: q.get('container') || undefined,
    stdin: queryBool(q, 'stdin'),
    stdout: queryBool(q, 'stdout', true),
    stderr: queryBool(q, 'stderr', true),
    tty: queryBool(q, 'tty'),
    command: q.getAll('command'),
  };
}

/**
 * The kubelet's form of the stream options (upstream's streamParams): input, output, error and
 * tty as "1", and the command.
 */
export function kubeletStreamQuery(o: PodStreamOptions): URLSearchParams {
  const p = new URLSearchParams();
  if (o.stdin) p.set('input', '1');
  if (o.stdout) p.set('output', '1');
  if (o.stderr) p.set('error', '1');
  if (o.tty) p.set('tty', '1');
  for (const c of o.command) p.append('command', c);
  return p;
}

/**
 * Ports of PodPortForwardOptions (`ports=8080&ports=80` or `ports=8080,80`); the kubelet reads the
 * same values from `port`.
 */
export function parsePortForwardPorts(q: URLSearchParams, param: 'ports' | 'port' = 'ports'): number[] {
  const out: number[] = [];
  for (const raw of q.getAll(param)) {
    if (raw === '') throw errors.badRequest('query parameter "port" cannot be empty');
    for (const p of raw.split(',')) {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!Number.isInteger(n) || n > 65535) throw errors.badRequest(`unable to parse ${JSON.stringify(raw)} as a port: strconv.ParseUint: parsing ${JSON.stringify(p)}: invalid syntax`);
      if (n < 1) throw errors.badRequest(`port ${JSON.stringify(raw)} must be > 0`);
      out.push(n);
    }
  }
  return out;
}
