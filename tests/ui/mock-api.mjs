#!/usr/bin/env node
// A stand-in for the gateway's admin API, for developing the dashboard without a Rust build.
// Serves ui/dist at `/`, `/auth?nonce=devlink` (a reusable stand-in for the gateway's one-time
// link: sets the HttpOnly session cookie, redirects to `/`), the JSON
// API of the contract under /api (canned servers whose states change like the real ones), and
// Server-Sent Events at /api/events. No dependencies.
//
//   node tests/ui/mock-api.mjs [--port 7399] [--token devtoken] [--scenario demo|empty|two|oauth] [--config FILE]
//
// With --config the mock writes its servers to FILE (in the gateway's mcpServers shape) after
// every change, and /mcp answers initialize + tools/list, so tests/ui/run.mjs can run against it:
//   node tests/ui/mock-api.mjs --scenario two --config /tmp/mock-config.json &
//   MEMORY_SERVER_JS=/x/server-memory/dist/index.js \
//     node tests/ui/run.mjs http://127.0.0.1:7399 devtoken /tmp/mock-config.json /tmp/shots
//
// Mock-only controls (no auth): POST /__mock/drop-events (closes every SSE stream),
// POST /__mock/scenario?name=… (resets the state), POST /__mock/events?off=1 (refuse /api/events),
// POST /__mock/clients?preset=demo|clean (resets the AI clients' config files).
//
// OAuth (scenario `oauth`: the demo plus `secure`, an HTTP server that needs a sign-in): POST
// /api/servers/{name}/auth/login|cancel|logout answer like the gateway; the sign-in page is
// GET /__mock/authorize?server=NAME, which signs in at once and says "Signed in". POST
// /__mock/sign-in-url?url=… makes login hand out that address instead (e.g. a hostile
// `javascript:` one, to check the dashboard refuses it); without `url`, back to the default.
//
// The "Connect a client" endpoints (/api/clients…) edit real files, the way the gateway does, but
// under a stand-in home directory: --home DIR (never the real one), else a fresh temp directory
// (printed at start). Its path is the LOOPGATE_TEST_HOME to give tests/ui/run.mjs.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, extname, join, normalize, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, '..', '..', 'ui', 'dist');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const PORT = Number(opt('port', process.env.PORT ?? 7399));
const TOKEN = opt('token', 'devtoken');
const CONFIG = opt('config', null);
let scenario = opt('scenario', 'demo');
const HOME = (() => {
  const h = opt('home', null);
  if (!h) return realpathSync(mkdtempSync(join(tmpdir(), 'loopgate-mock-home-')));
  mkdirSync(h, { recursive: true });
  const real = realpathSync(h);
  if (real === realpathSync(homedir())) {
    console.error('mock: --home must not be your real home directory');
    process.exit(2);
  }
  return real;
})();
let eventsOff = false;
/** The sign-in address login hands out; null: this mock's own /__mock/authorize page. */
let signInUrl = null;
/** Open SSE responses. */
const streams = new Set();
let saving = Promise.resolve();

const now = () => Date.now();

// ---- canned tools ------------------------------------------------------------------------------

