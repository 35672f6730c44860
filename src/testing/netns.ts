// Several "hosts" on one machine for multi-host tests: one network namespace per host, each with
// an eth0 on a bridge that lives in a hub namespace of its own, and an address in 198.18.0.0/24
// (RFC 2544's benchmarking range, which no real network routes). Nothing is added to the
// machine's own namespace: the names are unique per test run, and destroy() removes it all.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestHost {
  /** The network namespace. */
  netns: string;
  ip: string;
  /** A command line that runs argv inside this host's namespace. */
  exec(argv: string[]): string[];
}

export interface TestNetwork {
  hosts: TestHost[];
  destroy(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be made here, or undefined. */
export function netnsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'needs the ip command (iproute2)';
  const probe = `mzprobe${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create network namespaces: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export function createTestNetwork(count: number): TestNetwork {
  const id = `mz${randomBytes(3).toString('hex')}`;
  const hub = `${id}-hub`;
  const created: string[] = [];
  const destroy = () => {
    for (const ns of created.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    created.length = 0;
  };
  try {
    ip(['netns', 'add', hub]);
    created.push(hub);
    ip(['-n', hub, 'link', 'set', 'lo', 'up']);
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    const hosts: TestHost[] = [];
    for (let i = 0; i < count; i++) {
      const ns = `${id}-h${i}`;
      ip(['netns', 'add', ns]);
      created.push(ns);
      // Created inside the host's namespace (and its peer moved to the hub's), so no interface
      // ever appears in the machine's own namespace.
      ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', hub]);
      ip(['-n', hub, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      const addr = `198.18.0.${i + 1}`;
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      hosts.push({ netns: ns, ip: addr, exec: (argv) => ['ip', 'netns', 'exec', ns, ...argv] });
    }
    return { hosts, destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}
