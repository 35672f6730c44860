// Node address arithmetic of the cloud node controller (upstream node/helpers): honour the IP the
// kubelet was given with --node-ip, keep the kubelet's Hostname when the cloud gives none, and
// compare address lists by type.

import type { KObject } from '../../../api/types.ts';
import { ANNOTATION_PROVIDED_NODE_IP } from '../../labels.ts';
import type { NodeAddress } from '../../provider.ts';

/**
 * With a provided node IP, the addresses that carry it come first and other addresses of those
 * types are dropped (so the kubelet's choice wins); an IP the cloud does not report is an error.
 */
export function addressesForProvidedNodeIP(node: KObject, cloud: NodeAddress[]): NodeAddress[] {
  const ip = node.metadata.annotations?.[ANNOTATION_PROVIDED_NODE_IP];
  if (!ip) return cloud;
  const matching = cloud.filter((a) => a.address === ip);
  if (matching.length === 0) throw new Error(`failed to get node address from cloud provider that matches ip: ${ip}`);
  const types = new Set(matching.map((a) => a.type));
  return [...matching, ...cloud.filter((a) => !types.has(a.type))];
}

/** The addresses to publish: the cloud's, plus the kubelet's Hostname if the cloud has none. */
export function nodeAddressesToPublish(node: KObject, cloud: NodeAddress[]): NodeAddress[] {
  let out = [...cloud];
  if (!out.some((a) => a.type === 'Hostname')) {
    for (const a of (node.status?.addresses ?? []) as NodeAddress[]) if (a?.type === 'Hostname') out.push({ type: 'Hostname', address: a.address });
  }
  out = addressesForProvidedNodeIP(node, out);
  return out;
}

/** Upstream's nodeAddressesChangeDetected: a different length, or a type whose address differs. */
export function nodeAddressesChanged(a: NodeAddress[], b: NodeAddress[]): boolean {
  if (a.length !== b.length) return true;
  const byType = new Map<string, string>();
  for (const x of a) byType.set(x.type, x.address);
  return b.some((x) => byType.get(x.type) !== x.address);
}
