// The mock's in-memory state: its servers (config entry, simulated runtime status, tools, logs),
// its profiles, the mock-only switches, and the views the API serves of them (a server's status,
// the tools clients see).

import { SCENARIO } from './options.mjs';

export const now = () => Date.now();

/** name -> { entry: config entry, rt: runtime status, tools, logs, oauth? } in config order. */
export const servers = new Map();

/** The config's `profiles` (name -> { servers: string[] | null, disabledTools: {server: [tool]},
 *  toolSearch }), `clientProfiles` (client id -> profile) and `gateway.profile`, in config order. */
export const profileState = { profiles: new Map(), clientProfiles: new Map(), gatewayProfile: null };

/** Mock-only switches, changed through /__mock/…: the loaded scenario, whether /api/events is
 *  refused, and the sign-in address login hands out (null: this mock's own /__mock/authorize). */
export const switches = { scenario: SCENARIO, eventsOff: false, signInUrl: null };

export function freshRuntime() {
  return { state: 'starting', lastError: null, protocolVersion: null, sessionIssued: null, sessionId: null, reinitializations: 0, restarts: 0, connectedSinceMs: null, pid: null };
}

export function log(s, source, line) {
  s.logs.push({ tsMs: now(), source, line });
  if (s.logs.length > 200) s.logs.shift();
}

export function setState(s, state, lastError = null) {
  s.rt.state = state;
  if (lastError !== null) s.rt.lastError = lastError;
  if (state !== 'ready' && state !== 'degraded') {
    s.rt.connectedSinceMs = null;
    s.rt.pid = null;
    s.tools = [];
  }
}

// ---- views -------------------------------------------------------------------------------------

export function statusOf(s) {
  const e = s.entry;
  const oauth = e.oauth ? { clientId: e.oauth.clientId ?? null, hasClientSecret: !!e.oauth.clientSecret, scopes: e.oauth.scopes ?? [], clientMetadataUrl: null } : null;
  const config = e.url ? { url: e.url, headers: e.headers ?? {}, auth: e.auth ?? null, oauth, disabledTools: e.disabledTools } : { command: e.command, args: e.args ?? [], env: e.env ?? {}, cwd: e.cwd ?? null, disabledTools: e.disabledTools };
  return {
    name: s.name,
    transport: e.url ? 'http' : 'stdio',
    target: e.url ?? [e.command, ...(e.args ?? [])].join(' '),
    enabled: !e.disabled,
    ...s.rt,
    toolCount: s.tools.length,
    config,
    ...(s.oauth ? { signedIn: s.oauth.signedIn, signIn: { pending: s.oauth.pending, url: s.oauth.url, lastError: s.oauth.lastError, started: s.oauth.started } } : {}),
  };
}

export function exposedTools() {
  const out = [];
  for (const s of servers.values()) {
    if (s.rt.state !== 'ready') continue;
    for (const t of s.tools) if (!s.entry.disabledTools.includes(t.originalName)) out.push({ name: `${s.name}__${t.originalName}`, server: s.name, originalName: t.originalName, description: t.description ?? null });
  }
  return out;
}
