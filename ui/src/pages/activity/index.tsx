// The Activity page (#/activity): every request and notification through the gateway, live
// (polled every second with ?after=), filtered by client, server, tool and outcome, with the
// per-server and per-tool figures of the last hour and one call's detail (#/activity?id=N).

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ActivityCall, type ActivityStats } from '../../api';
import { EmptyState, useTitle } from '../../components/ui';
import { IconInfo } from '../../components/icons';
import { activityQuery, callerLabel, formatDuration, outcomeLabel, type ActivityFilter } from '../../lib/activity';
import { href, navigate } from '../../router';
import { FiguresTable } from './charts';
import { CallDetail } from './detail';

const PAGE = 100;
const OUTCOMES = ['ok', 'failed', 'error', 'isError', 'timeout', 'cancelled'];

export function ActivityPage(props: { id: number | null } & Required<ActivityFilter>) {
  useTitle('Activity');
  const filter: ActivityFilter = { client: props.client, server: props.server, tool: props.tool, outcome: props.outcome };
  const key = JSON.stringify(filter);
  const [items, setItems] = useState<ActivityCall[] | null>(null);
  const [more, setMore] = useState(false);
  const [stats, setStats] = useState<ActivityStats | null>(null);
  const [meta, setMeta] = useState<{ enabled: boolean; dropped: number }>({ enabled: true, dropped: 0 });
  const last = useRef(0);

  const setFilter = (patch: ActivityFilter) => navigate(href.activity({ ...filter, ...patch }), true);

  // The first page, then every second what is new.
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout>;
    setItems(null);
    const poll = async () => {
      try {
        const page = await api.activity(activityQuery(filter, { after: last.current, limit: 500 }));
        if (!alive) return;
        if (page.items.length) {
          last.current = Math.max(last.current, ...page.items.map((c) => c.id));
          setItems((prev) => [...page.items.slice().reverse(), ...(prev ?? [])].slice(0, 2000));
        }
        setMeta({ enabled: page.enabled, dropped: page.dropped });
      } catch {
        /* the live indicator tells */
      }
      if (alive) timer = setTimeout(poll, 1000);
    };
    api
      .activity(activityQuery(filter, { limit: PAGE }))
      .then((page) => {
        if (!alive) return;
        setItems(page.items);
        setMore(page.items.length === PAGE);
        last.current = page.items.length ? page.items[0].id : page.lastId;
        setMeta({ enabled: page.enabled, dropped: page.dropped });
        timer = setTimeout(poll, 1000);
      })
      .catch(() => alive && setItems([]));
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [key]);

  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .activityStats()
        .then((s) => alive && setStats(s))
        .catch(() => {});
    void load();
    const t = setInterval(load, 10_000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, []);

  const older = async () => {
    const oldest = items?.[items.length - 1]?.id;
    if (!oldest) return;
    const page = await api.activity(activityQuery(filter, { before: oldest, limit: PAGE }));
    setItems((prev) => [...(prev ?? []), ...page.items]);
    setMore(page.items.length === PAGE);
  };

  const select = (name: keyof ActivityFilter, choices: string[], label: string, show: (v: string) => string = (v) => v) => (
    <label class="act-filter">
      <span>{label}</span>
      <select class="select" data-testid={`activity-filter-${name}`} value={filter[name] ?? ''} onChange={(e) => setFilter({ [name]: (e.target as HTMLSelectElement).value })}>
        <option value="">All</option>
        {[...new Set([...(filter[name] ? [filter[name]!] : []), ...choices])].map((c) => (
          <option key={c} value={c}>
            {show(c)}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div class="page activity-page" data-testid="activity-page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Activity</h1>
          <p class="page-sub">
            Every request and notification through Loopgate: who sent it, where it went, how it ended and how long it took. Calls are kept
            for 7 days or up to 100 MB (<code>gateway.activity</code> in the config), across restarts; request and response bodies of recent
            calls are kept with secrets masked. Click a call for its detail, or run a tool call again in the playground.
          </p>
        </div>
      </div>
      {!meta.enabled && (
        <div class="alert alert-warning" role="status">
          <IconInfo size={14} /> Recording is off (<code>"gateway": {'{'}"activity": {'{'}"enabled": false{'}}'}</code>); earlier calls are still shown.
        </div>
      )}
      {meta.dropped > 0 && <div class="alert alert-warning">{meta.dropped} calls were not recorded because the log fell behind.</div>}
      <section class="card" aria-labelledby="fig-h">
        <div class="card-head">
          <h2 id="fig-h" class="card-title">
            Last hour
          </h2>
        </div>
        <div class="act-figures">
          <div>
            <h3 class="subhead">Per server</h3>
            <FiguresTable rows={stats?.servers ?? []} kind="server" onPick={(server) => setFilter({ server })} />
          </div>
          <div>
            <h3 class="subhead">Per tool</h3>
            <FiguresTable rows={(stats?.tools ?? []).slice(0, 12)} kind="tool" onPick={(tool) => setFilter({ tool })} />
          </div>
        </div>
      </section>
      <section class="card" aria-labelledby="calls-h">
        <div class="card-head">
          <h2 id="calls-h" class="card-title">
            Calls <span class="live-dot" aria-hidden="true" />
          </h2>
          <div class="act-filters">
            {select('client', stats?.clients ?? [], 'Client', callerLabel)}
            {select('server', stats?.serverNames ?? [], 'Server')}
            {select('tool', stats?.targets ?? [], 'Tool')}
            {select('outcome', OUTCOMES, 'Outcome', (o) => (o === 'failed' ? 'Any failure' : outcomeLabel(o)))}
          </div>
        </div>
        {items === null ? (
          <p class="muted pg-empty">Loading…</p>
        ) : items.length === 0 ? (
          <EmptyState icon={<IconInfo size={22} />} title="No calls yet" testId="activity-empty">
            <p>Calls appear here the moment a client (or the playground) uses a server through Loopgate.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table class="act-table" data-testid="activity-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Client</th>
                  <th scope="col">Server</th>
                  <th scope="col">Method</th>
                  <th scope="col">Tool / prompt / URI</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr
                    key={c.id}
                    class={`act-row${props.id === c.id ? ' is-selected' : ''}`}
                    data-testid={`activity-row-${c.id}`}
                    data-target={c.target ?? ''}
                    data-outcome={c.outcome}
                    data-caller={c.caller}
                    tabIndex={0}
                    onClick={() => navigate(href.activity({ ...filter, id: c.id }), true)}
                    onKeyDown={(e) => e.key === 'Enter' && navigate(href.activity({ ...filter, id: c.id }), true)}
                  >
                    <td class="mono">{new Date(c.tsMs).toLocaleTimeString()}</td>
                    <td>{callerLabel(c.caller)}</td>
                    <td>{c.server ?? '—'}</td>
                    <td>
                      <code>{c.method}</code>
                    </td>
                    <td class="act-target">
                      <code>{c.target ?? ''}</code>
                    </td>
                    <td>
                      <span class={`badge outcome-${c.outcome}`}>{outcomeLabel(c.outcome)}</span>
                    </td>
                    <td class="mono">{c.kind === 'request' ? formatDuration(c.durationMs) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {more && (
          <button type="button" class="btn act-more" onClick={() => void older()}>
            Older calls
          </button>
        )}
      </section>
      {props.id !== null && <CallDetail id={props.id} onClose={() => navigate(href.activity(filter), true)} />}
    </div>
  );
}
