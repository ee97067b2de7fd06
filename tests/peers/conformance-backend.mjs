// Backend MCP server for Loopgate's conformance tests: implements exactly the tools, prompts,
// resources, completions, logging and subscriptions that these server scenarios of the official
// conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12) call:
//   2025 era (initialize + session): tools-call-sampling, tools-call-elicitation,
//     tools-call-with-logging, completion-complete, resources-subscribe, resources-unsubscribe,
//     logging-set-level
//   2026-07-28 (stateless, per-request _meta): every input-required-result-* (MRTR, SEP-2322)
// Written from the scenario definitions in the suite's dist/index.js (not a copy of the suite's
// reference server).
//
// SDK choice: the official TS SDK v2 (@modelcontextprotocol/server 2.4.0 + @modelcontextprotocol/node
// 2.1.2). SDK v1 (1.32.2) has no 2026-07-28 support at all (no input_required results, no
// stateless per-request envelope), so it could only pass the MRTR scenarios with a hand-rolled
// JSON-RPC layer. v2 supports both eras from one server factory:
//   - handlers return `inputRequired({...})`; on 2026-07-28 requests that becomes an
//     `input_required` result, and on 2025-era connections the SDK's legacy shim fulfils it with
//     real server->client requests (sampling/createMessage, elicitation/create, roots/list) and
//     re-enters the handler. So `test_sampling`/`test_elicitation` are written once and also
//     answer `input_required` to a 2026-07-28 caller (useful when a gateway translates eras).
//   - requestState is HMAC-protected with the SDK's createRequestStateCodec (tampered -> -32602).
//
// Usage:
//   node conformance-backend.mjs PORT   -> http://127.0.0.1:PORT/mcp
//       2025-era traffic: stateful Streamable HTTP (Mcp-Session-Id; unknown id -> 404, missing -> 400)
//       2026-07-28 traffic: stateless (createMcpHandler, legacy: 'reject')
//   node conformance-backend.mjs stdio  -> stdio (serveStdio: the opening message picks the era)
//   PROMPTS_ONLY=1: prompts and resources only, no tools capability.
//   ONLY_2026=1 (HTTP): a 2026-07-28-only server: `initialize` is refused (400, unsupported
//       protocol version), as a server that dropped the older revisions answers it.
// Logs go to stderr only; poll the port for readiness.
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  McpServer,
  completable,
  createMcpHandler,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  acceptedContent,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';

const log = (...a) => console.error('[conformance-backend]', ...a);
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One key per process: one process serves every round of a flow.
const stateCodec = createRequestStateCodec({ key: randomBytes(32), ttlSeconds: 600 });

const WATCHED = 'test://watched-resource';
const nameSchema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };

/** Client capabilities: the per-request envelope (2026-07-28) or the initialize handshake (2025). */
function clientCaps(server, ctx) {
  return ctx.mcpReq.envelope?.['io.modelcontextprotocol/clientCapabilities'] ?? server.server.getClientCapabilities() ?? {};
}

function samplingText(view) {
  const c = view.kind === 'sampling' ? view.result.content : undefined;
  const block = Array.isArray(c) ? c[0] : c;
  return block?.type === 'text' ? block.text : JSON.stringify(block ?? null);
}

