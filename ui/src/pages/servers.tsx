import type { Server } from '../api';
import { IconAlert, IconGlobe, IconInfo, IconPlus, IconRestart, IconServer, IconTerminal } from '../components/icons';
import { CopyButton, EmptyState, StatePill, StatusDot, Switch, useTitle } from '../components/ui';
import { plural } from '../lib/format';
import { effectiveEnabled } from '../lib/servers';
import { href, navigate } from '../router';
import { cancelSignIn, restartServer, setServerEnabled, signIn, signOut, useStore } from '../store';
import { SuggestedHint } from './suggested-hint';

/** Clients such as Cursor only pass a limited number of tools to the model per request. */
const TOOL_CAP_HINT = 40;

export function ServersPage() {
  useTitle('Servers');
  const { servers, info, toolCount } = useStore();
  const ready = servers.filter((s) => s.state === 'ready').length;
  const enabled = servers.filter((s) => s.enabled).length;
  const problems = servers.filter((s) => s.state === 'failed' || s.state === 'degraded' || s.state === 'needs-sign-in').length;
  const starting = servers.filter((s) => s.state === 'starting').length;
  const total = toolCount ?? info?.toolCount ?? 0;

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Servers</h1>
          <p class="page-sub">MCP servers Loopgate connects to. Their tools reach your AI clients through one endpoint.</p>
        </div>
        <a class="btn btn-primary" href={href.add()} data-testid="add-server-button">
          <IconPlus /> Add server
        </a>
      </div>

      <div class="stats">
        <div class="stat stat-tools">
          <div class="stat-label">Tools your clients see</div>
          <div class="stat-value" data-testid="total-tools" data-count={total}>
            {total}
          </div>
          <div class="stat-sub">
            {total > TOOL_CAP_HINT ? (
              <span class="warn-text">
                <IconAlert size={13} /> Some clients (e.g. Cursor) only use about {TOOL_CAP_HINT}. Switch off tools you don’t need.
              </span>
            ) : (
              <>from {plural(enabled, 'enabled server')}</>
            )}
          </div>
        </div>

        <div class="stat stat-endpoint">
          <div class="stat-label">MCP endpoint</div>
          <div class="endpoint">
            <code data-testid="mcp-url">{info?.mcpUrl ?? '—'}</code>
            {info && <CopyButton text={info.mcpUrl} label="Copy" />}
          </div>
          <div class="stat-sub">
            Clients send <code>Authorization: Bearer &lt;token&gt;</code> — <code>loopgate token</code> prints it.
          </div>
        </div>

        <div class="stat stat-health">
          <div class="stat-label">Health</div>
          <div class="health">
            {servers.length === 0 ? (
              <span class="health-main">
                <strong>0</strong> servers
              </span>
            ) : (
              <span class="health-main">
                <strong>{ready}</strong> of {servers.length} ready
              </span>
            )}
          </div>
          <div class="stat-sub health-chips">
            {problems > 0 && (
              <span class="chip chip-state">
                <StatusDot state="failed" /> {problems} {problems === 1 ? 'needs' : 'need'} attention
              </span>
            )}
            {starting > 0 && (
              <span class="chip chip-state">
                <StatusDot state="starting" /> {starting} starting
              </span>
            )}
            {servers.length - enabled > 0 && (
              <span class="chip chip-state">
                <StatusDot state="disabled" /> {servers.length - enabled} off
              </span>
            )}
            {problems === 0 && starting === 0 && servers.length > 0 && servers.length === enabled && <span>All servers running</span>}
            {servers.length === 0 && <span>No servers configured</span>}
          </div>
        </div>
      </div>

      <SuggestedHint servers={servers} />

      {servers.length === 0 ? (
        <div class="card">
          <EmptyState
            icon={<IconServer size={28} />}
            title="No servers yet"
            testId="servers-empty"
            action={
              <a class="btn btn-primary" href={href.add()} data-testid="empty-add-server">
                <IconPlus /> Add your first server
              </a>
            }
          >
            <p>
              Add a local command (like <code>npx -y @modelcontextprotocol/server-memory</code>) or a remote MCP URL. Its
              tools reach every connected client as <code>server__tool</code>.
            </p>
          </EmptyState>
        </div>
      ) : (
        <section class="card server-list" aria-label="Servers">
          <div class="list-head" aria-hidden="true">
            <span>Server</span>
            <span class="lh-tools">Tools</span>
            <span class="lh-state">Status</span>
            <span class="lh-actions">On</span>
          </div>
          <ul role="list">
            {servers.map((s) => (
              <ServerRow key={s.name} server={s} />
            ))}
          </ul>
        </section>
      )}

      {info?.configPath && (
        <p class="footnote">
          <IconInfo size={13} /> Config file: <code>{info.configPath}</code>
        </p>
      )}
    </div>
  );
}

