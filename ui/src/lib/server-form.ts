// The add/edit server form without the UI: its values, validation, the request body it sends and
// where an API error belongs. pages/server-form/ renders it (useServerForm holds the state).

import type { Server, ServerConfig, ServerInput, Suggestion, Transport } from '../api';
import { argsFromText } from './command-line';
import { secretRef } from './secrets';

/** One line of the environment-variables or headers editor. */
export interface Row {
  id: number;
  key: string;
  value: string;
  secret: boolean;
  /** For a secret already stored in the keychain: its `${secret:…}` reference, kept unless replaced. */
  existing: string | null;
}

/** Error message by form field (`name`, `command`, `env`, `clientSecret`, …). */
export type FormErrors = Record<string, string>;

export type SignInChoice = 'auto' | 'none';

export interface ServerFormValues {
  transport: Transport;
  name: string;
  command: string;
  /** One argument per line. */
  argsText: string;
  cwd: string;
  url: string;
  envRows: Row[];
  headerRows: Row[];
  signIn: SignInChoice;
  clientId: string;
  /** A new client secret; empty keeps the stored one (if any). */
  clientSecret: string;
  /** Separated by spaces. */
  scopes: string;
}

/** The fields in the order the form shows them (the first with an error gets the focus). */
export const FIELD_ORDER = ['name', 'command', 'args', 'cwd', 'url', 'env', 'headers', 'auth', 'clientId', 'clientSecret', 'scopes'] as const;

/** Server names: they prefix every tool name (`name__tool`). */
export const NAME_RE = /^[A-Za-z0-9_-]+$/;

let rowSeq = 0;

export function newRow(): Row {
  return { id: ++rowSeq, key: '', value: '', secret: false, existing: null };
}

/** Editor rows for a config's env or headers: `${secret:…}` values become stored secrets (shown
 *  empty, kept unless replaced). */
export function rowsFrom(values: Record<string, string> | undefined): Row[] {
  return Object.entries(values ?? {}).map(([key, value]) =>
    secretRef(value) !== null
      ? { id: ++rowSeq, key, value: '', secret: true, existing: value }
      : { id: ++rowSeq, key, value, secret: false, existing: null },
  );
}

/** The form's starting values: empty for a new server, else the server's config. */
export function initialValues(original?: Server): ServerFormValues {
  const cfg: ServerConfig = original?.config ?? {};
  return {
    transport: original?.transport ?? 'stdio',
    name: original?.name ?? '',
    command: cfg.command ?? '',
    argsText: (cfg.args ?? []).join('\n'),
    cwd: cfg.cwd ?? '',
    url: cfg.url ?? '',
    envRows: rowsFrom(cfg.env),
    headerRows: rowsFrom(cfg.headers),
    signIn: cfg.auth === 'none' ? 'none' : 'auto',
    clientId: cfg.oauth?.clientId ?? '',
    clientSecret: '',
    scopes: (cfg.oauth?.scopes ?? []).join(' '),
  };
}

/** The form's values for a suggested server: its name, command and arguments (or URL), and an
 *  empty secret row for each value it needs (an API key). */
export function valuesFromSuggestion(s: Pick<Suggestion, 'name' | 'entry' | 'needs'>): ServerFormValues {
  const base = initialValues();
  const env = Object.entries(s.entry.env ?? {}).map(([key, value]) => ({ ...newRow(), key, value }));
  const needs = s.needs.filter((k) => !(k in (s.entry.env ?? {}))).map((key) => ({ ...newRow(), key, secret: true }));
  return {
    ...base,
    transport: s.entry.url ? 'http' : 'stdio',
    name: s.name,
    command: s.entry.command ?? '',
    argsText: (s.entry.args ?? []).join('\n'),
    url: s.entry.url ?? '',
    envRows: [...env, ...needs],
  };
}

/** The first problem of an env/headers editor, if any. Blank rows are ignored; header names are
 *  compared ignoring case, variable names exactly. */
