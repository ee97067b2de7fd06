// Just enough of the MCP Streamable HTTP server side at /mcp for initialize + tools/list (JSON
// answers, no streams): the tools clients see, as the gateway would list them.

import { body, json } from './http.mjs';
import { exposedTools, servers } from './state.mjs';

export async function mcp(req, res) {
  if (req.method === 'DELETE') return json(res, 200, {});
  if (req.method !== 'POST') {
    res.writeHead(405, { Allow: 'POST, DELETE' });
    return res.end();
  }
  const msg = await body(req);
  if (!msg || msg.id === undefined) {
    res.writeHead(202);
    return res.end();
  }
  const reply = (result) => {
    const headers = { 'Content-Type': 'application/json' };
    if (msg.method === 'initialize') headers['Mcp-Session-Id'] = `mock-${Math.random().toString(16).slice(2)}`;
    res.writeHead(200, headers);
    res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  };
  if (msg.method === 'initialize') {
    return reply({ protocolVersion: msg.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'loopgate-mock', version: '0.1.0' } });
  }
  if (msg.method === 'tools/list') {
    const byName = new Map();
    for (const s of servers.values()) for (const t of s.tools) byName.set(`${s.name}__${t.originalName}`, t);
    return reply({ tools: exposedTools().map((t) => ({ name: t.name, description: t.description ?? undefined, inputSchema: byName.get(t.name)?.inputSchema ?? { type: 'object' } })) });
  }
  if (msg.method === 'ping') return reply({});
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `mock: ${msg.method} not supported` } }));
}
