// The API server: storage, watch caches, the generic registry for every kind, and the HTTPS front door.

import https from 'node:https';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import type { KObject, ResourceDef, StrategyContext } from '../api/types.ts';
import { ResourceRegistry, keyPrefix } from '../api/registry.ts';
import { errors, StatusError } from '../machinery/errors.ts';
import type { KeyValue, Store } from '../storage/store.ts';
import { openDatastore, type DatastoreOptions } from '../storage/open.ts';
import { timedStore } from '../storage/timed-store.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { ServiceAllocators } from '../api/core/service-allocator.ts';
import { systemPriorityClasses } from '../api/scheduling/index.ts';
import { patchSchemaFor } from '../api/schema.ts';
import { CachedObject, decodeKeyValue } from './registry/cached-object.ts';
import { ResourceStore } from './registry/resource-store.ts';
import { cacheView } from './registry/cache-view.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import { sendJSON, sendStatusError } from './http-util.ts';
import { handleResource, type HandlerContext } from './resource-handler.ts';
import { builtinAdmission, immortalNamespaces } from './admission.ts';
import { mutatingWebhooks, validatingWebhooks } from './admission/webhooks.ts';
import { validatingPolicies } from './admission/validating-policy.ts';
import { podSubresourcePost } from './pod-subresources.ts';
import { validateFields } from './field-validation.ts';
import { serveDiscovery, serveOpenAPI } from './discovery-routes.ts';
import { Authenticator, type UserInfo } from './authn.ts';
import { AuthorizerChain, type AuthorizationMode } from './authz.ts';
import { TokenFile } from './authn/token-file.ts';
import { ensureServiceAccountKey, signingKeyFromPem, publicJwk, type SigningKey } from './authn/service-account-keys.ts';
import { DEFAULT_ISSUER, ServiceAccountAuthenticator, ServiceAccountTokenIssuer } from './authn/service-account-token.ts';
import { impersonate, wantsImpersonation } from './authn/impersonation.ts';
import { ANONYMOUS } from './authn/user.ts';
import { RbacAuthorizer } from './authz/rbac.ts';
import { NodeAuthorizer } from './authz/node.ts';
import { NodeGraph } from './authz/node-graph.ts';
import { nodeRules } from './authz/bootstrap-policy.ts';
import { reconcileBootstrapPolicy } from './authz/reconcile.ts';
import { setRequestUser } from './request-user.ts';
import { handleReview } from './reviews.ts';
import { tokenRequestPost } from './token-request.ts';
import { readFileSync } from 'node:fs';
import { versionInfo } from './version.ts';
import { countRequest, metricsText } from './metrics.ts';
import type { ThreadPortClient } from '../metrics/thread-port.ts';
import { serveResourceMetrics } from './resource-metrics.ts';
import { collectProcessMetrics, PROMETHEUS_CONTENT_TYPE, setStorageObjectsSource } from '../metrics/prometheus.ts';
import type { Duplex } from 'node:stream';
import { writeRawResponse } from '../machinery/http-upgrade.ts';
import type { KubeletClientConfig } from './kubelet-client.ts';
import { podStreamKind, serveNodeProxy, serveNodeProxyUpgrade, servePodLog, servePodStreamUpgrade, type PodStreamDeps } from './pod-streams.ts';
import { CustomResourceManager } from '../apiextensions/manager.ts';
import { handleCustomResource } from '../apiextensions/handler.ts';
import { healthChecker, isHealthPath } from './health.ts';
import { enableServiceClaims } from './service-claims.ts';
import { bootstrapFlowControl } from './group-bootstrap.ts';
import { Aggregator } from './aggregator/aggregator.ts';
import { FlowControlHeaders } from './flowcontrol-headers.ts';
import { loadEncryptionConfig } from './encryption-config.ts';
import { AuditLog, auditAnnotations } from './audit.ts';
import { isLongRunning, isMutating, MaxInFlight } from './max-in-flight.ts';
import { WriteTurns } from './write-turns.ts';
import { EncryptedStore } from '../storage/encryption/encrypted-store.ts';
import { UI_HEADER, WebConsole } from './web-console/index.ts';
import { acceptPortStreams } from '../client/port-link.ts';
import type { MessagePort } from 'node:worker_threads';

