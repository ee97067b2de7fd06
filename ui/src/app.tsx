import { useEffect, useRef } from 'preact/hooks';
import { Logo, IconLock, IconWifiOff, IconTerminal } from './components/icons';
import { CopyButton, EmptyState, Spinner, Toasts, useNow } from './components/ui';
import { ServerDetailPage } from './pages/server-detail';
import { ServerFormPage } from './pages/server-form';
import { ServersPage } from './pages/servers';
import { ToolsPage } from './pages/tools';
import { ConnectPage } from './pages/connect';
import { ProfilesPage } from './pages/profiles';
import { ProfileEditorPage } from './pages/profiles/editor';
import { ActivityPage } from './pages/activity';
import { NotFound } from './pages/not-found';
import { href, useRoute, type Route } from './router';
import { start, useStore } from './store';

export function App() {
  const st = useStore();
  const route = useRoute();

  useEffect(() => {
    void start();
  }, []);

  if (st.phase === 'unauthorized') return <Unauthorized />;
  if (st.phase === 'unreachable') return <Unreachable />;

  return (
    <div class="app">
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <AppBar route={route} />
      <OfflineBanner />
      <WarningBanners />
      <main id="main" class="main" tabIndex={-1}>
        {st.phase === 'loading' ? <Loading /> : <Page route={route} />}
      </main>
      <Toasts />
    </div>
  );
}

function Page({ route }: { route: Route }) {
  // Move focus to the new page's heading for keyboard and screen-reader users.
  const first = useRef(true);
  const key = JSON.stringify(route);
  useEffect(() => {
    const auto = document.querySelector<HTMLElement>('main [autofocus]');
    if (first.current) {
      first.current = false;
      auto?.focus();
      return;
    }
    window.scrollTo(0, 0);
    (auto ?? document.querySelector<HTMLElement>('main h1'))?.focus({ preventScroll: true });
  }, [key]);

  switch (route.page) {
    case 'servers':
      return <ServersPage />;
    case 'server':
      return <ServerDetailPage key={route.server} name={route.server} focusTool={route.tool} />;
    case 'edit':
      return <ServerFormPage key={`edit-${route.server}`} editName={route.server} />;
    case 'add':
      return <ServerFormPage key={`add-${route.suggest ?? ''}`} suggest={route.suggest} />;
    case 'tools':
      return <ToolsPage initialQuery={route.q} />;
    case 'connect':
      return <ConnectPage />;
    case 'profiles':
      return <ProfilesPage />;
    case 'profile':
      return <ProfileEditorPage key={`profile-${route.profile ?? ''}`} name={route.profile} />;
    case 'play':
      return <ServerDetailPage key={`play-${route.server}`} name={route.server} focusTool={null} playTool={route.tool} playArgs={route.args} />;
    case 'activity':
      return <ActivityPage id={route.id} client={route.client} server={route.server} tool={route.tool} outcome={route.outcome} />;
    default:
      return <NotFound />;
  }
}

function AppBar({ route }: { route: Route }) {
  const { info, live, toolCount } = useStore();
  const section =
    route.page === 'tools' || route.page === 'connect' || route.page === 'activity'
      ? route.page
      : route.page === 'profiles' || route.page === 'profile'
        ? 'profiles'
        : 'servers';
  return (
    <header class="appbar">
      <a class="brand" href={href.servers()} aria-label="Loopgate — servers">
        <Logo size={26} />
        <span class="brand-name">Loopgate</span>
        {info && <span class="brand-version">v{info.version}</span>}
      </a>
      <nav class="nav" aria-label="Main">
        <a class={`nav-link${section === 'servers' ? ' is-active' : ''}`} href={href.servers()} aria-current={section === 'servers' ? 'page' : undefined}>
          Servers
        </a>
        <a class={`nav-link${section === 'tools' ? ' is-active' : ''}`} href={href.tools()} aria-current={section === 'tools' ? 'page' : undefined}>
          Tools
          {toolCount !== null && <span class="nav-count">{toolCount}</span>}
        </a>
        <a
          class={`nav-link${section === 'profiles' ? ' is-active' : ''}`}
          href={href.profiles()}
          aria-current={section === 'profiles' ? 'page' : undefined}
          data-testid="nav-profiles"
        >
          Profiles
        </a>
        <a
          class={`nav-link${section === 'activity' ? ' is-active' : ''}`}
          href={href.activity()}
          aria-current={section === 'activity' ? 'page' : undefined}
          data-testid="nav-activity"
        >
          Activity
        </a>
        <a
          class={`nav-link${section === 'connect' ? ' is-active' : ''}`}
          href={href.connect()}
          aria-current={section === 'connect' ? 'page' : undefined}
          data-testid="nav-connect"
        >
          Connect
        </a>
      </nav>
      <div class="appbar-spacer" />
      <LiveIndicator live={live} />
    </header>
  );
}

