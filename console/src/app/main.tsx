// The console's shell: login, the header with the connection's state, and the views.

import { render } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import './styles.css';
import { logout, probe, saveToken, savedToken, whoAmI } from './auth.ts';
import { store, useStore } from './store.ts';
import { go, href, useRoute } from './router.ts';
import { Login } from './views/login.tsx';
import { MapView } from './views/map.tsx';
import { PendingView } from './views/pending.tsx';
import { EventsView } from './views/events.tsx';
import { FlowView } from './views/flow.tsx';
import { NodeView } from './views/node.tsx';
import { duration } from './format.ts';
import { FIRST_PAINT_ID, dropFirstPaint } from '../first-paint/main.ts';

// The object page pulls in a YAML printer: loaded when first opened, not with the map.
const ObjectView = lazy(() => import('./views/object.tsx').then((m) => ({ default: m.ObjectView })));

type Auth = { state: 'checking' } | { state: 'in'; token?: string; user?: string } | { state: 'out'; reason: string };

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>(() => (store.acceptedEarly && route.path[0] !== 'login' ? { state: 'in', token: savedToken() } : { state: 'checking' }));
  const authIn = useRef(false);
  authIn.current = auth.state === 'in';

  const check = async (token: string | undefined, failReason = '') => {
    // The watches start with the check, not after it (one round trip less before the map); if
    // the credentials are refused they are stopped again, and their own 401s are not reported.
    const answer = store.earlyAnswer(token);
    store.start(token);
    const r = await probe(token, answer);
    if (r.ok) {
      saveToken(token);
      // The user's name (one more round trip) follows into the header.
      setAuth((a) => (a.state === 'in' && a.token === token ? a : { state: 'in', token }));
      if (route.path[0] === 'login') go('/');
      void whoAmI(token).then((user) => user && setAuth((a) => (a.state === 'in' && a.token === token ? { ...a, user } : a)));
      return '';
    }
    store.stop();
    setAuth({ state: 'out', reason: r.reason || failReason });
    return r.reason;
  };

  useEffect(() => {
    store.onAuthFailed = (message) => {
      // While the login is being checked, the check's own answer says why it failed.
      if (!authIn.current) return;
      saveToken(undefined);
      store.stop();
      setAuth({ state: 'out', reason: `The API server stopped accepting your credentials: ${message}` });
    };
    store.onFollowed = (root) => go(href('flow', root.kind, root.namespace ?? '-', root.name));
    const reason = route.path[0] === 'login' ? route.params.get('reason') ?? '' : '';
    if (reason) setAuth({ state: 'out', reason });
    else void check(savedToken());
  }, []);

  // The login page replaces the page's first paint (index.html, src/first-paint), if any.
  useLayoutEffect(() => {
    if (auth.state === 'out') dropFirstPaint();
  }, [auth.state]);

  if (auth.state === 'checking') return document.getElementById(FIRST_PAINT_ID) ? null : <div class="splash">Mizzen</div>;
  if (auth.state === 'out')
    return (
      <Login
        reason={auth.reason}
        onToken={async (t) => {
          const why = await check(t);
          return why;
        }}
        onRetry={() => void check(undefined)}
      />
    );
  return (
    <Shell
      user={auth.user}
      onLogout={async () => {
        await logout(auth.token);
        store.stop();
        setAuth({ state: 'out', reason: 'You logged out.' });
      }}
    />
  );
}

function Shell(props: { user?: string; onLogout(): void }) {
  const route = useRoute();
  const s = useStore();
  const ov = s.overview;
  const view = route.path[0] ?? 'map';
  // The page's first paint (index.html, src/first-paint) stays until this page has the nodes to
  // draw the map (or shows another page): taken out as the DOM is updated, before the browser
  // paints, so no frame shows both or neither.
  const waitForNodes = view === 'map' && s.nodes.size === 0 && !!document.getElementById(FIRST_PAINT_ID);
  useLayoutEffect(() => {
    if (!waitForNodes) dropFirstPaint();
  });
  if (waitForNodes) return null;
  const tab = (name: string, label: string, extra?: string) => (
    <a class={view === name ? 'tab on' : 'tab'} href={`#/${name}`}>
      {label}
      {extra ? <span class="badge">{extra}</span> : null}
    </a>
  );
  return (
    <div class="shell">
      <header>
        <span class="brand">Mizzen</span>
        <nav>
          {tab('map', 'Map')}
          {tab('flow', 'Flow')}
          {tab('pending', 'Pending', ov && ov.pods.unscheduled ? String(ov.pods.unscheduled) : undefined)}
          {tab('events', 'Events')}
        </nav>
        <Connection />
        <span class="user">{props.user ? `signed in as ${props.user}` : 'signed in'}</span>
        <button class="link" onClick={props.onLogout} data-testid="logout">
          log out
        </button>
      </header>
      <main>
        {view === 'map' && <MapView />}
        {view === 'flow' && <FlowView route={route} />}
        {view === 'pending' && <PendingView />}
        {view === 'events' && <EventsView />}
        {view === 'node' && <NodeView name={route.path[1] ?? ''} />}
        {view === 'object' && (
          <Suspense fallback={<p class="muted">loading…</p>}>
            <ObjectView route={route} />
          </Suspense>
        )}
      </main>
    </div>
  );
}

function Connection() {
  const s = useStore();
  const c = s.overview?.connection;
  if (!c) return <span class="conn connecting">connecting…</span>;
  if (c.state === 'connected') return <span class="conn ok" data-testid="connection">live</span>;
  if (c.state === 'connecting') return <span class="conn connecting">connecting…</span>;
  return (
    <span class="conn lost" data-testid="connection" title={c.lastError}>
      connection lost {duration(Date.now() - c.since)} ago ({c.lastError ?? 'no answer'}): reconnecting, attempt {c.attempts}
    </span>
  );
}

performance.mark('mizzen:app');
// The data worker's script loads while the page checks the login (it starts nothing until told);
// meanwhile the page asks for the nodes' Table itself, the map's first drawing.
store.prefetchNodeTable(savedToken());
store.prepare();
// index.html adds this script as it is parsed: the page's body may not be there yet.
const mount = () => render(<App />, document.getElementById('app')!);
if (document.getElementById('app')) mount();
else document.addEventListener('DOMContentLoaded', mount, { once: true });
