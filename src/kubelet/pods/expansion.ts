// `$(VAR)` expansion in env values, command, args and subPathExpr, with upstream's rules
// (third_party/forked/golang/expansion): `$$` is an escaped `$`, references to undefined
// variables and incomplete `$(` are kept literally, and a `$` before anything else is kept.

export type Mapping = (name: string) => string;

/** A mapping that looks a name up in each context in turn; unknown names stay `$(NAME)`. */
export function mappingFor(...contexts: ReadonlyArray<ReadonlyMap<string, string> | Readonly<Record<string, string>>>): Mapping {
  return (name) => {
    for (const ctx of contexts) {
      if (ctx instanceof Map) {
        if (ctx.has(name)) return ctx.get(name)!;
      } else if (Object.prototype.hasOwnProperty.call(ctx, name)) {
        return (ctx as Record<string, string>)[name];
      }
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: Mapping): string {
  if (!input.includes('$')) return input;
  let out = '';
  let checkpoint = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) continue;
    out += input.slice(checkpoint, i);
    const next = input[i + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close >= 0) {
        out += mapping(input.slice(i + 2, close));
        advance = close - i;
      } else {
        out += '$(';
      }
    } else {
      out += '$' + next;
    }
    i += advance;
    checkpoint = i + 1;
  }
  return out + input.slice(checkpoint);
}