export interface ApiServerOptions {
  /** Holds state.db (the SQLite store, unless `datastore` names etcd) and pki/. */
  dataDir: string;
  /** etcd endpoints and TLS files; without endpoints the store is SQLite in dataDir. */
  datastore?: DatastoreOptions;
  /** 0 = pick a free port. */
  port: number;
  bindAddress: string;
  /** PEM strings: serving cert/key, CA for client certs. */
  tls: { cert: string; key: string; clientCA: string };
  serviceCIDR?: string;
  /** `--service-node-port-range` (default 30000-32767). */
  nodePortRange?: [number, number];
  log?: (msg: string) => void;
  /** Use this store instead of opening one from dataDir / datastore (tests, benchmarks). */
  store?: Store;
  /**
   * A fixed number of events each resource's watch cache keeps for watches and continue tokens to
   * resume from (tests); by default the window is bounded by time and memory (see WatchCacheOptions).
   */
  watchCacheWindow?: number;
  /**
   * Also serve plain HTTP on this Unix socket path (mode 0600), for in-process components:
   * requests on it act as the admin user. See "Private Unix socket" in docs/design.md.
   */
  unixSocket?: string;
  /**
   * Called on every metrics.k8s.io request (after authorization): `mizzen apiserver` starts its
   * resource metrics pipeline on the first one (src/cli/apiserver.ts). Must be cheap after that.
   */
  onResourceMetricsRequest?: () => void;
  /**
   * How to reach kubelets for pods/log, exec, attach, portforward and nodes/proxy: the API server's
   * client certificate and the CA kubelet serving certificates are checked against.
   */
  kubeletClient?: KubeletClientConfig;
  /**
   * Routes answered before authentication (the join endpoints of src/join/bootstrap-routes.ts):
   * resolves true when it answered the request.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
  /** Authentication, authorization and the admission plugins that depend on them. */
  auth?: ApiServerAuthOptions;
}

/** A components thread the server asks for its Prometheus metrics and metrics.k8s.io answers. */
export type AttachedThread = ThreadPortClient;

export interface ApiServerAuthOptions {
  /** --token-auth-file: upstream's CSV of static bearer tokens. */
  tokenAuthFile?: string;
  /** --anonymous-auth (default true). */
  anonymous?: boolean;
  /** --authorization-mode (default Node,RBAC). */
  authorizationModes?: AuthorizationMode[];
  /** --service-account-issuer (default https://kubernetes.default.svc.cluster.local). */
  serviceAccountIssuer?: string;
  /** --service-account-signing-key-file (default DATA_DIR/pki/service-account.key, made when missing). */
  serviceAccountKeyFile?: string;
  /** --service-account-max-token-expiration in seconds (default none). */
  serviceAccountMaxTokenExpirationSeconds?: number;
  /** --api-audiences (default: the issuer). */
  apiAudiences?: string[];
  /** --disable-admission-plugins, e.g. ['ServiceAccount'] for tests that run no controller manager. */
  disableAdmissionPlugins?: string[];
  /** --enable-admission-plugins (added to the defaults). */
  enableAdmissionPlugins?: string[];
  /** --audit-policy-file and --audit-log-path ('-' is stdout): the audit log, when both are set. */
  auditPolicyFile?: string;
  auditLogPath?: string;
  /** --encryption-provider-config: an EncryptionConfiguration for data at rest. */
  encryptionProviderConfig?: string;
  /** --max-requests-inflight / --max-mutating-requests-inflight (defaults 400 / 200; 0 = no limit). */
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  /** How long pod creation waits for a missing default ServiceAccount (default 1.5 s, as upstream). */
  defaultServiceAccountWaitMs?: number;
}

export interface RunningApiServer {
  url: string;
  port: number;
  /** The Unix socket path when `unixSocket` was given. */
  socketPath?: string;
  registry: ResourceRegistry;
  /** Issues ServiceAccount tokens with the server's key (tests; the token controller uses the key file). */
  tokens: ServiceAccountTokenIssuer;
  /** What CustomResourceDefinitions serve (e.g. `schemaFor(group, version, kind)` for server-side apply). */
  customResources: CustomResourceManager;
  /** The generic store of a resource, for in-process components and tests. */
  resource(group: string, plural: string): ResourceStore;
  /**
   * A components worker of this process: /metrics includes its metrics, and metrics.k8s.io is
   * answered by the resource metrics pipeline when it runs there.
   */
  attachThread(t: AttachedThread): void;
  /**
   * With a private socket: serve what a thread of this process sends over `port` as connections
   * to that socket (same handler, same identity rules), batched per event-loop turn (see
   * src/client/port-link.ts). The thread connects with a PortConnector.
   */
  acceptPort?(port: MessagePort): void;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const log = opts.log ?? (() => {});
  mkdirSync(opts.dataDir, { recursive: true });
  const registry = new ResourceRegistry();
  // Encryption at rest wraps the (timed) storage: everything above it sees plain values.
  const encryption = opts.auth?.encryptionProviderConfig ? loadEncryptionConfig(opts.auth.encryptionProviderConfig, registry.resources) : undefined;
  const rawStore: Store = timedStore(opts.store ?? (await openDatastore(opts.dataDir, opts.datastore, log)), storageTypeOf(registry));
  const store: Store = encryption ? new EncryptedStore(rawStore, (k) => encryption.chainFor(k)) : rawStore;
  const caches = new Map<ResourceDef, WatchCache<CachedObject>>();
  await Promise.all(
    registry.resources.filter((def) => !def.virtual).map(async (def) => {
      // A resource stored as another one's objects has its own cache of them, converted.
      const conv = def.storedAs;
      const decode = conv ? (kv: KeyValue) => CachedObject.converted(decodeKeyValue(kv), conv.fromStored) : decodeKeyValue;
      const cache = new WatchCache<CachedObject>(store, keyPrefix(def), decode, { windowSize: opts.watchCacheWindow });
      try {
        await cache.start();
      } catch (e) {
        await store.close().catch(() => undefined);
        throw e;
      }
      caches.set(def, cache);
    }),
  );

