import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ServerTool } from '../api';
import { IconAlert, IconChevron, IconSearch, IconTool } from '../components/icons';
import { EmptyState, Skeleton, Switch, useTitle } from '../components/ui';
import { oneLine } from '../lib/format';
import { highlightSegments, matches } from '../lib/search';
import { href } from '../router';
import { toast, toolsChanged, useStore } from '../store';
import { SearchBox } from '../components/search-box';

interface Row {
  server: string;
  tool: ServerTool;
}

type Show = 'all' | 'on' | 'off';

export function ToolsPage({ initialQuery }: { initialQuery: string }) {
  useTitle('Tools');
  const { toolsVersion, servers, toolCount } = useStore();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState(initialQuery);
  const [server, setServer] = useState<string>('');
  const [show, setShow] = useState<Show>('all');
  const [optimistic, setOptimistic] = useState<Record<string, boolean>>({});
  const wrap = useRef<HTMLDivElement>(null);

  // Every connected server's tools, including the ones switched off (GET /api/servers/{name}/tools).
  const connected = servers.filter((s) => s.state === 'ready' || s.state === 'degraded');
  const key = connected.map((s) => `${s.name}:${s.state}:${s.toolCount}:${(s.config?.disabledTools ?? []).join(',')}`).join('|');
  const load = async (isAlive: () => boolean) => {
    try {
      const lists = await Promise.all(
        connected.map(async (s) => {
          try {
            return (await api.serverTools(s.name)).map((tool) => ({ server: s.name, tool }));
          } catch (e) {
            if ((e as ApiError).status === 404) return []; // removed meanwhile
            throw e;
          }
        }),
      );
      if (!isAlive()) return;
      setRows(lists.flat());
      setError(null);
    } catch (e) {
      if (isAlive() && !(e as ApiError).unauthorized) setError((e as Error).message);
    }
  };
  useEffect(() => {
    let alive = true;
    void load(() => alive);
    return () => {
      alive = false;
    };
  }, [toolsVersion, key]);

  // Keep the query in the URL so a search survives a reload, without adding history entries.
  useEffect(() => {
    const want = href.tools(query);
    if (location.hash !== want) history.replaceState(null, '', want);
  }, [query]);

  // "/" focuses the search box from anywhere on the page.
  useEffect(() => {
    const fn = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) && !t.isContentEditable) {
        e.preventDefault();
        wrap.current?.querySelector('input')?.focus();
      }
    };
    window.addEventListener('keydown', fn);
    return () => window.removeEventListener('keydown', fn);
  }, []);

  const isOn = (r: Row) => optimistic[r.tool.name] ?? r.tool.enabled;
  const serverNames = useMemo(() => [...new Set((rows ?? []).map((r) => r.server))], [rows]);
  const offCount = (rows ?? []).filter((r) => !isOn(r)).length;
  const shown = useMemo(
    () =>
      (rows ?? []).filter(
        (r) =>
          (!server || r.server === server) &&
          (show === 'all' || (show === 'on') === isOn(r)) &&
          matches(query, r.tool.name, r.server, r.tool.originalName, r.tool.title, r.tool.description),
      ),
    [rows, query, server, show, optimistic],
  );

  const toggle = async (r: Row, on: boolean) => {
    setOptimistic((o) => ({ ...o, [r.tool.name]: on }));
    try {
      await api.setToolEnabled(r.server, r.tool.originalName, on);
      await load(() => true);
      toolsChanged();
    } catch (e) {
      if (!(e as ApiError).unauthorized) toast(`Could not switch ${r.tool.name} ${on ? 'on' : 'off'}: ${(e as Error).message}`);
    } finally {
      setOptimistic((o) => {
        const n = { ...o };
        delete n[r.tool.name];
        return n;
      });
    }
  };

  let body: ComponentChildren;
  if (rows === null && error === null) {
    body = (
      <ul class="tool-index" aria-busy="true">
        {[0, 1, 2, 3, 4].map((i) => (
          <li key={i} class="ti-row skeleton-row">
            <Skeleton width="30%" />
            <Skeleton width="60%" height={12} />
          </li>
        ))}
      </ul>
    );
  } else if (error !== null && rows === null) {
    body = (
      <EmptyState icon={<IconAlert size={24} />} title="Couldn’t load tools" tone="danger">
        <p>{error}</p>
      </EmptyState>
    );
  } else if ((rows ?? []).length === 0) {
    body = (
      <EmptyState
        icon={<IconTool size={26} />}
        title="No tools yet"
        testId="tools-empty"
        action={
          <a class="btn btn-primary" href={servers.length ? href.servers() : href.add()}>
            {servers.length ? 'Check your servers' : 'Add a server'}
          </a>
        }
      >
        <p>Tools appear here once a server is switched on and connected.</p>
      </EmptyState>
    );
  } else if (shown.length === 0) {
    body = (
      <EmptyState
        icon={<IconSearch size={24} />}
        title={query ? `No tools match “${query}”` : 'No tools match these filters'}
        testId="tools-no-match"
        action={
          <button
            type="button"
            class="btn"
            onClick={() => {
              setQuery('');
              setServer('');
              setShow('all');
            }}
          >
            Clear filters
          </button>
        }
      >
        <p>Search looks at tool names, server names and descriptions.</p>
      </EmptyState>
    );
  } else {
    body = (
      <ul class="tool-index" role="list" data-testid="tool-results">
        {shown.map((r) => {
          const on = isOn(r);
          return (
            <li key={r.tool.name} class={`ti-row${on ? '' : ' is-off'}`} data-testid={`tool-result-${r.tool.name}`} data-enabled={on}>
              <a class="ti-link" href={href.server(r.server, r.tool.originalName)}>
                <span class="ti-main">
                  <span class="ti-name">
                    <code>
                      <Highlight text={r.tool.name} query={query} />
                    </code>
                    {!on && <span class="badge badge-off">off</span>}
                  </span>
                  {r.tool.description && (
                    <span class="ti-desc">
                      <Highlight text={oneLine(r.tool.description)} query={query} />
                    </span>
                  )}
                </span>
                <span class="badge badge-server">
                  <Highlight text={r.server} query={query} />
                </span>
                <IconChevron size={14} class="ti-chev" />
              </a>
              {on && (
                <a class="btn btn-sm" href={href.play(r.server, r.tool.originalName)} data-testid={`tool-run-${r.tool.name}`} title="Run it in the playground">
                  Run
                </a>
              )}
              <Switch
                size="sm"
                checked={on}
                busy={r.tool.name in optimistic}
                label={`Tool ${r.tool.name} enabled`}
                title={on ? 'Hide this tool from clients' : 'Offer this tool to clients'}
                testId={`tools-switch-${r.tool.name}`}
                onChange={(next) => void toggle(r, next)}
              />
            </li>
          );
        })}
      </ul>
    );
  }

  const total = rows?.length ?? 0;
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Tools</h1>
          <p class="page-sub">
            Every tool of every connected server.{' '}
            {toolCount !== null && (
              <>
                Your clients see <strong data-testid="tools-count">{toolCount}</strong>
                {offCount > 0 && <> — {offCount} switched off</>}.
              </>
            )}
          </p>
        </div>
      </div>
      <div class="card">
        <div class="tools-filter" ref={wrap}>
          <SearchBox value={query} onInput={setQuery} label="Search tools by name, server or description" testId="tools-search" autoFocus big />
          {serverNames.length > 1 && (
            <select
              class="select"
              value={server}
              aria-label="Filter by server"
              data-testid="tools-server-filter"
              onChange={(e) => setServer((e.target as HTMLSelectElement).value)}
            >
              <option value="">All servers</option>
              {serverNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
          {offCount > 0 && (
            <div class="segmented segmented-lg" role="group" aria-label="Show">
              {(['all', 'on', 'off'] as Show[]).map((v) => (
                <button key={v} type="button" class={show === v ? 'is-on' : ''} aria-pressed={show === v} onClick={() => setShow(v)}>
                  {v === 'all' ? 'All' : v === 'on' ? 'On' : 'Off'}
                </button>
              ))}
            </div>
          )}
        </div>
        {rows && total > 0 && (query || server || show !== 'all') && shown.length > 0 && (
          <div class="result-count" role="status">
            {shown.length} of {total} tools
          </div>
        )}
        {body}
      </div>
      <p class="footnote">
        Press <kbd>/</kbd> to search · <kbd>Enter</kbd> on a result opens it on its server’s page · <strong>Run</strong> opens it in the
        playground · switched-off tools stay hidden from clients
      </p>
    </div>
  );
}

/** Marks the parts of `text` that match a search term. */
function Highlight({ text, query }: { text: string; query: string }) {
  return <>{highlightSegments(text, query).map((seg, i) => (seg.mark ? <mark key={i}>{seg.text}</mark> : seg.text))}</>;
}
