// The "Logs" card of a server's page: polls the server's log lines every 2 s while the tab is
// visible and follows new lines while scrolled to the bottom.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type LogLine, type Server } from '../../api';
import { CopyButton, Spinner } from '../../components/ui';
import { clockTime } from '../../lib/format';
import { logsText, sameLogs } from '../../lib/logs';

export function LogsSection({ server }: { server: Server }) {
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
