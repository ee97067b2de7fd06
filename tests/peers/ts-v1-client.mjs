// Official TS SDK v1 (@modelcontextprotocol/sdk 1.32.2) Streamable HTTP client (2025-era: initialize + Mcp-Session-Id).
// Usage: [MCP_AUTH='Bearer X'] node ts-v1-client.mjs URL ['{"calls":[{"name":"echo","arguments":{"message":"hi"}}]}']
// Optional plan keys: "waitListChanged": N  -> after the calls, wait up to N s for notifications/tools/list_changed
//                     "beforeWait": "/path" -> create this (empty) file once subscribed, right before waiting
// Prints ONE stdout line: RESULT {"protocol","tools":[...],"calls":[{name,isError,text}][,"listChanged","getStream"]}
// or ERROR <message> (exit 1).
import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, planArg = '{}'] = process.argv.slice(2);
const textOf = (res) => (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  const plan = JSON.parse(planArg);
  // Watch the transport's fetches to learn when the standalone GET SSE stream (which carries
  // list_changed notifications) has been accepted by the server.
  let getStreamOpen = false, onGetStream = () => {};
  const fetchSpy = async (input, init) => {
    const res = await fetch(input, init);
    if (init?.method === 'GET' && res.ok && /text\/event-stream/.test(res.headers.get('content-type') ?? '')) { getStreamOpen = true; onGetStream(); }
    return res;
  };
  const headers = process.env.MCP_AUTH ? { Authorization: process.env.MCP_AUTH } : undefined;
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchSpy, requestInit: headers && { headers } });
  const client = new Client({ name: 'ts-v1-client', version: '1.0.0' });
  let listChanged = false, onListChanged = () => {};
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged = true; onListChanged(); });
  await client.connect(transport);

  const out = { protocol: transport.protocolVersion, tools: [], calls: [] };
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

  if (plan.waitListChanged != null) {
    const deadline = Date.now() + plan.waitListChanged * 1000;
    // Give the GET stream (opened in the background after `initialized`) a moment to be accepted.
    if (!getStreamOpen) await Promise.race([new Promise((r) => { onGetStream = r; }), sleep(Math.min(2000, plan.waitListChanged * 1000))]);
    if (plan.beforeWait) writeFileSync(plan.beforeWait, '');
    if (!listChanged) await Promise.race([new Promise((r) => { onListChanged = r; }), sleep(Math.max(0, deadline - Date.now()))]);
    out.listChanged = listChanged;
    out.getStream = getStreamOpen;
  }

  await transport.terminateSession().catch(() => {}); // DELETE /mcp with the session id
  await client.close();
  console.log('RESULT ' + JSON.stringify(out));
  process.exit(0);
} catch (e) {
  console.log('ERROR ' + String(e?.message ?? e).replace(/\s+/g, ' '));
  process.exit(1);
}