/** Loud warnings the gateway reports: authentication off, a refused config edit. */
function WarningBanners() {
  const { info } = useStore();
  if (!info) return null;
  return (
    <>
      {info.authNone && (
        <div class="offline-banner" role="alert" data-testid="auth-none-banner">
          <strong>Authentication is off.</strong> Any program on this computer can use your servers — remove
          <code> "auth": "none" </code> from the config to require the access token again.
        </div>
      )}
      {info.configError && (
        <div class="offline-banner" role="alert" data-testid="config-error-banner">
          <strong>Your last edit of the config file was refused</strong> — the previous config is still running: {info.configError}
        </div>
      )}
    </>
  );
}

/** After a few seconds without the live stream, say plainly that what is shown may be stale. */
function OfflineBanner() {
  const { downSince, phase } = useStore();
  const now = useNow(1000, downSince !== null);
  if (phase !== 'ready' || downSince === null || now - downSince < 5000) return null;
  return (
    <div class="offline-banner" role="status" data-testid="offline-banner">
      <IconWifiOff size={15} />
      <span>
        <strong>Lost the connection to Loopgate.</strong> Showing the last known state — reconnecting automatically.
      </span>
    </div>
  );
}

function LiveIndicator({ live }: { live: string }) {
  if (live === 'live') {
    return (
      <span class="live live-on" data-testid="live-indicator" data-live="live" title="Receiving live updates">
        <span class="live-dot" aria-hidden="true" />
        Live
      </span>
    );
  }
  return (
    <span class="live live-off" data-testid="live-indicator" data-live={live} role="status" title="The live update stream dropped; reconnecting">
      <Spinner size={11} />
      {live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
    </span>
  );
}

function Loading() {
  return (
    <div class="page-loading" role="status" aria-live="polite">
      <Spinner size={20} />
      <span>Connecting to Loopgate…</span>
    </div>
  );
}

function Unauthorized() {
  useEffect(() => {
    document.title = 'Sign in · Loopgate';
  }, []);
  return (
    <div class="fullscreen" data-testid="unauthorized">
      <div class="fullscreen-card">
        <div class="fullscreen-brand">
          <Logo size={36} />
          <span>Loopgate</span>
        </div>
        <EmptyState icon={<IconLock size={26} />} title="Open the dashboard from its link" tone="warning">
          <p>
            This browser isn’t signed in to your Loopgate gateway. For your safety the dashboard only opens from the
            private link Loopgate prints when it starts.
          </p>
          <ul class="howto">
            <li>
              <span class="howto-label">Gateway already running?</span>
              <span class="cmd">
                <IconTerminal size={14} />
                <code>loopgate open</code>
                <CopyButton text="loopgate open" label="Copy command" compact />
              </span>
            </li>
            <li>
              <span class="howto-label">Starting it yourself?</span>
              <span class="cmd">
                <IconTerminal size={14} />
                <code>loopgate serve</code>
                <CopyButton text="loopgate serve" label="Copy command" compact />
              </span>
              <span class="howto-note">then open the dashboard link it prints.</span>
            </li>
          </ul>
        </EmptyState>
        <div class="fullscreen-actions">
          <button type="button" class="btn" onClick={() => void start()}>
            I’ve opened the link — try again
          </button>
        </div>
      </div>
    </div>
  );
}

function Unreachable() {
  useEffect(() => {
    document.title = 'Not connected · Loopgate';
  }, []);
  return (
    <div class="fullscreen" data-testid="unreachable">
      <div class="fullscreen-card">
        <div class="fullscreen-brand">
          <Logo size={36} />
          <span>Loopgate</span>
        </div>
        <EmptyState icon={<IconWifiOff size={26} />} title="Can’t reach Loopgate" tone="danger">
          <p>The gateway isn’t answering. It may have been stopped or be restarting.</p>
          <p class="muted">
            Start it again with <code>loopgate serve</code>. This page reconnects by itself.
          </p>
        </EmptyState>
        <div class="fullscreen-actions">
          <span class="retrying">
            <Spinner size={12} /> Retrying…
          </span>
          <button type="button" class="btn" onClick={() => void start()}>
            Retry now
          </button>
        </div>
      </div>
    </div>
  );
}
