// Fidelity client (official TS SDK v2, @modelcontextprotocol/client 2.4.0): connects over Streamable
// HTTP as a *capable* client and checks that everything a server offers such a client reaches it.
// Usage: [ERA=legacy|2026-07-28|auto] [MCP_AUTH='Bearer X'] [PREFIX=everything__] [PROFILE=everything|conformance]
//        node fidelity-client.mjs URL
//   ERA      legacy (default) = initialize + Mcp-Session-Id; 2026-07-28 = pinned stateless revision
//            (server/discover, per-request _meta, input_required instead of server->client requests).
//   PREFIX   prepended to the server's tool and prompt names (a gateway exposes `everything__echo`).
//   PROFILE  which server's names the plan uses: `everything` (@modelcontextprotocol/server-everything)
//            or `conformance` (conformance-backend.mjs); default: detected from the tool list.
// Declares sampling, elicitation (form) and roots (listChanged) with deterministic handlers:
//   sampling    -> assistant text "sampled: <first user message text>"
//   elicitation -> accept, required fields filled (strings "fidelity", numbers 7, booleans true, enums: first)
//   roots       -> [{uri: "file:///tmp/fidelity-root", name: "fidelity-root"}]
// Steps: instructions, capabilities, tools, sampling, elicitation, roots, logging, completion, subscribe,
// protocol; each {ok, detail}, each bounded by a timeout, a failing step never stops the others.
// Prints ONE stdout line: RESULT {"<step>":{"ok":bool,"detail":...},...,"summary":{...}} (exit 0),
// or ERROR <message> (exit 1) when the connection itself fails.
import { Client, StreamableHTTPClientTransport, LOG_LEVEL_META_KEY } from '@modelcontextprotocol/client';

const STEP_MS = 15_000; // upper bound for every step
const SUBSCRIBE_WAIT_MS = 10_000; // how long to wait for notifications/resources/updated
const ROOT = { uri: 'file:///tmp/fidelity-root', name: 'fidelity-root' };

// The names each server under test uses (PREFIX is prepended to tool and prompt names).
const PROFILES = {
  everything: {
    sampling: { tool: 'trigger-sampling-request', args: { prompt: 'fidelity-probe', maxTokens: 32 } },
    elicitation: { tool: 'trigger-elicitation-request', args: {} },
    roots: { tool: 'get-roots-list', args: {} },
    // Starts periodic random-level logs (one at once, then every 5 s) on the session's standalone stream;
    // toggled off again afterwards.
    // `expect` matches the messages this tool causes ("Debug-level message", …, "Alert level-message").
    // A 2026-07-28 client receives log messages only on the stream of a call it has open (no
    // session stream): it keeps one open (`hold`) while the periodic messages come.
    logging: { tool: 'toggle-simulated-logging', args: {}, toggle: true, windowMs: 3_000, maxWindowMs: 7_000, expect: /level[- ]message/i, hold: { tool: 'trigger-long-running-operation', args: { duration: 6, steps: 2 } } },
    completion: { prompt: 'completable-prompt', argument: { name: 'department', value: 'S' } },
    // Updates every subscribed URI of the session (one at once, then every 5 s) once toggled on.
    subscribe: { uri: 'demo://resource/static/document/instructions.md', tool: 'toggle-subscriber-updates', toggle: true },
  },
  conformance: {
    sampling: { tool: 'test_sampling', args: { prompt: 'fidelity-probe' } },
    elicitation: { tool: 'test_elicitation', args: { message: 'fidelity-probe' } },
    roots: { tool: 'test_input_required_result_list_roots', args: {} },
    logging: { tool: 'test_tool_with_logging', args: {}, windowMs: 1_000, maxWindowMs: 2_000, expect: /^Tool (execution|processing)/ },
    completion: { prompt: 'test_prompt_with_arguments', argument: { name: 'arg1', value: 'pa' } },
    subscribe: { uri: 'test://watched-resource', note: 'conformance-backend.mjs accepts the subscription but never updates the resource' },
  },
};