export function rowsError(rows: Row[], field: 'env' | 'headers'): string | null {
  const seen = new Set<string>();
  const noun = field === 'env' ? 'variable' : 'header';
  for (const r of rows) {
    const k = r.key.trim();
    if (!k && !r.value && !r.existing) continue; // blank row: ignored
    if (!k) return `Every ${noun} needs a name.`;
    const id = field === 'headers' ? k.toLowerCase() : k;
    if (seen.has(id)) return `“${k}” appears twice.`;
    seen.add(id);
    if (r.secret && !r.value && !r.existing) return `Enter a value for the secret “${k}”.`;
  }
  return null;
}

/** What the form refuses before sending anything (the gateway checks the rest). */
export function validateServerForm(v: ServerFormValues): FormErrors {
  const errs: FormErrors = {};
  const n = v.name.trim();
  if (!n) errs.name = 'Give the server a name.';
  else if (!NAME_RE.test(n) || n.includes('__')) errs.name = 'Use letters, digits, “-” and “_” only (and no “__”): it becomes the prefix of every tool name.';
  if (v.transport === 'stdio') {
    if (!v.command.trim()) errs.command = 'Enter the program to run, e.g. npx or uvx.';
    const env = rowsError(v.envRows, 'env');
    if (env) errs.env = env;
  } else {
    if (!v.url.trim()) errs.url = 'Enter the server’s MCP URL.';
    const headers = rowsError(v.headerRows, 'headers');
    if (headers) errs.headers = headers;
    if (v.signIn === 'auto' && v.clientSecret && !v.clientId.trim()) errs.clientSecret = 'A client secret belongs to a client id: enter the client id too.';
  }
  return errs;
}

/** Splits editor rows into plain values and new secrets; an unchanged stored secret keeps its
 *  `${secret:…}` reference as a plain value. */
function collect(rows: Row[], plain: Record<string, string>, secrets: Record<string, string>) {
  for (const r of rows) {
    const k = r.key.trim();
    if (!k) continue;
    if (r.secret && r.value) secrets[k] = r.value;
    else if (r.secret && r.existing) plain[k] = r.existing;
    else plain[k] = r.value;
  }
}

/** The body of POST /api/servers (or PUT when editing a server with config `cfg`). */
export function buildServerInput(v: ServerFormValues, cfg: ServerConfig = {}): ServerInput {
  const name = v.name.trim();
  const secrets: Record<string, string> = {};
  let body: ServerInput;
  if (v.transport === 'stdio') {
    const env: Record<string, string> = {};
    collect(v.envRows, env, secrets);
    body = { name, command: v.command.trim(), args: argsFromText(v.argsText), env, cwd: v.cwd.trim() || null };
  } else {
    const headers: Record<string, string> = {};
    collect(v.headerRows, headers, secrets);
    const clientId = v.clientId.trim();
    body = {
      name,
      url: v.url.trim(),
      headers,
      // An explicit "oauth" in the config stays as it is unless sign-in is turned off.
      auth: v.signIn === 'none' ? 'none' : cfg.auth === 'oauth' ? 'oauth' : 'auto',
      oauth: {
        clientId,
        clientSecret: clientId ? v.clientSecret : null,
        scopes: v.scopes,
        clientMetadataUrl: cfg.oauth?.clientMetadataUrl ?? null,
      },
    };
  }
  if (Object.keys(secrets).length) body.secrets = secrets;
  return body;
}

/** Maps an API error's `field` ("url", "env.KEY", "secrets.X", "args[2]", "oauth.clientSecret")
 *  to the form field that shows it; null for an error of the whole form. */
export function formFieldOf(field: string | null, transport: Transport): string | null {
  if (!field) return null;
  const top = field.split(/[.[]/)[0];
  if (top === 'secrets') return transport === 'stdio' ? 'env' : 'headers';
  if (['name', 'command', 'args', 'cwd', 'url', 'env', 'headers', 'auth'].includes(top)) return top;
  if (top === 'oauth') return field.includes('clientSecret') ? 'clientSecret' : field.includes('scopes') ? 'scopes' : 'clientId';
  return null;
}

/** The field to focus for `errs`: the first in form order, else any. */
export function firstErrorField(errs: FormErrors): string | undefined {
  return FIELD_ORDER.find((f) => errs[f]) ?? Object.keys(errs)[0];
}
