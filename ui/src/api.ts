// Typed client for the gateway's admin API (same origin, cookie-authenticated).
// The access token is never handled here: the browser holds it in an HttpOnly cookie.

import { errorMessage, normalizeTool } from './lib/api-data';

export type ServerState = 'disabled' | 'starting' | 'ready' | 'degraded' | 'failed' | 'needs-sign-in';
export type Transport = 'stdio' | 'http';

export interface Info {
  version: string;
  mcpUrl: string;
  configPath: string;
  toolCount: number;
  /** True while `"gateway": {"auth": "none"}` turns token checking off. */
  authNone?: boolean;
  /** Why the last hand edit of the config file was refused (the last good config is running). */
  configError?: string | null;
  /** True when the gateway opens OAuth sign-in pages itself (the desktop app). */
  signInOpensBrowser?: boolean;
}

export interface ServerConfig {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string | null;
  url?: string;
  headers?: Record<string, string>;
  /** HTTP servers: `oauth`/`none` when set in the config; null: sign in when the server asks. */
  auth?: 'oauth' | 'none' | null;
  /** HTTP servers' OAuth client options (the client secret is never shown). */
  oauth?: { clientId: string | null; hasClientSecret: boolean; scopes: string[]; clientMetadataUrl: string | null } | null;
  disabledTools?: string[];
}

export interface Server {
  name: string;
  transport: Transport;
  target: string;
  enabled: boolean;
  state: ServerState;
  lastError: string | null;
  protocolVersion: string | null;
  sessionIssued: boolean | null;
  sessionId: string | null;
  reinitializations: number;
  toolCount: number;
  restarts: number;
  connectedSinceMs: number | null;
  pid: number | null;
  /** OAuth servers: true while connected with Loopgate's tokens, false while a sign-in is needed. */
  signedIn?: boolean | null;
  /** The pending OAuth sign-in of this server, if any. */
  signIn?: SignInState;
  config?: ServerConfig;
}

export interface SignInState {
  pending: boolean;
  /** The pending sign-in's authorization URL, once known. It comes from the remote server's OAuth
   *  metadata: open it only through store.ts `signIn` (http/https only, noopener). */
  url: string | null;
  lastError: string | null;
  started: number;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  [k: string]: unknown;
}

export interface ServerTool {
  name: string;
  originalName: string;
  title: string | null;
  description: string | null;
  annotations: ToolAnnotations | null;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema | null;
  enabled: boolean;
}

export interface ExposedTool {
  name: string;
  server: string;
  originalName: string;
  description: string | null;
}

