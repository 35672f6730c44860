// The cluster DNS flags of `mizzen up` (and of a node's kubelet): the kube-dns Service's ClusterIP
// that pods are told (kubelet --cluster-dns), the cluster domain (--cluster-domain) and the
// resolvers names outside it are forwarded to (default: the node's resolv.conf).

import type { ParseArgsConfig } from 'node:util';
import { isIPv4 } from 'node:net';
import { parseIPv4 } from '../machinery/ipv4.ts';
import { validateClusterDomain } from '../kubelet/pods/dns.ts';
import { clusterDNSForServiceCIDR, DEFAULT_CLUSTER_DOMAIN } from '../dns/kube-dns-service.ts';
import { parseUpstream } from '../dns/upstream.ts';
import type { Upstream } from '../dns/forwarder.ts';

export interface DnsFlags {
  /** The kube-dns Service's ClusterIP, the nameserver in ClusterFirst pods' resolv.conf. */
  clusterDNS: string;
  clusterDomain: string;
  /** Undefined: the node's /etc/resolv.conf. */
  upstreams?: Upstream[];
}

export const dnsFlags: NonNullable<ParseArgsConfig['options']> = {
  'cluster-dns': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'dns-upstream': { type: 'string' },
};

export const dnsFlagHelp = `  --cluster-dns IP        ClusterIP of the kube-dns Service, the nameserver pods are given
                          (default: the 10th address of the service range, 10.43.0.10)
  --cluster-domain DOMAIN the cluster's DNS domain (default cluster.local)
  --dns-upstream LIST     resolvers for names outside the cluster, IP or IP:port, comma-separated
                          (default: the nameservers of the node's /etc/resolv.conf)`;

function inCIDR(ip: string, cidr: string): boolean {
  const [addr, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(parseIPv4(ip)! / size) === Math.floor(parseIPv4(addr)! / size);
}

/** Parse the flags; throws Error with a message naming the bad flag. */
export function dnsFlagValues(values: Record<string, unknown>, serviceCIDR?: string): DnsFlags {
  const clusterDNS = (values['cluster-dns'] as string | undefined) ?? clusterDNSForServiceCIDR(serviceCIDR);
  if (!isIPv4(clusterDNS)) throw new Error(`invalid --cluster-dns "${clusterDNS}": must be an IPv4 address`);
  const range = serviceCIDR ?? '10.43.0.0/16';
  if (!inCIDR(clusterDNS, range)) throw new Error(`invalid --cluster-dns "${clusterDNS}": not in the service range ${range}`);
  const clusterDomain = ((values['cluster-domain'] as string | undefined) ?? DEFAULT_CLUSTER_DOMAIN).replace(/\.$/, '').toLowerCase();
  const errs = clusterDomain ? validateClusterDomain(clusterDomain) : ['must not be empty'];
  if (errs.length) throw new Error(`invalid --cluster-domain "${String(values['cluster-domain'])}": ${errs.join('; ')}`);
  const up = values['dns-upstream'] as string | undefined;
  let upstreams: Upstream[] | undefined;
  if (up !== undefined) {
    upstreams = up
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        try {
          return parseUpstream(s);
        } catch (e) {
          throw new Error(`invalid --dns-upstream: ${(e as Error).message.replace(/^invalid DNS upstream /, '')}`);
        }
      });
    if (!upstreams.length) throw new Error('invalid --dns-upstream "": name at least one resolver');
  }
  return { clusterDNS, clusterDomain, ...(upstreams ? { upstreams } : {}) };
}
