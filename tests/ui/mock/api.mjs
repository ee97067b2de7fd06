// The dashboard's JSON API under /api (the bearer token or session cookie required): info, the
// SSE stream, the tools clients see, and the AI clients; /api/servers… is in api-servers.mjs,
// /api/profiles… and a client's profile in profiles.mjs.

import { serversApi } from './api-servers.mjs';
import { SUGGESTIONS } from './fixtures.mjs';
import { CLIENTS, clientState, installClient, LOOPGATE_EXE, mcpUrl, uninstallClient } from './clients.mjs';
import { send, streams } from './events.mjs';
import { authed, json } from './http.mjs';
import { PORT } from './options.mjs';
import { bindClientProfile, profilesApi } from './profiles.mjs';
import { exposedTools, servers, statusOf, switches } from './state.mjs';

/** Answers /api/… requests; `r` is the path's parts after `api`. */
export async function api(req, res, r) {
  if (!authed(req)) {
    res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="loopgate"' });
    return res.end(JSON.stringify({ error: 'Unauthorized: wrong access token; `loopgate token` prints the right one' }));
  }
  const m = req.method;
  if (m === 'GET' && r[0] === 'info') return json(res, 200, { version: '0.1.0', mcpUrl: `http://127.0.0.1:${PORT}/mcp`, configPath: '/home/you/.config/loopgate/config.json', toolCount: exposedTools().length });
  if (m === 'GET' && r[0] === 'events') {
    if (switches.eventsOff) return json(res, 503, { error: 'events off (mock)' });
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
  if (r[0] === 'suggestions' && r.length === 1 && m === 'GET') {
    return json(res, 200, { suggestions: SUGGESTIONS });
  }
  if (r[0] === 'clients' && r.length === 3 && m === 'PUT' && r[2] === 'profile') return bindClientProfile(req, res, r[1]);
  if (r[0] === 'profiles') return profilesApi(req, res, r);
  if (r[0] === 'servers') return serversApi(req, res, r);
  return json(res, 404, { error: 'not found' });
}
