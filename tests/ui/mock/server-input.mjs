// A server's config entry from the add/edit form's body (POST and PUT /api/servers): checks it
// the way the gateway does, and turns secrets into keychain references.

import { servers } from './state.mjs';

export function validateInput(b, existingName) {
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

export function entryFrom(b, old) {
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
