import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ClientSnippets, type ClientState, type ProfilesView } from '../api';
import { IconAlert, IconCheck, IconGlobe, IconInfo, IconPlug, IconRestart, IconTerminal, IconTrash, IconX } from '../components/icons';
import { RawJson } from '../components/schema';
import { CopyButton, EmptyState, Skeleton, Spinner, useTitle } from '../components/ui';
import { monogram, noticeFor, type ClientAction as Action, type Notice } from '../lib/clients';
import { plural } from '../lib/format';
import { bindClient, loadProfiles, useStore } from '../store';

export function ConnectPage() {
  useTitle('Connect a client');
  const { info, toolCount, profiles } = useStore();
  const offered = toolCount ?? info?.toolCount ?? null;
  const [clients, setClients] = useState<ClientState[] | null>(null);
  const [snippets, setSnippets] = useState<ClientSnippets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const [busy, setBusy] = useState<Record<string, Action>>({});
  const [notices, setNotices] = useState<Record<string, Notice>>({});
  const alive = useRef(true);

  const load = async (): Promise<boolean> => {
    try {
      const r = await api.clients();
      if (!alive.current) return false;
      setClients(r.clients);
      setSnippets(r.snippets);
      setError(null);
      return true;
    } catch (e) {
      if (alive.current && !(e as ApiError).unauthorized) setError((e as Error).message);
      return false;
    }
  };

  useEffect(() => {
    alive.current = true;
    void load();
    // Which profile each client sees, and what that costs (quietly: the page works without).
    loadProfiles().catch(() => undefined);
    // A client installed (or a file edited) while this tab was in the background shows up on return.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void load();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      alive.current = false;
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);

  const setNotice = (id: string, n: Notice | null) =>
    setNotices((all) => {
      const next = { ...all };
      if (n) next[id] = n;
      else delete next[id];
      return next;
    });

  const act = async (c: ClientState, action: Action) => {
    setBusy((b) => ({ ...b, [c.id]: action }));
    setNotice(c.id, null);
    try {
      const { change } = await api.setClientWired(c.id, action === 'install');
      await load();
      setNotice(c.id, noticeFor(c, action, change));
    } catch (e) {
      if (!(e as ApiError).unauthorized) {
        setNotice(c.id, {
          kind: 'error',
          title: action === 'install' ? `Couldn’t add Loopgate to ${c.name}` : `Couldn’t remove Loopgate from ${c.name}`,
          text: (e as Error).message,
        });
      }
    } finally {
      setBusy((b) => {
        const n = { ...b };
        delete n[c.id];
        return n;
      });
    }
  };

  const recheck = async () => {
    setChecking(true);
    await load();
    setChecking(false);
  };

  const wired = (clients ?? []).filter((c) => c.wired === true).length;
  const detected = (clients ?? []).filter((c) => c.installed).length;

  let list: ComponentChildren;
  if (clients === null && error === null) {
    list = (
      <ul class="client-list" aria-busy="true">
        {[0, 1, 2, 3, 4].map((i) => (
          <li key={i} class="client-row skeleton-client">
            <Skeleton width="36px" height={36} />
            <span class="cr-main">
              <Skeleton width="22%" height={15} />
              <Skeleton width="58%" height={12} />
            </span>
          </li>
        ))}
      </ul>
    );
  } else if (clients === null) {
    list = (
      <EmptyState
        icon={<IconAlert size={24} />}
        title="Couldn’t check your clients"
        tone="danger"
        testId="clients-error"
        action={
          <button type="button" class="btn" onClick={() => !checking && void recheck()} aria-busy={checking || undefined}>
            {checking ? <Spinner size={13} /> : <IconRestart />} Try again
          </button>
        }
      >
        <p>{error}</p>
      </EmptyState>
    );
  } else {
    list = (
      <ul class="client-list" role="list" data-testid="client-list">
        {/* Detected apps first; each group keeps the table's order (Array.sort is stable). */}
        {[...clients]
          .sort((a, b) => Number(b.installed) - Number(a.installed))
          .map((c) => (
            <ClientRow
              key={c.id}
              client={c}
              offered={offered}
              profiles={profiles}
              busy={busy[c.id] ?? null}
              notice={notices[c.id] ?? null}
              onAction={(a) => void act(c, a)}
              onDismiss={() => setNotice(c.id, null)}
            />
          ))}
      </ul>
    );
  }

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Connect a client</h1>
          <p class="page-sub">
            Wire Loopgate into the AI apps on this computer, and they all get every tool from one place. Each app gets its own access
            token.
          </p>
        </div>
      </div>

      <section class="card" aria-labelledby="clients-h">
        <div class="card-head">
          <div>
            <h2 id="clients-h" class="card-title">
              Apps on this computer
            </h2>
            <p class="card-sub" data-testid="clients-summary">
              {clients
                ? `${plural(detected, 'app')} detected · ${wired === 0 ? 'none' : wired} connected to Loopgate`
                : error
                  ? 'Couldn’t look for them just now'
                  : 'Looking for AI apps…'}
            </p>
          </div>
          <button
            type="button"
            class="btn btn-ghost btn-sm"
            onClick={() => !checking && void recheck()}
            disabled={clients === null}
            aria-busy={checking || undefined}
            title="Look for the apps and their config files again"
          >
            {checking ? <Spinner size={12} /> : <IconRestart size={14} />} Check again
          </button>
        </div>
        {list}
        {error && clients && (
          <div class="alert alert-danger clients-refresh-error" role="alert">
            <IconAlert size={16} />
            <div class="alert-text">Couldn’t refresh the list: {error}</div>
          </div>
        )}
        <p class="client-foot">
          <IconInfo size={13} />
          <span>
            Install adds one <code>loopgate</code> entry to the app’s MCP config and keeps everything else in it; the previous file is
            backed up next to it first. Not found means the app’s config folder isn’t there yet — installing creates the file.
            Run <code>loopgate client doctor</code> to check each app’s entry, token and connection.
          </span>
        </p>
      </section>

      <OtherClients
        mcpUrl={snippets?.mcpUrl ?? info?.mcpUrl ?? null}
        stdioCommand={snippets?.stdioCommand ?? (error ? 'loopgate connect' : null)}
      />
    </div>
  );
}

