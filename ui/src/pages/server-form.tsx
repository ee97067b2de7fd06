import type { ComponentChildren } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, secretRef, type Server, type ServerInput, type Transport } from '../api';
import { IconAlert, IconBack, IconGlobe, IconLock, IconPlus, IconServer, IconTerminal, IconX } from '../components/icons';
import { EmptyState, Spinner, useTitle } from '../components/ui';
import { href, navigate } from '../router';
import { refresh, toast, useStore } from '../store';

interface Row {
  id: number;
  key: string;
  value: string;
  secret: boolean;
  /** For a secret already stored in the keychain: its `${secret:…}` reference, kept unless replaced. */
  existing: string | null;
}

type Errors = Record<string, string>;

let rowSeq = 0;
const newRow = (): Row => ({ id: ++rowSeq, key: '', value: '', secret: false, existing: null });

function rowsFrom(values: Record<string, string> | undefined): Row[] {
  return Object.entries(values ?? {}).map(([key, value]) => {
    const ref = secretRef(value);
    return ref !== null
      ? { id: ++rowSeq, key, value: '', secret: true, existing: value }
      : { id: ++rowSeq, key, value, secret: false, existing: null };
  });
}

const NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Splits a pasted command line the way a POSIX shell would for simple quoting. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

export function ServerFormPage({ editName }: { editName?: string }) {
  const { servers } = useStore();
  const editing = editName !== undefined;
  const original = editing ? servers.find((s) => s.name === editName) : undefined;
  useTitle(editing ? `Edit ${editName}` : 'Add server');

  if (editing && !original) {
    return (
      <div class="page page-narrow">
        <a class="back-link" href={href.servers()}>
          <IconBack size={14} /> Servers
        </a>
        <div class="card">
          <EmptyState icon={<IconServer size={28} />} title={`No server named “${editName}”`}>
            <p>It may have been removed in the meantime.</p>
          </EmptyState>
        </div>
      </div>
    );
  }
  return <ServerForm original={original} />;
}