function factory() {
  // PROMPTS_ONLY=1: a server with prompts and resources but no tools capability at all.
  const promptsOnly = !!process.env.PROMPTS_ONLY;
  const server = new McpServer(
    { name: 'loopgate-conformance-backend', version: '1.0.0' },
    {
      capabilities: {
        ...(promptsOnly ? {} : { tools: {} }),
        prompts: {},
        resources: { subscribe: true },
        completions: {},
        logging: {},
      },
      requestState: { verify: stateCodec.verify },
    },
  );
  if (promptsOnly) server.registerTool = () => undefined;
  const subscriptions = new Set();

  // ---- 2025-era scenarios -------------------------------------------------------------------

  // tools-call-sampling: sampling/createMessage with the prompt, maxTokens 100.
  server.registerTool(
    'test_sampling',
    { description: 'Requests LLM sampling from the client', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      if (!clientCaps(server, ctx).sampling) return { ...text('Client does not support sampling'), isError: true };
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'llm');
      if (answer.kind === 'sampling') return text(`LLM response: ${samplingText(answer)}`);
      return inputRequired({
        inputRequests: {
          llm: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens: 100,
          }),
        },
      });
    },
  );

  // tools-call-elicitation: elicitation/create asking for username + email.
  server.registerTool(
    'test_elicitation',
    { description: 'Requests user input from the client', inputSchema: z.object({ message: z.string() }) },
    async ({ message }, ctx) => {
      if (!clientCaps(server, ctx).elicitation) return { ...text('Client does not support elicitation'), isError: true };
      const answer = inputResponse(ctx.mcpReq.inputResponses, 'user');
      if (answer.kind === 'elicit') {
        return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
      }
      return inputRequired({
        inputRequests: {
          user: inputRequired.elicit({
            message,
            requestedSchema: {
              type: 'object',
              properties: {
                username: { type: 'string', description: "User's response" },
                email: { type: 'string', description: "User's email address" },
              },
              required: ['username', 'email'],
            },
          }),
        },
      });
    },
  );

  // tools-call-with-logging: three info-level notifications/message, ~50 ms apart.
  server.registerTool('test_tool_with_logging', { description: 'Sends three log messages while running' }, async (ctx) => {
    await ctx.mcpReq.log('info', 'Tool execution started', 'test_tool_with_logging');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool processing data', 'test_tool_with_logging');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool execution completed', 'test_tool_with_logging');
    return text('Tool with logging executed successfully');
  });

  // completion-complete: completion/complete on ref/prompt test_prompt_with_arguments, argument arg1.
  const suggestions = ['paris', 'park', 'party', 'test', 'testing', 'tested'];
  const complete = (value) => {
    const v = String(value ?? '').toLowerCase();
    return suggestions.filter((s) => s.startsWith(v));
  };
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two arguments (arg1 completes)',
      argsSchema: z.object({ arg1: completable(z.string(), complete), arg2: z.string() }),
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );
  // Not a suite scenario: a prompt that reports progress while it is built (for Loopgate's test
  // that progress of prompts/get reaches the client).
  server.registerPrompt('test_prompt_with_progress', { description: 'Reports progress three times' }, async (ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= 3; i++) {
      if (token !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 3 } });
      }
      await sleep(50);
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: 'done' } }] };
  });

  // resources-subscribe / resources-unsubscribe: test://watched-resource.
  server.registerResource(
    'watched-resource',
    WATCHED,
    { description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );
  server.server.setRequestHandler('resources/subscribe', async (req) => {
    subscriptions.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (req) => {
    subscriptions.delete(req.params.uri);
    return {};
  });
  // logging-set-level: answered by the SDK itself because the `logging` capability is declared
  // (it also filters ctx.mcpReq.log by the level set).

  // ---- 2026-07-28 scenarios: input_required results (MRTR, SEP-2322) ------------------------

  // basic-elicitation, missing-input-response, result-type, ignore-extra-params, validate-input.
  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'MRTR: asks for the user name by elicitation (key user_name)' },
    async (ctx) => {
      const got = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', z.object({ name: z.string() }));
      if (got) return text(`Hello, ${got.name}!`);
      // Missing, wrong-keyed or malformed responses: ask again.
      return inputRequired({
        inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }) },
      });
    },
  );

  // basic-sampling (key capital_question).
  server.registerTool('test_input_required_result_sampling', { description: 'MRTR: asks the client LLM a question' }, async (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (answer.kind === 'sampling') return text(`Sampling answer: ${samplingText(answer)}`);
    return inputRequired({
      inputRequests: {
        capital_question: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
          maxTokens: 50,
        }),
      },
    });
  });

  // basic-list-roots (key client_roots).
  server.registerTool('test_input_required_result_list_roots', { description: "MRTR: asks for the client's roots" }, async (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    if (answer.kind === 'roots') return text(`Client roots: ${answer.roots.map((r) => r.uri).join(', ') || '(none)'}`);
    return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });

  // request-state: round 2 must validate the echoed state and say "state-ok".
  server.registerTool('test_input_required_result_request_state', { description: 'MRTR: round-trips requestState' }, async (ctx) => {
    const state = ctx.mcpReq.requestState();
    const ok = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
    if (state?.flow === 'request_state' && ok) return text(`state-ok: requestState validated (ok=${ok.ok})`);
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      },
      requestState: await stateCodec.mint({ flow: 'request_state', nonce: randomUUID() }),
    });
  });

  // multiple-input-requests: elicitation + sampling + roots in one round, with requestState.
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'MRTR: three input requests at once' }, async (ctx) => {
    const r = ctx.mcpReq.inputResponses;
    const state = ctx.mcpReq.requestState();
    const user = acceptedContent(r, 'user_name');
    const greeting = inputResponse(r, 'greeting');
    const roots = inputResponse(r, 'client_roots');
    if (state?.flow === 'multiple_inputs' && user && greeting.kind === 'sampling' && roots.kind === 'roots') {
      return text(`Hello ${user.name}: ${samplingText(greeting)} (${roots.roots.length} root(s))`);
    }
    return inputRequired({
      inputRequests: {
        user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }),
        greeting: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
          maxTokens: 50,
        }),
        client_roots: inputRequired.listRoots(),
      },
      requestState: await stateCodec.mint({ flow: 'multiple_inputs', nonce: randomUUID() }),
    });
  });

  // multi-round: step1 (name) -> step2 (color) -> complete; requestState changes every round.
  server.registerTool('test_input_required_result_multi_round', { description: 'MRTR: two rounds of elicitation' }, async (ctx) => {
    const state = ctx.mcpReq.requestState();
    const r = ctx.mcpReq.inputResponses;
    if (state?.flow === 'multi_round' && state.round === 2) {
      const step2 = acceptedContent(r, 'step2');
      if (step2) return text(`${state.name}'s favorite color is ${step2.color}`);
    }
    if (state?.flow === 'multi_round' && state.round === 1) {
      const step1 = acceptedContent(r, 'step1');
      if (step1) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
            }),
          },
          requestState: await stateCodec.mint({ flow: 'multi_round', round: 2, name: step1.name, nonce: randomUUID() }),
        });
      }
    }
    return inputRequired({
      inputRequests: { step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: nameSchema }) },
      requestState: await stateCodec.mint({ flow: 'multi_round', round: 1, nonce: randomUUID() }),
    });
  });

  // tampered-state: the SDK seam verifies the HMAC before the handler runs (-32602 on failure).
  server.registerTool('test_input_required_result_tampered_state', { description: 'MRTR: HMAC-signed requestState' }, async (ctx) => {
    const state = ctx.mcpReq.requestState();
    if (state?.flow === 'tampered_state' && acceptedContent(ctx.mcpReq.inputResponses, 'confirm')) {
      return text('state verified');
    }
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      },
      requestState: await stateCodec.mint({ flow: 'tampered_state', nonce: randomUUID() }),
    });
  });

  // capability-check: only ask for what the caller's clientCapabilities declare.
  server.registerTool('test_input_required_result_capabilities', { description: 'MRTR: respects client capabilities' }, async (ctx) => {
    const r = ctx.mcpReq.inputResponses;
    if (r && Object.keys(r).length > 0) return text(`capabilities-ok: received ${Object.keys(r).join(',')}`);
    const caps = clientCaps(server, ctx);
    const inputRequests = {};
    if (caps.elicitation) {
      inputRequests.elicit_input = inputRequired.elicit({
        message: 'Elicitation input',
        requestedSchema: { type: 'object', properties: { value: { type: 'string' } }, required: ['value'] },
      });
    }
    if (caps.sampling) {
      inputRequests.sample_input = inputRequired.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: 'Sample request' } }],
        maxTokens: 50,
      });
    }
    if (Object.keys(inputRequests).length === 0) return text('No supported capabilities declared');
    return inputRequired({ inputRequests });
  });

  // non-tool-request: prompts/get may answer input_required too (key user_context).
  server.registerPrompt('test_input_required_result_prompt', { description: 'MRTR: prompt that needs elicitation' }, async (ctx) => {
    const got = acceptedContent(ctx.mcpReq.inputResponses, 'user_context');
    if (got) {
      return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${got.context}` } }] };
    }
    return inputRequired({
      inputRequests: {
        user_context: inputRequired.elicit({
          message: 'What context should the prompt use?',
          requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
        }),
      },
    });
  });

  return server;
}

// ---- transports ------------------------------------------------------------------------------

if (process.argv[2] === 'stdio') {
  serveStdio(factory, { onerror: (e) => log('stdio error:', e.message) });
  log('serving on stdio');
} else {
  const port = Number(process.argv[2] || process.env.PORT || 3400);
  const modern = toNodeHandler(createMcpHandler(factory, { legacy: 'reject', onerror: (e) => log('modern:', e.message) }));
  const sessions = new Map(); // Mcp-Session-Id -> NodeStreamableHTTPServerTransport (2025 era)

  const readBody = async (req) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!raw) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  };
  const jsonError = (res, status, code, message) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
  };

  async function legacy(req, res, body) {
    const sid = req.headers['mcp-session-id'];
    if (sid) {
      const t = sessions.get(sid);
      if (!t) return jsonError(res, 404, -32001, 'Session not found');
      return t.handleRequest(req, res, body);
    }
    const isInit = req.method === 'POST' && !Array.isArray(body) && body?.method === 'initialize';
    if (!isInit) return jsonError(res, 400, -32000, 'Bad Request: missing Mcp-Session-Id');
    const t = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, t),
    });
    t.onclose = () => t.sessionId && sessions.delete(t.sessionId);
    await factory().connect(t);
    return t.handleRequest(req, res, body);
  }

  http
    .createServer(async (req, res) => {
      try {
        if (new URL(req.url, 'http://x').pathname !== '/mcp') return res.writeHead(404).end();
        const body = req.method === 'POST' ? await readBody(req) : undefined;
        // Classify from headers + the parsed body (the Node stream is already drained).
        const probe = new Request('http://127.0.0.1/mcp', { method: req.method, headers: req.headers });
        if (await isLegacyRequest(probe, body)) {
          if (process.env.ONLY_2026) return jsonError(res, 400, -32600, 'Unsupported protocol version: this server speaks 2026-07-28 only');
          return await legacy(req, res, body);
        }
        return await modern(req, res, body);
      } catch (e) {
        log('request failed:', e?.stack ?? e);
        if (!res.headersSent) jsonError(res, 500, -32603, 'Internal error');
        else res.end();
      }
    })
    .listen(port, '127.0.0.1', () => log(`listening on http://127.0.0.1:${port}/mcp`));
}
