// Types of the /api answers that ts-rs cannot generate: they come from rmcp (the MCP SDK), which
// has no TypeScript derive, so api-types.gen.ts imports these hand-written mirrors. Keep them in
// step with rmcp's ToolAnnotations and with what a JSON Schema object is.

/** MCP tool annotations (rmcp `ToolAnnotations`): hints, as the server sent them. */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  [k: string]: unknown;
}

/** A JSON Schema object (rmcp `JsonObject`), e.g. a tool's input or output schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = { [k: string]: any };
