// Small formatting helpers that reproduce how upstream's Go code prints values in messages users
// see (events, container status messages, downward API files), so the text matches upstream.

import type { KObject } from '../../api/types.ts';

/** Upstream's format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: KObject): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
}

const shortEscapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's %q / strconv.Quote: double-quoted, Go escapes, printable Unicode kept as is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = shortEscapes[ch];
    if (short) {
      out += short;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp < 0xe000)) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Go's %v of a []string: `[a b c]`. */
export function goSlice(items: readonly string[] | undefined): string {
  return `[${(items ?? []).join(' ')}]`;
}

/** Go's time.Duration String() for whole and fractional seconds: 1s, 1m30s, 500ms, 1h0m0s. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds < 1) {
    const ms = seconds * 1000;
    return ms >= 1 ? `${trimFloat(ms)}ms` : `${trimFloat(ms * 1000)}µs`;
  }
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds - h * 3600 - m * 60;
  if (h > 0) return `${h}h${m}m${trimFloat(s)}s`;
  if (m > 0) return `${m}m${trimFloat(s)}s`;
  return `${trimFloat(s)}s`;
}

function trimFloat(n: number): string {
  return String(Number(n.toFixed(9)));
}
