// imagePullSecrets to CRI credentials (upstream credentialprovider/secrets and keyring): secrets of
// type kubernetes.io/dockerconfigjson (`.dockerconfigjson`: {"auths": {...}}) or
// kubernetes.io/dockercfg (`.dockercfg`: {...}) map registry keys to a username/password or an
// `auth` (base64 "user:pass"). The first secret with an entry for the image's registry wins.

import type { AuthConfig } from '../cri/types.ts';
import type { Secret } from '../pods/api-types.ts';
import { parseImageRef } from '../images/refs.ts';

interface DockerEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
}

/** The registry host of a dockercfg key: 'https://index.docker.io/v1/' → 'index.docker.io'. */
function keyHost(key: string): string {
  let k = key.replace(/^https?:\/\//, '');
  k = k.split('/')[0] ?? k;
  return k.toLowerCase();
}

function sameRegistry(keyHostName: string, imageDomain: string): boolean {
  const dockerHub = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
  if (dockerHub.includes(imageDomain)) return dockerHub.includes(keyHostName);
  if (keyHostName === imageDomain) return true;
  // A key without a port matches that host on any port? Upstream needs the port to match; so do we.
  // Wildcards ('*.example.com') match one label.
  if (keyHostName.startsWith('*.')) {
    const rest = keyHostName.slice(2);
    const dot = imageDomain.indexOf('.');
    return dot > 0 && imageDomain.slice(dot + 1) === rest;
  }
  return false;
}

function entries(secret: Secret): Record<string, DockerEntry> {
  const data = secret.data ?? {};
  const decode = (v: string) => JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
  try {
    if (data['.dockerconfigjson']) return decode(data['.dockerconfigjson']).auths ?? {};
    if (data['.dockercfg']) return decode(data['.dockercfg']) ?? {};
  } catch {
    /* a malformed secret gives no credentials */
  }
  return {};
}

export function credentialsFor(image: string, secrets: Secret[]): AuthConfig | undefined {
  let domain: string;
  try {
    domain = parseImageRef(image).domain.toLowerCase();
  } catch {
    return undefined;
  }
  for (const s of secrets) {
    for (const [key, e] of Object.entries(entries(s))) {
      if (!e || !sameRegistry(keyHost(key), domain)) continue;
      let { username, password } = e;
      if ((!username || !password) && e.auth) {
        const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i > 0) {
          username = decoded.slice(0, i);
          password = decoded.slice(i + 1);
        }
      }
      // No serverAddress: containerd compares it with the host as a URL, which a bare
      // 'host:port' key is not; the credentials are for this pull's registry anyway.
      const auth: AuthConfig = {};
      if (username) auth.username = username;
      if (password) auth.password = password;
      if (e.identitytoken) auth.identityToken = e.identitytoken;
      return auth;
    }
  }
  return undefined;
}
