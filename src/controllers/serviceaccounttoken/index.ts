// The tokens controller (upstream pkg/controller/serviceaccount/tokens_controller.go): fills Secrets
// of type kubernetes.io/service-account-token, made by users who ask for a long-lived legacy token,
// with `token` (a legacy JWT for the ServiceAccount named in the kubernetes.io/service-account.name
// annotation), `ca.crt` and `namespace`, and records the ServiceAccount's uid; deletes such Secrets
// whose ServiceAccount is gone or was re-created. Runs as the controller manager itself, as upstream's.

import type { KObject } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../client/api-client.ts';
import { signingKeyFromPem } from '../../apiserver/authn/service-account-keys.ts';
import { ServiceAccountTokenIssuer } from '../../apiserver/authn/service-account-token.ts';
import { KeyWorker } from '../key-worker.ts';
import type { Controller, ControllerContext, ControllerFactory } from '../types.ts';

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export function createTokensController(ctx: ControllerContext): Controller {
  const keyPem = ctx.options.serviceAccountKeyPem;
  const issuer = keyPem ? new ServiceAccountTokenIssuer(signingKeyFromPem(keyPem)) : undefined;
  const secrets = ctx.informers.informerFor({ version: 'v1', resource: 'secrets' });
  const accounts = ctx.informers.informerFor({ version: 'v1', resource: 'serviceaccounts' });
  const worker = new KeyWorker('serviceaccount-token', sync, ctx.log);
  if (issuer) {
    const onSecret = (s: KObject) => {
      if (s.type === SA_TOKEN_TYPE) worker.add(`${s.metadata.namespace}/${s.metadata.name}`);
    };
    secrets.addEventHandler({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s) });
    // A ServiceAccount deleted or changed: look at the token Secrets that name it.
    const onAccount = (sa: KObject) => {
      for (const s of secrets.lister().namespace(sa.metadata.namespace!).list())
        if (s.type === SA_TOKEN_TYPE && s.metadata.annotations?.[SA_NAME_ANNOTATION] === sa.metadata.name) onSecret(s);
    };
    accounts.addEventHandler({ onAdd: onAccount, onUpdate: (_o, sa) => onAccount(sa), onDelete: onAccount });
  }

  async function sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const secret = secrets.lister().namespace(namespace).get(name);
    if (!secret || secret.type !== SA_TOKEN_TYPE || secret.metadata.deletionTimestamp) return;
    const ref = { version: 'v1', resource: 'secrets', namespace, name };
    const saName = secret.metadata.annotations?.[SA_NAME_ANNOTATION];
    const wantUid = secret.metadata.annotations?.[SA_UID_ANNOTATION];
    // The informer may lag a just-created ServiceAccount: ask the server before deleting anything.
    let sa = saName ? accounts.lister().namespace(namespace).get(saName) : undefined;
    if (saName && !sa) {
      try {
        sa = await ctx.client.get({ version: 'v1', resource: 'serviceaccounts', namespace, name: saName });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (!sa || (wantUid && wantUid !== sa.metadata.uid)) {
      try {
        await ctx.client.delete(ref, { preconditions: { uid: secret.metadata.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      return;
    }
    const data = secret.data ?? {};
    const ca = ctx.options.rootCAPem;
    if (data.token && (!ca || data['ca.crt'] === b64(ca)) && data.namespace === b64(namespace) && wantUid === sa.metadata.uid) return;
    const next = structuredClone(secret);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [SA_UID_ANNOTATION]: sa.metadata.uid! };
    next.data = { ...(next.data ?? {}) };
    if (!next.data.token) next.data.token = b64(await issuer!.issueLegacy(sa, secret));
    if (ca) next.data['ca.crt'] = b64(ca);
    next.data.namespace = b64(namespace);
    try {
      await ctx.client.update(ref, next);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  return {
    name: 'serviceaccount-token',
    run: () => worker.run(ctx.options.workers),
    stop: () => worker.stop(),
  };
}

export const serviceAccountTokenController: ControllerFactory = (ctx) => createTokensController(ctx);
