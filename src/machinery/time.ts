// Timestamps as the Kubernetes API writes them.

/** Second-precision RFC 3339 time, as metav1.Time serialises. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Microsecond-precision RFC 3339 time, as metav1.MicroTime serialises (6 fractional digits). */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
