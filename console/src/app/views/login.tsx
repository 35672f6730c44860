// The login page: a bearer token, or the way to a one-time link. Says why it is shown.

import { useState } from 'preact/hooks';

export function Login(props: { reason: string; onToken(t: string): Promise<string>; onRetry(): void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return;
    setBusy(true);
    setErr(await props.onToken(token.trim()));
    setBusy(false);
  };
  return (
    <div class="login">
      <h1>Mizzen</h1>
      <p class="lead">A live picture of the cluster at work.</p>
      {(err || props.reason) && (
        <p class="reason" data-testid="login-reason">
          {err || props.reason}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="token">Bearer token</label>
        <textarea id="token" name="token" rows={4} value={token} onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)} placeholder="a ServiceAccount token (kubectl create token NAME) or a token from the token file" autocomplete="off" spellcheck={false} />
        <button type="submit" disabled={busy} data-testid="login-submit">
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
      <p class="muted">
        Or run <code>mizzen ui-url</code> on the cluster's machine and open the one-time link it prints: it logs this browser in as the cluster's admin. The
        console sees exactly what its user may see.
      </p>
      <p class="muted">
        <button class="link" onClick={props.onRetry}>
          try again without a token
        </button>
      </p>
    </div>
  );
}