const everythingTools = [
  { originalName: 'echo', description: 'Echoes back the input string', inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' }, annotations: { readOnlyHint: true, openWorldHint: false } },
  { originalName: 'get-sum', description: 'Returns the sum of two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number', description: 'First number' }, b: { type: 'number', description: 'Second number' } }, required: ['a', 'b'] }, annotations: { readOnlyHint: true, idempotentHint: true } },
  { originalName: 'get-env', description: 'Returns all environment variables, helpful for debugging MCP server configuration', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'get-tiny-image', description: 'Returns a tiny MCP logo image.', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'trigger-long-running-operation', description: 'Demonstrates a long running operation with progress updates.', inputSchema: { type: 'object', properties: { duration: { type: 'number', default: 10, description: 'Duration of the operation in seconds' }, steps: { type: 'number', default: 5, minimum: 1, description: 'Number of steps in the operation' } } } },
  { originalName: 'get-annotated-message', description: 'Demonstrates how annotations can be used to provide metadata about content.', inputSchema: { type: 'object', properties: { messageType: { type: 'string', enum: ['error', 'success', 'debug'], description: 'Type of message to demonstrate different annotation patterns' }, includeImage: { type: 'boolean', default: false, description: 'Whether to include an example image' } }, required: ['messageType'] } },
  { originalName: 'get-structured-content', title: 'Structured weather', description: 'Returns structured content along with an output schema for client data validation', inputSchema: { type: 'object', properties: { location: { type: 'string', enum: ['New York', 'Chicago', 'Los Angeles'], description: 'Choose city' } }, required: ['location'] }, outputSchema: { type: 'object', properties: { temperature: { type: 'number' }, conditions: { type: 'string' }, humidity: { type: 'number' } }, required: ['temperature', 'conditions', 'humidity'] }, annotations: { readOnlyHint: true, openWorldHint: true } },
  { originalName: 'search-issues', title: 'Search issues', description: 'Searches the demo issue tracker.\n\nFilters combine with AND. Results are sorted by the given keys in order.', inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'Free-text query', minLength: 1 }, filters: { type: 'object', description: 'Narrow the results', properties: { state: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open' }, labels: { type: 'array', items: { type: 'string' }, description: 'Issues must carry every label' }, assignee: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'Login of the assignee, or null for unassigned' }, created: { type: 'object', description: 'Creation date range', properties: { after: { type: 'string', format: 'date-time' }, before: { type: 'string', format: 'date-time' } } } }, required: ['state'] }, sort: { type: 'array', description: 'Sort keys, most significant first', items: { type: 'object', properties: { field: { type: 'string', enum: ['created', 'updated', 'comments'] }, direction: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } }, required: ['field'] } }, limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }, required: ['query'] }, annotations: { readOnlyHint: true, openWorldHint: true } },
  { originalName: 'delete-issue', description: 'Permanently deletes an issue from the demo tracker.', inputSchema: { type: 'object', properties: { id: { type: 'integer', description: 'Issue number' } }, required: ['id'] }, annotations: { destructiveHint: true, idempotentHint: true } },
  { originalName: 'sample-llm', description: "Samples from an LLM using MCP's sampling feature", inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' }, maxTokens: { type: 'number', default: 100, description: 'Maximum number of tokens to generate' } }, required: ['prompt'] } },
  { originalName: 'toggle-simulated-logging', description: 'Toggles simulated, random-leveled logging on or off.', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'gzip-file-as-resource', description: 'Compresses a single file using gzip compression and returns it as a resource.', inputSchema: { type: 'object', properties: { name: { type: 'string', description: 'Name of the output file', default: 'README.md.gz' }, data: { type: 'string', format: 'uri', description: 'URL or data URI of the file content to compress' }, outputType: { type: 'string', enum: ['resourceLink', 'resource'], default: 'resourceLink' } } } },
  { originalName: 'get-resource-links', description: 'Returns up to ten resource links that reference different types of resources', inputSchema: { type: 'object', properties: { count: { type: 'number', minimum: 1, maximum: 10, default: 3 } } } },
];

const pyTools = [
  { originalName: 'add', description: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { title: 'A', type: 'integer' }, b: { title: 'B', type: 'integer' } }, required: ['a', 'b'], title: 'addArguments' }, outputSchema: { type: 'object', properties: { result: { title: 'Result', type: 'integer' } }, required: ['result'] } },
  { originalName: 'echo', description: 'Echo a message', inputSchema: { type: 'object', properties: { message: { title: 'Message', type: 'string' } }, required: ['message'], title: 'echoArguments' } },
];

const memoryTools = ['create_entities', 'create_relations', 'add_observations', 'delete_entities', 'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes'].map((n) => ({
  originalName: n,
  description: `Knowledge graph: ${n.replace(/_/g, ' ')}`,
  inputSchema: n === 'read_graph' ? { type: 'object', properties: {} } : { type: 'object', properties: { names: { type: 'array', items: { type: 'string' } } } },
}));

// ---- state -------------------------------------------------------------------------------------

/** name -> { entry: config entry, rt: runtime status, tools, logs } in config order. */
let servers = new Map();

