import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type LogLine, type Server, type ServerTool } from '../api';
import {
  IconAlert,
  IconBack,
  IconChevron,
  IconEdit,
  IconGlobe,
  IconRestart,
  IconSearch,
  IconServer,
  IconTerminal,
  IconTool,
  IconTrash,
  IconX,
} from '../components/icons';
import { SchemaView } from '../components/schema';
import { ConfirmDialog, CopyButton, EmptyState, SecretBadge, Skeleton, Spinner, StatePill, StatusDot, Switch, useNow, useTitle } from '../components/ui';
import { commandLine } from '../lib/command-line';
import { clockTime, duration, firstLine, plural, shortId } from '../lib/format';
import { logsText, sameLogs } from '../lib/logs';
import { matches } from '../lib/search';
import { secretRef } from '../lib/secrets';
import { effectiveEnabled } from '../lib/servers';
import { href, navigate } from '../router';
import { cancelSignIn, removeServer, restartServer, setServerEnabled, signIn, signOut, toast, toolsChanged, useStore } from '../store';

export function ServerDetailPage({ name, focusTool }: { name: string; focusTool: string | null }) {
  const { servers, pending } = useStore();
  const server = servers.find((s) => s.name === name);
  useTitle(name);
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);

  if (!server) {
    return (
      <div class="page">
        <BackLink />
        <div class="card">
          <EmptyState
            icon={<IconServer size={28} />}
            title={`No server named “${name}”`}
            testId="server-missing"
            action={
              <a class="btn btn-primary" href={href.servers()}>
                Back to servers
              </a>
            }
          >
            <p>It may have been removed or renamed in the config file.</p>
          </EmptyState>
        </div>
      </div>
    );
  }

  const on = effectiveEnabled(server, pending);
  const busy = server.name in pending;

  return (
    <div class="page" data-testid="server-detail">
      <BackLink />
      <div class="detail-head">
        <div class="detail-title">
          <StatusDot state={server.state} />
          <h1 tabIndex={-1}>{server.name}</h1>
          <StatePill state={server.state} testId={`detail-state-${server.name}`} />
          <span class="badge badge-transport">
            {server.transport === 'http' ? <IconGlobe size={12} /> : <IconTerminal size={12} />}
            {server.transport === 'http' ? 'HTTP' : 'stdio'}
          </span>
        </div>
        <div class="detail-actions">
          <label class="switch-label">
            <Switch
              checked={on}
              busy={busy}
              label={`${server.name} enabled`}
              title={on ? 'Switch this server off' : 'Switch this server on'}
              testId={`server-switch-${server.name}`}
              onChange={(next) => void setServerEnabled(server.name, next)}
            />
            <span aria-hidden="true">{on ? 'On' : 'Off'}</span>
          </label>
          <button type="button" class="btn" disabled={!server.enabled} onClick={() => void restartServer(server.name)}>
            <IconRestart /> Restart
          </button>
          <a class="btn" href={href.edit(server.name)} data-testid="edit-server">
            <IconEdit /> Edit
          </a>
          <button type="button" class="btn btn-danger-ghost" onClick={() => setConfirming(true)} data-testid="remove-server">
            <IconTrash /> Remove
          </button>
        </div>
      </div>

      {server.lastError && (server.state === 'failed' || server.state === 'degraded' || server.state === 'starting') && (
        <div class={`alert ${server.state === 'starting' ? 'alert-warning' : 'alert-danger'}`} role="alert" data-testid="server-error">
          <IconAlert size={18} />
          <div>
            <div class="alert-title">
              {server.state === 'failed' ? 'Not connected' : server.state === 'degraded' ? 'Connected, but not working fully' : 'Retrying after an error'}
            </div>
            <div class="alert-text">{server.lastError}</div>
          </div>
        </div>
      )}

      {server.state === 'needs-sign-in' && (
        <div class="alert alert-warning" role="alert" data-testid="server-needs-sign-in">
          <IconAlert size={18} />
          <div>
            <div class="alert-title">{server.signIn?.pending ? 'Signing in…' : 'Sign-in needed'}</div>
            <div class="alert-text">
              {server.signIn?.pending
                ? 'Finish signing in in the browser tab; Loopgate connects as soon as you are back.'
                : server.signIn?.lastError ?? 'This server uses OAuth and has no valid sign-in. Tokens are kept in the OS keychain.'}
            </div>
            <div class="alert-actions">
              <button type="button" class="btn btn-primary btn-sm" onClick={() => void signIn(server.name)}>
                {server.signIn?.pending ? 'Open sign-in page' : 'Sign in'}
              </button>
              {server.signIn?.pending && (
                <button type="button" class="btn btn-ghost btn-sm" onClick={() => void cancelSignIn(server.name)}>
                  Cancel
                </button>
              )}
            </div>
          </div>
        </div>
      )}
      {server.signedIn && server.state !== 'needs-sign-in' && (
        <p class="footnote" data-testid="server-signed-in">
          Signed in with OAuth; tokens are in the OS keychain and refresh automatically.{' '}
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => void signOut(server.name)}>
            Sign out
          </button>
        </p>
      )}

      <Facts server={server} />
      <ToolsSection server={server} focusTool={focusTool} />
      <LogsSection server={server} />

      <ConfirmDialog
        open={confirming}
        title={`Remove ${server.name}?`}
        confirmLabel={removing ? 'Removing…' : 'Remove server'}
        danger
        busy={removing}
        onCancel={() => setConfirming(false)}
        onConfirm={async () => {
          setRemoving(true);
          const ok = await removeServer(server.name);
          setRemoving(false);
          setConfirming(false);
          if (ok) navigate(href.servers());
        }}
      >
        <p>
          Loopgate stops <strong>{server.name}</strong> and deletes it from the config file. Its {plural(server.toolCount, 'tool')}{' '}
          disappear from your clients.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function BackLink() {
  return (
    <a class="back-link" href={href.servers()}>
      <IconBack size={14} /> Servers
    </a>
  );
}

