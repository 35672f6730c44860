// The command table: names, flags and help text. Command bodies live in their own modules and are
// imported only when run, so `mizzen --help` stays fast.

import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_BIND_ADDRESS, DEFAULT_PORT, UP_CLOUD_PROVIDERS } from './options.ts';
import { leaderElectionFlagHelp, leaderElectionFlags } from './leader-election-flags.ts';
import { dnsFlagHelp, dnsFlags } from './dns-flags.ts';
import { HPA_FLAGS, HPA_FLAG_HELP } from '../controllers/podautoscaler/flags.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec;
}

const helpFlag: FlagSpec = { help: { type: 'boolean', short: 'h' } };

const datastoreFlags: FlagSpec = {
  // etcd instead of SQLite: k3s's names, and kube-apiserver's.
  'datastore-endpoint': { type: 'string' },
  'datastore-cafile': { type: 'string' },
  'datastore-certfile': { type: 'string' },
  'datastore-keyfile': { type: 'string' },
  'etcd-servers': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
};

const serveFlags: FlagSpec = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'bind-address': { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  'service-node-port-range': { type: 'string' },
  'token-auth-file': { type: 'string' },
  'anonymous-auth': { type: 'string' },
  'authorization-mode': { type: 'string' },
  'service-account-issuer': { type: 'string' },
  'service-account-signing-key-file': { type: 'string' },
  'service-account-max-token-expiration': { type: 'string' },
  'api-audiences': { type: 'string' },
  'disable-admission-plugins': { type: 'string' },
  'enable-admission-plugins': { type: 'string' },
  'audit-policy-file': { type: 'string' },
  'audit-log-path': { type: 'string' },
  'encryption-provider-config': { type: 'string' },
  'max-requests-inflight': { type: 'string' },
  'max-mutating-requests-inflight': { type: 'string' },
  ...datastoreFlags,
};

const datastoreFlagHelp = `  --datastore-endpoint URL[,URL...]
                          keep the state in etcd (e.g. https://10.0.0.1:2379) instead of
                          DIR/state.db; several API servers may share one etcd (--etcd-servers)
  --datastore-cafile FILE CA of etcd's serving certificates (--etcd-cafile)
  --datastore-certfile FILE, --datastore-keyfile FILE
                          client certificate and key for etcd (--etcd-certfile, --etcd-keyfile)
  --etcd-compaction-interval DURATION
                          how often etcd's history is compacted (default 5m; 0 never)`;

const serveFlagHelp = `  --data-dir DIR          where state.db, pki/ and kubeconfig live (default ~/.mizzen)
  --port PORT             HTTPS port of the API server; 0 picks a free port (default ${DEFAULT_PORT})
  --bind-address ADDR     address to listen on, e.g. 0.0.0.0 for all interfaces (default ${DEFAULT_BIND_ADDRESS})
  --service-cluster-ip-range CIDR
                          IPv4 range for Service ClusterIPs (default 10.43.0.0/16)
  --service-node-port-range A-B
                          ports for NodePort Services (default 30000-32767)
  --token-auth-file FILE  static bearer tokens, upstream's CSV: token,user,uid,"group1,group2"
  --anonymous-auth BOOL   requests without credentials act as system:anonymous (default true)
  --authorization-mode LIST
                          Node,RBAC (default), or AlwaysAllow
  --service-account-issuer URL
                          issuer of ServiceAccount tokens (default https://kubernetes.default.svc.cluster.local)
  --service-account-signing-key-file FILE
                          key that signs ServiceAccount tokens (default DIR/pki/service-account.key, made if missing)
  --service-account-max-token-expiration DURATION
                          longest token the TokenRequest API issues (default: as asked)
  --api-audiences LIST    audiences a token must name to reach the API (default: the issuer)
  --disable-admission-plugins LIST
                          admission plugins to turn off (e.g. ServiceAccount)
  --enable-admission-plugins LIST
                          admission plugins to turn on besides the defaults (all of Mizzen's
                          are on by default; see docs/admission.md)
  --audit-policy-file FILE
                          audit.k8s.io/v1 Policy: which requests are logged at which level
  --audit-log-path FILE   where audit events go, one JSON line each ('-' for stdout)
  --encryption-provider-config FILE
                          EncryptionConfiguration: how Secrets (and other resources) are
                          encrypted at rest (aescbc, aesgcm, secretbox, identity)
  --max-requests-inflight N
                          most read requests served at once, beyond that 429 (default 400; 0 no limit)
  --max-mutating-requests-inflight N
                          most writes served at once, beyond that 429 (default 200; 0 no limit)
${datastoreFlagHelp}`;