function addServer(name, entry, { state = null, lastError = null } = {}) {
  const s = { name, entry: { disabledTools: [], ...entry }, rt: freshRuntime(), tools: [], logs: [] };
  servers.set(name, s);
  if (s.entry.disabled) setState(s, 'disabled');
  else if (state === 'failed') {
    s.rt.restarts = 5;
    setState(s, 'failed', lastError);
  } else if (state === 'needs-sign-in') {
    setState(s, 'needs-sign-in');
  } else if (state === 'degraded') {
    connect(s, true);
    s.rt.lastError = lastError;
    s.rt.state = 'degraded';
    s.tools = [];
  } else connect(s, true);
  return s;
}

function freshRuntime() {
  return { state: 'starting', lastError: null, protocolVersion: null, sessionIssued: null, sessionId: null, reinitializations: 0, restarts: 0, connectedSinceMs: null, pid: null };
}

function toolsFor(s) {
  if (s.name === 'everything') return everythingTools;
  if (s.name === 'py') return pyTools;
  if (/memory/.test(s.name) || /server-memory|memory/.test((s.entry.args ?? []).join(' '))) return memoryTools;
  return [{ originalName: 'ping', description: 'Replies with pong', inputSchema: { type: 'object', properties: {} } }];
}

function log(s, source, line) {
  s.logs.push({ tsMs: now(), source, line });
  if (s.logs.length > 200) s.logs.shift();
}

function setState(s, state, lastError = null) {
  s.rt.state = state;
  if (lastError !== null) s.rt.lastError = lastError;
  if (state !== 'ready' && state !== 'degraded') {
    s.rt.connectedSinceMs = null;
    s.rt.pid = null;
    s.tools = [];
  }
}

function connect(s, immediate = false) {
  setState(s, 'starting');
  log(s, 'gateway', s.entry.url ? `connecting to ${s.entry.url}` : `spawning ${[s.entry.command, ...(s.entry.args ?? [])].join(' ')}`);
  const finish = () => {
    if (!servers.has(s.name) || s.entry.disabled) return;
    if (!s.entry.url && !/^(npx|node|uvx|python3?|deno|bun|docker)$/.test(s.entry.command ?? '') && !(s.entry.command ?? '').startsWith('/')) {
      s.rt.restarts++;
      setState(s, 'failed', `spawn ${s.entry.command} ENOENT: the command was not found (retrying in 8s)`);
      log(s, 'gateway', `failed: spawn ${s.entry.command} ENOENT`);
      broadcast();
      return;
    }
    s.rt.state = 'ready';
    s.rt.lastError = null;
    s.rt.protocolVersion = s.entry.url ? '2025-06-18' : '2025-11-25';
    s.rt.connectedSinceMs = now() - (immediate ? 1000 * (60 * 47 + 12) : 0);
    if (s.entry.url) {
      s.rt.sessionIssued = true;
      s.rt.sessionId = 'a3f09c2e71b84d6f9e0c55d1b2a7e410';
    } else {
      s.rt.pid = 40000 + Math.floor(Math.random() * 9000);
      log(s, 'stderr', `${s.name} MCP server running on stdio`);
    }
    s.tools = toolsFor(s);
    log(s, 'gateway', `ready — ${s.tools.length} tools (protocol ${s.rt.protocolVersion})`);
    broadcast();
  };
  if (immediate) finish();
  else setTimeout(finish, 900);
}

