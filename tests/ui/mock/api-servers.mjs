// /api/servers…: list, add, edit and remove servers; switch a server on or off, restart it; its
// tools (and switching one), its logs; and its OAuth sign-in (login, cancel, logout).

import { broadcast } from './events.mjs';
import { body, json } from './http.mjs';
import { addServer, connect } from './lifecycle.mjs';
import { PORT } from './options.mjs';
import { forgetServer } from './profiles.mjs';
import { entryFrom, validateInput } from './server-input.mjs';
import { log, servers, setState, statusOf, switches } from './state.mjs';

/** Answers /api/servers… (`r[0]` is `servers`). */
export async function serversApi(req, res, r) {
  const m = req.method;
  if (r.length === 1) {
    if (m === 'GET') return json(res, 200, [...servers.values()].map(statusOf));
    if (m === 'POST') {
      const b = await body(req);
      const bad = validateInput(b, null);
      if (bad) return json(res, 400, bad);
      const s = addServer(b.name, entryFrom(b, null));
      if (!s.entry.disabled) connect(s);
      broadcast();
      return json(res, 201, { ok: true, name: b.name });
    }
  }
  const s = servers.get(r[1]);
  if (!s) return json(res, 404, { error: `no server named "${r[1]}"` });
  if (r.length === 2) {
    if (m === 'DELETE') {
      servers.delete(s.name);
      forgetServer(s.name);
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
  if (r.length === 3) {
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
  if (r.length === 4 && r[2] === 'auth' && m === 'POST') {
    if (!s.oauth) return json(res, 400, { error: `"${s.name}" does not use OAuth` });
    const o = s.oauth;
    if (r[3] === 'login') {
      if (!o.pending) Object.assign(o, { pending: true, started: o.started + 1, lastError: null, url: switches.signInUrl ?? `http://127.0.0.1:${PORT}/__mock/authorize?server=${encodeURIComponent(s.name)}` });
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
  if (r.length === 5 && r[2] === 'tools' && m === 'POST') {
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
