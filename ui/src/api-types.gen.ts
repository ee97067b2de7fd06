// The bodies of Loopgate's /api answers, generated from the Rust types in
// src-tauri/src/http/api/types.rs (and the types they contain) by ts-rs. Do not edit: run
// `LOOPGATE_WRITE_API_TYPES=1 cargo test --no-default-features --lib api_types` after changing
// them (`cargo test` fails while this file is stale). ui/src/api.ts re-exports these types.
// ToolAnnotations and JsonSchema are foreign (rmcp) types, mirrored by hand in api-mirror.ts.

import type { JsonSchema, ToolAnnotations } from './api-mirror';

/** `POST /api/servers` (201): the server was added under `name`. */
export type AddedAnswer = {
  /** Always true. */
  ok: boolean,
  /** Its name. */
  name: string,
};

/**
 * The one error shape of `/api`: every failure, from a handler, an extractor (a body that is
 * not JSON or has an unknown key, an unknown server), an unknown route or method, or the guard
 * (a missing or refused credential), answers `{"error": "…"}` with an HTTP error status, plus
 * `"field"` when one input field is at fault.
 */
export type ApiErrorBody = {
  /** What is wrong and how to fix it; the dashboard shows it verbatim. */
  error: string,
  /**
   * The input field at fault (`name`, `url`, `headers`, `oauth.clientSecret`, `args[2]`, …);
   * left out when the error is not about one field.
   */
  field?: string | null,
};

/** One entry of `GET /api/auth`: an HTTP server that may sign in with OAuth (never a token). */
export type AuthStatus = {
  /**
   * The server's state; `null` when it is not running (or no gateway runs: `loopgate auth
   * status` without one).
   */
  state: ServerState | null,
  /** Its sign-in in progress or last failure. */
  signIn: SignInView,
  /** Server name. */
  name: string,
  /** Its URL. */
  url: string,
  /** An access token is stored (possibly expired). */
  signedIn: boolean,
  /** A refresh token is stored. */
  refreshable: boolean,
  /** When the access token expires, in ms since the Unix epoch. */
  expiresAtMs: number | null,
  /** Scopes granted with the stored tokens. */
  scopes: Array<string>,
};

/** `POST /api/servers/{name}/auth/cancel`. */
export type CancelledAnswer = {
  /** Whether a sign-in was pending (and is now cancelled). */
  cancelled: boolean,
};

/** What an install or uninstall did to a client's config file. */
export type ClientChange = {
  /** Whether the file was written (false: it already was as wanted). */
  written: boolean,
  /** Where the previous file was copied to, when there was one. */
  backup: string | null,
};

/** `POST /api/clients/{id}/install` and `uninstall`. */
export type ClientChangeAnswer = {
  /** Always true. */
  ok: boolean,
  /** What happened to the client's config file. */
  change: ClientChange,
};

/** `GET /api/clients`: the desktop clients and what to paste into others. */
export type ClientList = {
  /** Every known client. */
  clients: Array<ClientState>,
  /** For clients Loopgate cannot wire itself. */
  snippets: ClientSnippets,
};

/** How any MCP client reaches Loopgate. */
export type ClientSnippets = {
  /** The Streamable HTTP endpoint. */
  mcpUrl: string,
  /** The command line of the stdio bridge (`loopgate connect`). */
  stdioCommand: string,
};

/**
 * A known client and how it stands on this machine: a row of `loopgate client list` and of
 * `GET /api/clients`.
 */
export type ClientState = {
  /**
   * Id used on the command line and in the API: `claude-desktop`, `codex`, `gemini`, …
   * (`loopgate client list` shows them all).
   */
  id: string,
  /** Display name. */
  name: string,
  /** Its config format. */
  format: Format,
  /** Its config file (`None` without a home directory). */
  configPath: string | null,
  /** Whether it seems installed here. */
  installed: boolean,
  /** Whether Loopgate is in its config (`None` when the file cannot be read). */
  wired: boolean | null,
  /**
   * How it reaches Loopgate: Streamable HTTP with its own token, or stdio through
   * `loopgate connect` — the wired entry's, else the one an install would write.
   */
  transport: Transport,
  /** Whether it connects to Streamable HTTP servers. */
  speaksHttp: boolean,
  /** Whether it starts stdio servers (`loopgate client install --stdio`). */
  speaksStdio: boolean,
  /** The most tools it takes per request, when it has a limit. */
  toolLimit: number | null,
  /** Where Loopgate's facts about it come from. */
  source: string,
  /** What shows it is installed (its file, a directory, a program on `PATH`). */
  detectedBy: string | null,
};

/** What a set of tools costs: how many there are and their definitions' tokens. */
export type Cost = {
  /** Tools a client sees (in search mode: the two search tools). */
  toolCount: number,
  /** Tools the profile reaches (in search mode: through the search). */
  reachableTools: number,
  /**
   * Estimated tokens of the definitions a client gets (`o200k_base`); `null` when the
   * tokenizer is unavailable.
   */
  definitionTokens: number | null,
};

