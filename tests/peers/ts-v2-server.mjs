// Official TS SDK v2 (@modelcontextprotocol/server 2.4.0) server with tools `echo` and `add`.
// Serves 2026-07-28 (stateless, per-request _meta) AND 2025-era traffic (stateless legacy
// fallback: no Mcp-Session-Id, GET/DELETE -> 405); LEGACY=reject refuses 2025-era traffic;
// EXTRA_TOOL=1 adds a tool `extra` (a restarted server with a changed list).
// Usage: PORT=3301 [LEGACY=reject] node ts-v2-server.mjs  -> http://127.0.0.1:$PORT/mcp
// Logs go to stderr only; poll the port for readiness.
import http from 'node:http';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';

// A fresh McpServer per request (stateless).
function factory() {
  const s = new McpServer({ name: 'ts-v2-demo', version: '1.0.0' });
  s.registerTool('echo', { description: 'Echo a message', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }));
  s.registerTool('add', { description: 'Add two numbers', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
  if (process.env.EXTRA_TOOL) {
    s.registerTool('extra', { description: 'Only after a restart', inputSchema: z.object({}) },
      async () => ({ content: [{ type: 'text', text: 'extra' }] }));
  }
  return s;
}

const node = toNodeHandler(createMcpHandler(factory, { legacy: process.env.LEGACY === 'reject' ? 'reject' : 'stateless' }));
const port = Number(process.env.PORT || 3301);
http.createServer((req, res) => {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') { res.writeHead(404).end(); return; }
  node(req, res);
}).listen(port, '127.0.0.1', () => console.error(`ts-v2 server on http://127.0.0.1:${port}/mcp`));