  const stores = new Map<ResourceDef, ResourceStore>();
  const byGroupResource = new Map<string, ResourceStore>();
  const lookup = (group: string, plural: string) => byGroupResource.get(`${group}/${plural}`);
  const allocators = new ServiceAllocators({ serviceCIDR: opts.serviceCIDR, nodePortRange: opts.nodePortRange });
  const ctx: StrategyContext = {
    allocators,
    get: (plural, group, ns, name) => lookup(group, plural)?.tryGet(ns, name)?.obj,
  };
  const authOpts = opts.auth ?? {};
  const rbacObjects = {
    clusterRole: (name: string) => lookup('rbac.authorization.k8s.io', 'clusterroles')?.tryGet(undefined, name)?.obj,
    role: (ns: string, name: string) => lookup('rbac.authorization.k8s.io', 'roles')?.tryGet(ns, name)?.obj,
    clusterRoleBindings: () => {
      const rs = lookup('rbac.authorization.k8s.io', 'clusterrolebindings')!;
      return rs.cache.list(rs.listPrefix()).items.map((c) => c.obj);
    },
    roleBindings: (ns: string) => {
      const rs = lookup('rbac.authorization.k8s.io', 'rolebindings')!;
      return rs.cache.list(rs.listPrefix(ns)).items.map((c) => c.obj);
    },
    onChange: (cb: () => void) => {
      for (const def of registry.resources) {
        if (def.group !== 'rbac.authorization.k8s.io') continue;
        const c = caches.get(def)!;
        c.watch(c.revision, keyPrefix(def), () => cb());
      }
    },
  };
  const rbac = new RbacAuthorizer(rbacObjects);
  const graph = new NodeGraph();
  const nodeAuthz = new NodeAuthorizer(
    graph,
    {
      pod: (ns, name) => lookup('', 'pods')?.tryGet(ns, name)?.obj,
      pvc: (ns, name) => lookup('', 'persistentvolumeclaims')?.tryGet(ns, name)?.obj,
    },
    nodeRules(),
  );
  const authz = new AuthorizerChain(authOpts.authorizationModes ?? ['Node', 'RBAC'], rbac, nodeAuthz);
  const authorizeFn = (a: import('./authz/attributes.ts').Attributes) => authz.authorize(a);
  const webhookServices = {
    service: (ns: string, name: string) => lookup('', 'services')?.tryGet(ns, name)?.obj,
    endpoints: (ns: string, name: string) => lookup('', 'endpoints')?.tryGet(ns, name)?.obj,
  };
  const admit = builtinAdmission({
    lookup,
    authorize: authz.alwaysAllow ? undefined : authorizeFn,
    rbac,
    disabled: authOpts.disableAdmissionPlugins,
    enabled: authOpts.enableAdmissionPlugins,
    dynamic: {
      MutatingAdmissionWebhook: mutatingWebhooks({ lookup, services: webhookServices }),
      ValidatingAdmissionPolicy: validatingPolicies({
        lookup,
        byKind: (apiVersion, kind) => {
          const slash = apiVersion.indexOf('/');
          const [group, version] = slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
          const def = registry.resources.find((d) => d.group === group && d.version === version && d.kind === kind && !d.virtual);
          return def ? stores.get(def) : undefined;
        },
      }),
      ValidatingAdmissionWebhook: validatingWebhooks({ lookup, services: webhookServices }),
    },
    defaultServiceAccountWaitMs: authOpts.defaultServiceAccountWaitMs,
  });
  for (const def of registry.resources) {
    if (def.virtual) continue;
    const rs = new ResourceStore(def, store, cacheView(caches.get(def)!, store.shared === true), ctx, admit);
    stores.set(def, rs);
    // Several versions of one resource (autoscaling/v1 and v2): lookups get the stored version's.
    const grKey = `${def.group}/${def.plural}`;
    if (!def.storedAs || !byGroupResource.has(grKey)) byGroupResource.set(grKey, rs);
  }
  const services = lookup('', 'services')!;
  allocators.load(services.cache.list(services.listPrefix()).items.map((c) => c.obj));
  // Other API servers allocate from the same ranges: claim allocations in storage too.
  const servicesCache = caches.get(services.def)!;
  const claims = store.shared
    ? enableServiceClaims(
        store,
        allocators,
        {
          list: () => servicesCache.list().items.map((c) => c.obj),
          watch: (cb) => servicesCache.watch(servicesCache.revision, servicesCache.prefix, (ev) => cb(ev.prevObject?.obj, ev.type === 'DELETED' ? undefined : ev.object.obj)),
          sync: () => servicesCache.sync().then(() => undefined),
        },
        log,
      )
    : undefined;

