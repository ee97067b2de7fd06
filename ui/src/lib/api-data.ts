// Reading the gateway's API answers: error bodies and tool lists in the shapes it has used.

import type { ApiErrorBody, JsonSchema, ServerTool, ToolAnnotations } from '../api';

/** The message (and form field, if any) of an error answer: every /api failure answers
 *  `{"error": "…", "field"?: "…"}` (ApiErrorBody), whose message is shown as it is. Anything
 *  else (a proxy's page, an empty body) gets a generic message with the HTTP status. */
export function errorMessage(body: unknown, status: number): { message: string; field: string | null } {
  if (body && typeof body === 'object') {
    const b = body as Partial<Record<keyof ApiErrorBody, unknown>>;
    if (typeof b.error === 'string' && b.error) {
      return { message: b.error, field: typeof b.field === 'string' ? b.field : null };
    }
  }
  return { message: `The gateway answered HTTP ${status}.`, field: null };
}

/** A tool of GET /api/servers/{name}/tools: accepts the flat shape of the contract and the older
 *  `{tool: {...}, originalName}` one, with defaults for what is missing. */
export function normalizeTool(raw: unknown): ServerTool {
  const r = (raw ?? {}) as Record<string, unknown>;
  const inner = (r.tool && typeof r.tool === 'object' ? r.tool : {}) as Record<string, unknown>;
  const t = { ...inner, ...r } as Record<string, unknown>;
  const name = String(t.name ?? inner.name ?? '');
  return {
    name,
    originalName: String(t.originalName ?? name),
    title: (t.title as string | null) ?? (inner.title as string | null) ?? null,
    description: (t.description as string | null) ?? null,
    annotations: (t.annotations as ToolAnnotations | null) ?? null,
    inputSchema: (t.inputSchema as JsonSchema) ?? { type: 'object' },
    outputSchema: (t.outputSchema as JsonSchema | null) ?? null,
    enabled: t.enabled === undefined ? true : Boolean(t.enabled),
  };
}
