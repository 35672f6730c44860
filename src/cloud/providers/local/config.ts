// The local provider's cloud-config (all fields optional):
//
//   loadBalancer:
//     ipRange: 127.0.100.0/24     # one ingress IP per Service from this range (default); Linux
//                                 # answers all of 127.0.0.0/8 on lo, so nothing needs adding
//     address: 192.168.1.10       # or: every Service on this one address of a host interface
//                                 # (then two Services cannot use the same port)
//     udpIdleTimeoutSeconds: 60   # a UDP client's session ends after this long without traffic
//     forwardTo: endpoints        # endpoints: the Service's ready endpoints (pod IPs on this
//                                 # machine's bridge); nodePorts: the Service's NodePort on
//                                 # 127.0.0.1, which the local node's service proxy serves
//                                 # (ports without a NodePort still go to the endpoints)
//   instances:
//     nodeNames: [my-node]        # more names this machine's nodes go by (default: the host name)
//     instanceType: local         # node.kubernetes.io/instance-type of local nodes
//     zone: ""                    # topology.kubernetes.io/zone (none by default)
//     region: ""                  # topology.kubernetes.io/region (none by default)

import { ConfigReader, type CloudConfig } from '../../cloud-config.ts';
import { parseCIDR } from '../../cidr.ts';

export const DEFAULT_LB_IP_RANGE = '127.0.100.0/24';

export const FORWARD_TO = ['endpoints', 'nodePorts'] as const;

export interface LocalConfig {
  ipRange?: string;
  address?: string;
  udpIdleTimeoutMs: number;
  forwardTo: (typeof FORWARD_TO)[number];
  nodeNames: string[];
  instanceType: string;
  zone?: string;
  region?: string;
}

export function parseLocalConfig(config: CloudConfig): LocalConfig {
  const r = new ConfigReader('local', config);
  const lb = r.section('loadBalancer');
  const address = lb.ipv4('address');
  let ipRange = lb.cidr('ipRange');
  if (address && ipRange) lb.fail('address', 'set either address or ipRange, not both');
  if (!address) ipRange ??= DEFAULT_LB_IP_RANGE;
  if (ipRange && parseCIDR(ipRange)!.size < 1) lb.fail('ipRange', 'is empty');
  const udpIdleTimeoutMs = lb.integer('udpIdleTimeoutSeconds', { default: 60, min: 1, max: 86_400 }) * 1000;
  const forwardTo = lb.oneOf('forwardTo', FORWARD_TO, 'endpoints');
  lb.done();
  const inst = r.section('instances');
  const out: LocalConfig = {
    ipRange,
    address,
    udpIdleTimeoutMs,
    forwardTo,
    nodeNames: inst.strings('nodeNames'),
    instanceType: inst.string('instanceType', { default: 'local' })!,
    zone: inst.string('zone'),
    region: inst.string('region'),
  };
  inst.done();
  r.done();
  return out;
}
