// JSON as Go's encoding/json writes it, where clients compare bytes: Go escapes <, >, & and
// U+2028/2029 inside strings, and writes a map[string]interface{} with its keys sorted.

const goEscaped = /[<>&\u2028\u2029]/;
const goEscapedAll = /[<>&\u2028\u2029]/g;

/** JSON text with the characters Go escapes written as \u escapes (they occur only inside strings). */
export function goEscapeJSON(json: string): string {
  if (!goEscaped.test(json)) return json;
  return json.replace(goEscapedAll, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Decoded JSON encoded as json.Marshal encodes it after decoding into interface{}: keys sorted, strings escaped as Go does. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goEscapeJSON(JSON.stringify(v));
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${goEscapeJSON(JSON.stringify(k))}:${goJSON(o[k])}`).join(',')}}`;
}
