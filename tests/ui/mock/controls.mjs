// Mock-only controls under /__mock/ (no auth), for tests and screenshots: drop or refuse the SSE
// streams, load a scenario, reset the AI clients' files, change the sign-in address login hands
// out, and the stand-in sign-in page (/__mock/authorize?server=NAME signs in at once).

import { loadClients } from './clients.mjs';
import { broadcast, streams } from './events.mjs';
import { json } from './http.mjs';
import { connect } from './lifecycle.mjs';
import { HOME } from './options.mjs';
import { loadScenario } from './scenarios.mjs';
import { log, servers, switches } from './state.mjs';

/** path -> its handler(url, res). */
export const controls = new Map([
  [
    '/__mock/drop-events',
    (url, res) => {
      for (const r of streams) r.destroy();
      streams.clear();
      return json(res, 200, { ok: true });
    },
  ],
  [
    '/__mock/scenario',
    (url, res) => {
      loadScenario(url.searchParams.get('name') ?? 'demo');
      loadClients(switches.scenario === 'demo' ? 'demo' : 'clean');
      broadcast();
      return json(res, 200, { ok: true });
    },
  ],
  [
    '/__mock/clients',
    (url, res) => {
      loadClients(url.searchParams.get('preset') ?? 'demo');
      return json(res, 200, { ok: true, home: HOME });
    },
  ],
  [
    '/__mock/sign-in-url',
    (url, res) => {
      switches.signInUrl = url.searchParams.get('url') || null;
      return json(res, 200, { ok: true, signInUrl: switches.signInUrl });
    },
  ],
  [
    '/__mock/authorize',
    (url, res) => {
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
    },
  ],
  [
    '/__mock/events',
    (url, res) => {
      switches.eventsOff = url.searchParams.get('off') === '1';
      if (switches.eventsOff) for (const r of streams) r.destroy();
      return json(res, 200, { ok: true, eventsOff: switches.eventsOff });
    },
  ],
]);