  await bootstrap(lookup, allocators.kubernetesServiceIP, opts);
  await reconcileBootstrapPolicy({
    clusterroles: lookup('rbac.authorization.k8s.io', 'clusterroles')!,
    clusterrolebindings: lookup('rbac.authorization.k8s.io', 'clusterrolebindings')!,
    roles: lookup('rbac.authorization.k8s.io', 'roles')!,
    rolebindings: lookup('rbac.authorization.k8s.io', 'rolebindings')!,
  }, log);
  // The node authorizer's graph follows every pod.
  {
    const podsDef = registry.lookup('', 'v1', 'pods')!;
    const pc = caches.get(podsDef)!;
    pc.watch(0, keyPrefix(podsDef), (ev) => graph.podChanged(ev.key, ev.type === 'DELETED' ? undefined : ev.object.obj));
  }

  // ServiceAccount tokens: the signing key, the issuer, and the authenticator that checks them.
  let signingKey: SigningKey;
  if (authOpts.serviceAccountKeyFile) signingKey = signingKeyFromPem(readFileSync(authOpts.serviceAccountKeyFile, 'utf8'));
  else {
    const pkiDir = path.join(opts.dataDir, 'pki');
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    signingKey = await ensureServiceAccountKey(pkiDir);
  }
  const issuerURL = authOpts.serviceAccountIssuer ?? DEFAULT_ISSUER;
  const apiAudiences = authOpts.apiAudiences?.length ? authOpts.apiAudiences : [issuerURL];
  const issuer = new ServiceAccountTokenIssuer(signingKey, issuerURL);
  const saAuthn = new ServiceAccountAuthenticator({
    keys: [signingKey],
    issuers: [issuerURL],
    apiAudiences,
    getter: {
      serviceAccount: (ns, name) => lookup('', 'serviceaccounts')?.tryGet(ns, name)?.obj,
      pod: (ns, name) => lookup('', 'pods')?.tryGet(ns, name)?.obj,
      secret: (ns, name) => lookup('', 'secrets')?.tryGet(ns, name)?.obj,
      node: (name) => lookup('', 'nodes')?.tryGet(undefined, name)?.obj,
    },
  });
  const tokenFile = authOpts.tokenAuthFile ? TokenFile.load(authOpts.tokenAuthFile) : undefined;
  for (const w of tokenFile?.warnings ?? []) log(w);
  const authn = new Authenticator({ tokenFile, serviceAccounts: saAuthn, anonymous: authOpts.anonymous, log });
  const reviewDeps = { authn, authz, apiAudiences };
  const oidc = oidcDocuments(issuerURL, signingKey);

  const podPost = podSubresourcePost({ pdbs: lookup('policy', 'poddisruptionbudgets') });
  const tokenPost = tokenRequestPost({ issuer, apiAudiences, maxExpirationSeconds: authOpts.serviceAccountMaxTokenExpirationSeconds, lookup });
  await bootstrapFlowControl(lookup);
  // Set once the aggregator runs: CRD changes then update the Local APIServices.
  let syncLocalAPIServices: (() => void) | undefined;
  const customResources = new CustomResourceManager({
    store,
    ctx,
    admit,
    services: {
      service: (ns, name) => lookup('', 'services')?.tryGet(ns, name)?.obj,
      endpoints: (ns, name) => lookup('', 'endpoints')?.tryGet(ns, name)?.obj,
    },
    crds: lookup('apiextensions.k8s.io', 'customresourcedefinitions')!,
    builtins: registry.resources,
    log,
    onGroupVersionsChange: () => syncLocalAPIServices?.(),
  });
  await customResources.start();

