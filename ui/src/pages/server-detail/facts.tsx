// The "Connection" card of a server's page: command or URL, protocol version, session or process,
// uptime, restarts, working directory, and its environment variables or headers (secrets shown
// as badges, never their values).

import type { ComponentChildren } from 'preact';
import type { Server, ServerConfig } from '../../api';
import { CopyButton, SecretBadge, useNow } from '../../components/ui';
import { commandLine } from '../../lib/command-line';
import { duration, shortId } from '../../lib/format';
import { secretRef } from '../../lib/secrets';

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

export function Facts({ server: s }: { server: Server }) {
  const connected = s.connectedSinceMs !== null && (s.state === 'ready' || s.state === 'degraded');
  const now = useNow(1000, connected);
  const cfg: ServerConfig = s.config;
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
