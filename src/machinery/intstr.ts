// IntOrString values such as maxSurge, maxUnavailable and minAvailable.

/**
 * The absolute value of an int or a percentage of `total` (upstream's
 * GetScaledValueFromIntOrPercent); throws on anything else, e.g. "12x" or "%".
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (m) {
      const x = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(x) : Math.floor(x);
    }
    if (/^\d+$/.test(v)) return Number(v);
  }
  throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
}
