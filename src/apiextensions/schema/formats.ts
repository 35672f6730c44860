// String formats a CRD schema may declare, checked as upstream's format registry checks them
// (go-openapi strfmt, limited to the formats apiextensions supports). Unknown formats are
// ignored, as upstream drops them before validating.

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const fullDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const uuidAny = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const uuidVersion = (v: number) => new RegExp(`^[0-9a-f]{8}-?[0-9a-f]{4}-?${v}[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$`, 'i');
const hostnameRe = /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;
const emailRe = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/;
const macRe = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}$/;
const hexColor = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const rgbColor = /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/;
const bsonObjectId = /^[0-9a-fA-F]{24}$/;
const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Go's time.ParseDuration units, and strfmt's long forms ("3 days", "1 week").
const goDuration = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const longDuration = /^[-+]?\d+\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|sec|secs|min|mins|hr|hrs)$/i;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

const checks: Record<string, (s: string) => boolean> = {
  'date-time': (s) => {
    const m = rfc3339.exec(s);
    return !!m && validDate(+m[1], +m[2], +m[3]) && +m[4] < 24 && +m[5] < 60 && +m[6] < 61;
  },
  datetime: (s) => checks['date-time'](s),
  date: (s) => {
    const m = fullDate.exec(s);
    return !!m && validDate(+m[1], +m[2], +m[3]);
  },
  uuid: (s) => uuidAny.test(s),
  uuid3: (s) => uuidVersion(3).test(s),
  uuid4: (s) => uuidVersion(4).test(s),
  uuid5: (s) => uuidVersion(5).test(s),
  email: (s) => emailRe.test(s),
  hostname: (s) => s.length <= 255 && hostnameRe.test(s),
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: (s) => {
    const i = s.lastIndexOf('/');
    if (i < 0) return false;
    const ip = s.slice(0, i);
    const bits = s.slice(i + 1);
    if (!/^\d{1,3}$/.test(bits)) return false;
    return (isIPv4(ip) && +bits <= 32) || (isIPv6(ip) && +bits <= 128);
  },
  mac: (s) => macRe.test(s),
  uri: (s) => {
    try {
      return !!new URL(s).protocol;
    } catch {
      return false;
    }
  },
  byte: (s) => base64Re.test(s),
  password: () => true,
  duration: (s) => goDuration.test(s) || longDuration.test(s),
  hexcolor: (s) => hexColor.test(s),
  rgbcolor: (s) => rgbColor.test(s),
  bsonobjectid: (s) => bsonObjectId.test(s),
  isbn: (s) => /^(\d{9}[\dX]|\d{13})$/.test(s.replace(/[- ]/g, '')),
  isbn10: (s) => /^\d{9}[\dX]$/.test(s.replace(/[- ]/g, '')),
  isbn13: (s) => /^\d{13}$/.test(s.replace(/[- ]/g, '')),
  creditcard: (s) => /^\d{13,19}$/.test(s.replace(/[- ]/g, '')),
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
};

/** False when `format` is a known string format that `s` does not satisfy. */
export function matchesFormat(format: string, s: string): boolean {
  const check = checks[format.toLowerCase()];
  return check ? check(s) : true;
}

/** Integer formats bound the value's range. */
export function integerFormatRange(format: string | undefined): [number, number] | undefined {
  if (format === 'int32') return [-2147483648, 2147483647];
  return undefined;
}
