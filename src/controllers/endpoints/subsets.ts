// Building Endpoints subsets: one (address, port) pair per pod and service port, then packed so
// that ports served by exactly the same addresses share a subset (upstream's RepackSubsets).

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** One pod's address on one port (port undefined for a headless service without ports). */
export interface AddressOnPort {
  address: EndpointAddress;
  ready: boolean;
  port?: EndpointPort;
}

const NO_PORT = '\u0000none';

function addressKey(a: EndpointAddress): string {
  return JSON.stringify([a.ip, a.hostname ?? '', a.nodeName ?? '', a.targetRef?.uid ?? '', a.targetRef?.name ?? '', a.targetRef?.namespace ?? '']);
}

function portKey(p: EndpointPort | undefined): string {
  return p ? JSON.stringify([p.name ?? '', p.port, p.protocol, p.appProtocol ?? '']) : NO_PORT;
}

function compareAddress(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return compareIP(a.ip, b.ip);
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** Numeric order for IPv4 addresses, text order otherwise. */
function compareIP(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePort(a: EndpointPort, b: EndpointPort): number {
  const na = a.name ?? '';
  const nb = b.name ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  if (a.port !== b.port) return a.port - b.port;
  return a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0;
}

/** Group ports by the exact set of (address, readiness) behind them; sorted for stable output. */
export function repackSubsets(entries: AddressOnPort[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  const ports = new Map<string, EndpointPort | undefined>();
  // port key -> address key -> ready (ready wins if a pod shows up both ways)
  const byPort = new Map<string, Map<string, boolean>>();
  for (const e of entries) {
    const ak = addressKey(e.address);
    const pk = portKey(e.port);
    addrs.set(ak, e.address);
    ports.set(pk, e.port);
    let m = byPort.get(pk);
    if (!m) byPort.set(pk, (m = new Map()));
    m.set(ak, (m.get(ak) ?? false) || e.ready);
  }
  const groups = new Map<string, { members: Map<string, boolean>; ports: EndpointPort[]; hasNoPort: boolean }>();
  for (const [pk, members] of byPort) {
    const gk = JSON.stringify([...members.entries()].sort());
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { members, ports: [], hasNoPort: false }));
    const p = ports.get(pk);
    if (p) g.ports.push(p);
    else g.hasNoPort = true;
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, r] of g.members) (r ? ready : notReady).push(addrs.get(ak)!);
    const s: EndpointSubset = {};
    if (ready.length) s.addresses = ready.sort(compareAddress);
    if (notReady.length) s.notReadyAddresses = notReady.sort(compareAddress);
    if (g.ports.length) s.ports = g.ports.sort(comparePort);
    out.push(s);
  }
  const first = (s: EndpointSubset) => (s.addresses ?? s.notReadyAddresses ?? [])[0];
  return out.sort((a, b) => {
    const pa = a.ports?.[0];
    const pb = b.ports?.[0];
    if (pa && pb && comparePort(pa, pb) !== 0) return comparePort(pa, pb);
    return compareAddress(first(a), first(b));
  });
}
