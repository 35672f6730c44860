// A stand-in for a node's pod network in tests, before real pods exist: a network namespace of the
// test's own with a veth pair, the host end holding the pod range's gateway (as a kubelet's bridge
// would) and the namespace end two "pod" addresses, with HTTP and UDP echo servers inside.
// EndpointSlices may not hold loopback addresses (upstream validation), so this is how a test
// gets endpoints this machine can really route to. Needs root and iproute2; names are unique.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p));

/** Why a pod network cannot be made here, or undefined when it can. */
export function podNetworkUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace for stand-in pods';
  if (!IP) return 'needs iproute2 (the ip command) to create a network namespace for stand-in pods';
  return undefined;
}

export interface PodNetwork {
  /** The namespace's name (unique). */
  name: string;
  /** The pod range, e.g. 10.251.7.0/24, and the host end's address in it (the "bridge"). */
  cidr: string;
  hostIP: string;
  /** Two pod addresses inside the namespace. */
  podIPs: [string, string];
  /** Start the echo servers inside: HTTP answers with the pod's letter (A for podIPs[0], B for podIPs[1]), UDP echoes "<letter>:<message>". */
  startServers(httpPort: number, udpPort: number): Promise<void>;
  close(): Promise<void>;
}

const SERVER_SCRIPT = `
const http = require('node:http'), dgram = require('node:dgram');
const [ips, httpPort, udpPort] = [process.argv[1].split(','), Number(process.argv[2]), Number(process.argv[3])];
let pending = ips.length * 2;
const ready = () => { if (--pending === 0) console.log('ready'); };
ips.forEach((ip, i) => {
  const letter = String.fromCharCode(65 + i);
  http.createServer((req, res) => {
    if (req.url.startsWith('/bulk/')) {
      const n = Number(req.url.slice(6)); const chunk = Buffer.alloc(65536, 120); let left = n;
      res.writeHead(200, { 'content-length': n });
      const pump = () => { while (left > 0) { const c = left >= chunk.length ? chunk : chunk.subarray(0, left); left -= c.length; if (!res.write(c)) return res.once('drain', pump); } res.end(); };
      return pump();
    }
    res.end(letter);
  }).listen(httpPort, ip, ready);
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(Buffer.concat([Buffer.from(letter + ':'), m]), r.port, r.address));
  u.bind(udpPort, ip, ready);
});
`;

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run(IP!, args);
  return stdout;
}

/** A /24 in 10.250.0.0/13 that no route or address on this machine uses yet. */
async function freeSubnet(): Promise<string> {
  const used = (await ip('-4', 'route', 'show', 'table', 'all')) + (await ip('-4', 'addr'));
  for (let i = 0; i < 50; i++) {
    const prefix = `10.${250 + Math.floor(Math.random() * 5)}.${Math.floor(Math.random() * 256)}`;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.25x.y.0/24 subnet for a stand-in pod network');
}

export async function createPodNetwork(): Promise<PodNetwork> {
  const why = podNetworkUnavailable();
  if (why) throw new Error(why);
  const name = `mzcl${randomBytes(4).toString('hex')}`;
  const hostIf = `${name}h`;
  const podIf = `${name}p`;
  const prefix = await freeSubnet();
  const hostIP = `${prefix}.1`;
  const podIPs: [string, string] = [`${prefix}.2`, `${prefix}.3`];
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await ip('netns', 'del', name).catch(() => {});
    await ip('link', 'del', hostIf).catch(() => {});
  };
  try {
    await ip('netns', 'add', name);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf);
    await ip('link', 'set', podIf, 'netns', name);
    await ip('addr', 'add', `${hostIP}/24`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    for (const a of podIPs) await ip('-n', name, 'addr', 'add', `${a}/24`, 'dev', podIf);
    await ip('-n', name, 'link', 'set', podIf, 'up');
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    await close();
    throw e;
  }
  return {
    name,
    cidr: `${prefix}.0/24`,
    hostIP,
    podIPs,
    async startServers(httpPort, udpPort) {
      const child = spawn(IP!, ['netns', 'exec', name, process.execPath, '-e', SERVER_SCRIPT, podIPs.join(','), String(httpPort), String(udpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`stand-in pod servers did not start: ${out}`)), 10_000);
        child.stdout!.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          if (out.includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`stand-in pod servers exited (${code}): ${out}`));
        });
      });
    },
    close,
  };
}
