// Image references the way the CRI (and docker) normalise them: 'busybox' is
// 'docker.io/library/busybox:latest', 'me/app:1' is 'docker.io/me/app:1', 'localhost:5000/x' keeps
// its registry. A reference with a digest keeps the digest and gets no tag.

export interface ImageRef {
  /** 'docker.io' */
  domain: string;
  /** 'library/busybox' */
  path: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  const input = ref.trim();
  if (!input || /\s/.test(input)) throw new Error(`invalid image reference "${ref}"`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new Error(`invalid digest in image reference "${ref}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid tag in image reference "${ref}"`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    domain = parts.shift()!;
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (!path || !parts.every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p))) throw new Error(`invalid image reference "${ref}"`);
  if (!tag && !digest) tag = 'latest';
  return { domain, path, tag, digest };
}

/** The fully qualified form: 'busybox' → 'docker.io/library/busybox:latest'. */
export function normalizeImageRef(ref: string): string {
  return formatImageRef(parseImageRef(ref));
}

export function formatImageRef(r: ImageRef): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The shortest familiar form, as `docker images` shows it: 'docker.io/library/busybox:latest' → 'busybox:latest'. */
export function familiarImageRef(ref: string): string {
  const r = parseImageRef(ref);
  let name = `${r.domain}/${r.path}`;
  if (r.domain === 'docker.io') name = r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
  return `${name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
