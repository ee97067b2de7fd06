// The "Tools" card of a server's page: fetches the server's tools (again whenever its state, tool
// count, disabled tools or the global tools version change), filters them, switches single tools
// on and off (optimistically), and opens and scrolls to a tool named in the URL.

import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Server, type ServerTool } from '../../api';
import { IconAlert, IconSearch, IconTool } from '../../components/icons';
import { SearchBox } from '../../components/search-box';
import { EmptyState, Skeleton, Spinner } from '../../components/ui';
import { matches } from '../../lib/search';
import { toast, toolsChanged, useStore } from '../../store';
import { ToolRow } from './tool-row';

export function ToolsSection({ server, focusTool }: { server: Server; focusTool: string | null }) {
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
