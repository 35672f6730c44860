// `mizzen ui-url`: a one-time login link to the web console for the kubeconfig's user, as
// `jupyter server list` prints a link with a token. The API server makes the code (POST
// /ui/login-codes, authenticated by the kubeconfig's own credentials) and binds it to that user.

import { ApiClient, ApiError } from '../client/api-client.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import type { CliIO } from './io.ts';

export async function runUiUrl(opts: { kubeconfig: string }, io: CliIO): Promise<number> {
  let config;
  try {
    config = loadKubeconfig(opts.kubeconfig);
  } catch (e) {
    io.err(`mizzen: cannot read kubeconfig ${opts.kubeconfig}: ${(e as Error).message}`);
    return 1;
  }
  const client = new ApiClient({ ...config, requestTimeoutMs: 15_000 });
  try {
    const r = await client.request<{ path: string; user: string; expires: string }>('POST', '/ui/login-codes');
    const url = new URL(r.path, config.server);
    io.out(url.toString());
    io.err(`(logs in once as ${r.user}, until ${r.expires}; the browser must trust the cluster CA or be told to proceed)`);
    return 0;
  } catch (e) {
    const why = e instanceof ApiError ? `${e.status.code} ${e.message}` : (e as Error).message;
    io.err(`mizzen: cannot get a console login link from ${config.server}: ${why}`);
    return 1;
  } finally {
    client.close();
  }
}
