// Timestamps as the Kubernetes API writes them.

/** Second-precision RFC 3339 time, as metav1.Time serialises. */
export function rfc3339(d?: Date): string {
  return d === undefined ? nowRFC3339() : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The current second's text, formatted once per second: every write stamps a time
// (creationTimestamp, conditions), and formatting a Date costs a few µs.
let cachedSecond = -1;
let cachedText = '';

/** rfc3339() of now. */
export function nowRFC3339(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedText = rfc3339(new Date(second * 1000));
    cachedSecond = second;
  }
  return cachedText;
}

/** Microsecond-precision RFC 3339 time, as metav1.MicroTime serialises (6 fractional digits). */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
