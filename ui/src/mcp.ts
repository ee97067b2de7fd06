// The dashboard as an MCP client: the official TypeScript SDK client talking to this gateway's
// own /mcp with the dashboard's session cookie (the gateway accepts it there only from its own
// pages). The playground, resources and prompts go through it, so a call here is routed,
// timed out, cancelled and recorded exactly as a client's is. Names are the gateway's
// (`<server>__<tool>` or per the server's toolPrefix).
//
// Requests a server raises during a call reach this client: elicitation is asked of the user
// (the playground shows a form; see `onElicitation`), sampling is answered with a clear
// "not supported here" error and shown (see `onNotice`). Progress and cancellation are the
// SDK's (`onprogress`, an AbortSignal).

import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { JsonSchema } from './api';

/** An elicitation a server asks during a call, waiting for the user's answer. */
export interface ElicitationAsk {
  id: number;
  message: string;
  /** The requested schema (flat object of primitives, per the spec); null for URL mode. */
  schema: JsonSchema | null;
  /** URL mode: the page the server wants opened. */
  url: string | null;
  answer: (r: { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }) => void;
}

type AskListener = (asks: ElicitationAsk[]) => void;
type NoticeListener = (text: string) => void;

let asks: ElicitationAsk[] = [];
const askListeners = new Set<AskListener>();
const noticeListeners = new Set<NoticeListener>();
let nextAsk = 0;

/** Follows the pending elicitations (called at once with the current list). */
export function onElicitation(fn: AskListener): () => void {
  askListeners.add(fn);
  fn(asks);
  return () => askListeners.delete(fn);
}

/** Told when something happened the user should know (e.g. a sampling request refused). */
export function onNotice(fn: NoticeListener): () => void {
  noticeListeners.add(fn);
  return () => noticeListeners.delete(fn);
}

function setAsks(next: ElicitationAsk[]) {
  asks = next;
  askListeners.forEach((fn) => fn(asks));
}

let client: Client | null = null;
let connecting: Promise<Client> | null = null;

function build(): Client {
  const c = new Client(
    { name: 'loopgate-dashboard', version: '1.0.0' },
    {
      capabilities: { elicitation: { form: {}, url: {} }, sampling: {} },
      // One session: elicitation and resource subscriptions need it.
      versionNegotiation: { mode: 'legacy' },
    },
  );
  c.setRequestHandler('elicitation/create', async (req) => {
    const p = req.params as { message?: string; requestedSchema?: JsonSchema; mode?: string; url?: string };
    return await new Promise((resolve) => {
      const id = ++nextAsk;
      const ask: ElicitationAsk = {
        id,
        message: p.message ?? '',
        schema: p.requestedSchema ?? null,
        url: p.mode === 'url' && typeof p.url === 'string' ? p.url : null,
        answer: (r) => {
          setAsks(asks.filter((a) => a.id !== id));
          resolve(r as { action: typeof r.action; content?: Record<string, string | number | boolean | string[]> });
        },
      };
      setAsks([...asks, ask]);
    });
  });
  c.setRequestHandler('sampling/createMessage', async () => {
    const text = 'A server asked for sampling (an LLM completion). The dashboard has no model to answer with, so it was refused: sampling is not supported here. Try the tool from an AI client.';
    noticeListeners.forEach((fn) => fn(text));
    throw new ProtocolError(-32603, 'Sampling is not supported in the Loopgate dashboard playground (it has no model)');
  });
  c.onclose = () => {
    if (client === c) client = null;
  };
  return c;
}

/** The connected client (connecting on first use, and again after the session ended). */
export async function mcp(): Promise<Client> {
  if (client) return client;
  if (!connecting) {
    connecting = (async () => {
      const c = build();
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', location.href), {
        requestInit: { credentials: 'same-origin' },
      });
      try {
        await c.connect(transport);
      } catch (e) {
        await c.close().catch(() => {});
        throw e;
      }
      client = c;
      return c;
    })().finally(() => {
      connecting = null;
    });
  }
  return connecting;
}

/** Forgets the client (after an error that may have ended its session); the next call
 *  connects again. */
export async function resetMcp() {
  const c = client;
  client = null;
  await c?.close().catch(() => {});
}

/** A thrown error's message for people. */
export function mcpErrorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
