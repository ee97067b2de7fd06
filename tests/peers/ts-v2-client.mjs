// Official TS SDK v2 (@modelcontextprotocol/client 2.4.0) client. TARGET = URL (Streamable HTTP) or a stdio command line.
// Usage: [ERA=legacy|auto|2026-07-28] [MCP_AUTH='Bearer X'] node ts-v2-client.mjs TARGET ['{"calls":[{"name":"echo","arguments":{"message":"hi"}}]}']
//   ERA legacy (default) = initialize (+ Mcp-Session-Id if issued); auto = probe server/discover, fall back to initialize;
//   any other value = pinned era (e.g. 2026-07-28: stateless, per-request _meta, no fallback).
// Prints ONE stdout line: RESULT {"protocol","tools":[...],"calls":[{name,isError,text}]} or ERROR <message> (exit 1).
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const [target, planArg = '{}'] = process.argv.slice(2);
const era = process.env.ERA ?? 'legacy';
const mode = era === 'legacy' || era === 'auto' ? era : { pin: era };
const textOf = (res) => (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

try {
  const plan = JSON.parse(planArg);
  const client = new Client({ name: 'ts-v2-client', version: '2.0.0' }, { versionNegotiation: { mode } });
  let transport;
  if (/^https?:/.test(target)) {
    const headers = process.env.MCP_AUTH ? { Authorization: process.env.MCP_AUTH } : undefined;
    transport = new StreamableHTTPClientTransport(new URL(target), headers && { requestInit: { headers } });
  } else {
    const [command, ...args] = target.split(/\s+/);
    transport = new StdioClientTransport({ command, args, env: process.env }); // pass our env (e.g. MODE=stdio) through
  }
  await client.connect(transport);

  const out = { protocol: client.getNegotiatedProtocolVersion(), tools: [], calls: [] };
  let cursor;
  do { // follow pagination
    const page = await client.listTools(cursor ? { cursor } : undefined);
    out.tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  for (const { name, arguments: args = {} } of plan.calls ?? []) {
    const res = await client.callTool({ name, arguments: args });
    out.calls.push({ name, isError: res.isError === true, text: textOf(res) });
  }
  await client.close();
  console.log('RESULT ' + JSON.stringify(out));
  process.exit(0);
} catch (e) {
  console.log('ERROR ' + String(e?.message ?? e).replace(/\s+/g, ' '));
  process.exit(1);
}