/** A tool as clients see it, with the server it belongs to. */
export type ExposedTool = {
  /** The name clients see. */
  name: string,
  /** Its server. */
  server: string,
  /** The name the server gives it. */
  originalName: string,
  /** Its description. */
  description: string | null,
};

/**
 * How a client's config file is shaped: its syntax, where its servers are, and the shape of
 * one server entry.
 */
export type Format = "mcpServersStdio" | "mcpServersTypedHttp" | "mcpServersUrl" | "mcpServersServerUrl" | "vsCodeServers" | "mcpServersHttpUrl" | "clineServers" | "rooServers" | "codexToml" | "opencodeMcp" | "zedContextServers" | "continueDropIn" | "gooseYaml";

/** The config of a Streamable HTTP server. */
export type HttpView = {
  /** The endpoint. */
  url: string,
  /** Extra headers (values or `${secret:…}` references). */
  headers: { [key in string]: string },
  /** `oauth` or `none` when set; `null`: sign in when the server asks. */
  auth: ServerAuth | null,
  /** Its OAuth client options, if any. */
  oauth: OAuthView | null,
};

/** `POST /api/servers/import`: the servers added, in order. */
export type ImportedAnswer = {
  /** Their names. */
  added: Array<string>,
};

/** `GET /api/info`: the gateway itself. */
export type Info = {
  /** Loopgate's version. */
  version: string,
  /** The MCP endpoint clients use. */
  mcpUrl: string,
  /** The config file. */
  configPath: string,
  /** Tools clients see. */
  toolCount: number,
  /** `"gateway": {"auth": "none"}` turns token checking on `/mcp` off. */
  authNone: boolean,
  /** Why the last hand edit of the config file was refused (the last good config runs). */
  configError: string | null,
  /** The gateway opens OAuth sign-in pages itself (the desktop app). */
  signInOpensBrowser: boolean,
};

/** One entry of `GET /api/servers/{name}/logs`. */
export type LogLine = {
  /** When, in milliseconds since the Unix epoch. */
  tsMs: number,
  /** `stderr` (the server's own output) or `gateway` (Loopgate's notes). */
  source: string,
  /** The text. */
  line: string,
};

/** A server's OAuth client options; the client secret is never shown, only whether one is set. */
export type OAuthView = {
  /** A pre-registered client id. */
  clientId: string | null,
  /** Whether a client secret is stored for it. */
  hasClientSecret: boolean,
  /** Scopes asked for. */
  scopes: Array<string>,
  /** A Client ID Metadata Document URL. */
  clientMetadataUrl: string | null,
};

/** `{ ok: true }`: the change was made (switches, edit, remove, restart, quit, token reload). */
export type OkAnswer = {
  /** Always true. */
  ok: boolean,
};

/**
 * A profile's settings, as the dashboard edits them (the body of `PUT /api/profiles/{name}`;
 * other keys of the profile in the config file are kept).
 */
export type ProfileSettings = {
  /** Its servers; `null`: every server. */
  servers: Array<string> | null,
  /** Per server, the tools it hides (the servers' own names). */
  disabledTools: { [key in string]: Array<string> },
  /** Search mode: two search tools instead of every tool. */
  toolSearch: boolean,
};

/** One profile as the API shows it. */
export type ProfileView = {
  /** Its name. */
  name: string,
  /** Its settings. */
  settings: ProfileSettings,
  /** Installed clients bound to it (client ids). */
  clients: Array<string>,
  /** Whether the gateway's own token (`gateway.profile`) is bound to it. */
  gateway: boolean,
  /** What it costs now. */
  cost: Cost,
};

/** The body of `GET /api/profiles`. */
export type ProfilesView = {
  /** Every profile, in config order. */
  profiles: Array<ProfileView>,
  /** What a client without a profile sees. */
  everything: Cost,
  /** Client id → profile name. */
  clientProfiles: { [key in string]: string },
};

/** `POST /api/config/reload`: whether the file differed from the running config. */
export type ReloadedAnswer = {
  /** True when the file changed and was applied. */
  changed: boolean,
};

/** `POST /api/secrets/{name}/changed`: the servers using the secret, restarted. */
export type RestartedAnswer = {
  /** Their names. */
  restarted: Array<string>,
};

/** What the authorization server did with the tokens of a sign-out. */
export type Revocation = { "outcome": "revoked" } | { "outcome": "nothing-to-revoke" } | { "outcome": "unsupported" } | { "outcome": "failed", "detail": string };

/** The `auth` key of a server entry. */
export type ServerAuth = "oauth" | "none";

/**
 * A server's config entry as the API shows it: `${secret:…}` references as written, never
 * secret values; the OAuth client secret not even as a reference.
 */
export type ServerConfigView = {
  /** Tools (as the server names them) hidden from clients. */
  disabledTools: Array<string>,
} & (StdioView | HttpView);

/**
 * One entry of `GET /api/servers` (and of the `servers` event): the server's status, its
 * sign-in and its config.
 */
