// Masquerading of traffic from pods to outside the podCIDR, as one node-level rule set made when
// the pod network is configured, instead of the bridge plugin's `ipMasq` (which makes a chain and
// three rules per pod, with about six iptables runs per CNI ADD and as many per DEL: measured as
// the largest share of the CNI plugins' CPU in a burst of pod start-ups, docs/kubelet-node.md).
// The rules match what the plugin made per pod: from the podCIDR, traffic to the podCIDR is left
// alone, traffic to anything but multicast is masqueraded. The chain is named after the node's
// bridge (unique per node on a machine) and outside the service proxy's MZ-* chains.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { checkBridgeName } from './cni-config.ts';
import { parseCidr } from './cidr.ts';

const run = promisify(execFile);

export function masqueradeChain(bridge: string): string {
  checkBridgeName(bridge);
  return `MZPOD-MASQ-${bridge}`;
}

function jumpRule(chain: string, podCIDR: string, bridge: string): string[] {
  return ['POSTROUTING', '-s', podCIDR, '-m', 'comment', '--comment', `mizzen pod masquerade ${bridge}`, '-j', chain];
}

/** The iptables-restore input that (re)creates the chain's rules for the podCIDR. */
export function masqueradeRestore(bridge: string, podCIDR: string): string {
  const chain = masqueradeChain(bridge);
  return ['*nat', `:${chain} - [0:0]`, `-A ${chain} -d ${podCIDR} -j ACCEPT`, `-A ${chain} ! -d 224.0.0.0/4 -j MASQUERADE`, 'COMMIT', ''].join('\n');
}

function canonical(cidr: string): string {
  const c = parseCidr(cidr);
  return `${c.base}/${c.prefix}`;
}

async function iptablesRestore(input: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = execFile('iptables-restore', ['--noflush', '-w', '5'], (e, _out, stderr) => (e ? reject(new Error(`iptables-restore: ${stderr.trim() || e.message}`)) : resolve()));
    p.stdin!.end(input);
  });
}

/** Makes the chain (its rules replaced) and the POSTROUTING jump to it, once. Idempotent. */
export async function ensurePodMasquerade(bridge: string, podCIDR: string): Promise<void> {
  const cidr = canonical(podCIDR);
  const chain = masqueradeChain(bridge);
  await iptablesRestore(masqueradeRestore(bridge, cidr));
  const jump = jumpRule(chain, cidr, bridge);
  try {
    await run('iptables', ['-w', '5', '-t', 'nat', '-C', ...jump]);
  } catch {
    await run('iptables', ['-w', '5', '-t', 'nat', '-A', ...jump]);
  }
}

/** Removes the jump(s) to the chain and the chain itself. Safe to repeat. */
export async function removePodMasquerade(bridge: string): Promise<void> {
  const chain = masqueradeChain(bridge);
  let rules = '';
  try {
    rules = (await run('iptables', ['-w', '5', '-t', 'nat', '-S', 'POSTROUTING'])).stdout;
  } catch {
    return;
  }
  for (const line of rules.split('\n')) {
    if (!line.startsWith('-A POSTROUTING ') || !line.endsWith(` -j ${chain}`)) continue;
    const m = / -s (\S+) /.exec(line);
    if (m) await run('iptables', ['-w', '5', '-t', 'nat', '-D', ...jumpRule(chain, m[1]!, bridge)]).catch(() => {});
  }
  await run('iptables', ['-w', '5', '-t', 'nat', '-F', chain]).catch(() => {});
  await run('iptables', ['-w', '5', '-t', 'nat', '-X', chain]).catch(() => {});
}
