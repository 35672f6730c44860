// The /etc/hosts the kubelet gives every container of a pod (upstream kubelet_pods.go
// ensureHostsFile): a managed file with localhost, the pod's IPs and hostname, and hostAliases;
// for hostNetwork pods the node's own /etc/hosts plus hostAliases. containerd mounts its own copy
// of the host's file unless the kubelet mounts one, so the kubelet must.

import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { HostAlias } from '../pods/api-types.ts';

export const ETC_HOSTS_PATH = '/etc/hosts';

function hostAliasEntries(aliases: HostAlias[] | undefined): string {
  if (!aliases?.length) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

export function managedHostsFileContent(podIPs: string[], hostname: string, domain: string, aliases?: HostAlias[]): string {
  let out = '# Kubernetes-managed hosts file.\n';
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasEntries(aliases);
}

export function nodeHostsFileContent(nodeHosts: string, aliases?: HostAlias[]): string {
  return '# Kubernetes-managed hosts file (host network).\n' + nodeHosts + hostAliasEntries(aliases);
}

export interface HostsFileOptions {
  podIPs: string[];
  hostname: string;
  domain: string;
  hostAliases?: HostAlias[];
  hostNetwork?: boolean;
  /** The node's hosts file (default /etc/hosts), for hostNetwork pods. */
  nodeHostsPath?: string;
}

/** Write the pod's hosts file at `path` (mode 0644). */
export async function ensureHostsFile(path: string, opts: HostsFileOptions): Promise<void> {
  const content = opts.hostNetwork
    ? nodeHostsFileContent(await readFile(opts.nodeHostsPath ?? ETC_HOSTS_PATH, 'utf8'), opts.hostAliases)
    : managedHostsFileContent(opts.podIPs, opts.hostname, opts.domain, opts.hostAliases);
  await writeFile(path, content, { mode: 0o644 });
  await chmod(path, 0o644);
}