  // APIServices: Local ones for what this server serves (built-in groups and those of CRDs, which
  // follow the CRDs), proxying and discovery for the others.
  const aggregator = new Aggregator({ lookup, log, pkiDir: path.join(opts.dataDir, 'pki'), clientCA: opts.tls.clientCA });
  const localGroupVersions = () => [...registry.groupVersions, ...customResources.groupVersions().map((gv) => ({ ...gv, custom: true }))];
  await aggregator.start(localGroupVersions());
  // One sync at a time; changes while one runs are picked up by one more.
  let localSync: Promise<void> | undefined;
  let localSyncAgain = false;
  syncLocalAPIServices = () => {
    if (localSync) {
      localSyncAgain = true;
      return;
    }
    localSync = (async () => {
      do {
        localSyncAgain = false;
        await aggregator.syncLocal(localGroupVersions()).catch((e) => log(`aggregator: local APIServices: ${(e as Error)?.message ?? e}`));
      } while (localSyncAgain);
      localSync = undefined;
    })();
  };
  const flowControl = new FlowControlHeaders(lookup);
  const audit = authOpts.auditPolicyFile && authOpts.auditLogPath ? AuditLog.load({ policyFile: authOpts.auditPolicyFile, logPath: authOpts.auditLogPath }) : undefined;
  const inFlight =
    authOpts.maxRequestsInflight === 0 && authOpts.maxMutatingRequestsInflight === 0
      ? undefined
      : new MaxInFlight(authOpts.maxRequestsInflight ?? 400, authOpts.maxMutatingRequestsInflight ?? 200);

  const writeTurns = new WriteTurns();
  const health = healthChecker(store);
  const hc: HandlerContext = {
    stores,
    validateFields,
    patchSchemaFor,
    subresourcePost: async (info, store, body, res, dryRun) => (await podPost(info, store, body, res, dryRun)) || tokenPost(info, store, body, res, dryRun),
    authorize: authz.alwaysAllow ? undefined : authorizeFn,
    writeTurn: () => writeTurns.wait(),
  };

  const streams: PodStreamDeps = { pods: lookup('', 'pods')!, nodes: lookup('', 'nodes')!, kubelet: opts.kubeletClient };
  const webConsole = new WebConsole({ dataDir: opts.dataDir, log });