export interface LogLine {
  tsMs: number;
  source: 'stderr' | 'gateway' | string;
  line: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = { [k: string]: any };

/** Body of POST /api/servers and PUT /api/servers/{name}. */
export interface ServerInput {
  name: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string | null;
  url?: string;
  headers?: Record<string, string>;
  secrets?: Record<string, string>;
  /** HTTP servers: `auto` (OAuth when the server asks), `oauth` or `none`. */
  auth?: 'auto' | 'oauth' | 'none';
  /** HTTP servers' OAuth client; `clientSecret` '' keeps the stored one, null removes it. */
  oauth?: { clientId: string; clientSecret: string | null; scopes: string; clientMetadataUrl: string | null };
}

/** Answer of POST /api/servers/{name}/auth/logout. */
export interface SignedOut {
  /** Whether tokens were stored (and are now deleted from the keychain). */
  removed: boolean;
  /** What the authorization server did with them (RFC 7009 revocation). */
  revocation:
    | { outcome: 'revoked' | 'nothing-to-revoke' | 'unsupported' }
    | { outcome: 'failed'; detail: string };
}

/** A desktop AI client Loopgate can wire itself into (GET /api/clients). */
export interface ClientState {
  /** `claude-desktop`, `claude-code`, `cursor`, `vscode`, `codex`, `gemini`, … (`loopgate client list`). */
  id: string;
  name: string;
  /** The shape of its config file (e.g. `mcpServersUrl`). */
  format: string;
  /** Its MCP config file on this machine; null without a home directory. */
  configPath: string | null;
  /** Whether the client looks installed here (its config file or directory exists). */
  installed: boolean;
  /** Whether Loopgate is in its config; null when the file can't be read. */
  wired: boolean | null;
  /** How it reaches Loopgate: Streamable HTTP with its own token, or `loopgate connect`. */
  transport: Transport;
  /** Whether it connects to Streamable HTTP servers / starts stdio servers. */
  speaksHttp?: boolean;
  speaksStdio?: boolean;
  /** The most tools it takes per request, when it has a limit (VS Code: 128). */
  toolLimit?: number | null;
  /** Where Loopgate's facts about it come from. */
  source?: string;
  /** What shows it is installed: its config file, a folder, or its program on PATH. */
  detectedBy?: string | null;
}

/** A well-known server offered when adding one (GET /api/suggestions). */
export interface Suggestion {
  /** The name it gets in the config. */
  name: string;
  title: string;
  description: string;
  /** Its ready config entry (`command`/`args` or `url`). */
  entry: { command?: string; args?: string[]; url?: string; env?: Record<string, string> };
  /** The program it needs on PATH, if any. */
  program: string | null;
  /** Where that program was found; null when not found (or none is needed). */
  detected: string | null;
  /** env values the user must fill in. */
  needs: string[];
}

export interface ClientSnippets {
  mcpUrl: string;
  stdioCommand: string;
}

/** What an install/uninstall did to the client's file. */
export interface ClientChange {
  written: boolean;
  /** The copy of the previous file, when there was one to back up. */
  backup?: string | null;
}

/** A failed API call. status 0 = the gateway could not be reached. */
export class ApiError extends Error {
  status: number;
  field: string | null;
  constructor(status: number, message: string, field: string | null = null) {
    super(message);
    this.status = status;
    this.field = field;
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
  get unreachable(): boolean {
    return this.status === 0;
  }
}

type Listener = (e: ApiError) => void;
const authListeners = new Set<Listener>();

/** Called with every 401, so the app can switch to the "not signed in" screen. */
export function onUnauthorized(fn: Listener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'Loopgate could not be reached. Is it still running?');
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    const { message, field } = errorMessage(parsed, res.status);
    const err = new ApiError(res.status, message, field);
    if (res.status === 401) authListeners.forEach((fn) => fn(err));
    throw err;
  }
  return parsed as T;
}

const seg = encodeURIComponent;

export const api = {
  info: () => request<Info>('GET', '/api/info'),
  servers: () => request<Server[]>('GET', '/api/servers'),
  tools: () => request<{ count: number; tools: ExposedTool[] }>('GET', '/api/tools'),
  serverTools: async (name: string) =>
    (await request<unknown[]>('GET', `/api/servers/${seg(name)}/tools`)).map(normalizeTool),
  serverLogs: (name: string) => request<LogLine[]>('GET', `/api/servers/${seg(name)}/logs`),
  setServerEnabled: (name: string, on: boolean) =>
    request<{ ok: true }>('POST', `/api/servers/${seg(name)}/${on ? 'enable' : 'disable'}`),
  restartServer: (name: string) => request<{ ok: true }>('POST', `/api/servers/${seg(name)}/restart`),
  signIn: (name: string) => request<{ url: string }>('POST', `/api/servers/${seg(name)}/auth/login`),
  cancelSignIn: (name: string) => request<{ cancelled: boolean }>('POST', `/api/servers/${seg(name)}/auth/cancel`),
  signOut: (name: string) => request<SignedOut>('POST', `/api/servers/${seg(name)}/auth/logout`),
  setToolEnabled: (server: string, tool: string, on: boolean) =>
    request<{ ok: true }>('POST', `/api/servers/${seg(server)}/tools/${seg(tool)}/${on ? 'enable' : 'disable'}`),
  addServer: (input: ServerInput) => request<{ ok: true }>('POST', '/api/servers', input),
  updateServer: (name: string, input: ServerInput) => request<{ ok: true }>('PUT', `/api/servers/${seg(name)}`, input),
  removeServer: (name: string) => request<{ ok: true }>('DELETE', `/api/servers/${seg(name)}`),
  clients: () => request<{ clients: ClientState[]; snippets: ClientSnippets }>('GET', '/api/clients'),
  suggestions: () => request<{ suggestions: Suggestion[] }>('GET', '/api/suggestions'),
  setClientWired: (id: string, on: boolean) =>
    request<{ ok: true; change: ClientChange }>('POST', `/api/clients/${seg(id)}/${on ? 'install' : 'uninstall'}`),
};