/** OAuth state of an HTTP server: signed in / needs sign-in / signing in, with its action. */
function SignInLine({ server: s }: { server: Server }) {
  const pending = s.signIn?.pending ?? false;
  if (s.transport !== 'http' || (s.signedIn == null && !pending)) return null;
  const stop = (e: Event) => e.stopPropagation();
  if (pending) {
    return (
      <div class="sr-auth" data-testid={`server-auth-${s.name}`} data-auth="signing-in" onClick={stop}>
        <span>Signing in… finish in your browser</span>
        <button type="button" class="btn btn-sm" data-testid={`server-signin-${s.name}`} onClick={() => void signIn(s.name)}>
          Open sign-in page
        </button>
        <button type="button" class="btn btn-ghost btn-sm" onClick={() => void cancelSignIn(s.name)}>
          Cancel
        </button>
      </div>
    );
  }
  if (s.signedIn) {
    return (
      <div class="sr-auth" data-testid={`server-auth-${s.name}`} data-auth="signed-in" onClick={stop}>
        <span>Signed in (OAuth; tokens in the keychain)</span>
        <button type="button" class="btn btn-ghost btn-sm" onClick={() => void signOut(s.name)}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div class="sr-auth" data-testid={`server-auth-${s.name}`} data-auth="needs-sign-in" onClick={stop}>
      <span>{s.signIn?.lastError ?? 'This server needs you to sign in.'}</span>
      <button type="button" class="btn btn-primary btn-sm" data-testid={`server-signin-${s.name}`} onClick={() => void signIn(s.name)}>
        Sign in
      </button>
    </div>
  );
}

function ServerRow({ server: s }: { server: Server }) {
  const { pending } = useStore();
  const on = effectiveEnabled(s, pending);
  const busy = s.name in pending;
  const hidden = s.config?.disabledTools?.length ?? 0;
  const showError = (s.state === 'failed' || s.state === 'degraded') && s.lastError;
  const open = () => navigate(href.server(s.name));

  return (
    <li
      class={`server-row state-${s.state}${on ? '' : ' is-off'}`}
      data-testid={`server-row-${s.name}`}
      data-state={s.state}
      onClick={(e) => {
        // Whole-row click opens the detail; controls inside stop propagation.
        if ((e.target as HTMLElement).closest('a,button,input')) return;
        open();
      }}
    >
      <StatusDot state={s.state} />
      <div class="sr-main">
        <div class="sr-title">
          <a class="sr-name" href={href.server(s.name)}>
            {s.name}
          </a>
          <span class="badge badge-transport" title={s.transport === 'http' ? 'Remote Streamable HTTP server' : 'Local process (stdio)'}>
            {s.transport === 'http' ? <IconGlobe size={12} /> : <IconTerminal size={12} />}
            {s.transport === 'http' ? 'HTTP' : 'stdio'}
          </span>
        </div>
        <div class="sr-target" title={s.target}>
          {s.target}
        </div>
        {showError && (
          <div class="sr-error" data-testid={`server-error-${s.name}`}>
            <IconAlert size={13} />
            <span>{s.lastError}</span>
          </div>
        )}
        <SignInLine server={s} />
      </div>
      <div class="sr-tools" data-testid={`server-toolcount-${s.name}`} data-count={s.toolCount}>
        {s.state === 'disabled' ? (
          <span class="muted">—</span>
        ) : (
          <>
            <strong>{s.toolCount}</strong>
            <span class="muted"> {s.toolCount === 1 ? 'tool' : 'tools'}</span>
            {hidden > 0 && <div class="sr-hidden">{hidden} switched off</div>}
          </>
        )}
      </div>
      <div class="sr-state">
        <StatePill state={s.state} testId={`server-state-${s.name}`} />
      </div>
      <div class="sr-actions">
        <button
          type="button"
          class="btn btn-ghost btn-icon"
          aria-label={`Restart ${s.name}`}
          title={`Restart ${s.name}`}
          disabled={!s.enabled}
          data-testid={`server-restart-${s.name}`}
          onClick={(e) => {
            e.stopPropagation();
            void restartServer(s.name);
          }}
        >
          <IconRestart />
        </button>
        <Switch
          checked={on}
          busy={busy}
          label={`${s.name} enabled`}
          title={on ? `Switch ${s.name} off` : `Switch ${s.name} on`}
          testId={`server-switch-${s.name}`}
          onChange={(next) => void setServerEnabled(s.name, next)}
        />
      </div>
    </li>
  );
}