const url = process.argv[2];
const era = process.env.ERA || 'legacy';
const prefix = process.env.PREFIX ?? '';
const modern = era !== 'legacy' && era !== 'auto';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const errText = (e) => String(e?.message ?? e).replace(/\s+/g, ' ').slice(0, 500);
const textOf = (res) => (res?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const clip = (s, n = 300) => (typeof s === 'string' && s.length > n ? s.slice(0, n) + '…' : s);
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms).unref())]);

// What the handlers saw. `via` tells a server->client JSON-RPC request (numeric id, legacy) from an
// input_required entry the SDK fulfilled (the id is the inputRequests key, a string, 2026-07-28).
const seen = { sampling: [], elicitation: [], roots: [], logs: [], updates: [] };
const via = (ctx) => {
  const id = ctx?.mcpReq?.id;
  return typeof id === 'string' ? `input_required:${id}` : `request:${id}`;
};

function contentText(content) {
  const blocks = Array.isArray(content) ? content : [content];
  return blocks.find((b) => b?.type === 'text')?.text ?? '';
}

/** A value satisfying one elicitation property schema (primitive-only per the spec). */
function fillValue(p = {}) {
  if (Array.isArray(p.enum) && p.enum.length) return p.enum[0];
  const options = p.oneOf ?? p.anyOf;
  if (Array.isArray(options) && options[0]?.const !== undefined) return options[0].const;
  switch (p.type) {
    case 'boolean':
      return true;
    case 'number':
    case 'integer':
      return Math.min(Math.max(7, p.minimum ?? -Infinity), p.maximum ?? Infinity);
    case 'array': {
      const items = p.items ?? {};
      const first = items.enum?.[0] ?? (items.anyOf ?? items.oneOf)?.[0]?.const;
      return first === undefined ? [] : [first];
    }
    default: {
      const byFormat = { email: 'fidelity@example.com', uri: 'https://example.com/fidelity', date: '2026-01-01', 'date-time': '2026-01-01T00:00:00Z' };
      const s = byFormat[p.format] ?? 'fidelity';
      return p.maxLength !== undefined ? s.slice(0, p.maxLength) : s;
    }
  }
}
function fillSchema(schema = {}) {
  const props = schema.properties ?? {};
  return Object.fromEntries((schema.required ?? []).map((k) => [k, fillValue(props[k])]));
}

const client = new Client(
  { name: 'loopgate-fidelity-ts-v2', version: '1.0.0' },
  {
    capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
    versionNegotiation: { mode: era === 'legacy' || era === 'auto' ? era : { pin: era } },
  },
);
client.setRequestHandler('sampling/createMessage', async (req, ctx) => {
  const first = (req.params.messages ?? []).find((m) => m.role === 'user');
  const text = contentText(first?.content);
  seen.sampling.push({ via: via(ctx), text });
  return { model: 'fidelity-model', role: 'assistant', content: { type: 'text', text: `sampled: ${text}` }, stopReason: 'endTurn' };
});
client.setRequestHandler('elicitation/create', async (req, ctx) => {
  const content = fillSchema(req.params.requestedSchema);
  seen.elicitation.push({ via: via(ctx), message: req.params.message, content });
  return { action: 'accept', content };
});
client.setRequestHandler('roots/list', async (_req, ctx) => {
  seen.roots.push({ via: via(ctx) });
  return { roots: [ROOT] };
});
client.setNotificationHandler('notifications/message', (n) => {
  seen.logs.push({ level: n.params.level, logger: n.params.logger, data: n.params.data });
});
client.setNotificationHandler('notifications/resources/updated', (n) => {
  seen.updates.push(n.params.uri);
});

const report = {};
async function step(name, fn) {
  try {
    report[name] = await withTimeout(fn(), STEP_MS, name);
  } catch (e) {
    report[name] = { ok: false, detail: { error: errText(e) } };
  }
}
const toolOpts = { timeout: STEP_MS };
// 2026-07-28 has no logging/setLevel: the level rides in each request's _meta (the SDK adds the rest).
const logMeta = modern ? { _meta: { [LOG_LEVEL_META_KEY]: 'debug' } } : {};
const call = (tool, args, extra = {}) =>
  client.callTool({ name: prefix + tool, arguments: args, ...logMeta, ...extra }, toolOpts);