function loadScenario(name) {
  servers = new Map();
  scenario = name;
  if (name === 'empty') return;
  const ev = addServer('everything', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@2026.8.31', 'stdio'], env: { LOG_LEVEL: 'info' }, disabledTools: name === 'demo' ? ['trigger-long-running-operation'] : [] });
  for (const l of ['Starting default (STDIO) server...', 'Registered 13 tools, 7 prompts, 100 resources', 'everything MCP server running on stdio', 'Client requested tools/list', 'Client requested tools/call echo']) log(ev, 'stderr', l);
  addServer('py', { url: 'http://127.0.0.1:3401/mcp', headers: { 'X-Team': 'blue', Authorization: '${secret:loopgate/py/Authorization}' } });
  if (name === 'two') return;
  const gh = addServer('github', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${secret:loopgate/github/GITHUB_PERSONAL_ACCESS_TOKEN}', GITHUB_API_URL: 'https://api.github.com' } }, { state: 'failed', lastError: 'process exited with status 1 before the MCP handshake (5 failed starts in a row; parked until re-enabled or restarted)' });
  log(gh, 'stderr', 'Error: Bad credentials (401) — check GITHUB_PERSONAL_ACCESS_TOKEN');
  log(gh, 'gateway', 'exited with status 1; giving up after 5 attempts');
  addServer('linear', { url: 'https://mcp.linear.app/mcp', headers: { Authorization: '${secret:loopgate/linear/Authorization}' }, disabled: true });
  if (name !== 'oauth') return;
  const sec = addServer('secure', { url: 'https://mcp.secure.example/mcp' }, { state: 'needs-sign-in' });
  sec.oauth = { signedIn: false, pending: false, url: null, lastError: null, started: 0 };
  log(sec, 'gateway', 'HTTP 401 from the server: it needs a sign-in');
}


// ---- AI clients ("Connect a client") -----------------------------------------------------------

const LOOPGATE_EXE = '/usr/local/bin/loopgate';
const mcpUrl = () => `http://127.0.0.1:${PORT}/mcp`;
const CLIENTS = [
  { id: 'claude-desktop', name: 'Claude Desktop', format: 'mcpServersStdio', path: ['.config', 'Claude', 'claude_desktop_config.json'] },
  { id: 'claude-code', name: 'Claude Code', format: 'mcpServersTypedHttp', path: ['.claude.json'] },
  { id: 'cursor', name: 'Cursor', format: 'mcpServersUrl', path: ['.cursor', 'mcp.json'] },
  { id: 'vscode', name: 'VS Code', format: 'vsCodeServers', path: ['.config', 'Code', 'User', 'mcp.json'] },
  { id: 'windsurf', name: 'Windsurf', format: 'mcpServersServerUrl', path: ['.codeium', 'windsurf', 'mcp_config.json'] },
];
/** client id -> its own access token (accepted like the main one, as the gateway does). */
const clientTokens = new Map();

const clientPath = (c) => join(HOME, ...c.path);
const serversKey = (c) => (c.format === 'vsCodeServers' ? 'servers' : 'mcpServers');

class ClientFileError extends Error {}

/** The client's file as an object ({} when missing); throws ClientFileError when not plain JSON. */
function readClientFile(c) {
  const path = clientPath(c);
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (!text.trim()) return {};
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ClientFileError(`${path} is not plain JSON (${e.message}); edit it by hand or fix it first — Loopgate left it unchanged`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ClientFileError(`${path} is not plain JSON (the top level is not an object); edit it by hand or fix it first — Loopgate left it unchanged`);
  return doc;
}

function writeClientFile(c, doc) {
  const path = clientPath(c);
  let backup = null;
  if (existsSync(path)) {
    backup = `${path}.loopgate-backup-${Date.now()}`;
    copyFileSync(path, backup);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return { written: true, backup };
}

function clientEntry(c, token) {
  const headers = { Authorization: `Bearer ${token}` };
  switch (c.format) {
    case 'mcpServersStdio':
      return { command: LOOPGATE_EXE, args: ['connect'] };
    case 'mcpServersTypedHttp':
    case 'vsCodeServers':
      return { type: 'http', url: mcpUrl(), headers };
    case 'mcpServersServerUrl':
      return { serverUrl: mcpUrl(), headers };
    default:
      return { url: mcpUrl(), headers };
  }
}

function clientState(c) {
  const path = clientPath(c);
  let wired;
  try {
    wired = readClientFile(c)[serversKey(c)]?.loopgate !== undefined;
  } catch {
    wired = null;
  }
  return {
    id: c.id,
    name: c.name,
    format: c.format,
    configPath: path,
    installed: existsSync(path) || (c.id !== 'claude-code' && existsSync(dirname(path))),
    wired,
    transport: c.format === 'mcpServersStdio' ? 'stdio' : 'http',
  };
}

function installClient(c) {
  const doc = readClientFile(c);
  const key = serversKey(c);
  if (doc[key] !== undefined && (typeof doc[key] !== 'object' || doc[key] === null || Array.isArray(doc[key]))) {
    throw new ClientFileError(`${clientPath(c)} is not plain JSON ("${key}" is not an object); edit it by hand or fix it first — Loopgate left it unchanged`);
  }
  if (c.format !== 'mcpServersStdio' && !clientTokens.has(c.id)) clientTokens.set(c.id, `lgc_${randomBytes(18).toString('base64url')}`);
  const entry = clientEntry(c, clientTokens.get(c.id));
  doc[key] ??= {};
  if (JSON.stringify(doc[key].loopgate) === JSON.stringify(entry)) return { written: false };
  doc[key].loopgate = entry;
  return writeClientFile(c, doc);
}

function uninstallClient(c) {
  const doc = readClientFile(c);
  const key = serversKey(c);
  const servers = doc[key];
  let change = { written: false };
  if (servers && typeof servers === 'object' && servers.loopgate !== undefined) {
    delete servers.loopgate;
    if (Object.keys(servers).length === 0) delete doc[key];
    change = writeClientFile(c, doc);
  }
  clientTokens.delete(c.id);
  return change;
}

/** Resets the client files under HOME: `clean` (no client anywhere) or `demo` (one of each state). */
function loadClients(preset) {
  clientTokens.clear();
  for (const c of CLIENTS) {
    const path = clientPath(c);
    const dir = dirname(path);
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) if (f === basename(path) || f.startsWith(`${basename(path)}.loopgate-backup-`) || f === `${basename(path)}.tmp`) unlinkSync(join(dir, f));
    }
    // Drop the (now empty) directories the mock made, innermost first; never anything else.
    for (let d = dir; d.startsWith(HOME + sep); d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }
  if (preset !== 'demo') return;
  const put = (id, content) => {
    const path = clientPath(CLIENTS.find((c) => c.id === id));
    mkdirSync(dirname(path), { recursive: true });
    if (content !== null) writeFileSync(path, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  };
  put('claude-desktop', { mcpServers: { filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/you/Documents'] } }, globalShortcut: 'Alt+Space' });
  clientTokens.set('claude-code', `lgc_${randomBytes(18).toString('base64url')}`);
  put('claude-code', { numStartups: 42, theme: 'dark', mcpServers: { loopgate: clientEntry(CLIENTS[1], clientTokens.get('claude-code')) } });
  put('cursor', null); // ~/.cursor exists, mcp.json doesn't yet
  put('windsurf', '// Windsurf MCP servers\n{\n  "mcpServers": {}\n}\n');
}

// ---- views -------------------------------------------------------------------------------------

function statusOf(s) {
  const e = s.entry;
  const exposed = s.tools.filter((t) => !e.disabledTools.includes(t.originalName));
  const oauth = e.oauth ? { clientId: e.oauth.clientId ?? null, hasClientSecret: !!e.oauth.clientSecret, scopes: e.oauth.scopes ?? [], clientMetadataUrl: null } : null;
  const config = e.url ? { url: e.url, headers: e.headers ?? {}, auth: e.auth ?? null, oauth, disabledTools: e.disabledTools } : { command: e.command, args: e.args ?? [], env: e.env ?? {}, cwd: e.cwd ?? null, disabledTools: e.disabledTools };
  void exposed;
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

function exposedTools() {
  const out = [];
  for (const s of servers.values()) {
    if (s.rt.state !== 'ready') continue;
    for (const t of s.tools) if (!s.entry.disabledTools.includes(t.originalName)) out.push({ name: `${s.name}__${t.originalName}`, server: s.name, originalName: t.originalName, description: t.description ?? null });
  }
  return out;
}

// ---- SSE ---------------------------------------------------------------------------------------

function send(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
function broadcast() {
  void saveConfig();
  const list = [...servers.values()].map(statusOf);
  const count = exposedTools().length;
  for (const res of streams) {
    send(res, 'servers', list);
    send(res, 'tools', { count });
  }
}
setInterval(() => {
  for (const res of streams) res.write(': keep-alive\n\n');
}, 15000).unref();

function saveConfig() {
  if (!CONFIG) return;
  const mcpServers = Object.fromEntries([...servers.values()].map((s) => [s.name, s.entry]));
  const text = JSON.stringify({ gateway: { port: PORT }, mcpServers }, null, 2);
  saving = saving.then(async () => {
    await writeFile(`${CONFIG}.tmp`, text);
    await rename(`${CONFIG}.tmp`, CONFIG);
  });
  return saving;
}

/** Just enough of the MCP Streamable HTTP server side for initialize + tools/list (JSON answers). */
async function mcp(req, res) {
  if (req.method === 'DELETE') return json(res, 200, {});
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'POST, DELETE' });
    return res.end();
  }
  const msg = await body(req);
  if (!msg || msg.id === undefined) {
    res.writeHead(202);
    return res.end();
  }
  const reply = (result) => {
    const headers = { 'Content-Type': 'application/json' };
    if (msg.method === 'initialize') headers['Mcp-Session-Id'] = `mock-${Math.random().toString(16).slice(2)}`;
    res.writeHead(200, headers);
    res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  };
  if (msg.method === 'initialize') {
    return reply({ protocolVersion: msg.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'loopgate-mock', version: '0.1.0' } });
  }
  if (msg.method === 'tools/list') {
    const byName = new Map();
    for (const s of servers.values()) for (const t of s.tools) byName.set(`${s.name}__${t.originalName}`, t);
    return reply({ tools: exposedTools().map((t) => ({ name: t.name, description: t.description ?? undefined, inputSchema: byName.get(t.name)?.inputSchema ?? { type: 'object' } })) });
  }
  if (msg.method === 'ping') return reply({});
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `mock: ${msg.method} not supported` } }));
}

// ---- HTTP --------------------------------------------------------------------------------------

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
const SESSION_COOKIE = `loopgate_session_${PORT}`;
const SESSION_ID = 'mock-session';
function authed(req) {
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return cookie?.slice(SESSION_COOKIE.length + 1) === SESSION_ID || bearer === TOKEN || (bearer !== undefined && [...clientTokens.values()].includes(bearer));
}
async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return null;
  }
}