function ClientRow(props: {
  client: ClientState;
  /** How many tools the gateway offers now (to compare with the client's limit). */
  offered: number | null;
  /** The profiles, once read: which one the client sees and how many tools that is. */
  profiles: ProfilesView | null;
  busy: Action | null;
  notice: Notice | null;
  onAction: (a: Action) => void;
  onDismiss: () => void;
}) {
  const { client: c, busy, notice } = props;
  const isWired = c.wired === true;
  const bound = props.profiles?.clientProfiles[c.id] ?? null;
  const boundView = bound ? props.profiles?.profiles.find((p) => p.name === bound) : undefined;
  // What this client gets: its profile's tools, or everything.
  const sees = boundView ? boundView.cost.toolCount : (props.profiles?.everything.toolCount ?? props.offered);
  const [binding, setBinding] = useState<string | null>(null);
  const [bindError, setBindError] = useState<string | null>(null);
  const rebind = async (profile: string | null) => {
    setBinding(profile ?? '');
    setBindError(null);
    try {
      await bindClient(c.id, profile);
      // A stdio entry names its profile in its command line: write it again.
      if (c.transport === 'stdio' && isWired) await api.setClientWired(c.id, true);
    } catch (e) {
      setBindError((e as Error).message);
    } finally {
      setBinding(null);
    }
  };
  return (
    <li
      class={`client-row${isWired ? ' is-wired' : ''}${c.installed ? '' : ' is-missing'}`}
      data-testid={`client-row-${c.id}`}
      data-installed={c.installed}
      data-wired={String(c.wired)}
      data-config-path={c.configPath ?? undefined}
    >
      <span class="client-mark" aria-hidden="true">
        {monogram(c.name)}
      </span>
      <div class="cr-main">
        <div class="cr-title">
          <h3 class="cr-name">{c.name}</h3>
          {c.installed ? (
            <span class="badge badge-detected" title={c.detectedBy ? `Found: ${c.detectedBy}` : `${c.name}’s config was found on this computer`}>
              <IconCheck size={11} />
              Detected
            </span>
          ) : (
            <span class="badge badge-off" title={`No ${c.name} config on this computer yet — installing creates it`}>
              Not found
            </span>
          )}
          <span
            class="badge badge-transport"
            title={c.transport === 'http' ? 'Connects over Streamable HTTP with its own access token' : 'Starts `loopgate connect` (stdio)'}
          >
            {c.transport === 'http' ? <IconGlobe size={12} /> : <IconTerminal size={12} />}
            {c.transport === 'http' ? 'HTTP' : 'stdio'}
          </span>
          {c.toolLimit != null && sees !== null && sees > c.toolLimit && (
            <span
              class="badge badge-limit"
              data-testid={`client-limit-${c.id}`}
              title={`${c.name} takes at most ${c.toolLimit} tools per request; ${bound ? `the profile “${bound}” gives it` : 'Loopgate offers'} ${sees}. Bind it to a smaller profile, or turn on search mode for the profile.`}
            >
              <IconAlert size={11} />
              {c.toolLimit}-tool limit
            </span>
          )}
        </div>
        {isWired && props.profiles && (
          <div class="cr-profile">
            <label>
              Sees{' '}
              <select
                data-testid={`client-profile-select-${c.id}`}
                value={bound ?? ''}
                disabled={binding !== null}
                onChange={(e) => void rebind((e.currentTarget as HTMLSelectElement).value || null)}
              >
                <option value="">every server</option>
                {props.profiles.profiles.map((p) => (
                  <option key={p.name} value={p.name}>
                    profile {p.name}
                  </option>
                ))}
              </select>
            </label>
            {sees !== null && (
              <span class="cr-count" data-testid={`client-count-${c.id}`} data-count={sees} data-limit={c.toolLimit ?? undefined}>
                {c.toolLimit != null ? `${sees} of the ${c.toolLimit} tools it takes` : plural(sees, 'tool')}
              </span>
            )}
            {binding !== null && <Spinner size={12} />}
            {bindError && (
              <span class="cr-bind-error" role="alert">
                {bindError}
              </span>
            )}
          </div>
        )}
        {c.configPath !== null ? (
          <div class="cr-path">
            <code title={c.configPath}>{c.configPath}</code>
            <CopyButton text={c.configPath} label={`Copy the path of ${c.name}’s config`} compact />
          </div>
        ) : (
          <div class="cr-path muted">No config location — this account has no home directory.</div>
        )}
      </div>
      <div class="cr-status">
        <WiredPill client={c} />
      </div>
      <div class="cr-actions">
        {/* One button that changes role, so keyboard focus stays put after an action (and never
            `disabled` while busy, which would drop the focus). */}
        <button
          type="button"
          class={`btn cr-button${isWired ? ' btn-danger-ghost' : c.installed && c.wired === false ? ' btn-primary' : ''}`}
          disabled={c.configPath === null}
          aria-disabled={busy !== null || undefined}
          aria-busy={busy !== null || undefined}
          aria-label={isWired ? `Remove Loopgate from ${c.name}` : `Install Loopgate in ${c.name}`}
          title={
            isWired
              ? `Take Loopgate out of ${c.name}’s config and revoke its token`
              : c.installed
                ? `Add Loopgate to ${c.name}’s config`
                : `Create ${c.name}’s config with Loopgate in it`
          }
          data-testid={isWired ? `client-remove-${c.id}` : `client-install-${c.id}`}
          onClick={() => {
            if (busy === null) props.onAction(isWired ? 'uninstall' : 'install');
          }}
        >
          {busy !== null ? <Spinner size={13} /> : isWired ? <IconTrash size={15} /> : <IconPlug size={15} />}
          {busy === 'install' ? 'Installing…' : busy === 'uninstall' ? 'Removing…' : isWired ? 'Remove' : 'Install'}
        </button>
      </div>
      <div class="cr-notice-slot" aria-live="polite" data-testid={`client-notice-${c.id}`}>
        {notice && (
          <div class={`cr-notice is-${notice.kind}`} data-kind={notice.kind}>
            {notice.kind === 'error' ? <IconAlert size={15} /> : notice.kind === 'ok' ? <IconCheck size={15} /> : <IconInfo size={15} />}
            <div class="cr-notice-body">
              <div>
                <strong>{notice.title}</strong>
                {notice.text && notice.kind !== 'error' && <> — {notice.text}</>}
              </div>
              {notice.text && notice.kind === 'error' && <div class="cr-notice-error">{notice.text}</div>}
              {notice.backup && (
                <div class="cr-backup">
                  <span>The previous file is saved as</span>
                  <code data-testid={`client-backup-${c.id}`}>{notice.backup}</code>
                  <CopyButton text={notice.backup} label="Copy the backup’s path" compact />
                </div>
              )}
            </div>
            <button type="button" class="btn btn-ghost btn-icon btn-sm" aria-label="Dismiss" onClick={props.onDismiss}>
              <IconX size={14} />
            </button>
          </div>
        )}
      </div>
    </li>
  );
}

