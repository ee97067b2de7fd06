// Profiles in the mock, answering like the gateway's src-tauri/src/http/api/profiles.rs:
// GET /api/profiles (each profile with its clients and what it costs: tool count, and tokens
// estimated as JSON characters / 4 where the gateway counts with o200k), PUT and DELETE
// /api/profiles/{name}, PUT /api/clients/{id}/profile — refusing what the gateway refuses, with
// its messages and fields. Removing a server takes it out of every profile (forgetServer).

import { saveConfig } from './events.mjs';
import { body, json } from './http.mjs';
import { CONFIG } from './options.mjs';
import { profileState, servers } from './state.mjs';

const CONFIG_PATH = CONFIG ?? '/home/you/.config/loopgate/config.json';
const RESERVED = ['oauth', 'gateway-token', 'client-tokens'];
const META_TOOLS = [
  { name: 'search_tools', description: 'Find tools by what you want to do. Returns the best matches with their names, descriptions and parameters.', inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'What you want to do' }, limit: { type: 'integer', default: 5 } }, required: ['query'] } },
  { name: 'call_tool', description: 'Call a tool found with search_tools, by its name, with its arguments.', inputSchema: { type: 'object', properties: { name: { type: 'string' }, arguments: { type: 'object' } }, required: ['name'] } },
];

/** The tool definitions a scope (a profile, or null: everything) reaches now. */
function reach(p) {
  const out = [];
  for (const s of servers.values()) {
    if (s.rt.state !== 'ready' || (p && p.servers !== null && !p.servers.includes(s.name))) continue;
    const hidden = p?.disabledTools[s.name] ?? [];
    for (const t of s.tools) {
      if (s.entry.disabledTools.includes(t.originalName) || hidden.includes(t.originalName)) continue;
      out.push({ name: `${s.name}__${t.originalName}`, description: t.description ?? '', inputSchema: t.inputSchema });
    }
  }
  return out;
}

function cost(p) {
  const tools = reach(p);
  const shown = p?.toolSearch ? META_TOOLS : tools;
  return { toolCount: shown.length, reachableTools: tools.length, definitionTokens: Math.round(JSON.stringify(shown).length / 4) };
}

export function profilesView() {
  const { profiles, clientProfiles, gatewayProfile } = profileState;
  return {
    profiles: [...profiles].map(([name, p]) => ({
      name,
      settings: { servers: p.servers, disabledTools: p.disabledTools, toolSearch: p.toolSearch },
      clients: [...clientProfiles].filter(([, q]) => q === name).map(([c]) => c),
      gateway: gatewayProfile === name,
      cost: cost(p),
    })),
    everything: cost(null),
    clientProfiles: Object.fromEntries(clientProfiles),
  };
}

/** The gateway's name rules (validate_server_name), said of profiles. */
function nameError(name) {
  if (!name || name.length > 48) return 'profile names must be 1 to 48 characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) return "profile names may use only letters, digits, '_' and '-', and start with a letter or digit";
  if (name.includes('__') || name.endsWith('_')) return 'profile names may not contain "__" or end with "_" ("__" separates server and tool in tool names, so neither may blur it)';
  if (RESERVED.includes(name)) return `"${name}" is reserved (Loopgate's own keychain records start with it); choose another name`;
  return null;
}

const invalid = (path, message) => `config file ${CONFIG_PATH}: ${path}: ${message}`;

/** The gateway's check of one profile (check_profiles): `{ error, field? }`, or null. */
function profileError(name, p) {
  for (const server of [...(p.servers ?? []), ...Object.keys(p.disabledTools)]) {
    if (!servers.has(server)) return { error: invalid(`profiles.${name}`, `names the server "${server}", which is not in "mcpServers"; remove it from the profile or add the server`), field: 'profiles' };
    if (p.servers !== null && !p.servers.includes(server)) return { error: invalid(`profiles.${name}.disabledTools.${server}`, `hides tools of "${server}", which is not among the profile's "servers"`) };
  }
  return null;
}