function validateInput(b, existingName) {
  if (!b || typeof b !== 'object') return { error: 'The body must be a JSON object.', field: null };
  if (typeof b.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(b.name) || b.name.includes('__')) return { error: 'Server names use letters, digits, "_" and "-" and may not contain "__".', field: 'name' };
  if (!existingName && servers.has(b.name)) return { error: `A server named "${b.name}" already exists.`, field: 'name' };
  if (existingName && b.name !== existingName && servers.has(b.name)) return { error: `A server named "${b.name}" already exists.`, field: 'name' };
  if (b.url !== undefined) {
    if (!/^https?:\/\//.test(b.url)) return { error: `"${b.url}" must start with http:// or https://`, field: 'url' };
  } else if (typeof b.command !== 'string' || !b.command.trim()) return { error: 'A stdio server needs a command.', field: 'command' };
  return null;
}

/** The config's `oauth` from the form's: a new client secret goes to the "keychain" (a reference
 *  is stored), '' keeps the stored one, null or no client id drops it. */
function oauthFrom(b, old) {
  const o = b.oauth;
  if (!o) return old?.oauth;
  const scopes = String(o.scopes ?? '').split(/\s+/).filter(Boolean);
  const clientSecret = o.clientSecret === null || !o.clientId ? undefined : o.clientSecret ? `\${secret:${b.name}.OAUTH_CLIENT_SECRET}` : old?.oauth?.clientSecret;
  const out = { ...(o.clientId ? { clientId: o.clientId } : {}), ...(clientSecret ? { clientSecret } : {}), ...(scopes.length ? { scopes } : {}) };
  return Object.keys(out).length ? out : undefined;
}

function entryFrom(b, old) {
  const secrets = b.secrets ?? {};
  const ref = (k) => `\${secret:loopgate/${b.name}/${k}}`;
  const merge = (plain) => {
    const out = { ...(plain ?? {}) };
    for (const k of Object.keys(secrets)) out[k] = ref(k);
    return out;
  };
  const base = { disabledTools: old?.disabledTools ?? [], ...(old?.disabled ? { disabled: true } : {}) };
  if (b.url !== undefined) {
    const oauth = oauthFrom(b, old);
    return { ...base, url: b.url, headers: merge(b.headers), ...(b.auth === 'none' || b.auth === 'oauth' ? { auth: b.auth } : {}), ...(oauth ? { oauth } : {}) };
  }
  return { ...base, command: b.command, args: b.args ?? [], env: merge(b.env), ...(b.cwd ? { cwd: b.cwd } : {}) };
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const path = url.pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);

  // mock controls
  if (path === '/__mock/drop-events') {
    for (const r of streams) r.destroy();
    streams.clear();
    return json(res, 200, { ok: true });
  }
  if (path === '/__mock/scenario') {
    loadScenario(url.searchParams.get('name') ?? 'demo');
    loadClients(scenario === 'demo' ? 'demo' : 'clean');
    broadcast();
    return json(res, 200, { ok: true });
  }
  if (path === '/__mock/clients') {
    loadClients(url.searchParams.get('preset') ?? 'demo');
    return json(res, 200, { ok: true, home: HOME });
  }
  if (path === '/__mock/sign-in-url') {
    signInUrl = url.searchParams.get('url') || null;
    return json(res, 200, { ok: true, signInUrl });
  }
  if (path === '/__mock/authorize') {
    // Stands in for the authorization server and the gateway's redirect listener at once.
    const s = servers.get(url.searchParams.get('server') ?? '');
    const ok = !!s?.oauth?.pending;
    if (ok) {
      Object.assign(s.oauth, { pending: false, url: null, signedIn: true, lastError: null });
      log(s, 'gateway', 'signed in');
      connect(s);
      broadcast();
    }
    res.writeHead(ok ? 200 : 400, { 'Content-Type': 'text/html; charset=utf-8' });
    return res.end(ok ? '<!doctype html><title>Signed in</title><h1>Signed in</h1><p>You can close this tab.</p>' : '<!doctype html><h1>No sign-in is pending</h1>');
  }
  if (path === '/__mock/events') {
    eventsOff = url.searchParams.get('off') === '1';
    if (eventsOff) for (const r of streams) r.destroy();
    return json(res, 200, { ok: true, eventsOff });
  }

  if (path === '/auth') {
    if (url.searchParams.get('nonce') !== 'devlink') return json(res, 401, { error: 'not a valid dashboard link' });
    res.writeHead(303, { Location: '/', 'Set-Cookie': `${SESSION_COOKIE}=${SESSION_ID}; HttpOnly; SameSite=Strict; Path=/` });
    return res.end();
  }

  if (path === '/mcp') {
    if (!authed(req)) return json(res, 401, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'missing or wrong access token' } });
    return mcp(req, res);
  }

  if (parts[0] === 'api') {
    if (!authed(req)) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="loopgate"' });
      return res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'missing or wrong access token' } }));
    }
    const m = req.method;
    const r = parts.slice(1);
    if (m === 'GET' && r[0] === 'info') return json(res, 200, { version: '0.1.0', mcpUrl: `http://127.0.0.1:${PORT}/mcp`, configPath: '/home/you/.config/loopgate/config.json', toolCount: exposedTools().length });
    if (m === 'GET' && r[0] === 'events') {
      if (eventsOff) return json(res, 503, { error: 'events off (mock)' });
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write('retry: 1500\n\n');
      streams.add(res);
      send(res, 'servers', [...servers.values()].map(statusOf));
      send(res, 'tools', { count: exposedTools().length });
      req.on('close', () => streams.delete(res));
      return;
    }
    if (m === 'GET' && r[0] === 'tools' && r.length === 1) {
      const tools = exposedTools();
      return json(res, 200, { count: tools.length, tools });
    }
    if (r[0] === 'clients' && r.length === 1 && m === 'GET') {
      return json(res, 200, { clients: CLIENTS.map(clientState), snippets: { mcpUrl: mcpUrl(), stdioCommand: `${LOOPGATE_EXE} connect` } });
    }
    if (r[0] === 'clients' && r.length === 3 && m === 'POST' && (r[2] === 'install' || r[2] === 'uninstall')) {
      const c = CLIENTS.find((x) => x.id === r[1]);
      if (!c) return json(res, 404, { error: `unknown client "${r[1]}"; known clients: ${CLIENTS.map((x) => x.id).join(', ')}` });
      await new Promise((ok) => setTimeout(ok, 250)); // a visible busy state
      try {
        return json(res, 200, { ok: true, change: r[2] === 'install' ? installClient(c) : uninstallClient(c) });
      } catch (e) {
        return json(res, 400, { error: e.message });
      }
    }
    if (r[0] === 'servers' && r.length === 1) {
      if (m === 'GET') return json(res, 200, [...servers.values()].map(statusOf));
      if (m === 'POST') {
        const b = await body(req);
        const bad = validateInput(b, null);
        if (bad) return json(res, 400, bad);
        const s = addServer(b.name, entryFrom(b, null));
        if (!s.entry.disabled) connect(s);
        broadcast();
        return json(res, 200, { ok: true });
      }
    }
    const s = servers.get(r[1]);
    if (r[0] === 'servers' && !s) return json(res, 404, { error: `no server named "${r[1]}"` });
    if (r[0] === 'servers' && r.length === 2) {
      if (m === 'DELETE') {
        servers.delete(s.name);
        broadcast();
        return json(res, 200, { ok: true });
      }
      if (m === 'PUT') {
        const b = await body(req);
        const bad = validateInput(b, s.name);
        if (bad) return json(res, 400, bad);
        s.entry = entryFrom(b, s.entry);
        if (!s.entry.disabled) connect(s);
        broadcast();
        return json(res, 200, { ok: true });
      }
    }
    if (r[0] === 'servers' && r.length === 3) {
      if (m === 'GET' && r[2] === 'tools') {
        return json(res, 200, s.tools.map((t) => ({ name: `${s.name}__${t.originalName}`, originalName: t.originalName, title: t.title ?? null, description: t.description ?? null, annotations: t.annotations ?? null, inputSchema: t.inputSchema, outputSchema: t.outputSchema ?? null, enabled: !s.entry.disabledTools.includes(t.originalName) })));
      }
      if (m === 'GET' && r[2] === 'logs') return json(res, 200, s.logs);
      if (m === 'POST' && (r[2] === 'enable' || r[2] === 'disable')) {
        const on = r[2] === 'enable';
        if (on) {
          delete s.entry.disabled;
          s.rt.restarts = 0;
          connect(s);
        } else {
          s.entry.disabled = true;
          setState(s, 'disabled');
          log(s, 'gateway', 'disabled');
        }
        broadcast();
        return json(res, 200, { ok: true });
      }
      if (m === 'POST' && r[2] === 'restart') {
        if (s.entry.disabled) return json(res, 400, { error: `${s.name} is disabled` });
        s.rt.restarts++;
        connect(s);
        broadcast();
        return json(res, 200, { ok: true });
      }
    }
    if (r[0] === 'servers' && r.length === 4 && r[2] === 'auth' && m === 'POST') {
      if (!s.oauth) return json(res, 400, { error: `"${s.name}" does not use OAuth` });
      const o = s.oauth;
      if (r[3] === 'login') {
        if (!o.pending) Object.assign(o, { pending: true, started: o.started + 1, lastError: null, url: signInUrl ?? `http://127.0.0.1:${PORT}/__mock/authorize?server=${encodeURIComponent(s.name)}` });
        broadcast();
        return json(res, 200, { url: o.url });
      }
      if (r[3] === 'cancel') {
        const cancelled = o.pending;
        Object.assign(o, { pending: false, url: null });
        broadcast();
        return json(res, 200, { cancelled });
      }
      if (r[3] === 'logout') {
        const removed = o.signedIn;
        o.signedIn = false;
        setState(s, 'needs-sign-in');
        broadcast();
        return json(res, 200, { removed, revocation: { outcome: removed ? 'revoked' : 'nothing-to-revoke' } });
      }
    }
    if (r[0] === 'servers' && r.length === 5 && r[2] === 'tools' && m === 'POST') {
      const tool = r[3];
      if (!s.tools.some((t) => t.originalName === tool) && r[4] === 'disable') return json(res, 404, { error: `no tool named "${tool}"` });
      const set = new Set(s.entry.disabledTools);
      if (r[4] === 'disable') set.add(tool);
      else set.delete(tool);
      s.entry.disabledTools = [...set];
      broadcast();
      return json(res, 200, { ok: true });
    }
    return json(res, 404, { error: 'not found' });
  }

  // static files
  let file = path === '/' ? '/index.html' : path;
  file = normalize(file).replace(/^(\.\.[/\\])+/, '');
  try {
    const data = await readFile(join(DIST, file));
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(data);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }
});

loadScenario(scenario);
loadClients(scenario === 'demo' ? 'demo' : 'clean');
void saveConfig();
server.listen(PORT, '127.0.0.1', () => {
  console.log(`mock Loopgate API on http://127.0.0.1:${PORT}  (open http://127.0.0.1:${PORT}/auth?nonce=devlink)  scenario=${scenario}`);
  console.log(`mock: AI client config files under ${HOME}`);
});