function WiredPill({ client: c }: { client: ClientState }) {
  const common = { 'data-testid': `client-status-${c.id}`, 'data-wired': String(c.wired) };
  if (c.wired === true) {
    return (
      <span class="state-pill state-ready" {...common}>
        <span class="dot dot-ready" aria-hidden="true" />
        Connected
      </span>
    );
  }
  if (c.wired === null && c.configPath !== null) {
    return (
      <span class="state-pill state-degraded" title="Its config file exists but isn’t plain JSON, so Loopgate can’t tell" {...common}>
        <IconAlert size={12} />
        Can’t read config
      </span>
    );
  }
  return (
    <span class="state-pill state-disabled" {...common}>
      <span class="dot dot-disabled" aria-hidden="true" />
      Not connected
    </span>
  );
}

// ---- any other client ---------------------------------------------------------------------------

function OtherClients({ mcpUrl, stdioCommand }: { mcpUrl: string | null; stdioCommand: string | null }) {
  const header = 'Authorization: Bearer <your token>';
  return (
    <section class="card" aria-labelledby="other-h">
      <div class="card-head">
        <div>
          <h2 id="other-h" class="card-title">
            Any other client
          </h2>
          <p class="card-sub">Set Loopgate up by hand in any MCP client — one entry instead of one per server.</p>
        </div>
      </div>

      <div class="snippet" data-testid="snippet-http">
        <div class="snippet-intro">
          <span class="snippet-icon" aria-hidden="true">
            <IconGlobe size={17} />
          </span>
          <div>
            <h3 class="snippet-title">Streamable HTTP</h3>
            <p class="snippet-sub">For clients that take a server URL. Works with most of them.</p>
          </div>
        </div>
        <div class="snippet-body">
          <SnippetLine label="URL" value={mcpUrl} testId="snippet-url" />
          <SnippetLine label="Header" value={header} testId="snippet-header" />
          <p class="snippet-note">
            <IconInfo size={13} />
            <span>
              Run <code>loopgate token</code> to print the token, and put it in place of <code>&lt;your token&gt;</code>.
            </span>
            <CopyButton text="loopgate token" label="Copy command" compact />
          </p>
          <div class="snippet-json">
            <div class="snippet-label">As JSON, for clients with an mcpServers file</div>
            {mcpUrl ? (
              <RawJson
                value={{ mcpServers: { loopgate: { url: mcpUrl, headers: { Authorization: 'Bearer <token>' } } } }}
                testId="snippet-http-json"
              />
            ) : (
              <Skeleton height={96} />
            )}
          </div>
        </div>
      </div>

      <div class="snippet" data-testid="snippet-stdio">
        <div class="snippet-intro">
          <span class="snippet-icon" aria-hidden="true">
            <IconTerminal size={17} />
          </span>
          <div>
            <h3 class="snippet-title">stdio</h3>
            <p class="snippet-sub">For clients that can only start a local command. It bridges to the running gateway and finds the token by itself.</p>
          </div>
        </div>
        <div class="snippet-body">
          <SnippetLine label="Command" value={stdioCommand} testId="snippet-command" />
        </div>
      </div>
    </section>
  );
}

function SnippetLine({ label, value, testId }: { label: string; value: string | null; testId: string }) {
  return (
    <div class="snippet-field">
      <div class="snippet-label">{label}</div>
      {value === null ? (
        <Skeleton height={34} />
      ) : (
        <span class="code-line">
          <code data-testid={testId}>{value}</code>
          <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} compact />
        </span>
      )}
    </div>
  );
}
