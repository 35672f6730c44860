// Per-controller credentials, as upstream's `--use-service-account-credentials` (which kubeadm and
// k3s turn on): each controller acts as its own ServiceAccount in kube-system
// (`system:serviceaccount:kube-system:<controller>-controller`), bound by the bootstrap policy to
// its `system:controller:*` role, so a controller can do what upstream's can and nothing more. The
// manager's own identity (system:kube-controller-manager) keeps the shared informers, the lease and
// the token controller. The ServiceAccounts are created when missing, as upstream does.
//
// How the identity reaches the API server: on its private socket, as request headers the server
// trusts there; over TLS, as a token from the TokenRequest API, renewed at 80 % of its life.

import { ApiClient, isAlreadyExists, isNotFound } from '../client/api-client.ts';
import { serviceAccountIdentity, socketIdentityHeaders } from '../client/identity.ts';
import { CONTROLLER_SERVICE_ACCOUNTS } from '../apiserver/authz/bootstrap-policy.ts';

const NAMESPACE = 'kube-system';
/** Controllers that act as the manager itself, as upstream's (the tokens controller signs for every ServiceAccount). */
const ROOT_CONTROLLERS = new Set(['serviceaccount-token']);
const TOKEN_SECONDS = 3600;

export interface ControllerClients {
  /** The client controller `name` acts through. */
  clientFor(name: string): Promise<ApiClient>;
  close(): void;
}

/** Every controller uses the manager's own client (`--use-service-account-credentials=false`). */
export function sharedClient(client: ApiClient): ControllerClients {
  return { clientFor: async () => client, close() {} };
}

async function ensureServiceAccount(client: ApiClient, name: string): Promise<void> {
  const ref = { version: 'v1', resource: 'serviceaccounts', namespace: NAMESPACE };
  try {
    await client.get({ ...ref, name });
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await client.create(ref, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NAMESPACE } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** The ServiceAccount a controller runs as (upstream's names; ours when upstream has none). */
export function serviceAccountFor(controller: string): string | undefined {
  if (ROOT_CONTROLLERS.has(controller)) return undefined;
  return CONTROLLER_SERVICE_ACCOUNTS[controller] ?? `${controller}-controller`;
}

/**
 * `tokenClient` builds a client that authenticates with a bearer token only (no client
 * certificate: the certificate would win, as it does upstream); needed unless `client` talks to the
 * private socket.
 */
export function serviceAccountClients(client: ApiClient, log: (m: string) => void, tokenClient?: (tokenSource: () => string) => ApiClient): ControllerClients {
  const made = new Map<string, Promise<ApiClient>>();
  const timers: NodeJS.Timeout[] = [];
  let closed = false;

  const owned: ApiClient[] = [];
  const withToken = async (sa: string): Promise<ApiClient> => {
    if (!tokenClient) throw new Error('per-controller ServiceAccount credentials need a kubeconfig (or the private socket)');
    let token = '';
    const refresh = async (): Promise<void> => {
      const r = await client.request<any>('POST', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: TOKEN_SECONDS },
      });
      token = r.status.token;
      const expires = Date.parse(r.status.expirationTimestamp);
      const next = Math.max(10_000, (expires - Date.now()) * 0.8);
      if (closed) return;
      const t = setTimeout(() => {
        refresh().catch((e) => {
          log(`controller-manager: renewing the token of ${NAMESPACE}/${sa} failed: ${(e as Error).message}`);
          const retry = setTimeout(() => void refresh().catch(() => {}), 10_000);
          retry.unref();
          timers.push(retry);
        });
      }, next);
      t.unref();
      timers.push(t);
    };
    await refresh();
    const c = tokenClient(() => token);
    owned.push(c);
    return c;
  };

  return {
    clientFor(name) {
      const sa = serviceAccountFor(name);
      if (!sa) return Promise.resolve(client);
      let p = made.get(sa);
      if (!p) {
        p = (async () => {
          await ensureServiceAccount(client, sa);
          if (client.overPrivateSocket) return client.withIdentity({ headers: socketIdentityHeaders(serviceAccountIdentity(NAMESPACE, sa)) });
          return withToken(sa);
        })();
        made.set(sa, p);
        p.catch(() => made.delete(sa));
      }
      return p;
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const c of owned) c.close();
    },
  };
}