function ServerForm({ original }: { original?: Server }) {
  const editing = !!original;
  const cfg = original?.config ?? {};
  const [transport, setTransport] = useState<Transport>(original?.transport ?? 'stdio');
  const [name, setName] = useState(original?.name ?? '');
  const [command, setCommand] = useState(cfg.command ?? '');
  const [argsText, setArgsText] = useState((cfg.args ?? []).join('\n'));
  const [cwd, setCwd] = useState(cfg.cwd ?? '');
  const [url, setUrl] = useState(cfg.url ?? '');
  const [envRows, setEnvRows] = useState<Row[]>(() => rowsFrom(cfg.env));
  const [headerRows, setHeaderRows] = useState<Row[]>(() => rowsFrom(cfg.headers));
  const [signIn, setSignIn] = useState<'auto' | 'none'>(cfg.auth === 'none' ? 'none' : 'auto');
  const [clientId, setClientId] = useState(cfg.oauth?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState((cfg.oauth?.scopes ?? []).join(' '));
  const hasClientSecret = !!cfg.oauth?.hasClientSecret;
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const canSplit = useMemo(() => transport === 'stdio' && /\s/.test(command.trim()) && argsText.trim() === '', [transport, command, argsText]);

  const clearError = (...fields: string[]) => {
    if (fields.some((f) => errors[f])) {
      const n = { ...errors };
      for (const f of fields) delete n[f];
      setErrors(n);
    }
  };

  const focusFirstError = (errs: Errors) => {
    requestAnimationFrame(() => {
      const order = ['name', 'command', 'args', 'cwd', 'url', 'env', 'headers', 'auth', 'clientId', 'clientSecret', 'scopes'];
      const first = order.find((f) => errs[f]) ?? Object.keys(errs)[0];
      const el = formRef.current?.querySelector<HTMLElement>(`[data-field="${first}"]`);
      el?.focus();
      if (!el) formRef.current?.querySelector<HTMLElement>('.form-alert')?.focus();
    });
  };

  const validateRows = (rows: Row[], field: 'env' | 'headers', errs: Errors) => {
    const seen = new Set<string>();
    const noun = field === 'env' ? 'variable' : 'header';
    for (const r of rows) {
      const k = r.key.trim();
      if (!k && !r.value && !r.existing) continue; // blank row: ignored
      if (!k) {
        errs[field] = `Every ${noun} needs a name.`;
        return;
      }
      if (seen.has(k.toLowerCase()) && (field === 'headers' || seen.has(k))) {
        errs[field] = `“${k}” appears twice.`;
        return;
      }
      seen.add(field === 'headers' ? k.toLowerCase() : k);
      if (r.secret && !r.value && !r.existing) {
        errs[field] = `Enter a value for the secret “${k}”.`;
        return;
      }
    }
  };

  const collect = (rows: Row[], plain: Record<string, string>, secrets: Record<string, string>) => {
    for (const r of rows) {
      const k = r.key.trim();
      if (!k) continue;
      if (r.secret && r.value) secrets[k] = r.value;
      else if (r.secret && r.existing) plain[k] = r.existing; // unchanged keychain reference: kept
      else plain[k] = r.value;
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (submitting) return;
    const errs: Errors = {};
    const n = name.trim();
    if (!n) errs.name = 'Give the server a name.';
    else if (!NAME_RE.test(n) || n.includes('__'))
      errs.name = 'Use letters, digits, “-” and “_” only (and no “__”): it becomes the prefix of every tool name.';
    if (transport === 'stdio') {
      if (!command.trim()) errs.command = 'Enter the program to run, e.g. npx or uvx.';
      validateRows(envRows, 'env', errs);
    } else {
      if (!url.trim()) errs.url = 'Enter the server’s MCP URL.';
      validateRows(headerRows, 'headers', errs);
      if (signIn === 'auto' && clientSecret && !clientId.trim()) errs.clientSecret = 'A client secret belongs to a client id: enter the client id too.';
    }
    setErrors(errs);
    setGeneral(null);
    if (Object.keys(errs).length) {
      focusFirstError(errs);
      return;
    }

    const secrets: Record<string, string> = {};
    let body: ServerInput;
    if (transport === 'stdio') {
      const env: Record<string, string> = {};
      collect(envRows, env, secrets);
      body = {
        name: n,
        command: command.trim(),
        args: argsText.split('\n').map((a) => a.replace(/\r$/, '')).filter((a) => a.trim() !== ''),
        env,
        cwd: cwd.trim() || null,
      };
    } else {
      const headers: Record<string, string> = {};
      collect(headerRows, headers, secrets);
      body = {
        name: n,
        url: url.trim(),
        headers,
        // An explicit "oauth" in the config stays as it is unless sign-in is turned off.
        auth: signIn === 'none' ? 'none' : cfg.auth === 'oauth' ? 'oauth' : 'auto',
        oauth: {
          clientId: clientId.trim(),
          clientSecret: clientId.trim() ? clientSecret : null,
          scopes,
          clientMetadataUrl: cfg.oauth?.clientMetadataUrl ?? null,
        },
      };
    }
    if (Object.keys(secrets).length) body.secrets = secrets;

    setSubmitting(true);
    try {
      if (original) await api.updateServer(original.name, body);
      else await api.addServer(body);
      await refresh();
      toast(original ? `Saved ${n}` : `Added ${n} — starting it now`, 'success');
      navigate(href.server(n));
    } catch (err) {
      const ae = err as ApiError;
      if (ae.unauthorized) return;
      const field = mapField(ae.field, transport);
      if (field) {
        const next = { [field]: ae.message };
        setErrors(next);
        focusFirstError(next);
      } else {
        setGeneral(ae.message);
        requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('.form-alert')?.focus());
      }
    } finally {
      setSubmitting(false);
    }
  };

  const cancelHref = original ? href.server(original.name) : href.servers();

  return (
    <div class="page page-narrow">
      <a class="back-link" href={cancelHref}>
        <IconBack size={14} /> {original ? original.name : 'Servers'}
      </a>
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>{original ? `Edit ${original.name}` : 'Add a server'}</h1>
          <p class="page-sub">
            {original
              ? 'Changes are written to the config file and the server restarts with them.'
              : 'Loopgate starts it right away and offers its tools to every client.'}
          </p>
        </div>
      </div>

      <form class="card form" ref={formRef} onSubmit={submit} noValidate data-testid="server-form">
        {general && (
          <div class="alert alert-danger form-alert" role="alert" tabIndex={-1} data-testid="form-error">
            <IconAlert size={18} />
            <div class="alert-text">{general}</div>
          </div>
        )}

        <Field label="Name" field="name" error={errors.name} hint={editing ? 'A server’s name can’t be changed here.' : 'Tools reach clients as name__tool, e.g. github__create_issue.'}>
          {(p) => (
            <input
              {...p}
              type="text"
              class="input mono"
              value={name}
              readOnly={editing}
              placeholder="github"
              autoComplete="off"
              spellcheck={false}
              autoFocus={!editing}
              onInput={(e) => {
                setName((e.target as HTMLInputElement).value);
                clearError('name');
              }}
            />
          )}
        </Field>

        <fieldset class="field">
          <legend class="field-label">Connection</legend>
          <div class="transport-choice" role="radiogroup" aria-label="Connection type">
            <TransportOption value="stdio" current={transport} onSelect={setTransport} icon={<IconTerminal size={18} />} title="Local command" sub="Runs a program and talks over stdio" />
            <TransportOption value="http" current={transport} onSelect={setTransport} icon={<IconGlobe size={18} />} title="Remote URL" sub="Connects to a Streamable HTTP endpoint" />
          </div>
        </fieldset>

        {transport === 'stdio' ? (
          <>
            <Field label="Command" field="command" error={errors.command} hint="The program to start: npx, uvx, node, python, or a full path.">
              {(p) => (
                <input
                  {...p}
                  type="text"
                  class="input mono"
                  value={command}
                  placeholder="npx"
                  autoComplete="off"
                  spellcheck={false}
                  onInput={(e) => {
                    setCommand((e.target as HTMLInputElement).value);
                    clearError('command');
                  }}
                />
              )}
            </Field>
            {canSplit && (
              <div class="split-hint">
                <span>That looks like a whole command line.</span>
                <button
                  type="button"
                  class="btn btn-sm"
                  onClick={() => {
                    const parts = splitCommandLine(command.trim());
                    setCommand(parts[0] ?? '');
                    setArgsText(parts.slice(1).join('\n'));
                  }}
                >
                  Split into command and arguments
                </button>
              </div>
            )}
            <Field label="Arguments" field="args" error={errors.args} hint="One argument per line, without quotes." optional>
              {(p) => (
                <textarea
                  {...p}
                  class="input mono"
                  rows={Math.min(8, Math.max(3, argsText.split('\n').length + 1))}
                  value={argsText}
                  placeholder={'-y\n@modelcontextprotocol/server-memory'}
                  spellcheck={false}
                  onInput={(e) => {
                    setArgsText((e.target as HTMLTextAreaElement).value);
                    clearError('args');
                  }}
                />
              )}
            </Field>
            <Field label="Working directory" field="cwd" error={errors.cwd} optional>
              {(p) => (
                <input
                  {...p}
                  type="text"
                  class="input mono"
                  value={cwd}
                  placeholder="Inherit Loopgate’s"
                  autoComplete="off"
                  spellcheck={false}
                  onInput={(e) => {
                    setCwd((e.target as HTMLInputElement).value);
                    clearError('cwd');
                  }}
                />
              )}
            </Field>
            <RowsEditor
              field="env"
              label="Environment variables"
              noun="variable"
              keyPlaceholder="API_KEY"
              rows={envRows}
              setRows={(r) => {
                setEnvRows(r);
                clearError('env');
              }}
              error={errors.env}
            />
          </>
        ) : (
          <>
            <Field label="URL" field="url" error={errors.url} hint="The server’s Streamable HTTP endpoint, usually ending in /mcp.">
              {(p) => (
                <input
                  {...p}
                  type="url"
                  class="input mono"
                  value={url}
                  placeholder="https://mcp.example.com/mcp"
                  autoComplete="off"
                  spellcheck={false}
                  onInput={(e) => {
                    setUrl((e.target as HTMLInputElement).value);
                    clearError('url');
                  }}
                />
              )}
            </Field>
            <RowsEditor
              field="headers"
              label="Headers"
              noun="header"
              keyPlaceholder="Authorization"
              rows={headerRows}
              setRows={(r) => {
                setHeaderRows(r);
                clearError('headers');
              }}
              error={errors.headers}
            />
            <Field
              label="Sign-in"
              field="auth"
              error={errors.auth}
              hint="With OAuth, Loopgate signs in when the server asks (HTTP 401) and keeps the tokens in your OS keychain. An Authorization header turns it off."
            >
              {(p) => (
                <select
                  {...p}
                  class="select"
                  value={signIn}
                  onChange={(e) => {
                    setSignIn((e.target as HTMLSelectElement).value as 'auto' | 'none');
                    clearError('auth');
                  }}
                >
                  <option value="auto">OAuth, when the server asks for it</option>
                  <option value="none">Never sign in</option>
                </select>
              )}
            </Field>
            {signIn === 'auto' && (
              <>
                <Field
                  label="OAuth client id"
                  field="clientId"
                  error={errors.clientId}
                  optional
                  hint="Leave empty and Loopgate registers itself. Fill in for providers that need an app you registered, with redirect URI http://127.0.0.1/callback (any port)."
                >
                  {(p) => (
                    <input
                      {...p}
                      type="text"
                      class="input mono"
                      value={clientId}
                      autoComplete="off"
                      spellcheck={false}
                      onInput={(e) => {
                        setClientId((e.target as HTMLInputElement).value);
                        // The secret's "needs a client id" error is answered here too.
                        clearError('clientId', 'clientSecret');
                      }}
                    />
                  )}
                </Field>
                <Field label="OAuth client secret" field="clientSecret" error={errors.clientSecret} optional hint="For confidential clients only. Stored in your OS keychain.">
                  {(p) => (
                    <input
                      {...p}
                      type="password"
                      class="input mono"
                      value={clientSecret}
                      placeholder={hasClientSecret ? 'In keychain · type to replace' : ''}
                      autoComplete="new-password"
                      spellcheck={false}
                      onInput={(e) => {
                        setClientSecret((e.target as HTMLInputElement).value);
                        clearError('clientSecret');
                      }}
                    />
                  )}
                </Field>
                <Field label="Scopes" field="scopes" error={errors.scopes} optional hint="Separated by spaces. Empty: what the server asks for.">
                  {(p) => (
                    <input
                      {...p}
                      type="text"
                      class="input mono"
                      value={scopes}
                      placeholder="read write"
                      autoComplete="off"
                      spellcheck={false}
                      onInput={(e) => {
                        setScopes((e.target as HTMLInputElement).value);
                        clearError('scopes');
                      }}
                    />
                  )}
                </Field>
              </>
            )}
          </>
        )}

        <div class="form-actions">
          <a class="btn" href={cancelHref}>
            Cancel
          </a>
          <button type="submit" class="btn btn-primary" disabled={submitting} data-testid="submit-server">
            {submitting && <Spinner size={13} />}
            {original ? 'Save changes' : 'Add server'}
          </button>
        </div>
      </form>
    </div>
  );
}

/** Maps an API error's `field` ("url", "env.KEY", "secrets.X", "args[2]") to a form field. */
function mapField(field: string | null, transport: Transport): string | null {
  if (!field) return null;
  const top = field.split(/[.[]/)[0];
  if (top === 'secrets') return transport === 'stdio' ? 'env' : 'headers';
  if (['name', 'command', 'args', 'cwd', 'url', 'env', 'headers', 'auth'].includes(top)) return top;
  if (top === 'oauth') return field.includes('clientSecret') ? 'clientSecret' : field.includes('scopes') ? 'scopes' : 'clientId';
  return null;
}

interface FieldInputProps {
  id: string;
  'data-field': string;
  'data-testid': string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
}

function Field(props: {
  label: string;
  field: string;
  error?: string;
  hint?: string;
  optional?: boolean;
  children: (p: FieldInputProps) => ComponentChildren;
}) {
  const id = `f-${props.field}`;
  const describedBy = [props.error ? `${id}-err` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label class="field-label" for={id}>
        {props.label}
        {props.optional && <span class="optional">optional</span>}
      </label>
      {props.children({
        id,
        'data-field': props.field,
        'data-testid': `field-${props.field}`,
        'aria-invalid': props.error ? true : undefined,
        'aria-describedby': describedBy,
      })}
      {props.error && (
        <div class="field-error" id={`${id}-err`} data-testid={`field-error-${props.field}`}>
          <IconAlert size={13} /> {props.error}
        </div>
      )}
      {props.hint && (
        <div class="field-hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      )}
    </div>
  );
}

function TransportOption(props: {
  value: Transport;
  current: Transport;
  onSelect: (t: Transport) => void;
  icon: ComponentChildren;
  title: string;
  sub: string;
}) {
  const checked = props.value === props.current;
  return (
    <button
      type="button"
      role="radio"
      aria-checked={checked}
      tabIndex={checked ? 0 : -1}
      class={`transport-opt${checked ? ' is-on' : ''}`}
      data-testid={`transport-${props.value}`}
      onClick={() => props.onSelect(props.value)}
      onKeyDown={(e) => {
        if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) {
          e.preventDefault();
          const next: Transport = props.value === 'stdio' ? 'http' : 'stdio';
          props.onSelect(next);
          const parent = (e.currentTarget as HTMLElement).parentElement;
          requestAnimationFrame(() => parent?.querySelector<HTMLElement>(`[data-testid="transport-${next}"]`)?.focus());
        }
      }}
    >
      <span class="transport-icon">{props.icon}</span>
      <span class="transport-text">
        <span class="transport-title">{props.title}</span>
        <span class="transport-sub">{props.sub}</span>
      </span>
      <span class="radio-mark" aria-hidden="true" />
    </button>
  );
}

function RowsEditor(props: {
  field: 'env' | 'headers';
  label: string;
  noun: string;
  keyPlaceholder: string;
  rows: Row[];
  setRows: (r: Row[]) => void;
  error?: string;
}) {
  const { rows, setRows, field } = props;
  const update = (id: number, patch: Partial<Row>) => setRows(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  const listRef = useRef<HTMLDivElement>(null);
  const add = () => {
    setRows([...rows, newRow()]);
    requestAnimationFrame(() => {
      const inputs = listRef.current?.querySelectorAll<HTMLInputElement>('.kv-key-input');
      inputs?.[inputs.length - 1]?.focus();
    });
  };
  return (
    <fieldset class={`field${props.error ? ' has-error' : ''}`} data-testid={`field-${field}`}>
      <legend class="field-label">
        {props.label}
        <span class="optional">optional</span>
      </legend>
      <div class="kv-editor" ref={listRef} data-field={field} tabIndex={-1}>
        {rows.length > 0 && (
          <div class="kv-row kv-head" aria-hidden="true">
            <span>Name</span>
            <span>Value</span>
            <span>Secret</span>
            <span />
          </div>
        )}
        {rows.map((r, i) => (
          <div class={`kv-row${r.secret ? ' is-secret' : ''}`} key={r.id} data-testid={`${field}-row-${i}`}>
            <input
              type="text"
              class="input mono kv-key-input"
              value={r.key}
              placeholder={props.keyPlaceholder}
              aria-label={`${props.noun} ${i + 1} name`}
              spellcheck={false}
              autoComplete="off"
              readOnly={!!r.existing}
              title={r.existing ? 'To rename a stored secret, remove it and add a new one.' : undefined}
              onInput={(e) => update(r.id, { key: (e.target as HTMLInputElement).value })}
            />
            <input
              type={(r.secret ? 'password' : 'text') as 'text'}
              class="input mono"
              value={r.value}
              placeholder={r.existing ? 'In keychain · type to replace' : r.secret ? 'Secret value' : 'value'}
              aria-label={`${props.noun} ${i + 1} value`}
              spellcheck={false}
              autoComplete={r.secret ? 'new-password' : 'off'}
              data-testid={`${field}-value-${i}`}
              onInput={(e) => update(r.id, { value: (e.target as HTMLInputElement).value })}
            />
            <label class={`secret-check${r.secret ? ' is-on' : ''}`} title="Store the value in the OS keychain instead of the config file">
              <input
                type="checkbox"
                checked={r.secret}
                disabled={!!r.existing}
                data-testid={`${field}-secret-${i}`}
                onChange={(e) => update(r.id, { secret: (e.target as HTMLInputElement).checked })}
              />
              <IconLock size={13} />
              <span>Secret</span>
            </label>
            <button
              type="button"
              class="btn btn-ghost btn-icon"
              aria-label={`Remove ${props.noun} ${r.key || i + 1}`}
              onClick={() => setRows(rows.filter((x) => x.id !== r.id))}
            >
              <IconX size={15} />
            </button>
          </div>
        ))}
        <button type="button" class="btn btn-ghost btn-sm add-row" onClick={add} data-testid={`add-${field}`}>
          <IconPlus size={14} /> Add {props.noun}
        </button>
      </div>
      {props.error && (
        <div class="field-error" data-testid={`field-error-${field}`} role="alert">
          <IconAlert size={13} /> {props.error}
        </div>
      )}
      <div class="field-hint">
        <IconLock size={12} /> Values marked secret go to your OS keychain; the config file only keeps a reference to them.
      </div>
    </fieldset>
  );
}
