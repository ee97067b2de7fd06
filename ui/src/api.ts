// Typed client for the gateway's admin API (same origin, cookie-authenticated).
// The access token is never handled here: the browser holds it in an HttpOnly cookie.

import type * as gen from './api-types.gen';
import { errorMessage, normalizeTool } from './lib/api-data';

// The answers' types are generated from the gateway's Rust types (api-types.gen.ts, checked by
// `cargo test`); these are the names the dashboard uses for them.
export type {
  ApiErrorBody,
  ClientChange,
  ClientChangeAnswer,
  ClientList,
  ClientSnippets,
  ClientState,
  Cost,
  ExposedTool,
  Info,
  LogLine,
  ProfileSettings,
  ProfilesView,
  ProfileView,
  ServerState,
  ServerTool,
  SignedOut,
  Suggestion,
  SuggestionList,
  ToolList,
  Transport,
} from './api-types.gen';
export type { JsonSchema, ToolAnnotations } from './api-mirror';

/** A server of GET /api/servers: status, sign-in and config. */
export type Server = gen.ServerInfo;
/** The OAuth sign-in of a server. Its `url` comes from the remote server's OAuth metadata: open
 *  it only through store.ts `signIn` (http/https only, noopener). */
export type SignInState = gen.SignInView;
/** A server's config with the keys of either kind optional: what the edit form reads. */
export type ServerConfig = Partial<gen.StdioView & gen.HttpView> & { disabledTools?: string[] };

/** Body of POST /api/servers and PUT /api/servers/{name} (a request, written by hand: the
 *  gateway's `ServerForm` in src-tauri/src/http/api/servers.rs refuses any other key). */
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

/** One recorded call (GET /api/activity). */
export interface ActivityCall {
  id: number;
  /** When it arrived, ms since the epoch. */
  tsMs: number;
  durationMs: number;
  /** `client:<id>`, `dashboard`, `gateway` or `anonymous`. */
  caller: string;
  kind: 'request' | 'notification';
  method: string;
  server: string | null;
  /** Tool or prompt (the client's name for it) or resource URI. */
  target: string | null;
  /** `ok`, `error`, `isError`, `timeout`, `cancelled`. */
  outcome: string;
  error: string | null;
  requestBytes: number;
  responseBytes: number;
}

/** GET /api/activity/{id}: the call with its bodies as kept (JSON text; null once dropped). */
export interface ActivityDetail extends ActivityCall {
  request: string | null;
  response: string | null;
  requestTruncated: boolean;
  responseTruncated: boolean;
}

/** Figures of one server or tool over the window (GET /api/activity/stats). */
export interface ActivityFigures {
  name: string;
  server: string;
  calls: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  series: { tMs: number; calls: number; errors: number; p95Ms: number }[];
}

export interface ActivityStats {
  sinceMs: number;
  windowMs: number;
  bucketMs: number;
  servers: ActivityFigures[];
  tools: ActivityFigures[];
  clients: string[];
  serverNames: string[];
  targets: string[];
}

/** A failed API call: `message` is the gateway's `error` text (shown verbatim), `field` the
 *  input it names. status 0 = the gateway could not be reached. */
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
  info: () => request<gen.Info>('GET', '/api/info'),
  servers: () => request<gen.ServerInfo[]>('GET', '/api/servers'),
  tools: () => request<gen.ToolList>('GET', '/api/tools'),
  serverTools: async (name: string) =>
    (await request<unknown[]>('GET', `/api/servers/${seg(name)}/tools`)).map(normalizeTool),
  serverLogs: (name: string) => request<gen.LogLine[]>('GET', `/api/servers/${seg(name)}/logs`),
  setServerEnabled: (name: string, on: boolean) =>
    request<gen.OkAnswer>('POST', `/api/servers/${seg(name)}/${on ? 'enable' : 'disable'}`),
  restartServer: (name: string) => request<gen.OkAnswer>('POST', `/api/servers/${seg(name)}/restart`),
  signIn: (name: string) => request<gen.UrlAnswer>('POST', `/api/servers/${seg(name)}/auth/login`),
  cancelSignIn: (name: string) => request<gen.CancelledAnswer>('POST', `/api/servers/${seg(name)}/auth/cancel`),
  signOut: (name: string) => request<gen.SignedOut>('POST', `/api/servers/${seg(name)}/auth/logout`),
  setToolEnabled: (server: string, tool: string, on: boolean) =>
    request<gen.OkAnswer>('POST', `/api/servers/${seg(server)}/tools/${seg(tool)}/${on ? 'enable' : 'disable'}`),
  addServer: (input: ServerInput) => request<gen.AddedAnswer>('POST', '/api/servers', input),
  updateServer: (name: string, input: ServerInput) => request<gen.OkAnswer>('PUT', `/api/servers/${seg(name)}`, input),
  removeServer: (name: string) => request<gen.OkAnswer>('DELETE', `/api/servers/${seg(name)}`),
  clients: () => request<gen.ClientList>('GET', '/api/clients'),
  activity: (query: string) => request<{ items: ActivityCall[]; lastId: number; enabled: boolean; dropped: number }>('GET', `/api/activity${query}`),
  activityStats: () => request<ActivityStats>('GET', '/api/activity/stats'),
  activityCall: (id: number) => request<ActivityDetail>('GET', `/api/activity/${id}`),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  serverCatalog: (name: string) => request<any>('GET', `/api/servers/${seg(name)}/catalog`),
  suggestions: () => request<gen.SuggestionList>('GET', '/api/suggestions'),
  setClientWired: (id: string, on: boolean) =>
    request<gen.ClientChangeAnswer>('POST', `/api/clients/${seg(id)}/${on ? 'install' : 'uninstall'}`),
  profiles: () => request<gen.ProfilesView>('GET', '/api/profiles'),
  /** Creates or replaces profile `name` (400 `{error, field}` when it names an unknown server). */
  putProfile: (name: string, settings: gen.ProfileSettings) =>
    request<gen.OkAnswer>('PUT', `/api/profiles/${seg(name)}`, settings),
  /** 409 while a client or the gateway's own token uses it (the error names them). */
  deleteProfile: (name: string) => request<gen.OkAnswer>('DELETE', `/api/profiles/${seg(name)}`),
  /** Binds client `id`'s token to `profile` (null: everything). */
  setClientProfile: (id: string, profile: string | null) =>
    request<gen.OkAnswer>('PUT', `/api/clients/${seg(id)}/profile`, { profile }),
};
