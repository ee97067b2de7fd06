// Pushing changes out: Server-Sent Events to every open /api/events stream (servers and tool
// count, with a keep-alive comment every 15 s), and the servers written to --config FILE.

import { rename, writeFile } from 'node:fs/promises';
import { CONFIG, PORT } from './options.mjs';
import { exposedTools, profileState, servers, statusOf } from './state.mjs';

/** Open SSE responses. */
export const streams = new Set();
let saving = Promise.resolve();

export function send(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Tells every stream (and the config file) the servers' current state. */
export function broadcast() {
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

/** A profile as the config file holds it (keys at their defaults left out, as the gateway does). */
function profileEntry(p) {
  const e = {};
  if (p.servers !== null) e.servers = p.servers;
  if (Object.keys(p.disabledTools).length) e.disabledTools = p.disabledTools;
  if (p.toolSearch) e.toolSearch = true;
  return e;
}

/** Writes the servers and profiles to CONFIG (atomically, one write after another); nothing
 *  without --config. */
export function saveConfig() {
  if (!CONFIG) return;
  const mcpServers = Object.fromEntries([...servers.values()].map((s) => [s.name, s.entry]));
  const { profiles, clientProfiles, gatewayProfile } = profileState;
  const doc = { gateway: { port: PORT, ...(gatewayProfile ? { profile: gatewayProfile } : {}) }, mcpServers };
  if (profiles.size) doc.profiles = Object.fromEntries([...profiles].map(([n, p]) => [n, profileEntry(p)]));
  if (clientProfiles.size) doc.clientProfiles = Object.fromEntries(clientProfiles);
  const text = JSON.stringify(doc, null, 2);
  saving = saving.then(async () => {
    await writeFile(`${CONFIG}.tmp`, text);
    await rename(`${CONFIG}.tmp`, CONFIG);
  });
  return saving;
}
