// Cluster IP and node port allocation for Services (upstream's ipallocator / portallocator).
// State lives in memory and is rebuilt from stored Services at startup with load(). With several
// API servers on one etcd, the memory is a view (kept current with observe()) and storage holds
// the truth: useClaims() makes every allocation also claim its value there (see
// src/apiserver/service-claims.ts), which only one server can do.

import { errors, field, StatusError, type FieldError } from '../../machinery/errors.ts';
import type { KObject, StrategyContext } from '../types.ts';
import { formatIPv4, parseIPv4 } from '../../machinery/ipv4.ts';

export interface ServiceAllocatorOptions {
  serviceCIDR?: string;
  nodePortRange?: [number, number];
}

type Allocators = NonNullable<StrategyContext['allocators']>;

/** An allocation failure; the service strategy re-raises it with the object's name and field path. */
export class AllocationError extends StatusError {
  readonly fieldError: FieldError;
  constructor(fe: FieldError, internal = false) {
    const base = internal ? errors.internal(fe.detail) : errors.invalid('Service', '', '', [fe]);
    super(base.code, base.reason, base.message, base.details);
    this.fieldError = fe;
  }
}

/** Where allocations are claimed when several API servers allocate from one range. */
export interface ClaimStore {
  /** True when this server now holds the value, false when another already does. */
  claim(kind: 'ip' | 'port', value: string, owner: string): Promise<boolean>;
  unclaim(kind: 'ip' | 'port', value: string): void;
}

export class ServiceAllocators implements Allocators {
  claim?: (kind: 'ip' | 'port', value: string | number, owner: string) => Promise<boolean>;
  unclaim?: (kind: 'ip' | 'port', value: string | number) => void;
  private readonly cidr: string;
  private readonly base: number; // network address
  private readonly size: number; // addresses in the CIDR
  private readonly ips = new Set<number>(); // offsets from base
  private readonly portMin: number;
  private readonly portMax: number;
  private readonly ports = new Set<number>();
  private ipCursor = 0;
  private portCursor = 0;

  constructor({ serviceCIDR = '10.43.0.0/16', nodePortRange = [30000, 32767] }: ServiceAllocatorOptions = {}) {
    const [addr, bitsText] = serviceCIDR.split('/');
    const bits = Number(bitsText);
    const a = parseIPv4(addr);
    if (a === undefined || !Number.isInteger(bits) || bits < 1 || bits > 30) throw new Error(`invalid service CIDR ${serviceCIDR}`);
    this.size = 2 ** (32 - bits);
    this.base = a - (a % this.size);
    this.cidr = `${formatIPv4(this.base)}/${bits}`;
    [this.portMin, this.portMax] = nodePortRange;
  }

  get serviceCIDR(): string {
    return this.cidr;
  }

  /** The first usable address, kept for the `kubernetes` Service in `default`. */
  get kubernetesServiceIP(): string {
    return formatIPv4(this.base + 1);
  }

  get nodePortRange(): [number, number] {
    return [this.portMin, this.portMax];
  }

  /** Rebuild allocation state from the stored Services. */
  load(services: KObject[]): void {
    this.ips.clear();
    this.ports.clear();
    for (const s of services) {
      const { ips, ports } = this.held(s);
      for (const off of ips) this.ips.add(off);
      for (const p of ports) this.ports.add(p);
    }
  }

  /** The IP offsets and node ports a Service holds. */
  held(s: KObject | undefined): { ips: number[]; ports: number[] } {
    const spec = s?.spec ?? {};
    const ipList: string[] = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    const ips: number[] = [];
    for (const ip of ipList) {
      const off = this.offsetOf(ip);
      if (off !== undefined) ips.push(off);
    }
    const ports: number[] = [];
    for (const p of spec.ports ?? []) if (this.portInRange(p?.nodePort)) ports.push(p.nodePort);
    if (this.portInRange(spec.healthCheckNodePort)) ports.push(spec.healthCheckNodePort);
    return { ips, ports };
  }

  /** A Service changed (through any API server): keep this view in step. */
  observe(before: KObject | undefined, after: KObject | undefined): void {
    const now = this.held(after);
    const was = this.held(before);
    for (const off of was.ips) if (!now.ips.includes(off)) this.ips.delete(off);
    for (const p of was.ports) if (!now.ports.includes(p)) this.ports.delete(p);
    for (const off of now.ips) this.ips.add(off);
    for (const p of now.ports) this.ports.add(p);
  }

