// The "Resources" and "Prompts" cards of a server's page (GET /api/servers/{name}/catalog for
// what it offers; reads, completions, subscriptions and prompts/get through the dashboard's MCP
// client). Resources: read one (text, image preview), subscribe and watch updates. Templates:
// fill the variables (with the server's completions when it offers them) and read the URI.
// Prompts: fill the arguments and see the messages prompts/get returns.

import { useEffect, useState } from 'preact/hooks';
import { api, type Server } from '../../api';
import { PromptMessages, ResourceContents, ResultFrame } from '../../components/playground/result-view';
import { Spinner } from '../../components/ui';
import { expandTemplate, templateVariables } from '../../lib/uri-template';
import { mcp, mcpErrorText } from '../../mcp';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

type Read = { uri: string; result?: Any; error?: string } | null;

/** An input with the server's completions for it (completion/complete) as a datalist. */
function CompletingInput(props: { id: string; value: string; onInput: (v: string) => void; complete: ((v: string) => Promise<string[]>) | null; testId: string }) {
  const [options, setOptions] = useState<string[]>([]);
  useEffect(() => {
    if (!props.complete) return;
    let alive = true;
    const t = setTimeout(() => props.complete!(props.value).then((o) => alive && setOptions(o)).catch(() => {}), 150);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [props.value]);
  return (
    <>
      <input class="input" id={props.id} list={`${props.id}-list`} data-testid={props.testId} value={props.value} onInput={(e) => props.onInput((e.target as HTMLInputElement).value)} />
      <datalist id={`${props.id}-list`} data-testid={`${props.testId}-options`}>
        {options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </>
  );
}

function ReadView({ read }: { read: Read }) {
  if (!read) return null;
  if (read.error) {
    return (
      <ResultFrame raw={{ error: read.error }} error testId="pg-read-result">
        <p class="pg-error-note">{read.error}</p>
      </ResultFrame>
    );
  }
  return (
    <ResultFrame raw={read.result} testId="pg-read-result" meta={<code>{read.uri}</code>}>
      {(read.result?.contents ?? []).map((c: Any, i: number) => (
        <ResourceContents key={i} c={c} />
      ))}
    </ResultFrame>
  );
}

export function ResourcesSection({ server }: { server: Server }) {
  const [catalog, setCatalog] = useState<Any | null>(null);
  const [read, setRead] = useState<Read>(null);
  const [busy, setBusy] = useState(false);
  const [vars, setVars] = useState<Record<string, Record<string, string>>>({});
  const [watching, setWatching] = useState<Record<string, number>>({});
  const [promptArgs, setPromptArgs] = useState<Record<string, Record<string, string>>>({});
  const [prompt, setPrompt] = useState<{ name: string; result?: Any; error?: string } | null>(null);

  useEffect(() => {
    let alive = true;
    api.serverCatalog(server.name).then((c) => alive && setCatalog(c)).catch(() => alive && setCatalog(null));
    return () => {
      alive = false;
    };
  }, [server.name, server.state]);

  // Resource updates of subscribed URIs: count them and read the resource again.
  useEffect(() => {
    let off = () => {};
    void mcp().then((c) => {
      c.setNotificationHandler('notifications/resources/updated', (n: Any) => {
        const uri = n.params?.uri;
        setWatching((w) => (uri in w ? { ...w, [uri]: w[uri] + 1 } : w));
        setRead((r) => (r && r.uri === uri ? { ...r } : r));
      });
      off = () => c.removeNotificationHandler('notifications/resources/updated');
    }).catch(() => {});
    return () => off();
  }, []);

  const doRead = async (uri: string) => {
    setBusy(true);
    try {
      const c = await mcp();
      setRead({ uri, result: await c.readResource({ uri }) });
    } catch (e) {
      setRead({ uri, error: mcpErrorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const toggleWatch = async (uri: string) => {
    try {
      const c = await mcp();
      if (uri in watching) {
        await c.unsubscribeResource({ uri });
        setWatching((w) => Object.fromEntries(Object.entries(w).filter(([k]) => k !== uri)));
      } else {
        await c.subscribeResource({ uri });
        setWatching((w) => ({ ...w, [uri]: 0 }));
      }
    } catch (e) {
      setRead({ uri, error: mcpErrorText(e) });
    }
  };
  const completer = (ref: Any, name: string, context: Record<string, string>) =>
    catalog?.completions
      ? async (value: string) => {
          const c = await mcp();
          const r = await c.complete({ ref, argument: { name, value }, context: { arguments: context } });
          return r.completion?.values ?? [];
        }
      : null;
  const getPrompt = async (name: string, args: Record<string, string>) => {
    try {
      const c = await mcp();
      const filled = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== ''));
      setPrompt({ name, result: await c.getPrompt({ name, arguments: filled }) });
    } catch (e) {
      setPrompt({ name, error: mcpErrorText(e) });
    }
  };

  if (!catalog) return null;
  const { resources = [], resourceTemplates = [], prompts = [] } = catalog;
  return (
    <>
      {(resources.length > 0 || resourceTemplates.length > 0) && (
        <section class="card" aria-labelledby="res-h" data-testid="resources-section">
          <div class="card-head">
            <div>
              <h2 id="res-h" class="card-title">
                Resources
              </h2>
              <p class="card-sub">
                Read what the server offers{catalog.subscribe ? '; watch a resource to be told when it changes' : ''}.
              </p>
            </div>
            {busy && <Spinner size={14} />}
          </div>
          <ul class="pg-list">
            {resources.map((r: Any) => (
              <li key={r.uri} class="pg-item" data-testid={`resource-${r.uri}`}>
                <div class="pg-item-main">
                  <strong>{r.title ?? r.name}</strong> <code>{r.uri}</code> {r.mimeType && <span class="chip">{r.mimeType}</span>}
                  {r.description && <div class="muted">{r.description}</div>}
                </div>
                <button type="button" class="btn btn-sm" onClick={() => void doRead(r.uri)}>
                  Read
                </button>
                {catalog.subscribe && (
                  <button type="button" class="btn btn-sm btn-ghost" aria-pressed={r.uri in watching} onClick={() => void toggleWatch(r.uri)}>
                    {r.uri in watching ? `Watching · ${watching[r.uri]} updates` : 'Watch'}
                  </button>
                )}
              </li>
            ))}
            {resourceTemplates.map((t: Any) => {
              const names = templateVariables(t.uriTemplate);
              const v = vars[t.uriTemplate] ?? {};
              const uri = expandTemplate(t.uriTemplate, v);
              return (
                <li key={t.uriTemplate} class="pg-item pg-template" data-testid={`template-${t.uriTemplate}`}>
                  <div class="pg-item-main">
                    <strong>{t.title ?? t.name}</strong> <code>{t.uriTemplate}</code> <span class="badge">template</span>
                    {t.description && <div class="muted">{t.description}</div>}
                    <div class="pg-vars">
                      {names.map((n) => (
                        <label key={n} class="pg-var">
                          <code>{n}</code>
                          <CompletingInput
                            id={`tv-${t.name}-${n}`}
                            testId={`template-var-${n}`}
                            value={v[n] ?? ''}
                            complete={completer({ type: 'ref/resource', uri: t.uriTemplate }, n, v)}
                            onInput={(x) => setVars({ ...vars, [t.uriTemplate]: { ...v, [n]: x } })}
                          />
                        </label>
                      ))}
                    </div>
                    <div class="muted">
                      URI: <code data-testid="template-uri">{uri}</code>
                    </div>
                  </div>
                  <button type="button" class="btn btn-sm" data-testid="template-read" disabled={names.some((n) => !v[n])} onClick={() => void doRead(uri)}>
                    Read
                  </button>
                </li>
              );
            })}
          </ul>
          <ReadView read={read} />
        </section>
      )}
      {prompts.length > 0 && (
        <section class="card" aria-labelledby="prompts-h" data-testid="prompts-section">
          <div class="card-head">
            <div>
              <h2 id="prompts-h" class="card-title">
                Prompts
              </h2>
              <p class="card-sub">Fill a prompt’s arguments and see the messages it gives a client.</p>
            </div>
          </div>
          <ul class="pg-list">
            {prompts.map((p: Any) => {
              const a = promptArgs[p.name] ?? {};
              const missing = (p.arguments ?? []).some((x: Any) => x.required && !a[x.name]);
              return (
                <li key={p.name} class="pg-item" data-testid={`prompt-${p.name}`}>
                  <div class="pg-item-main">
                    <strong>{p.title ?? p.name}</strong> <code>{p.name}</code>
                    {p.description && <div class="muted">{p.description}</div>}
                    <div class="pg-vars">
                      {(p.arguments ?? []).map((x: Any) => (
                        <label key={x.name} class="pg-var" title={x.description ?? ''}>
                          <code>{x.name}</code>
                          {x.required && <span class="req">*</span>}
                          <CompletingInput
                            id={`pa-${p.name}-${x.name}`}
                            testId={`prompt-arg-${x.name}`}
                            value={a[x.name] ?? ''}
                            complete={completer({ type: 'ref/prompt', name: p.name }, x.name, a)}
                            onInput={(v) => setPromptArgs({ ...promptArgs, [p.name]: { ...a, [x.name]: v } })}
                          />
                        </label>
                      ))}
                    </div>
                  </div>
                  <button type="button" class="btn btn-sm" data-testid="prompt-get" disabled={missing} onClick={() => void getPrompt(p.name, a)}>
                    Get
                  </button>
                </li>
              );
            })}
          </ul>
          {prompt &&
            (prompt.error ? (
              <ResultFrame raw={{ error: prompt.error }} error testId="pg-prompt-result">
                <p class="pg-error-note">{prompt.error}</p>
              </ResultFrame>
            ) : (
              <PromptMessages result={prompt.result} />
            ))}
        </section>
      )}
    </>
  );
}