function Fact({ label, children, wide }: { label: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <div class={`fact${wide ? ' fact-wide' : ''}`}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function KeyValues({ values, empty }: { values: Record<string, string> | undefined; empty: string }) {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return <span class="muted">{empty}</span>;
  return (
    <ul class="kv-list" role="list">
      {entries.map(([k, v]) => {
        const secret = secretRef(v);
        return (
          <li key={k}>
            <code class="kv-key">{k}</code>
            {secret !== null ? <SecretBadge name={secret} /> : <code class="kv-val">{v}</code>}
          </li>
        );
      })}
    </ul>
  );
}

function Facts({ server: s }: { server: Server }) {
  const connected = s.connectedSinceMs !== null && (s.state === 'ready' || s.state === 'degraded');
  const now = useNow(1000, connected);
  const cfg = s.config ?? {};
  const shown = s.transport === 'stdio' && cfg.command ? commandLine(cfg.command, cfg.args) : s.target;
  const dash = <span class="muted">—</span>;

  return (
    <section class="card facts-card" aria-labelledby="facts-h">
      <h2 id="facts-h" class="card-title">
        Connection
      </h2>
      <dl class="facts">
        <Fact label={s.transport === 'http' ? 'URL' : 'Command'} wide>
          <span class="code-line">
            <code data-testid="server-target">{shown}</code>
            <CopyButton text={shown} label="Copy" compact />
          </span>
        </Fact>
        <Fact label="Protocol version">{s.protocolVersion ? <code>{s.protocolVersion}</code> : dash}</Fact>
        {s.transport === 'http' ? (
          <Fact label="Session">
            {s.sessionIssued === null ? (
              dash
            ) : s.sessionIssued ? (
              <span title={s.sessionId ?? undefined}>
                Session issued{s.sessionId && <code class="session-id"> {shortId(s.sessionId)}</code>}
              </span>
            ) : (
              'Stateless'
            )}
          </Fact>
        ) : (
          <Fact label="Process ID">{s.pid !== null ? <code>{s.pid}</code> : dash}</Fact>
        )}
        <Fact label="Connected for">
          {connected ? <span data-testid="uptime">{duration(now - (s.connectedSinceMs ?? now))}</span> : <span class="muted">Not connected</span>}
        </Fact>
        <Fact label="Restarts">{s.restarts}</Fact>
        {s.transport === 'http' && <Fact label="Re-initializations">{s.reinitializations}</Fact>}
        {s.transport === 'http' && s.pid !== null && <Fact label="Process ID">{s.pid}</Fact>}
        {s.transport === 'stdio' && cfg.cwd && (
          <Fact label="Working directory" wide>
            <code>{cfg.cwd}</code>
          </Fact>
        )}
        {s.transport === 'stdio' ? (
          <Fact label="Environment" wide>
            <KeyValues values={cfg.env} empty="No extra variables" />
          </Fact>
        ) : (
          <Fact label="Headers" wide>
            <KeyValues values={cfg.headers} empty="No extra headers" />
          </Fact>
        )}
      </dl>
    </section>
  );
}

// ---- tools -----------------------------------------------------------------------------------

function ToolsSection({ server, focusTool }: { server: Server; focusTool: string | null }) {
  const { toolsVersion } = useStore();
  const [tools, setTools] = useState<ServerTool[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<Set<string>>(() => new Set(focusTool ? [focusTool] : []));
  const [optimistic, setOptimistic] = useState<Record<string, boolean>>({});
  const scrolled = useRef(false);

  // Refetch whenever anything that changes the list changes.
  const refetchKey = [server.state, server.toolCount, (server.config?.disabledTools ?? []).join('\u0000'), toolsVersion].join('|');
  useEffect(() => {
    let alive = true;
    const t = setTimeout(
      () =>
        api
          .serverTools(server.name)
          .then((list) => {
            if (!alive) return;
            setTools(list);
            setError(null);
          })
          .catch((e: ApiError) => {
            if (!alive || e.unauthorized) return;
            setError(e.message);
          }),
      tools === null ? 0 : 150,
    );
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [server.name, refetchKey]);

  // Open the tool named in the URL (from the Tools page) and bring it into view.
  useEffect(() => {
    if (!focusTool || !tools || scrolled.current) return;
    scrolled.current = true;
    requestAnimationFrame(() => {
      document.querySelector(`[data-testid="tool-row-${CSS.escape(focusTool)}"]`)?.scrollIntoView({ block: 'center' });
    });
  }, [focusTool, tools]);

  const shown = useMemo(
    () => (tools ?? []).filter((t) => matches(query, t.originalName, t.name, t.title, t.description)),
    [tools, query],
  );
  const enabledCount = (tools ?? []).filter((t) => optimistic[t.originalName] ?? t.enabled).length;

  const toggle = async (tool: ServerTool, on: boolean) => {
    setOptimistic((o) => ({ ...o, [tool.originalName]: on }));
    try {
      await api.setToolEnabled(server.name, tool.originalName, on);
      const list = await api.serverTools(server.name);
      setTools(list);
      toolsChanged();
    } catch (e) {
      if (!(e as ApiError).unauthorized) toast(`Could not switch ${tool.originalName} ${on ? 'on' : 'off'}: ${(e as Error).message}`);
    } finally {
      setOptimistic((o) => {
        const n = { ...o };
        delete n[tool.originalName];
        return n;
      });
    }
  };

  let body: ComponentChildren;
  if (tools === null && error === null) {
    body = (
      <ul class="tool-list" aria-busy="true">
        {[0, 1, 2].map((i) => (
          <li key={i} class="tool-row skeleton-row">
            <Skeleton width="28%" height={14} />
            <Skeleton width="52%" height={12} />
          </li>
        ))}
      </ul>
    );
  } else if (error !== null && tools === null) {
    body = (
      <EmptyState icon={<IconAlert size={24} />} title="Couldn’t load the tools" tone="danger">
        <p>{error}</p>
      </EmptyState>
    );
  } else if ((tools ?? []).length === 0) {
    body =
      server.state === 'disabled' ? (
        <EmptyState icon={<IconTool size={24} />} title="This server is switched off">
          <p>Switch it on to connect and list its tools.</p>
        </EmptyState>
      ) : server.state === 'starting' ? (
        <EmptyState icon={<Spinner size={22} />} title="Connecting…">
          <p>Tools appear here as soon as the server finishes starting.</p>
        </EmptyState>
      ) : server.state === 'failed' ? (
        <EmptyState icon={<IconAlert size={24} />} title="Not connected" tone="danger">
          <p>Tools appear once the server connects. Check the error above and the logs below.</p>
        </EmptyState>
      ) : (
        <EmptyState icon={<IconTool size={24} />} title="No tools">
          <p>This server doesn’t offer any tools.</p>
        </EmptyState>
      );
  } else if (shown.length === 0) {
    body = (
      <EmptyState
        icon={<IconSearch size={24} />}
        title={`No tools match “${query}”`}
        action={
          <button type="button" class="btn" onClick={() => setQuery('')}>
            Clear search
          </button>
        }
      />
    );
  } else {
    body = (
      <ul class="tool-list" role="list">
        {shown.map((t) => (
          <ToolRow
            key={t.originalName}
            tool={t}
            enabled={optimistic[t.originalName] ?? t.enabled}
            busy={t.originalName in optimistic}
            serverOn={server.enabled}
            expanded={open.has(t.originalName)}
            onExpand={(x) =>
              setOpen((prev) => {
                const n = new Set(prev);
                if (x) n.add(t.originalName);
                else n.delete(t.originalName);
                return n;
              })
            }
            onToggle={(on) => void toggle(t, on)}
          />
        ))}
      </ul>
    );
  }

  return (
    <section class="card" aria-labelledby="tools-h">
      <div class="card-head">
        <div>
          <h2 id="tools-h" class="card-title">
            Tools
          </h2>
          {tools && tools.length > 0 && (
            <p class="card-sub">
              {enabledCount === tools.length ? `All ${tools.length} on` : `${enabledCount} of ${tools.length} on`} · clients see them as{' '}
              <code>{server.name}__…</code>
            </p>
          )}
        </div>
        {tools && tools.length > 0 && <SearchBox value={query} onInput={setQuery} label={`Search ${server.name}’s tools`} placeholder="Filter tools" testId="tool-search" />}
      </div>
      {body}
    </section>
  );
}

export function SearchBox(props: {
  value: string;
  onInput: (v: string) => void;
  label: string;
  placeholder?: string;
  testId?: string;
  autoFocus?: boolean;
  big?: boolean;
}) {
  return (
    <div class={`search${props.big ? ' search-big' : ''}`}>
      <IconSearch size={props.big ? 18 : 15} />
      <input
        type="search"
        value={props.value}
        placeholder={props.placeholder ?? props.label}
        aria-label={props.label}
        data-testid={props.testId}
        autoFocus={props.autoFocus}
        spellcheck={false}
        autoComplete="off"
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && props.value) {
            e.preventDefault();
            props.onInput('');
          }
        }}
      />
      {props.value && (
        <button type="button" class="btn btn-ghost btn-icon btn-sm search-clear" aria-label="Clear search" onClick={() => props.onInput('')}>
          <IconX size={14} />
        </button>
      )}
    </div>
  );
}

const annotationBadges: { key: string; label: string; tone: string; help: string }[] = [
  { key: 'readOnlyHint', label: 'read-only', tone: 'ok', help: 'Does not change anything' },
  { key: 'destructiveHint', label: 'destructive', tone: 'danger', help: 'May delete or overwrite data' },
  { key: 'idempotentHint', label: 'idempotent', tone: 'neutral', help: 'Repeating a call has no extra effect' },
  { key: 'openWorldHint', label: 'open world', tone: 'neutral', help: 'Talks to the outside world' },
];

function ToolRow(props: {
  tool: ServerTool;
  enabled: boolean;
  busy: boolean;
  serverOn: boolean;
  expanded: boolean;
  onExpand: (open: boolean) => void;
  onToggle: (on: boolean) => void;
}) {
  const { tool: t, enabled, expanded } = props;
  const id = `tool-panel-${t.originalName}`;
  const ann = t.annotations ?? {};
  const badges = annotationBadges.filter((b) => ann[b.key] === true);
  const title = t.title ?? (typeof ann.title === 'string' ? ann.title : null);

  return (
    <li class={`tool-row${expanded ? ' is-open' : ''}${enabled ? '' : ' is-off'}`} data-testid={`tool-row-${t.originalName}`} data-enabled={enabled}>
      <div class="tool-line">
        <button
          type="button"
          class="tool-toggle"
          aria-expanded={expanded}
          aria-controls={id}
          data-testid={`tool-toggle-${t.originalName}`}
          onClick={() => props.onExpand(!expanded)}
        >
          <IconChevron size={14} class="chev" />
          <span class="tool-names">
            <span class="tool-name">
              <code>{t.originalName}</code>
              {title && title !== t.originalName && <span class="tool-title">{title}</span>}
              {badges.map((b) => (
                <span key={b.key} class={`badge badge-ann tone-${b.tone}`} title={b.help}>
                  {b.label}
                </span>
              ))}
              {!enabled && <span class="badge badge-off">hidden from clients</span>}
            </span>
            {t.description && !expanded && <span class="tool-desc">{firstLine(t.description)}</span>}
          </span>
        </button>
        <Switch
          size="sm"
          checked={enabled}
          busy={props.busy}
          label={`Tool ${t.originalName} enabled`}
          title={enabled ? 'Hide this tool from clients' : 'Offer this tool to clients'}
          testId={`tool-switch-${t.originalName}`}
          onChange={props.onToggle}
        />
      </div>
      {expanded && (
        <div class="tool-panel" id={id}>
          <div class="tool-meta">
            <span class="muted">Clients call it</span> <code>{t.name}</code>
            <CopyButton text={t.name} label="Copy tool name" compact />
          </div>
          {t.description ? <p class="tool-fulldesc">{t.description}</p> : <p class="muted">No description.</p>}
          {t.annotations && Object.keys(t.annotations).length > 0 && (
            <div class="annotations">
              <h4 class="subhead">Annotations</h4>
              <dl class="ann-list">
                {Object.entries(t.annotations).map(([k, v]) => (
                  <div key={k} class="ann">
                    <dt>{k}</dt>
                    <dd>
                      <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                    </dd>
                  </div>
                ))}
              </dl>
            </div>
          )}
          <SchemaView schema={t.inputSchema} label="Input" testPrefix={`tool-${t.originalName}`} />
          {t.outputSchema && (
            <details class="output-schema">
              <summary>Output schema</summary>
              <SchemaView schema={t.outputSchema} label="Output" />
            </details>
          )}
        </div>
      )}
    </li>
  );
}

// ---- logs ------------------------------------------------------------------------------------

function LogsSection({ server }: { server: Server }) {
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout>;
    const load = async () => {
      if (document.visibilityState === 'visible') {
        try {
          const l = await api.serverLogs(server.name);
          if (!alive) return;
          setLines((prev) => (prev && sameLogs(prev, l) ? prev : l));
          setError(null);
        } catch (e) {
          if (alive && !(e as ApiError).unauthorized) setError((e as Error).message);
        }
      }
      if (alive) timer = setTimeout(load, 2000);
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [server.name]);

  // Follow new lines while the view is scrolled to the bottom.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const text = logsText(lines ?? []);

  return (
    <section class="card" aria-labelledby="logs-h">
      <div class="card-head">
        <div>
          <h2 id="logs-h" class="card-title">
            Logs
          </h2>
          <p class="card-sub">
            {server.transport === 'stdio' ? 'The server’s stderr and gateway events' : 'Gateway events for this server'}, newest last
          </p>
        </div>
        {lines && lines.length > 0 && <CopyButton text={text} label="Copy logs" />}
      </div>
      <div
        class="logs"
        ref={box}
        tabIndex={0}
        role="log"
        aria-label={`${server.name} logs`}
        data-testid="server-logs"
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines === null && !error && (
          <div class="logs-empty">
            <Spinner size={12} /> Loading logs…
          </div>
        )}
        {error && lines === null && <div class="logs-empty">Couldn’t load logs: {error}</div>}
        {lines && lines.length === 0 && <div class="logs-empty">No log lines yet.</div>}
        {lines?.map((l, i) => (
          <div key={i} class={`log-line src-${l.source}`}>
            <span class="log-ts">{clockTime(l.tsMs)}</span>
            <span class="log-src">{l.source}</span>
            <span class="log-text">{l.line}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
