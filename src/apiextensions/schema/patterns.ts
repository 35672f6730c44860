// Schema `pattern`s are Go (RE2) regular expressions; JavaScript's dialect is close enough for
// the patterns CRDs use once RE2's inline flags and anchors are translated. Compiled once each.

const cache = new Map<string, RegExp | null>();

/** The pattern as a JavaScript RegExp (unanchored search, as RE2's MatchString), or null if it does not compile. */
export function compiledPattern(pattern: string): RegExp | null {
  let re = cache.get(pattern);
  if (re !== undefined) return re;
  re = toJS(pattern);
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, re);
  return re;
}

function toJS(pattern: string): RegExp | null {
  let src = pattern;
  let flags = 'u';
  const inline = /^\(\?([imsU]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    if (inline[1].includes('i')) flags += 'i';
    if (inline[1].includes('m')) flags += 'm';
    if (inline[1].includes('s')) flags += 's';
  }
  src = src.replace(/\\A/g, '^').replace(/\\z/g, '$');
  for (const f of [flags, flags.replace('u', '')]) {
    try {
      return new RegExp(src, f);
    } catch {
      // try without the unicode flag: it is stricter about escapes than RE2
    }
  }
  return null;
}