  /** A request refused for its credentials: audited (upstream's failed-authentication audit), then answered. */
  const authFailed = (req: IncomingMessage, res: ServerResponse | undefined, e: unknown): void => {
    if (audit && e instanceof StatusError && e.code === 401) {
      const raw = req.url ?? '/';
      const qi = raw.indexOf('?');
      audit.failedAuthentication(req, res, parseRequestInfo(req.method ?? 'GET', qi >= 0 ? raw.slice(0, qi) : raw, new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '')));
    }
    if (res) fail(res, e, log);
  };

  const server = https.createServer(
    {
      cert: opts.tls.cert,
      key: opts.tls.key,
      ca: opts.tls.clientCA,
      requestCert: true,
      rejectUnauthorized: false,
      keepAlive: true,
      noDelay: true,
    },
    (req, res) => {
      // Known credentials are answered synchronously: no extra turn of the event loop per request.
      let user: UserInfo | Promise<UserInfo>;
      try {
        user = authn.tls(req);
      } catch (e) {
        return authFailed(req, res, e);
      }
      if (user instanceof Promise) user.then((u) => handle(req, res, u), (e) => authFailed(req, res, e)).catch((e) => fail(res, e, log));
      else handle(req, res, user).catch((e) => fail(res, e, log));
    },
  );
  setTimeouts(server);
  // The private socket: same handler, no TLS; the 0600 file mode is what admits its callers.
  const socketServer = opts.unixSocket
    ? http.createServer({ keepAlive: true }, (req, res) => {
        authn.socket(req).then((user) => handle(req, res, user), (e) => authFailed(req, res, e)).catch((e) => fail(res, e, log));
      })
    : undefined;
  if (socketServer) setTimeouts(socketServer);

  // Connection upgrades (exec, attach, port-forward, nodes/proxy). Upgraded connections leave the
  // HTTP server's bookkeeping, so close() ends them itself.
  const upgraded = new Set<Duplex>();
  const onUpgrade = (userOf: (req: IncomingMessage) => UserInfo | Promise<UserInfo>) => (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    Promise.resolve()
      .then(() => userOf(req))
      .catch((e) => {
        authFailed(req, undefined, e);
        throw e;
      })
      .then((user) => handleUpgrade(req, socket, head, user))
      .catch((e) => {
        const err = e instanceof StatusError ? e : errors.internal((e as Error)?.message ?? String(e));
        if (!(e instanceof StatusError)) log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
        writeRawResponse(socket, err.code, { 'Content-Type': 'application/json', ...(err.headers ?? {}) }, JSON.stringify(err.toStatus()));
      });
  };
  server.on('upgrade', onUpgrade((req) => authn.tls(req)));
  socketServer?.on('upgrade', onUpgrade((req) => authn.socket(req)));

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, requester: UserInfo): Promise<void> {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const p = qi >= 0 ? raw.slice(0, qi) : raw;
    const q = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const info = parseRequestInfo(req.method ?? 'GET', p, q);
    const kind = podStreamKind(info);
    if (kind === 'exec' || kind === 'attach' || kind === 'portforward' || kind === 'nodeproxy') {
      const user = wantsImpersonation(req) ? impersonate(req, requester, authorizeFn) : requester;
      authz.check(user, info, q);
      // As upstream (AuthorizePodWebsocketUpgradeCreatePermission, on in 1.32): a WebSocket upgrade
      // is a GET, yet it opens a stream into the pod, so it also needs `create`.
      if (kind !== 'nodeproxy' && info.verb === 'get') authz.check(user, { ...info, verb: 'create' }, q);
      if (kind === 'nodeproxy') return serveNodeProxyUpgrade(req, socket, head, info, streams);
      return servePodStreamUpgrade(req, socket, head, info, q, streams);
    }
    // Any other request that asks for an upgrade is served as a plain request (Node would have
    // done so without an upgrade listener); its answer closes the connection.
    if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.badRequest(`connection upgrades are not supported for ${req.method} ${p}`);
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as import('node:net').Socket);
    res.on('finish', () => {
      res.detachSocket(socket as import('node:net').Socket);
      socket.end();
    });
    await handle(req, res, requester).catch((e) => fail(res, e, log));
  }

  let serverAddress = '';
  const threads: ThreadPortClient[] = [];
  collectProcessMetrics();
  // Upstream's resource label is `<plural>.<group>` (core: the plural alone); read at scrape time.
  setStorageObjectsSource(function* () {
    for (const [def, c] of caches) if (!def.storedAs) yield [def.group ? `${def.plural}.${def.group}` : def.plural, c.size];
  });
  async function handle(req: IncomingMessage, res: ServerResponse, requester: UserInfo): Promise<void> {
    // Parse the path by hand: URL() would resolve `.` and `..` segments, turning
    // `.../configmaps/..` into a request on the namespace.
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const p = qi >= 0 ? raw.slice(0, qi) : raw;
    const url = { searchParams: new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '') };
    // The join endpoints (src/join) answer before authorization: they check the join token themselves.
    if (opts.extraRoutes && (await opts.extraRoutes(req, res, p))) return;
    // The web console's pages and login; then its session cookie stands for a user when no other credentials came.
    if (WebConsole.owns(p)) return webConsole.serve(req, res, p, url.searchParams, requester);
    if (requester.name === ANONYMOUS) {
      requester = webConsole.sessionUser(req) ?? requester;
      // The console's own fetches without a session are a 401, so its page asks to log in:
      // system:anonymous has nothing to show there. Everything else stays upstream's anonymous.
      if (requester.name === ANONYMOUS && req.headers[UI_HEADER] === '1') throw errors.unauthorized();
    }
    const user = wantsImpersonation(req) ? impersonate(req, requester, authorizeFn) : requester;
    setRequestUser(req, user);
    const info = parseRequestInfo(req.method ?? 'GET', p, url.searchParams);
    const longRunning = isLongRunning(info, url.searchParams);
    audit?.begin(req, res, requester, user, info, longRunning);
    // In-process components on the private socket are exempt, as upstream's loopback client is.
    if ((req.socket as import('node:tls').TLSSocket).encrypted) inFlight?.admit(res, user, info, longRunning);
    // Everything is authorized, health and version too: anonymous users reach those through
    // upstream's system:public-info-viewer binding.
    const auditNotes = audit ? auditAnnotations(req) : undefined;
    try {
      authz.check(user, info, url.searchParams);
      if (auditNotes) auditNotes['authorization.k8s.io/decision'] = 'allow';
    } catch (e) {
      if (auditNotes) auditNotes['authorization.k8s.io/decision'] = 'forbid';
      throw e;
    }
    if (isHealthPath(p)) return health(res, p, url.searchParams);
    if (p === '/version' || p === '/version/') return sendJSON(res, 200, versionInfo());
    flowControl.set(res, user, info);
    if (await aggregator.maybeProxy(req, res, info, user)) return;
    if (!info.isResourceRequest) {
      if (oidc && (p === '/.well-known/openid-configuration' || p === '/openid/v1/jwks')) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(`${req.method} is not supported on ${p}`);
        const doc = p === '/openid/v1/jwks' ? oidc.jwks : oidc.configuration;
        res.writeHead(200, { 'Content-Type': p === '/openid/v1/jwks' ? 'application/jwk-set+json' : 'application/json', 'Cache-Control': 'public, max-age=3600' });
        res.end(doc);
        return;
      }
      if (p === '/metrics') {
        const text = await metricsText(threads);
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
        res.end(text);
        return;
      }
      if (p.startsWith('/openapi/')) return serveOpenAPI(req, res, p, url.searchParams, customResources.resources());
      if (await serveDiscovery(req, res, info, customResources.resources(), serverAddress, aggregator.remoteGroupVersions())) return;
      if (p === '/' ) return sendJSON(res, 200, { paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/metrics', '/openapi/v2', '/openapi/v3', '/readyz', '/version'] });
      throw errors.notFoundPath(`the server could not find the requested resource (${req.method} ${p})`);
    }
    const streamKind = podStreamKind(info);
    if (streamKind === 'log') return servePodLog(req, res, info, url.searchParams, streams);
    if (streamKind === 'nodeproxy') return serveNodeProxy(req, res, info, streams);
    if (streamKind) {
      if (req.method !== 'GET' && req.method !== 'POST') throw errors.methodNotAllowed(`${req.method} is not supported on pods/${streamKind}`);
      throw errors.badRequest('Upgrade request required');
    }
    if (info.prefix === 'api' && info.version !== 'v1') throw errors.notFoundPath(`the server could not find the requested resource: no API version ${info.version} in the core group (use /api/v1)`);
    if (info.prefix === 'apis' && !registry.hasGroup(info.group) && !customResources.hasGroup(info.group))
      throw errors.notFoundPath(`the server could not find the requested resource: API group ${JSON.stringify(info.group)} is not served`);
    const def = registry.lookup(info.group, info.version, info.resource!);
    // Reads that arrived with this write are served first (see write-turns.ts).
    if (isMutating(info) && !longRunning) await writeTurns.wait();
    if (!def) {
      const cr = info.prefix === 'apis' ? customResources.lookup(info.group, info.version, info.resource!) : undefined;
      if (cr) {
        countRequest(res, info, req);
        return handleCustomResource(req, res, info, cr.crd, cr.version, hc, url.searchParams);
      }
      if (!registry.hasGroupVersion(info.group, info.version) && !customResources.hasGroupVersion(info.group, info.version))
        throw errors.notFoundPath(`the server could not find the requested resource: ${info.group || 'core'}/${info.version} is not served`);
      throw errors.notFoundPath(`the server could not find the requested resource: no resource ${JSON.stringify(info.resource)} in ${info.group ? `${info.group}/` : ''}${info.version}`);
    }
    countRequest(res, info, req);
    if (def.group === 'metrics.k8s.io') {
      opts.onResourceMetricsRequest?.();
      return serveResourceMetrics(req, res, info, url.searchParams, threads);
    }
    if (def.virtual) return handleReview(req, res, info, def, user, reviewDeps);
    await handleResource(req, res, info, def, stores.get(def)!, hc, url.searchParams);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bindAddress, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const host = opts.bindAddress.includes(':') ? `[${opts.bindAddress}]` : opts.bindAddress;
  const url = `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  serverAddress = `${opts.bindAddress === '0.0.0.0' ? '127.0.0.1' : opts.bindAddress}:${port}`;
  log(`API server listening on ${url}`);

  let closing: Promise<void> | undefined;
  let socketListening = false;
  const portLinks: { close(): void }[] = [];
  const close = () => {
    closing ??= (async () => {
      for (const l of portLinks) l.close();
      await Promise.all(
        [server, socketListening ? socketServer : undefined].map(
          (s) =>
            s &&
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
              for (const u of upgraded) u.destroy();
            }),
        ),
      );
      if (socketListening) rmSync(opts.unixSocket!, { force: true });
      customResources.stop();
      claims?.stop();
      await aggregator.stop();
      await localSync;
      for (const c of caches.values()) c.stop();
      await store.close();
      await audit?.close();
    })();
    return closing;
  };

  // After the store is open: its lock proves no other server of this data dir owns the socket.
  if (socketServer) {
    try {
      await listenPrivateSocket(socketServer, opts.unixSocket!);
      socketListening = true;
    } catch (e) {
      await close();
      throw e;
    }
    log(`API server listening on unix:${opts.unixSocket}`);
  }

  return {
    url,
    port,
    socketPath: opts.unixSocket,
    registry,
    tokens: issuer,
    customResources,
    resource(group: string, plural: string) {
      const rs = lookup(group, plural);
      if (!rs) throw new Error(`no resource ${group}/${plural}`);
      return rs;
    },
    attachThread(t: AttachedThread) {
      threads.push(t);
    },
    ...(socketServer
      ? {
          acceptPort(port: MessagePort) {
            portLinks.push(acceptPortStreams(port, (stream) => socketServer.emit('connection', stream)));
          },
        }
      : {}),
    close,
  };
}

/** The object type of a storage key for metrics: `pods`, `deployments.apps`. */
function storageTypeOf(registry: ResourceRegistry): (key: string) => string {
  const byPrefix = new Map<string, string>();
  for (const def of registry.resources) {
    if (def.virtual || def.storedAs) continue;
    byPrefix.set(keyPrefix(def), def.group ? `${def.plural}.${def.group}` : def.plural);
  }
  return (key) => {
    const i = key.indexOf('/', 10);
    const j = i < 0 ? -1 : key.indexOf('/', i + 1);
    return byPrefix.get(key.slice(0, i + 1)) ?? (j < 0 ? undefined : byPrefix.get(key.slice(0, j + 1))) ?? 'other';
  };
}

function setTimeouts(s: http.Server): void {
  s.keepAliveTimeout = 120_000;
  s.headersTimeout = 60_000;
  s.requestTimeout = 0; // watches are long-lived
}

/**
 * Listen on a Unix socket that only this user can open. A socket file left by a server that did
 * not close cleanly is replaced; any other file at the path is an error rather than deleted.
 */
async function listenPrivateSocket(s: http.Server, file: string): Promise<void> {
  let stale = false;
  try {
    const st = lstatSync(file);
    if (!st.isSocket()) throw new Error(`cannot listen on ${file}: it exists and is not a socket`);
    stale = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (stale) rmSync(file, { force: true });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    // The socket file is created by bind() inside listen(), synchronously: a tight umask around
    // that call means it is never, even briefly, connectable by others. Worker threads may not
    // change the umask; the chmod below still applies there.
    let oldMask: number | undefined;
    try {
      oldMask = process.umask(0o177);
    } catch {
      oldMask = undefined;
    }
    try {
      s.listen(file, () => {
        s.off('error', reject);
        resolve();
      });
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
  });
  chmodSync(file, 0o600);
}

/**
 * Upstream's service account issuer discovery (OIDC): served when the issuer is an https URL, with
 * the JWKS at <issuer>/openid/v1/jwks.
 */
function oidcDocuments(issuer: string, key: SigningKey): { configuration: string; jwks: string } | undefined {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:') return undefined;
  const configuration = JSON.stringify({
    issuer,
    jwks_uri: `${issuer.replace(/\/+$/, '')}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [key.alg],
  });
  return { configuration, jwks: JSON.stringify({ keys: [publicJwk(key)] }) };
}