export type ServerInfo = {
  /** Its OAuth sign-in, if one is pending or failed. */
  signIn: SignInView,
  /** Its config entry (never a secret value). */
  config: ServerConfigView,
  /** Server name (config key). */
  name: string,
  /** `"stdio"` or `"http"`. */
  transport: Transport,
  /** Command line or URL (never env or header values). */
  target: string,
  /** False when `"disabled": true`. */
  enabled: boolean,
  /** Lifecycle state. */
  state: ServerState,
  /** The most recent error, if the server failed or restarted. */
  lastError: string | null,
  /**
   * Negotiated MCP protocol version (of the session; a server that also answers
   * 2026-07-28 requests lists it in `eras`).
   */
  protocolVersion: string | null,
  /**
   * The protocol eras Loopgate speaks with it: `"initialize"` (a session, 2024-11-05 …
   * 2025-11-25) and/or `"2026-07-28"` (stateless requests).
   */
  eras: Array<string>,
  /** For HTTP servers: whether the backend issued an `Mcp-Session-Id` (false = stateless). */
  sessionIssued: boolean | null,
  /** For HTTP servers: the issued session id, for diagnostics. */
  sessionId: string | null,
  /** How often the backend forgot its session and Loopgate re-initialized. */
  reinitializations: number,
  /** Number of tools the backend lists (before `disabledTools`). */
  toolCount: number,
  /** How many times the server was restarted after a failure or exit. */
  restarts: number,
  /** When the current connection was established, in ms since the Unix epoch. */
  connectedSinceMs: number | null,
  /** Process id of the stdio server, while running. */
  pid: number | null,
  /**
   * For HTTP servers using OAuth: true while connected with Loopgate's tokens, false while
   * a sign-in is needed; `None` when OAuth is not involved.
   */
  signedIn: boolean | null,
};

/** The lifecycle state of one server, as shown in `loopgate servers` and the UI. */
export type ServerState = "disabled" | "starting" | "ready" | "degraded" | "failed" | "needs-sign-in";

/** One entry of `GET /api/servers/{name}/tools`: a tool the server lists (disabled ones too). */
export type ServerTool = {
  /** The name clients see. */
  name: string,
  /** The name the server gives it. */
  originalName: string,
  /** Its display title. */
  title: string | null,
  /** Its description. */
  description: string | null,
  /** Its MCP annotations (hints), as the server sent them. */
  annotations: ToolAnnotations | null,
  /** The JSON Schema of its arguments. */
  inputSchema: JsonSchema,
  /** The JSON Schema of its structured result, if it declares one. */
  outputSchema: JsonSchema | null,
  /** False when listed in the server's `disabledTools`. */
  enabled: boolean,
};

/** The sign-in state of one server, for status output. */
export type SignInView = {
  /** A sign-in is pending (waiting for discovery or for the browser). */
  pending: boolean,
  /** The authorization URL of the pending sign-in, once known. */
  url: string | null,
  /** Why the last sign-in failed, if it did. */
  lastError: string | null,
  /** How many sign-ins were started for this server since the gateway started. */
  started: number,
};

/** The result of [`sign_out`]. */
export type SignedOut = {
  /** Whether tokens were stored (and are now deleted). */
  removed: boolean,
  /** What the authorization server did with them. */
  revocation: Revocation,
};

/** The config of a stdio server. */
export type StdioView = {
  /** The program. */
  command: string,
  /** Its arguments. */
  args: Array<string>,
  /** Its extra environment (values or `${secret:…}` references). */
  env: { [key in string]: string },
  /** Its working directory. */
  cwd: string | null,
};

/** A suggested server (an item of `GET /api/suggestions`). */
export type Suggestion = {
  /** The name the server gets in `mcpServers`. */
  name: string,
  /** What to show. */
  title: string,
  /** One line on what it gives clients. */
  description: string,
  /** Its `mcpServers` entry, ready to add (`command`/`args`, or `url`). */
  entry: { command?: string, args?: string[], url?: string, env?: Record<string, string> },
  /** The program it needs, when it needs one on `PATH`. */
  program: string | null,
  /** Where that program was found (`None`: not on `PATH`, or none needed). */
  detected: string | null,
  /** Names of `env` values the user must fill in (API keys), if any. */
  needs: Array<string>,
};

/** `GET /api/suggestions`: well-known servers to add, detected ones first. */
export type SuggestionList = {
  /** The suggestions. */
  suggestions: Array<Suggestion>,
};

/** The `tools` event of `GET /api/events`: how many tools clients see now. */
export type ToolCount = {
  /** How many. */
  count: number,
};

/** `GET /api/tools`: the tools clients see. */
export type ToolList = {
  /** How many. */
  count: number,
  /** The tools. */
  tools: Array<ExposedTool>,
};

/**
 * How a server is reached, or how a client reaches Loopgate: serialized `"stdio"` or `"http"`
 * (Streamable HTTP).
 */
export type Transport = "stdio" | "http";

/**
 * `{ url }`: a one-time dashboard link (`POST /api/dashboard/link`) or a sign-in page to open
 * (`POST /api/servers/{name}/auth/login`).
 */
export type UrlAnswer = {
  /** The URL. */
  url: string,
};
