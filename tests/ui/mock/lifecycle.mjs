// How the mock's servers come and go: adding one (in a given state) and "connecting" it — after
// 0.9 s it is ready with its canned tools, or failed when its command is not one that could run.

import { broadcast } from './events.mjs';
import { toolsFor } from './fixtures.mjs';
import { freshRuntime, log, now, servers, setState } from './state.mjs';

export function addServer(name, entry, { state = null, lastError = null } = {}) {
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

/** Starts connecting `s`; `immediate`: already connected 47 minutes ago (the canned servers). */
export function connect(s, immediate = false) {
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
