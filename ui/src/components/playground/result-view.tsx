// A result as MCP defines it: tool results' content blocks (text, images, audio, embedded and
// linked resources), structuredContent checked against the tool's outputSchema, isError shown as
// an error; resource contents (text, image preview, other blobs); prompt messages. The raw JSON
// is one click away.

import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/client/validators/cf-worker';
import type { JsonSchema } from '../../api';
import { IconAlert, IconCheck, IconCode } from '../icons';
import { RawJson } from '../schema';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const validator = new CfWorkerJsonSchemaValidator();

/** Whether `value` matches `schema`: null when valid, else the reason. */
export function schemaError(schema: JsonSchema, value: unknown): string | null {
  try {
    const r = validator.getValidator(schema as Any)(value);
    return r.valid ? null : r.errorMessage;
  } catch (e) {
    return `the output schema could not be used: ${(e as Error).message}`;
  }
}

const dataUrl = (mime: string | undefined, b64: string) => `data:${mime ?? 'application/octet-stream'};base64,${b64}`;

/** One resource's contents (text, or a blob: image preview, audio player, size). */
export function ResourceContents({ c }: { c: Any }) {
  const mime: string | undefined = c.mimeType;
  if (typeof c.text === 'string') {
    return (
      <div class="pg-resource" data-testid="pg-resource-text">
        <div class="pg-resource-head">
          <code>{c.uri}</code> {mime && <span class="chip">{mime}</span>}
        </div>
        <pre class="pg-text">{c.text}</pre>
      </div>
    );
  }
  if (typeof c.blob === 'string') {
    return (
      <div class="pg-resource" data-testid="pg-resource-blob">
        <div class="pg-resource-head">
          <code>{c.uri}</code> {mime && <span class="chip">{mime}</span>} <span class="muted">{Math.round((c.blob.length * 3) / 4)} bytes</span>
        </div>
        {mime?.startsWith('image/') && <img class="pg-image" src={dataUrl(mime, c.blob)} alt={c.uri} />}
        {mime?.startsWith('audio/') && <audio controls src={dataUrl(mime, c.blob)} />}
      </div>
    );
  }
  return <RawJson value={c} />;
}

function Block({ b }: { b: Any }) {
  switch (b?.type) {
    case 'text':
      return <pre class="pg-text" data-testid="pg-text">{b.text}</pre>;
    case 'image':
      return <img class="pg-image" data-testid="pg-image" src={dataUrl(b.mimeType, b.data)} alt="Image from the tool" />;
    case 'audio':
      return <audio controls data-testid="pg-audio" src={dataUrl(b.mimeType, b.data)} />;
    case 'resource':
      return (
        <div data-testid="pg-embedded">
          <span class="badge">embedded resource</span>
          <ResourceContents c={b.resource} />
        </div>
      );
    case 'resource_link':
      return (
        <div class="pg-link" data-testid="pg-resource-link">
          <span class="badge">resource link</span> <code>{b.uri}</code> {b.name && <span>{b.name}</span>}
          {b.description && <div class="muted">{b.description}</div>}
        </div>
      );
    default:
      return <RawJson value={b} />;
  }
}

/** A result card with a rendered/raw toggle; `children` is the rendered view. */
export function ResultFrame(props: { raw: unknown; error?: boolean; meta?: ComponentChildren; children: ComponentChildren; testId?: string }) {
  const [showRaw, setShowRaw] = useState(false);
  return (
    <section class={`pg-result${props.error ? ' is-error' : ''}`} data-testid={props.testId ?? 'pg-result'} data-error={props.error ? 'true' : 'false'}>
      <div class="pg-result-head">
        {props.error ? (
          <span class="badge tone-danger" data-testid="pg-result-error">
            <IconAlert size={13} /> Error
          </span>
        ) : (
          <span class="badge tone-ok">
            <IconCheck size={13} /> Result
          </span>
        )}
        <span class="pg-result-meta">{props.meta}</span>
        <button type="button" class="btn btn-sm btn-ghost" aria-pressed={showRaw} data-testid="pg-raw-toggle" onClick={() => setShowRaw(!showRaw)}>
          <IconCode size={13} /> {showRaw ? 'Rendered' : 'Raw JSON'}
        </button>
      </div>
      {showRaw ? <RawJson value={props.raw} testId="pg-raw" /> : props.children}
    </section>
  );
}

/** A tool result: content blocks, structuredContent (validated against `outputSchema`). */
export function ToolResult({ result, outputSchema, meta }: { result: Any; outputSchema: JsonSchema | null; meta?: ComponentChildren }) {
  const structured = result?.structuredContent;
  const invalid = useMemo(
    () => (outputSchema && structured !== undefined ? schemaError(outputSchema, structured) : null),
    [result, outputSchema],
  );
  return (
    <ResultFrame raw={result} error={result?.isError === true} meta={meta}>
      {result?.isError === true && <p class="pg-error-note">The tool reported an error (isError).</p>}
      <div class="pg-blocks">
        {(result?.content ?? []).map((b: Any, i: number) => (
          <Block key={i} b={b} />
        ))}
      </div>
      {structured !== undefined && (
        <div class="pg-structured" data-testid="pg-structured">
          <h4 class="subhead">
            structuredContent{' '}
            {outputSchema &&
              (invalid === null ? (
                <span class="badge tone-ok" data-testid="pg-schema-valid">
                  matches the output schema
                </span>
              ) : (
                <span class="badge tone-danger" data-testid="pg-schema-invalid" title={invalid}>
                  does not match the output schema: {invalid}
                </span>
              ))}
          </h4>
          <RawJson value={structured} />
        </div>
      )}
    </ResultFrame>
  );
}

/** The messages `prompts/get` returned. */
export function PromptMessages({ result }: { result: Any }) {
  return (
    <ResultFrame raw={result} testId="pg-prompt-result">
      {result?.description && <p class="muted">{result.description}</p>}
      <ol class="pg-messages">
        {(result?.messages ?? []).map((m: Any, i: number) => (
          <li key={i} class={`pg-message role-${m.role}`} data-testid="pg-message">
            <span class="badge">{m.role}</span>
            <Block b={m.content} />
          </li>
        ))}
      </ol>
    </ResultFrame>
  );
}
