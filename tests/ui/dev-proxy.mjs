#!/usr/bin/env node
// Serves the current ui/dist in front of a running gateway, so a fresh `npm run build` can be
// tried against the real API without rebuilding the binary (which embeds ui/dist at compile time).
// /api, /auth and /mcp are forwarded with Host and Origin rewritten to the gateway's own.
//
//   node tests/ui/dev-proxy.mjs http://127.0.0.1:7337 [--port 7400]
//   then open the link `loopgate open --print` prints, with its port changed to 7400
import { createServer, request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui', 'dist');
const target = new URL(process.argv[2] ?? 'http://127.0.0.1:7337');
const i = process.argv.indexOf('--port');
const PORT = Number(i > 0 ? process.argv[i + 1] : 7400);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path.startsWith('/api/') || path === '/auth' || path === '/mcp') {
    const headers = { ...req.headers, host: target.host };
    if (headers.origin) headers.origin = target.origin;
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
      r.on('close', () => res.destroy()); // upstream gone (e.g. gateway stopped): drop the client too
    });
    up.on('error', () => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
    res.on('close', () => up.destroy());
    return;
  }
  const file = normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
  try {
    const data = await readFile(join(DIST, file));
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(data);
  } catch {
    res.writeHead(404);
    res.end('not found');
  }
}).listen(PORT, '127.0.0.1', () => console.log(`ui/dist on http://127.0.0.1:${PORT} → API ${target.origin}`));
