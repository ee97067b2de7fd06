// HTTP plumbing of the mock: JSON replies and request bodies, the dashboard session (the
// reusable /auth?nonce=devlink link sets an HttpOnly cookie) and the bearer-token check, and
// ui/dist served as static files.

import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientTokens } from './clients.mjs';
import { PORT, TOKEN } from './options.mjs';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'ui', 'dist');
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

export function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The request's JSON body ({} when empty); null when it is not JSON. */
export async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return null;
  }
}

const SESSION_COOKIE = `loopgate_session_${PORT}`;
const SESSION_ID = 'mock-session';

/** Whether the request carries the session cookie, the access token or a client's token. */
export function authed(req) {
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return cookie?.slice(SESSION_COOKIE.length + 1) === SESSION_ID || bearer === TOKEN || (bearer !== undefined && [...clientTokens.values()].includes(bearer));
}

/** GET /auth?nonce=devlink: sets the session cookie and goes to the dashboard. */
export function signInWithLink(url, res) {
  if (url.searchParams.get('nonce') !== 'devlink') return json(res, 401, { error: 'not a valid dashboard link' });
  res.writeHead(303, { Location: '/', 'Set-Cookie': `${SESSION_COOKIE}=${SESSION_ID}; HttpOnly; SameSite=Strict; Path=/` });
  return res.end();
}

/** A file of ui/dist (`/` is index.html), or 404. */
export async function serveStatic(path, res) {
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
}