/** A body of PUT /api/profiles/{name} as the gateway reads it (ProfileSettings, no other key). */
function settingsFrom(b) {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return { error: 'the request body is not a JSON object' };
  const extra = Object.keys(b).find((k) => !['servers', 'disabledTools', 'toolSearch'].includes(k));
  if (extra) return { error: `unknown field \`${extra}\`, expected one of \`servers\`, \`disabledTools\`, \`toolSearch\``, field: extra };
  const servers = b.servers ?? null;
  const disabledTools = b.disabledTools ?? {};
  if (servers !== null && !(Array.isArray(servers) && servers.every((s) => typeof s === 'string'))) return { error: 'servers: expected a list of server names or null', field: 'servers' };
  if (typeof disabledTools !== 'object' || Array.isArray(disabledTools) || !Object.values(disabledTools).every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))) return { error: 'disabledTools: expected an object of tool-name lists', field: 'disabledTools' };
  if (b.toolSearch !== undefined && typeof b.toolSearch !== 'boolean') return { error: 'toolSearch: expected a boolean', field: 'toolSearch' };
  return { settings: { servers, disabledTools, toolSearch: b.toolSearch ?? false } };
}

/** Answers /api/profiles… (`r[0]` is `profiles`). */
export async function profilesApi(req, res, r) {
  const m = req.method;
  const { profiles, clientProfiles, gatewayProfile } = profileState;
  if (r.length === 1 && m === 'GET') return json(res, 200, profilesView());
  if (r.length !== 2) return json(res, 404, { error: `${new URL(req.url, 'http://x').pathname} is not an API endpoint` });
  const name = r[1];
  if (m === 'PUT') {
    const bad = nameError(name);
    if (bad) return json(res, 400, { error: bad, field: 'name' });
    const { settings, error, field } = settingsFrom(await body(req));
    if (!settings) return json(res, 400, field ? { error, field } : { error });
    const refused = profileError(name, settings);
    if (refused) return json(res, 400, refused);
    profiles.set(name, settings);
    void saveConfig();
    return json(res, 200, { ok: true });
  }
  if (m === 'DELETE') {
    if (!profiles.has(name)) return json(res, 404, { error: `no profile named "${name}"` });
    const users = [...clientProfiles].filter(([, p]) => p === name).map(([c]) => c);
    if (gatewayProfile === name) users.push("the gateway's own token (gateway.profile)");
    if (users.length) return json(res, 409, { error: `profile "${name}" is in use by ${users.join(', ')}; bind them to another profile first` });
    profiles.delete(name);
    void saveConfig();
    return json(res, 200, { ok: true });
  }
  return json(res, 405, { error: `/api/profiles/${name} does not take ${m} requests` });
}

/** PUT /api/clients/{id}/profile with `{ profile: name | null }`. */
export async function bindClientProfile(req, res, id) {
  const b = await body(req);
  if (!b || typeof b !== 'object' || !('profile' in b) || Object.keys(b).length !== 1) return json(res, 400, { error: 'expected { "profile": name | null }' });
  if (b.profile === null) profileState.clientProfiles.delete(id);
  else if (!profileState.profiles.has(b.profile)) return json(res, 400, { error: invalid('profile', `there is no profile named "${b.profile}"`), field: 'profile' });
  else profileState.clientProfiles.set(id, b.profile);
  void saveConfig();
  return json(res, 200, { ok: true });
}

/** Takes a removed server out of every profile (the gateway does the same). */
export function forgetServer(name) {
  for (const p of profileState.profiles.values()) {
    if (p.servers) p.servers = p.servers.filter((s) => s !== name);
    delete p.disabledTools[name];
  }
}

/** The profiles a scenario starts with: `demo` and `oauth` have two, bound to three clients. */
export function loadProfiles(scenario) {
  const { profiles, clientProfiles } = profileState;
  profiles.clear();
  clientProfiles.clear();
  profileState.gatewayProfile = null;
  if (scenario !== 'demo' && scenario !== 'oauth') return;
  profiles.set('coding', { servers: ['everything', 'py'], disabledTools: { everything: ['get-env', 'trigger-long-running-operation'] }, toolSearch: false });
  profiles.set('research', { servers: null, disabledTools: {}, toolSearch: true });
  profiles.set('calc', { servers: ['py'], disabledTools: {}, toolSearch: false });
  clientProfiles.set('cursor', 'coding');
  clientProfiles.set('claude-code', 'coding');
  clientProfiles.set('vscode', 'research');
}
