// Boolean query parameters, read the way upstream decodes them into its option structs
// (ListOptions, PodLogOptions, PodExecOptions, DeleteOptions...): apimachinery's
// Convert_Slice_string_To_bool looks at the first value only, and only "0" and "false" (any
// case) are false; any other value, even "" or "yes", is true. So `watch=True` from the Python
// client is a watch, and no boolean parameter is ever refused.
//
// `pretty` is the exception: upstream reads it with Go's strconv.ParseBool and takes anything
// ParseBool refuses as false; without it, curl, wget and browsers get indented JSON.

import type { IncomingMessage } from 'node:http';

/** The value of a boolean parameter, or undefined when it is absent (upstream's *bool fields). */
export function optionalQueryFlag(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/** A boolean parameter: absent is false. */
export function queryFlag(q: URLSearchParams, name: string): boolean {
  return optionalQueryFlag(q, name) ?? false;
}

/** Go's strconv.ParseBool: the only spellings it accepts, undefined for anything else. */
export function parseGoBool(v: string): boolean | undefined {
  switch (v) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

/** Whether an answer should be indented: `pretty` as ParseBool reads it, else curl, wget or a browser asking. */
export function prettyRequested(req: IncomingMessage | undefined, q?: URLSearchParams): boolean {
  if (!req) return false;
  const raw = req.url ?? '';
  if (raw.includes('pretty')) {
    const params = q ?? new URLSearchParams(raw.slice(raw.indexOf('?') + 1));
    const pp = params.get('pretty');
    if (pp) return parseGoBool(pp) ?? false;
  }
  const ua = req.headers['user-agent'] ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}
