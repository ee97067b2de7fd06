import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ExposedTool } from '../api';
import { IconAlert, IconChevron, IconSearch, IconTool } from '../components/icons';
import { EmptyState, Skeleton, useTitle } from '../components/ui';
import { matches } from '../format';
import { href, navigate } from '../router';
import { useStore } from '../store';
import { SearchBox } from './server-detail';

export function ToolsPage({ initialQuery }: { initialQuery: string }) {
  useTitle('Tools');
  const { toolsVersion, servers } = useStore();
  const [tools, setTools] = useState<ExposedTool[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState(initialQuery);
  const [server, setServer] = useState<string>('');
  const wrap = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let alive = true;
    api
      .tools()
      .then((r) => {
        if (!alive) return;
        setTools(r.tools);
        setError(null);
      })
      .catch((e: ApiError) => {
        if (alive && !e.unauthorized) setError(e.message);
      });
    return () => {
      alive = false;
    };
  }, [toolsVersion, servers.map((s) => `${s.name}:${s.state}:${s.toolCount}`).join(',')]);

  // Keep the query in the URL so a search can be shared/reloaded, without adding history entries.
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

  const serverNames = useMemo(() => [...new Set((tools ?? []).map((t) => t.server))], [tools]);
  const shown = useMemo(
    () => (tools ?? []).filter((t) => (!server || t.server === server) && matches(query, t.name, t.server, t.originalName, t.description)),
    [tools, query, server],
  );

  let body: ComponentChildren;
  if (tools === null && error === null) {
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
  } else if (error !== null && tools === null) {
    body = (
      <EmptyState icon={<IconAlert size={24} />} title="Couldn’t load tools" tone="danger">
        <p>{error}</p>
      </EmptyState>
    );
  } else if ((tools ?? []).length === 0) {
    body = (
      <EmptyState
        icon={<IconTool size={26} />}
        title="No tools yet"
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
        title={query ? `No tools match “${query}”` : 'No tools on this server'}
        testId="tools-no-match"
        action={
          <button
            type="button"
            class="btn"
            onClick={() => {
              setQuery('');
              setServer('');
            }}
          >
            Clear filters
          </button>
        }
      >
        <p>Search looks at tool names, server names and descriptions. Tools you switched off aren’t listed here.</p>
      </EmptyState>
    );
  } else {
    body = (
      <ul class="tool-index" role="list" data-testid="tool-results">
        {shown.map((t) => (
          <li key={t.name} class="ti-row" data-testid={`tool-result-${t.name}`}>
            <a class="ti-link" href={href.server(t.server, t.originalName)}>
              <span class="ti-main">
                <span class="ti-name">
                  <code>
                    <Highlight text={t.name} query={query} />
                  </code>
                </span>
                {t.description && (
                  <span class="ti-desc">
                    <Highlight text={oneLine(t.description)} query={query} />
                  </span>
                )}
              </span>
              <span class="badge badge-server">
                <Highlight text={t.server} query={query} />
              </span>
              <IconChevron size={14} class="ti-chev" />
            </a>
          </li>
        ))}
      </ul>
    );
  }

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Tools</h1>
          <p class="page-sub">
            Every tool your AI clients see right now, across all servers
            {tools && (
              <>
                {' '}
                — <strong data-testid="tools-count">{tools.length}</strong> in total
              </>
            )}
            .
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
        </div>
        {tools && tools.length > 0 && (query || server) && shown.length > 0 && (
          <div class="result-count" role="status">
            {shown.length} of {tools.length} tools
          </div>
        )}
        {body}
      </div>
      <p class="footnote">
        Press <kbd>/</kbd> to search · <kbd>Enter</kbd> on a result opens it on its server’s page
      </p>
    </div>
  );
}

function oneLine(s: string): string {
  const l = s.trim().replace(/\s+/g, ' ');
  return l.length > 220 ? `${l.slice(0, 217)}…` : l;
}

/** Marks the parts of `text` that match a search term. */
function Highlight({ text, query }: { text: string; query: string }) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return <>{text}</>;
  const lower = text.toLowerCase();
  const marks = new Array<boolean>(text.length).fill(false);
  for (const t of terms) {
    let i = lower.indexOf(t);
    while (i !== -1) {
      for (let j = i; j < i + t.length; j++) marks[j] = true;
      i = lower.indexOf(t, i + t.length);
    }
  }
  const out: ComponentChildren[] = [];
  let i = 0;
  while (i < text.length) {
    const m = marks[i];
    let j = i;
    while (j < text.length && marks[j] === m) j++;
    const chunk = text.slice(i, j);
    out.push(m ? <mark key={i}>{chunk}</mark> : chunk);
    i = j;
  }
  return <>{out}</>;
}

export { navigate };