  /** The address at an offset of the range. */
  ipAt(offset: number): string {
    return formatIPv4(this.base + offset);
  }

  /**
   * Claim every allocation in `claims` too (several API servers on one storage). A value whose
   * claim another server holds is not marked here: the Service that holds it marks it when it
   * reaches this server's cache, and a claim that is about to go (its Service was just deleted)
   * must not stay marked for ever.
   */
  useClaims(claims: ClaimStore): void {
    this.claim = (kind, value, owner) => claims.claim(kind, String(value), owner);
    this.unclaim = (kind, value) => claims.unclaim(kind, String(value));
  }

  isIPAllocated(ip: string): boolean {
    const off = this.offsetOf(ip);
    return off !== undefined && this.ips.has(off);
  }

  isNodePortAllocated(port: number): boolean {
    return this.ports.has(port);
  }

  /** Usable offsets exclude the network and broadcast addresses. */
  private offsetOf(ip: string): number | undefined {
    const n = parseIPv4(ip);
    if (n === undefined) return undefined;
    const off = n - this.base;
    if (off < 1 || off >= this.size - 1) return undefined;
    return off;
  }

  allocateClusterIP(requested?: string): string {
    if (requested) {
      const off = this.offsetOf(requested);
      if (off === undefined)
        throw new AllocationError(
          field.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is not in the valid range. The range of valid IPs is ${this.cidr}`),
        );
      if (this.ips.has(off)) throw new AllocationError(field.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
      this.ips.add(off);
      return requested;
    }
    // Like upstream, dynamic allocation prefers the upper part of the range, leaving a lower
    // band for static choices; offset 1 is never handed out (kubernetes Service).
    const usable = this.size - 2;
    const band = Math.min(Math.max(16, Math.floor(usable / 16)), 256);
    const order = [...rangeFrom(band + 1, usable, this.ipCursor), ...rangeFrom(2, Math.min(band, usable), 0)];
    for (const off of order) {
      if (!this.ips.has(off)) {
        this.ips.add(off);
        if (off > band) this.ipCursor = off + 1;
        return formatIPv4(this.base + off);
      }
    }
    throw new AllocationError(field.invalid('spec.clusterIPs', [], 'failed to allocate a serviceIP: range is full'), true);
  }

  releaseClusterIP(ip: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined) this.ips.delete(off);
  }

  private portInRange(p: unknown): p is number {
    return typeof p === 'number' && p >= this.portMin && p <= this.portMax;
  }

  allocateNodePort(requested?: number): number {
    if (requested) {
      if (!this.portInRange(requested))
        throw new AllocationError(
          field.invalid('spec.ports[0].nodePort', requested, `provided port is not in the valid range. The range of valid ports is ${this.portMin}-${this.portMax}`),
        );
      if (this.ports.has(requested)) throw new AllocationError(field.invalid('spec.ports[0].nodePort', requested, 'provided port is already allocated'));
      this.ports.add(requested);
      return requested;
    }
    const count = this.portMax - this.portMin + 1;
    const band = Math.min(Math.max(16, Math.floor(count / 32)), 128);
    const order = [...rangeFrom(this.portMin + band, this.portMax, this.portCursor), ...rangeFrom(this.portMin, Math.min(this.portMin + band - 1, this.portMax), 0)];
    for (const p of order) {
      if (!this.ports.has(p)) {
        this.ports.add(p);
        if (p >= this.portMin + band) this.portCursor = p + 1;
        return p;
      }
    }
    throw new AllocationError(field.invalid('spec.ports[0].nodePort', 0, 'failed to allocate a nodePort: range is full'), true);
  }

  releaseNodePort(port: number): void {
    this.ports.delete(port);
  }
}

/** Integers lo..hi, starting at `start` (if inside) and wrapping around. */
function* rangeFrom(lo: number, hi: number, start: number): Generator<number> {
  if (hi < lo) return;
  const s = start >= lo && start <= hi ? start : lo;
  for (let i = s; i <= hi; i++) yield i;
  for (let i = lo; i < s; i++) yield i;
}