function fail(res: ServerResponse, e: unknown, log: (m: string) => void): void {
  if (e instanceof StatusError) return sendStatusError(res, e);
  // Bodies are refused past upstream's nesting limit before anything walks them; a walk that still
  // runs out of stack was given input too deep for it, not a server fault.
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    log(`request too deeply nested to process: ${e.stack ?? e.message}`);
    return sendStatusError(res, errors.badRequest('the request is nested too deeply for the server to process'));
  }
  log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
  sendStatusError(res, errors.internal((e as Error)?.message ?? String(e)));
}

/** Objects every cluster has: the system namespaces, the `kubernetes` service, system priority classes. */
async function bootstrap(lookup: (g: string, p: string) => ResourceStore | undefined, kubernetesIP: string, opts: ApiServerOptions): Promise<void> {
  const namespaces = lookup('', 'namespaces')!;
  for (const name of immortalNamespaces) {
    if (!namespaces.tryGet(undefined, name)) await createIgnoringExists(namespaces, undefined, { metadata: { name } });
  }
  const pcs = lookup('scheduling.k8s.io', 'priorityclasses');
  if (pcs) for (const pc of systemPriorityClasses) if (!pcs.tryGet(undefined, pc.metadata.name!)) await createIgnoringExists(pcs, undefined, JSON.parse(JSON.stringify(pc)));
  const services = lookup('', 'services')!;
  if (!services.tryGet('default', 'kubernetes')) {
    await createIgnoringExists(services, 'default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: kubernetesIP, clusterIPs: [kubernetesIP], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.port || 6443 }], sessionAffinity: 'None' },
    });
  }
}

async function createIgnoringExists(rs: ResourceStore, ns: string | undefined, obj: KObject): Promise<void> {
  try {
    await rs.create(ns, obj);
  } catch (e) {
    if (e instanceof StatusError && e.code === 409) return;
    // Another API server starting at the same time may have created it first (the kubernetes
    // Service then fails on its address, which that server claimed, rather than on its name). It
    // claims the address before it writes the Service, so give its write a few seconds to land.
    for (let i = 0; i < 40; i++) {
      await rs.cache.sync?.();
      if (rs.tryGet(ns, obj.metadata!.name!)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw e;
  }
}

export type { UserInfo, RequestInfo };
