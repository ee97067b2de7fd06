// The "Playground" card of a server's page: pick a tool, fill the form generated from its
// inputSchema (or write the arguments as raw JSON), Run it through the gateway as a client would
// (the dashboard's own MCP client, src/mcp.ts), watch progress, Cancel, and see the result as MCP
// defines it with its duration. Elicitations the tool raises are asked here.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type Server, type ServerTool } from '../../api';
import { Elicitations } from '../../components/playground/elicitation';
import { ResultFrame, ToolResult } from '../../components/playground/result-view';
import { Fields } from '../../components/playground/schema-form';
import { Spinner } from '../../components/ui';
import { formatDuration } from '../../lib/activity';
import { buildFields, initialValues, parseRawArguments, toArguments, type FormValue } from '../../lib/schema-form';
import { mcp, mcpErrorText, onNotice } from '../../mcp';
import { href } from '../../router';

interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

type Outcome = { kind: 'result'; result: unknown; ms: number } | { kind: 'error'; message: string; ms: number; cancelled: boolean };

export function PlaygroundSection({ server, initialTool, initialArgs }: { server: Server; initialTool: string | null; initialArgs: string | null }) {
  const [tools, setTools] = useState<ServerTool[] | null>(null);
  const [selected, setSelected] = useState<string>(initialTool ?? '');
  const [raw, setRaw] = useState(false);
  const [rawText, setRawText] = useState('{}');
  const [values, setValues] = useState<Record<string, FormValue>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [running, setRunning] = useState<{ started: number; progress: Progress | null } | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const card = useRef<HTMLElement>(null);

  useEffect(() => {
    let alive = true;
    api.serverTools(server.name).then((t) => alive && setTools(t)).catch(() => alive && setTools([]));
    return () => {
      alive = false;
    };
  }, [server.name, server.toolCount, server.state]);
  useEffect(() => onNotice(setNotice), []);

  // A recorded call names the tool as clients call it; the picker uses the server's name.
  useEffect(() => {
    const t = tools?.find((x) => x.name === selected && x.originalName !== selected);
    if (t) setSelected(t.originalName);
  }, [tools, selected]);
  const tool = tools?.find((t) => t.originalName === selected) ?? null;
  const fields = useMemo(() => buildFields(tool?.inputSchema), [tool]);
  // A new tool (or the arguments of a recorded call) fills the form.
  useEffect(() => {
    if (!tool) return;
    let prefill: Record<string, unknown> | undefined;
    const wanted = initialTool !== null && (tool.originalName === initialTool || tool.name === initialTool);
    if (initialArgs && wanted) {
      const p = parseRawArguments(initialArgs);
      if ('args' in p) prefill = p.args;
    }
    const v = initialValues(fields, prefill);
    setValues(v);
    setRawText(JSON.stringify(prefill ?? toArguments(fields, v).args, null, 2));
    setErrors({});
    setOutcome(null);
    if (wanted) card.current?.scrollIntoView({ block: 'start' });
  }, [tool?.name]);

  const switchMode = (toRaw: boolean) => {
    if (toRaw) setRawText(JSON.stringify(toArguments(fields, values).args, null, 2));
    else {
      const p = parseRawArguments(rawText);
      if ('args' in p) setValues(initialValues(fields, p.args));
    }
    setRaw(toRaw);
  };

  const run = async () => {
    if (!tool) return;
    let args: Record<string, unknown>;
    if (raw) {
      const p = parseRawArguments(rawText);
      if ('error' in p) {
        setErrors({ __raw: p.error });
        return;
      }
      args = p.args;
    } else {
      const c = toArguments(fields, values);
      setErrors(c.errors);
      if (Object.keys(c.errors).length) return;
      args = c.args;
    }
    setErrors({});
    setNotice(null);
    setOutcome(null);
    const ctl = new AbortController();
    abort.current = ctl;
    const started = performance.now();
    setRunning({ started, progress: null });
    try {
      const client = await mcp();
      const result = await client.callTool(
        { name: tool.name, arguments: args },
        {
          signal: ctl.signal,
          timeout: 10 * 60_000,
          resetTimeoutOnProgress: true,
          onprogress: (p: Progress) => setRunning((r) => (r ? { ...r, progress: p } : r)),
        },
      );
      setOutcome({ kind: 'result', result, ms: performance.now() - started });
    } catch (e) {
      setOutcome({ kind: 'error', message: ctl.signal.aborted ? 'Cancelled: the gateway was told to stop the call.' : mcpErrorText(e), ms: performance.now() - started, cancelled: ctl.signal.aborted });
    } finally {
      abort.current = null;
      setRunning(null);
    }
  };

  const runnable = (tools ?? []).filter((t) => t.enabled);
  const p = running?.progress;
  return (
    <section class="card playground" aria-labelledby="pg-h" data-testid="playground" ref={card} id="playground">
      <div class="card-head">
        <div>
          <h2 id="pg-h" class="card-title">
            Playground
          </h2>
          <p class="card-sub">Run any tool through Loopgate, exactly as a client would. Calls appear in Activity as the dashboard’s.</p>
        </div>
        <select
          class="select"
          aria-label="Tool to run"
          data-testid="pg-tool"
          value={selected}
          onChange={(e) => setSelected((e.target as HTMLSelectElement).value)}
        >
          <option value="">Choose a tool…</option>
          {runnable.map((t) => (
            <option key={t.originalName} value={t.originalName}>
              {t.originalName}
            </option>
          ))}
        </select>
      </div>
      {!tool ? (
        <p class="muted pg-empty">{tools === null ? 'Loading tools…' : runnable.length ? 'Choose a tool to run it.' : 'No tools to run: the server is not connected, or every tool is switched off.'}</p>
      ) : (
        <div class="pg-body">
          {tool.description && <p class="pg-desc">{tool.description}</p>}
          <div class="segmented" role="group" aria-label="Arguments as">
            <button type="button" class={!raw ? 'is-on' : ''} aria-pressed={!raw} onClick={() => switchMode(false)}>
              Form
            </button>
            <button type="button" class={raw ? 'is-on' : ''} aria-pressed={raw} data-testid="pg-mode-raw" onClick={() => switchMode(true)}>
              Raw JSON
            </button>
          </div>
          {raw ? (
            <div class="field">
              <textarea class="input mono pg-raw-input" rows={8} data-testid="pg-raw-args" aria-label="Arguments (JSON)" value={rawText} onInput={(e) => setRawText((e.target as HTMLTextAreaElement).value)} />
              {errors.__raw && <div class="field-error">{errors.__raw}</div>}
            </div>
          ) : fields.length ? (
            <Fields fields={fields} values={values} errors={errors} onChange={setValues} />
          ) : (
            <p class="muted">This tool takes no arguments.</p>
          )}
          <div class="pg-actions">
            <button type="button" class="btn btn-primary" data-testid="pg-run" disabled={!!running} onClick={() => void run()}>
              {running ? <Spinner size={12} /> : null} Run
            </button>
            {running && (
              <button type="button" class="btn btn-danger-ghost" data-testid="pg-cancel" onClick={() => abort.current?.abort('cancelled from the dashboard')}>
                Cancel
              </button>
            )}
            <span class="muted">
              Clients call it <code>{tool.name}</code>
            </span>
          </div>
          {running && (
            <div class="pg-progress" role="status" data-testid="pg-progress" data-progress={p ? p.progress : ''}>
              {p ? (
                <>
                  <progress max={p.total ?? undefined} value={p.progress} />
                  <span>
                    {p.total ? `${p.progress} of ${p.total}` : `${p.progress}`}
                    {p.message ? ` — ${p.message}` : ''}
                  </span>
                </>
              ) : (
                <span>Running…</span>
              )}
            </div>
          )}
          <Elicitations />
          {notice && (
            <div class="alert alert-warning" role="status" data-testid="pg-notice">
              {notice}
            </div>
          )}
          {outcome?.kind === 'result' && (
            <ToolResult
              result={outcome.result}
              outputSchema={tool.outputSchema}
              meta={
                <>
                  <span data-testid="pg-duration">{formatDuration(outcome.ms)}</span> · <a href={href.activity({ tool: tool.name })}>in Activity</a>
                </>
              }
            />
          )}
          {outcome?.kind === 'error' && (
            <ResultFrame raw={{ error: outcome.message }} error meta={<span data-testid="pg-duration">{formatDuration(outcome.ms)}</span>} testId={outcome.cancelled ? 'pg-cancelled' : 'pg-result'}>
              <p class="pg-error-note" data-testid="pg-error-message">
                {outcome.message}
              </p>
            </ResultFrame>
          )}
        </div>
      )}
    </section>
  );
}
