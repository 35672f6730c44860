// The node's pod network as a CNI conflist for containerd (Debian's containernetworking-plugins):
//
// - bridge: a Linux bridge on the host (its own name, so tests and nodes never share one), the
//   bridge holding the podCIDR's first address as every pod's gateway (isGateway), and hairpin
//   mode so that a pod reaches itself through a Service IP; masquerading of traffic from pods to
//   outside the podCIDR is one node-level rule set (pod-masquerade.ts), not the plugin's per-pod
//   ipMasq chains, which cost several iptables runs per pod start and stop;
// - host-local IPAM handing out addresses from the node's spec.podCIDR, its allocations kept in
//   a directory of our own (not the shared /var/lib/cni/networks);
// - portmap for hostPort, with SNAT so that a hostPort reached from the node itself works.
//
// The loopback interface in each pod is set up by containerd's CRI itself (it runs the
// `loopback` plugin from the same bin_dir before the conflist), so it is not listed here.

import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCidr } from './cidr.ts';

export interface PodNetworkOptions {
  /** CNI network name (default 'mizzen'); also names the conflist file. */
  networkName?: string;
  /** Linux bridge name, at most 15 characters (default 'mizzen0'). */
  bridge?: string;
  /** The node's spec.podCIDR, e.g. '10.42.0.0/24'. */
  podCIDR: string;
  /** Where host-local keeps its allocations. */
  ipamDataDir: string;
  /** MTU of the bridge and the pods' interfaces (default: the plugin's, 1500). */
  mtu?: number;
}

export const DEFAULT_BRIDGE = 'mizzen0';
export const DEFAULT_NETWORK = 'mizzen';

export function checkBridgeName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new Error(`invalid bridge name "${name}": 1-15 letters, digits, '.', '_' or '-'`);
}

export function renderCniConflist(o: PodNetworkOptions): object {
  const bridge = o.bridge ?? DEFAULT_BRIDGE;
  checkBridgeName(bridge);
  const { base, prefix } = parseCidr(o.podCIDR);
  const bridgePlugin: Record<string, unknown> = {
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: `${base}/${prefix}` }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: o.ipamDataDir,
    },
  };
  if (o.mtu) bridgePlugin.mtu = o.mtu;
  return {
    cniVersion: '1.0.0',
    name: o.networkName ?? DEFAULT_NETWORK,
    plugins: [bridgePlugin, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
  };
}

/** The conflist's file name in the conf dir (containerd loads the first file, in name order). */
export function conflistFile(networkName = DEFAULT_NETWORK): string {
  return `10-${networkName}.conflist`;
}

/**
 * Writes the conflist atomically (containerd watches the directory and reloads on change) and
 * removes any other conflist there, so the one containerd picks is ours.
 */
export async function writeCniConfig(confDir: string, o: PodNetworkOptions): Promise<string> {
  await mkdir(confDir, { recursive: true });
  await mkdir(o.ipamDataDir, { recursive: true });
  const name = conflistFile(o.networkName);
  const file = join(confDir, name);
  const tmp = join(confDir, `.${name}.tmp`);
  await writeFile(tmp, `${JSON.stringify(renderCniConflist(o), null, 2)}\n`);
  await rename(tmp, file);
  for (const other of await readdir(confDir)) {
    if (other !== name && /\.(conflist|conf|json)$/.test(other)) await rm(join(confDir, other), { force: true });
  }
  return file;
}

/**
 * Removes what the network leaves on the host: the conflist and the bridge (CNI DEL tears down
 * each pod's veth and NAT rules, but the bridge stays until deleted).
 */
export async function removePodNetwork(confDir: string, o: { networkName?: string; bridge?: string }): Promise<void> {
  await rm(join(confDir, conflistFile(o.networkName)), { force: true });
  const bridge = o.bridge ?? DEFAULT_BRIDGE;
  checkBridgeName(bridge);
  await new Promise<void>((resolve) => execFile('ip', ['link', 'del', bridge], () => resolve()));
}