const profileName = () => report.summary?.profile;

async function plan() {
  const headers = process.env.MCP_AUTH ? { Authorization: process.env.MCP_AUTH } : undefined;
  const transport = new StreamableHTTPClientTransport(new URL(url), headers && { requestInit: { headers } });
  await client.connect(transport, { timeout: STEP_MS });

  await step('instructions', async () => {
    const s = client.getInstructions() ?? client.getDiscoverResult()?.instructions;
    return { ok: typeof s === 'string' && s.length > 0, detail: s === undefined ? null : clip(s, 200) };
  });
  await step('capabilities', async () => {
    const caps = client.getServerCapabilities();
    return { ok: !!caps && Object.keys(caps).length > 0, detail: caps ?? null };
  });
  let tools = [];
  await step('tools', async () => {
    tools = (await client.listTools(undefined, toolOpts)).tools.map((t) => t.name);
    const profile =
      process.env.PROFILE || (tools.includes(prefix + 'test_sampling') ? 'conformance' : 'everything');
    report.summary = { client: 'ts-v2 2.4.0', era, protocol: client.getNegotiatedProtocolVersion(), profile, prefix };
    const wanted = Object.values(PROFILES[profile] ?? {}).flatMap((s) => (s.tool ? [prefix + s.tool] : []));
    const missing = wanted.filter((t) => !tools.includes(t));
    return { ok: tools.length > 0 && missing.length === 0, detail: { count: tools.length, names: tools, missing } };
  });
  const P = PROFILES[profileName() ?? 'everything'] ?? PROFILES.everything;

  await step('sampling', async () => {
    const before = seen.sampling.length;
    const res = await call(P.sampling.tool, P.sampling.args);
    const text = textOf(res);
    const got = seen.sampling.slice(before);
    const expected = got.length ? `sampled: ${got[0].text}` : 'sampled: ';
    return {
      ok: !res.isError && got.length > 0 && text.includes(expected),
      detail: { tool: prefix + P.sampling.tool, handler: got, isError: !!res.isError, text: clip(text) },
    };
  });

  await step('elicitation', async () => {
    const before = seen.elicitation.length;
    const res = await call(P.elicitation.tool, P.elicitation.args);
    const text = textOf(res);
    const got = seen.elicitation.slice(before);
    const values = got.flatMap((g) => Object.values(g.content).filter((v) => typeof v === 'string'));
    return {
      ok: !res.isError && got.length > 0 && /accept/.test(text) && values.length > 0 && values.every((v) => text.includes(v)),
      detail: { tool: prefix + P.elicitation.tool, handler: got, isError: !!res.isError, text: clip(text, 500) },
    };
  });

  await step('roots', async () => {
    const before = seen.roots.length;
    const res = await call(P.roots.tool, P.roots.args);
    const text = textOf(res);
    return {
      ok: !res.isError && text.includes(ROOT.uri),
      // server-everything may have fetched the roots already right after initialize (handler calls then precede this step)
      detail: { tool: prefix + P.roots.tool, handlerCalls: seen.roots.length, handlerCallsDuringStep: seen.roots.slice(before), text: clip(text) },
    };
  });

  await step('logging', async () => {
    const L = P.logging;
    const how = modern ? `_meta ${LOG_LEVEL_META_KEY}=debug on each request` : 'logging/setLevel debug';
    if (!modern) await client.setLoggingLevel('debug', toolOpts);
    const before = seen.logs.length;
    const res = await call(L.tool, L.args);
    if (modern && L.hold) await call(L.hold.tool, L.hold.args);
    // Collect for windowMs; if nothing arrived yet, keep waiting up to maxWindowMs.
    const start = Date.now();
    const matching = () => seen.logs.slice(before).filter((m) => L.expect.test(String(m.data)));
    while (Date.now() - start < L.maxWindowMs && (Date.now() - start < L.windowMs || matching().length === 0)) await sleep(100);
    const got = seen.logs.slice(before);
    const matched = matching().length;
    let stopped;
    if (L.toggle) stopped = textOf(await call(L.tool, L.args).catch((e) => ({ content: [{ type: 'text', text: `stop failed: ${errText(e)}` }] })));
    return {
      // Only messages the tool caused count: a stray one (e.g. server-everything's "Roots updated") proves nothing.
      ok: !res.isError && matched >= 1,
      detail: { level: how, tool: prefix + L.tool, isError: !!res.isError, count: got.length, matched, sample: got.slice(0, 3), stopped: clip(stopped, 120) },
    };
  });

  await step('completion', async () => {
    const C = P.completion;
    const res = await client.complete({ ref: { type: 'ref/prompt', name: prefix + C.prompt }, argument: C.argument }, toolOpts);
    const values = res.completion?.values ?? [];
    return { ok: values.length > 0, detail: { prompt: prefix + C.prompt, argument: C.argument, values, total: res.completion?.total, hasMore: res.completion?.hasMore } };
  });

  await step('subscribe', async () => {
    const S = P.subscribe;
    const before = seen.updates.length;
    let sub;
    let how;
    if (modern) {
      sub = await client.listen({ resourceSubscriptions: [S.uri] }, toolOpts);
      how = { method: 'subscriptions/listen', honored: sub.honoredFilter };
    } else {
      await client.subscribeResource({ uri: S.uri }, toolOpts);
      how = { method: 'resources/subscribe' };
    }
    let toggled;
    let triggerFailed = false;
    try {
      if (S.tool) {
        const res = await call(S.tool, {});
        toggled = textOf(res);
        triggerFailed = !!res.isError;
      }
      const start = Date.now();
      while (!triggerFailed && Date.now() - start < SUBSCRIBE_WAIT_MS && !seen.updates.slice(before).includes(S.uri)) await sleep(100);
    } finally {
      // Clean up without letting a slow peer eat the step's budget.
      const cleanup = [];
      if (S.toggle && !triggerFailed) cleanup.push(call(S.tool, {}).catch(() => {}));
      cleanup.push(sub ? sub.close().catch(() => {}) : client.unsubscribeResource({ uri: S.uri }, { timeout: 2_000 }).catch(() => {}));
      await withTimeout(Promise.all(cleanup), 3_000, 'cleanup').catch(() => {});
    }
    const got = seen.updates.slice(before);
    return {
      ok: got.includes(S.uri),
      detail: { uri: S.uri, ...how, ...(S.note && { note: S.note }), trigger: S.tool ? prefix + S.tool : null, toggled: clip(toggled, 120), updates: got.length, waitedMs: SUBSCRIBE_WAIT_MS },
    };
  });

  await step('protocol', async () => {
    const v = client.getNegotiatedProtocolVersion();
    return { ok: typeof v === 'string' && v.length > 0, detail: { version: v, era: client.getProtocolEra?.() } };
  });
}

// Hard stop: whatever happens, print what we have and leave.
const hardStop = setTimeout(() => finish('hard timeout'), 110_000);
let finished = false;
function finish(note) {
  if (finished) return;
  finished = true;
  clearTimeout(hardStop);
  const { summary, ...steps } = report;
  const out = {
    ...steps,
    summary: {
      ...(summary ?? { client: 'ts-v2 2.4.0', era }),
      passed: Object.keys(steps).filter((k) => steps[k].ok),
      failed: Object.keys(steps).filter((k) => !steps[k].ok),
      ...(note && { note }),
    },
  };
  console.log('RESULT ' + JSON.stringify(out));
  process.exit(0);
}

try {
  await plan();
} catch (e) {
  // Only the connect can land here: every step catches its own errors.
  console.log('ERROR ' + errText(e));
  process.exit(1);
}
await withTimeout(client.close(), 3_000, 'close').catch(() => {});
finish();
