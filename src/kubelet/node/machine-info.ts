// What the machine under a real node is: CPUs, memory, huge pages, the kubelet root dir's
// filesystem, identifiers and addresses, read from /proc, /sys and statfs (upstream gets the same
// from cAdvisor's MachineInfo).

import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import { arch, cpus, hostname, networkInterfaces, release } from 'node:os';
import { isIPv4 } from 'node:net';

export interface FsInfo {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
}

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  /** Huge pages per page size in bytes (`2Mi` → total bytes of that size). */
  hugepages: Record<string, number>;
  /** The filesystem of the kubelet's root dir (ephemeral-storage). */
  rootFs: FsInfo;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  /** Go's GOARCH names: amd64, arm64, ... */
  architecture: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  hostname: string;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Node's process.arch in Go's GOARCH spelling (the node label and nodeInfo use these). */
export function goArch(a: string = arch()): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[a] ?? a;
}

/** /proc/meminfo as bytes by key. */
export function readMeminfo(text = read('/proc/meminfo') ?? ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return out;
}

export function fsInfo(path: string): FsInfo {
  const s = statfsSync(path);
  const capacityBytes = s.blocks * s.bsize;
  const availableBytes = s.bavail * s.bsize;
  return { capacityBytes, availableBytes, usedBytes: (s.blocks - s.bfree) * s.bsize, inodes: s.files, inodesFree: s.ffree };
}

function hugepages(): Record<string, number> {
  const out: Record<string, number> = {};
  let dirs: string[] = [];
  try {
    dirs = readdirSync('/sys/kernel/mm/hugepages');
  } catch {
    return out;
  }
  for (const d of dirs) {
    const m = /^hugepages-(\d+)kB$/.exec(d);
    if (!m) continue;
    const kb = Number(m[1]);
    const n = Number(read(`/sys/kernel/mm/hugepages/${d}/nr_hugepages`)?.trim() ?? 0);
    const name = kb >= 1 << 20 ? `${kb >> 20}Gi` : kb >= 1024 ? `${kb >> 10}Mi` : `${kb}Ki`;
    out[name] = n * kb * 1024;
  }
  return out;
}

function osImage(): string {
  const text = read('/etc/os-release') ?? '';
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? 'Linux';
}

function uuidOf(hex: string): string {
  return /^[0-9a-f]{32}$/.test(hex) ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : hex;
}

export function readMachineInfo(rootDir: string): MachineInfo {
  const machineID = (read('/etc/machine-id') ?? read('/var/lib/dbus/machine-id') ?? '').trim();
  return {
    cpus: cpus().length,
    memoryBytes: readMeminfo().MemTotal ?? 0,
    hugepages: hugepages(),
    rootFs: fsInfo(rootDir),
    kernelVersion: release(),
    osImage: osImage(),
    operatingSystem: process.platform,
    architecture: goArch(),
    machineID,
    // cAdvisor reads the DMI product UUID; machines without one (containers, some VMs) report the machine id's form.
    systemUUID: (read('/sys/class/dmi/id/product_uuid') ?? '').trim().toLowerCase() || uuidOf(machineID),
    bootID: (read('/proc/sys/kernel/random/boot_id') ?? '').trim(),
    hostname: hostname(),
  };
}

/**
 * The node's InternalIP: `nodeIP` when given, else the IPv4 address of the interface the default
 * route uses (as upstream picks the address that reaches out), else the first non-loopback IPv4.
 */
export function nodeInternalIP(nodeIP?: string): string {
  if (nodeIP) return nodeIP;
  const ifaces = networkInterfaces();
  const dflt = defaultRouteInterface();
  const v4 = (name: string) => (ifaces[name] ?? []).find((a) => isIPv4(a.address) && !a.internal)?.address;
  if (dflt && v4(dflt)) return v4(dflt)!;
  for (const name of Object.keys(ifaces)) {
    const a = v4(name);
    if (a) return a;
  }
  return '127.0.0.1';
}

function defaultRouteInterface(): string | undefined {
  const lines = (read('/proc/net/route') ?? '').trim().split('\n').slice(1);
  return lines.map((l) => l.split(/\s+/)).find((f) => f[1] === '00000000' && f[7] === '00000000')?.[0];
}

export function nodeAddresses(nodeName: string, internalIP: string): { type: string; address: string }[] {
  return [
    { type: 'InternalIP', address: internalIP },
    { type: 'Hostname', address: nodeName },
  ];
}