export const COMMANDS: CommandSpec[] = [
  {
    name: 'up',
    summary: 'start the whole control plane in the foreground',
    flags: {
      ...helpFlag,
      ...serveFlags,
      'simulated-nodes': { type: 'string' },
      'simulated-node-capacity': { type: 'string' },
      'simulated-nodes-heartbeat-only': { type: 'boolean' },
      'node-monitor-grace-period': { type: 'string' },
      'pod-gc-period': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'no-kubelet': { type: 'boolean' },
      'node-name': { type: 'string' },
      'kubelet-port': { type: 'string' },
      'cgroup-root': { type: 'string' },
      'pod-bridge': { type: 'string' },
      'no-cluster-dns': { type: 'boolean' },
      'no-service-proxy': { type: 'boolean' },
      'no-network-policy': { type: 'boolean' },
      'cloud-provider': { type: 'string' },
      'cloud-config': { type: 'string' },
      'configure-cloud-routes': { type: 'string' },
      'metric-resolution': { type: 'string' },
      ...HPA_FLAGS,
      join: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      ...leaderElectionFlags,
      ...dnsFlags,
    },
    usage: `Usage: mizzen up [flags]

Start the control plane in the foreground: create the certificates on first start, run the API
server (and the controllers), and write DIR/kubeconfig for kubectl. Ctrl-C or SIGTERM stops it
cleanly; a second signal exits at once.

Flags:
${serveFlagHelp}
  --simulated-nodes N     register N simulated nodes sim-0 … sim-<N-1> that run pods bound to them
  --simulated-node-capacity LIST
                          capacity of each simulated node (default cpu=32,memory=256Gi,pods=110)
  --simulated-nodes-heartbeat-only
                          the simulated nodes only heartbeat: pods bound to them stay Pending
                          (scheduler benchmarks, as upstream's scheduler_perf)
  --node-monitor-grace-period DURATION
                          how long a node may miss heartbeats before it is NotReady (default 50s)
  --pod-gc-period DURATION
                          how often the pod garbage collector runs; a deleted node's pods go after
                          twice this (default 20s)
  --cluster-cidr CIDR     pod network range split into per-node podCIDRs (default 10.42.0.0/16)
  --no-kubelet            run no node on this machine (by default, as root, a real node named
                          after the host runs pods in containers; see mizzen kubelet --help)
  --node-name NAME        the local node's name (default: the host name)
  --kubelet-port PORT     the local kubelet's HTTPS port (default 10250; 0 = any free one)
  --cgroup-root PATH      parent cgroup of the local node's pods (default /, so /kubepods/...)
  --pod-bridge NAME       Linux bridge of the local pod network (default mizzen0)
  --no-cluster-dns        no cluster DNS server on the local node (pods still get --cluster-dns)
  --no-service-proxy      no service proxy on the local node (ClusterIPs/NodePorts unprogrammed)
  --no-network-policy     the service proxy does not enforce NetworkPolicies
  --cloud-provider NAME   the cloud controller manager's provider: ${UP_CLOUD_PROVIDERS.slice(0, -1).join(', ')}
                          (local is the default), or none to run no cloud controller manager
  --cloud-config FILE     the provider's configuration (YAML or JSON; see README)
  --configure-cloud-routes BOOL
                          program a route per node podCIDR when the provider has routes (default true)
  --metric-resolution DURATION
                          how often resource metrics are collected from every node (default 15s)
${HPA_FLAG_HELP}
  --join URL              join the control plane of the member at URL (https://host:6443) as
                          one more member: take its CA and etcd (unless --datastore-endpoint)
  --token TOKEN, --token-file FILE
                          the join token (the first member writes it to DATA_DIR/token)
${leaderElectionFlagHelp}
${dnsFlagHelp}
  -h, --help              show this help

Example:
  mizzen up --data-dir /tmp/mizzen --port 7443 --simulated-nodes 3
  export KUBECONFIG=/tmp/mizzen/kubeconfig; kubectl get ns`,
  },
  {
    name: 'apiserver',
    summary: 'run the API server alone',
    flags: {
      ...helpFlag,
      ...serveFlags,
      'tls-cert-file': { type: 'string' },
      'tls-private-key-file': { type: 'string' },
      'client-ca-file': { type: 'string' },
      'metric-resolution': { type: 'string' },
    },
    usage: `Usage: mizzen apiserver [flags]

Run only the API server in the foreground. Without the TLS flags it uses (and creates if needed)
the certificates in DIR/pki.

Flags:
${serveFlagHelp}
  --tls-cert-file FILE        serving certificate, PEM (default DIR/pki/server.crt)
  --tls-private-key-file FILE key of the serving certificate, PEM (default DIR/pki/server.key)
  --client-ca-file FILE       CA that signs client certificates, PEM (default DIR/pki/ca.crt)
  --metric-resolution DURATION
                              how often the built-in metrics pipeline collects resource metrics
                              from every node for metrics.k8s.io (default 15s)
  -h, --help                  show this help`,
  },
  {
    name: 'agent',
    summary: 'join this machine to a cluster as a worker node',
    flags: {
      ...helpFlag,
      server: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'node-name': { type: 'string' },
      'data-dir': { type: 'string' },
      'lb-port': { type: 'string' },
      'simulated-kubelet': { type: 'boolean' },
    },
    usage: `Usage: mizzen agent --server URL[,URL...] --token TOKEN [flags]

Join this machine to a cluster as a worker node. The token (DATA_DIR/token on a control-plane
member) pins the cluster's CA, so the agent checks the server before trusting it, and carries the
secret the server checks; the agent then gets a certificate for system:node:NAME, writes
DIR/kubeconfig (through a load balancer on 127.0.0.1 over every --server) and starts the kubelet
(as mizzen kubelet does: containerd, the pod network, the pods bound to this node). A machine that
cannot run one (not root, packages missing and not installable) gets a simulated kubelet instead.

Flags:
  --server URL[,URL...]   control-plane members, https://host:6443
  --token TOKEN, --token-file FILE
                          the join token
  --node-name NAME        this node's name (default: the host name)
  --data-dir DIR          where pki/ and kubeconfig go (default ~/.mizzen-agent)
  --lb-port PORT          port of the local API server load balancer (default 6444; 0 = any free one)
  --simulated-kubelet     run a simulated kubelet (no containers) even where a real one could run
  -h, --help              show this help`,
  },
  {
    name: 'kubelet',
    summary: 'run a real node (kubelet) on this machine against an API server',
    flags: {
      ...helpFlag,
      kubeconfig: { type: 'string' },
      'node-name': { type: 'string' },
      'data-dir': { type: 'string' },
      'container-runtime-endpoint': { type: 'string' },
      'register-with-taints': { type: 'string' },
      'node-labels': { type: 'string' },
      'cloud-provider': { type: 'string' },
      cleanup: { type: 'boolean' },
      port: { type: 'string' },
      'node-ip': { type: 'string' },
      'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      'max-pods': { type: 'string' },
      'kube-reserved': { type: 'string' },
      'system-reserved': { type: 'string' },
      'tls-cert-file': { type: 'string' },
      'tls-private-key-file': { type: 'string' },
      'cgroup-root': { type: 'string' },
      'pod-bridge': { type: 'string' },
      'node-lease-duration-seconds': { type: 'string' },
      'no-cluster-dns': { type: 'boolean' },
      'no-service-proxy': { type: 'boolean' },
      'no-network-policy': { type: 'boolean' },
      'dns-upstream': { type: 'string' },
      'services-kubeconfig': { type: 'string' },
    },
    usage: `Usage: mizzen kubelet --kubeconfig FILE [flags]

Run a real node on this machine: start containerd (its own, under DIR/containerd) or use an
existing CRI runtime, register the Node with this machine's capacity, keep its Lease and status,
set up the pod network from the node's podCIDR, run the pods bound to it, and serve the kubelet
API on port 10250 (logs, exec, attach, port-forward, /stats/summary, /metrics/resource). Needs
root and containerd, runc, the CNI plugins, iptables and busybox-static (installed with apt-get
when missing). Ctrl-C stops the kubelet; containers keep running and are adopted at next start.
The mizzen command runs it in node's lite mode (no optimizing compiler) with malloc settings for
a small process (MALLOC_ARENA_MAX etc., unless set; \`node bin/mizzen.js kubelet\` runs without).

Flags:
  --kubeconfig FILE       the node's own credentials (system:node:NAME), e.g. the kubeconfig
                          \`mizzen agent\` writes or DATA_DIR/cred/kubelet-NAME.kubeconfig; never the admin's
  --node-name NAME        the Node's name (default: the host name)
  --data-dir DIR          containerd, pod logs, the pod network's state (default
                          /var/lib/mizzen-kubelet as root)
  --container-runtime-endpoint unix:///PATH
                          use this CRI runtime (system containerd, CRI-O) instead of our own
  --register-with-taints LIST
                          taints to register with, KEY[=VALUE]:EFFECT,...
  --node-labels LIST      labels to register with, KEY=VALUE,...
  --cloud-provider external
                          register with the node.cloudprovider.kubernetes.io/uninitialized taint
                          (the cloud controller manager initialises the node)
  --cleanup               on exit, also remove every pod, the pod network and the routes
  --port PORT             the kubelet API's HTTPS port (default 10250)
  --node-ip IP            the node's InternalIP (default: the default route's address)
  --cluster-dns IP[,IP]   the DNS server pods use (the cluster DNS Service's ClusterIP)
  --cluster-domain NAME   the cluster's DNS domain (default cluster.local)
  --cluster-cidr CIDR, --service-cluster-ip-range CIDR
                          the pod and Service ranges: routed nowhere but this machine
  --max-pods N            pods this node takes (default 110)
  --kube-reserved LIST, --system-reserved LIST
                          resources kept back from allocatable, e.g. cpu=100m,memory=256Mi
  --tls-cert-file FILE, --tls-private-key-file FILE
                          the kubelet API's serving certificate (default: asked for with a
                          CertificateSigningRequest, which an admin approves)
  --cgroup-root PATH      parent cgroup of the pods (default /, so /kubepods/...)
  --pod-bridge NAME       Linux bridge of the pod network (default mizzen0)
  --node-lease-duration-seconds N
                          the node Lease's duration, renewed every quarter of it (default 40)
  --dns-upstream LIST     resolvers for names outside the cluster, IP or IP:port, comma-separated
                          (default: the nameservers of /etc/resolv.conf)
  --no-cluster-dns        no cluster DNS server on this node
  --no-service-proxy      no service proxy on this node
  --no-network-policy     the service proxy does not enforce NetworkPolicies
  --services-kubeconfig FILE
                          the identity cluster DNS and the service proxy use (they read Services,
                          EndpointSlices, Pods, Namespaces, NetworkPolicies cluster-wide and write
                          kube-system/kube-dns; default the node's own, which may not be allowed)
  -h, --help              show this help

Example:
  mizzen kubelet --kubeconfig ~/.mizzen-agent/kubeconfig --node-labels tier=web`,
  },
  {
    name: 'migrate',
    summary: 'copy a SQLite data store into etcd',
    flags: { ...helpFlag, 'data-dir': { type: 'string' }, ...datastoreFlags },
    usage: `Usage: mizzen migrate --datastore-endpoint URL[,URL...] [flags]

Copy every object of DIR/state.db into an empty etcd, keeping each object as stored (its uid,
creationTimestamp and everything else); resourceVersions become etcd's revisions. Stop the API
server first (the data store is locked while it runs); afterwards start the API servers with the
same --datastore-endpoint. Clients holding old resourceVersions are told to list again.

Flags:
  --data-dir DIR          the data directory whose state.db is copied (default ~/.mizzen)
${datastoreFlagHelp}
  -h, --help              show this help`,
  },
  {
    name: 'scheduler',
    summary: 'run the scheduler alone against an API server',
    flags: { ...helpFlag, kubeconfig: { type: 'string' }, config: { type: 'string' }, 'leader-elect': { type: 'string' }, 'secure-port': { type: 'string' }, 'bind-address': { type: 'string' }, ...leaderElectionFlags },
    usage: `Usage: mizzen scheduler --kubeconfig FILE [flags]

Run the scheduler in the foreground. It binds pods without a node to nodes, and takes part in
leader election (Lease kube-system/kube-scheduler) so that several can run and one acts.

Flags:
  --kubeconfig FILE       how to reach the API server (default $KUBECONFIG, then ~/.kube/config)
  --config FILE           a KubeSchedulerConfiguration-style YAML file (profiles, plugins, weights)
  --leader-elect BOOL     take part in leader election (default true)
  --secure-port PORT      HTTPS port of /metrics and /healthz (default 10259; 0 = none); /metrics
                          is authorized through the API server (TokenReview, SubjectAccessReview)
  --bind-address ADDR     address of the secure port (default 0.0.0.0)
${leaderElectionFlagHelp}
  -h, --help              show this help`,
  },
  {
    name: 'controller-manager',
    summary: 'run the controller manager alone against an API server',
    // Its flags and their help live with the controllers (src/controllers/manager.ts), which parse them.
    flags: { ...helpFlag },
    usage: 'Usage: mizzen controller-manager --kubeconfig FILE [--controllers a,b] (run `mizzen controller-manager --help` for all flags)',
  },
  {
    name: 'cloud-controller-manager',
    summary: 'run the cloud controllers (nodes, load balancers, routes) against an API server',
    flags: { ...helpFlag },
    usage: 'Usage: mizzen cloud-controller-manager --kubeconfig FILE --cloud-provider NAME [--cloud-config FILE] (run `mizzen cloud-controller-manager --help` for all flags)',
  },
  {
    name: 'simulate',
    summary: 'run simulated nodes against an API server',
    flags: { ...helpFlag },
    usage: 'Usage: mizzen simulate --kubeconfig FILE --nodes N [--prefix NAME] [--capacity LIST] (run `mizzen simulate --help` for all flags)',
  },
  {
    name: 'images',
    summary: "import and list the local node's images",
    flags: { ...helpFlag },
    usage: 'Usage: mizzen images import FILE… | mizzen images ls (run `mizzen images --help` for all flags)',
  },
  {
    name: 'ui-url',
    summary: 'print a one-time login link to the web console',
    flags: { ...helpFlag, 'data-dir': { type: 'string' }, kubeconfig: { type: 'string' } },
    usage: `Usage: mizzen ui-url [flags]

Ask the running API server for a one-time login link to its web console (served under /ui/) and
print it. Opening the link logs the browser in as the user of the kubeconfig (the cluster admin
for DIR/kubeconfig); the link works once, within 10 minutes, and the session it starts lasts 12
hours. The API server's certificate comes from the cluster's own CA (DIR/pki/ca.crt): the browser
asks to trust it unless that CA is imported.

Flags:
  --data-dir DIR          the cluster's data dir, whose kubeconfig is used (default ~/.mizzen)
  --kubeconfig FILE       use this kubeconfig instead (client certificate or token credentials)
  -h, --help              show this help`,
  },
  {
    name: 'version',
    summary: 'print the version',
    flags: { ...helpFlag },
    usage: `Usage: mizzen version

Print the mizzen version.`,
  },
  {
    name: 'help',
    summary: 'show help for a command',
    flags: { ...helpFlag },
    usage: `Usage: mizzen help [COMMAND]

Show the overall usage, or the usage of COMMAND.`,
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: mizzen COMMAND [flags]

Mizzen is a Kubernetes-compatible cluster written in TypeScript.

Commands:
${lines.join('\n')}

Run 'mizzen help COMMAND' or 'mizzen COMMAND --help' for the flags of a command.
Global flags: -h, --help (show this help), --version (print the version).`;
}
