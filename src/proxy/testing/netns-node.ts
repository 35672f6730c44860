// A node made of network namespaces, for the proxy's real-kernel tests and its benchmark. Nothing
// is added to the machine's own namespace; every name starts with `pxy` and a random id.
//
//   <id>-node   the "node": bridge pxybr0 (gateway of the pod subnet), unreachable routes for the
//               cluster and service CIDRs (as the kubelet adds), ip_forward on, and pxyext0 to an
//               outside client; the proxy's iptables commands run in here
//   <id>-pN     "pods": eth0 on the bridge (hairpin on), default route via the bridge, optionally a
//               busybox httpd answering `/cgi-bin/who` with "<pod name> <client address>"
//   <id>-ext    a client outside the node (198.18.7.2), routed to the node's 198.18.7.1

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_CLUSTER_CIDR = '10.42.0.0/16';
export const TEST_SERVICE_CIDR = '10.43.0.0/16';
export const BRIDGE = 'pxybr0';
export const BRIDGE_IP = '10.42.0.1';
export const NODE_EXT_IP = '198.18.7.1';
export const EXT_IP = '198.18.7.2';

export interface NetnsPod {
  name: string;
  netns: string;
  ip: string;
}

export interface GetResult {
  ok: boolean;
  /** The connection was refused (curl exit 7), as opposed to timing out (28). */
  refused: boolean;
  timedOut: boolean;
  body: string;
  ms: number;
}

export interface NetnsNode {
  id: string;
  netns: string;
  ext: string;
  pods: NetnsPod[];
  /** Start `busybox httpd` on `port` in a pod. */
  serve(pod: NetnsPod, port: number): void;
  /** GET a URL from inside a namespace with curl: the body, or the error text; `refused` for a refused connection. */
  get(netns: string, url: string, timeoutS?: number): Promise<GetResult>;
  run(netns: string, argv: string[]): string;
  destroy(): void;
}

export function netnsSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables)';
  for (const cmd of [['ip', '-V'], ['iptables-restore', '--version'], ['busybox', 'true'], ['curl', '--version']]) {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `needs ${cmd[0]}`;
  }
  return undefined;
}

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createNetnsNode(podCount: number, opts: { withExternal?: boolean } = {}): NetnsNode {
  const id = `pxy${randomBytes(3).toString('hex')}`;
  const node = `${id}-node`;
  const ext = `${id}-ext`;
  const created: string[] = [];
  const servers: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  const destroy = () => {
    for (const s of servers) s.kill('SIGKILL');
    servers.length = 0;
    for (const ns of created.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    created.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  const inNode = (args: string[]) => sh(['ip', '-n', node, ...args]);
  const exec = (ns: string, argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
  try {
    sh(['ip', 'netns', 'add', node]);
    created.push(node);
    inNode(['link', 'set', 'lo', 'up']);
    inNode(['link', 'add', BRIDGE, 'type', 'bridge']);
    inNode(['addr', 'add', `${BRIDGE_IP}/24`, 'dev', BRIDGE]);
    inNode(['link', 'set', BRIDGE, 'up']);
    inNode(['route', 'add', 'unreachable', TEST_CLUSTER_CIDR]);
    inNode(['route', 'add', 'unreachable', TEST_SERVICE_CIDR]);
    exec(node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const pods: NetnsPod[] = [];
    for (let i = 0; i < podCount; i++) {
      const ns = `${id}-p${i}`;
      sh(['ip', 'netns', 'add', ns]);
      created.push(ns);
      const ip = `10.42.0.${10 + i}`;
      const host = `pxyv${i}`;
      sh(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', host, 'netns', node]);
      inNode(['link', 'set', host, 'master', BRIDGE, 'up']);
      inNode(['link', 'set', host, 'type', 'bridge_slave', 'hairpin', 'on']);
      sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', BRIDGE_IP]);
      pods.push({ name: `pod${i}`, netns: ns, ip });
    }
    if (opts.withExternal !== false) {
      sh(['ip', 'netns', 'add', ext]);
      created.push(ext);
      sh(['ip', '-n', ext, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'pxyext0', 'netns', node]);
      inNode(['addr', 'add', `${NODE_EXT_IP}/24`, 'dev', 'pxyext0']);
      inNode(['link', 'set', 'pxyext0', 'up']);
      sh(['ip', '-n', ext, 'addr', 'add', `${EXT_IP}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', ext, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', ext, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ext, 'route', 'add', 'default', 'via', NODE_EXT_IP]);
    }
    return {
      id,
      netns: node,
      ext,
      pods,
      serve(pod, port) {
        const root = join(dir, `${pod.name}-${port}`);
        mkdirSync(join(root, 'cgi-bin'), { recursive: true });
        writeFileSync(join(root, 'index.html'), `${pod.name}\n`);
        const cgi = join(root, 'cgi-bin', 'who');
        writeFileSync(cgi, `#!/bin/sh\necho "Content-Type: text/plain"\necho\na=\${REMOTE_ADDR#[::ffff:}\necho "${pod.name} \${a%]}"\n`);
        chmodSync(cgi, 0o755);
        const child = spawn('ip', ['netns', 'exec', pod.netns, 'busybox', 'httpd', '-f', '-p', String(port), '-h', root], { stdio: 'ignore' });
        servers.push(child);
      },
      get(ns, url, timeoutS = 2) {
        const t0 = performance.now();
        return new Promise((resolve) => {
          // (busybox wget crashes on this machine; curl is there anyway)
          const child = spawn('ip', ['netns', 'exec', ns, 'curl', '-sS', '-v', '--max-time', String(timeoutS), url], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.on('data', (b) => (out += b));
          child.stderr.on('data', (b) => (err += b));
          child.on('close', (code) => {
            // -v tells why a connect failed ("Connection refused", "No route to host").
            const why = /connect to .* failed: (.*)/.exec(err)?.[1] ?? err.trim().split('\n').pop() ?? '';
            resolve({ ok: code === 0, refused: /Connection refused/.test(why), timedOut: code === 28, body: code === 0 ? out.trim() : why.trim(), ms: performance.now() - t0 });
          });
        });
      },
      run: exec,
      destroy,
    };
  } catch (e) {
    destroy();
    throw e;
  }
}
