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
//
// This file routes requests; the parts live in tests/ui/mock/: options (command line), state,
// fixtures (canned tools), lifecycle and scenarios (simulated servers), events (SSE, config file),
// clients ("Connect a client"), http (replies, session, static files), api, api-servers and
// profiles (/api), server-input (add/edit bodies), mcp (/mcp), controls (/__mock/…).

import { createServer } from 'node:http';
import { api } from './mock/api.mjs';
import { loadClients } from './mock/clients.mjs';
import { controls } from './mock/controls.mjs';
import { saveConfig } from './mock/events.mjs';
import { authed, json, serveStatic, signInWithLink } from './mock/http.mjs';
import { mcp } from './mock/mcp.mjs';
import { HOME, PORT } from './mock/options.mjs';
import { loadScenario } from './mock/scenarios.mjs';
import { switches } from './mock/state.mjs';

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const path = url.pathname;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);

  const control = controls.get(path);
  if (control) return control(url, res);
  if (path === '/auth') return signInWithLink(url, res);
  if (path === '/mcp') {
    if (!authed(req)) return json(res, 401, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'missing or wrong access token' } });
    return mcp(req, res);
  }
  if (parts[0] === 'api') return api(req, res, parts.slice(1));
  return serveStatic(path, res);
});

loadScenario(switches.scenario);
loadClients(switches.scenario === 'demo' ? 'demo' : 'clean');
void saveConfig();
server.listen(PORT, '127.0.0.1', () => {
  console.log(`mock Loopgate API on http://127.0.0.1:${PORT}  (open http://127.0.0.1:${PORT}/auth?nonce=devlink)  scenario=${switches.scenario}`);
  console.log(`mock: AI client config files under ${HOME}`);
});
