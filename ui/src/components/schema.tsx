// JSON Schema rendered for people: a table of fields (nested objects indented) or the raw JSON.
// The schema walking itself is in lib/schema.ts.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { JsonSchema } from '../api';
import { flattenSchema, jsonTokens } from '../lib/schema';
import { IconCode, IconTable } from './icons';
import { CopyButton } from './ui';

/** Colours JSON tokens (keys, strings, numbers, literals) without a dependency. */
function highlightJson(text: string): ComponentChildren[] {
  return jsonTokens(text).map((t, i) => (t.kind ? <span key={i} class={`j-${t.kind}`}>{t.text}</span> : t.text));
}

export function RawJson({ value, testId }: { value: unknown; testId?: string }) {
  const text = JSON.stringify(value, null, 2);
  return (
    <div class="raw-json" data-testid={testId}>
      <div class="raw-json-copy">
        <CopyButton text={text} label="Copy JSON" compact />
      </div>
      <pre>
        <code>{highlightJson(text)}</code>
      </pre>
    </div>
  );
}

export function SchemaTable({ schema, testId = 'schema-table' }: { schema: JsonSchema; testId?: string }) {
  const rows = flattenSchema(schema);
  if (rows.length === 0) {
    return (
      <p class="muted schema-none" data-testid={testId}>
        Takes no arguments.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table class="schema-table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-field={r.key} class={r.depth > 0 ? 'is-nested' : undefined}>
              <td class="f-name" style={{ paddingLeft: `${12 + r.depth * 20}px` }}>
                {r.depth > 0 && <span class="tree-guide" aria-hidden="true">└</span>}
                <code>{r.name}</code>
              </td>
              <td class="f-type">
                <code>{r.type}</code>
              </td>
              <td class="f-req">{r.required ? <span class="badge badge-required">required</span> : <span class="muted">optional</span>}</td>
              <td class="f-desc">
                {r.description ?? <span class="muted">—</span>}
                {r.details.length > 0 && (
                  <div class="f-details">
                    {r.details.map((d) => (
                      <span key={d} class="chip">
                        {d}
                      </span>
                    ))}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Fields table with a "Raw JSON" toggle. */
export function SchemaView({ schema, label, testPrefix }: { schema: JsonSchema; label: string; testPrefix?: string }) {
  const [raw, setRaw] = useState(false);
  return (
    <section class="schema-view" aria-label={label}>
      <div class="schema-head">
        <h4 class="subhead">{label}</h4>
        <div class="segmented" role="group" aria-label={`${label} view`}>
          <button type="button" class={!raw ? 'is-on' : ''} aria-pressed={!raw} onClick={() => setRaw(false)}>
            <IconTable size={14} /> Fields
          </button>
          <button
            type="button"
            class={raw ? 'is-on' : ''}
            aria-pressed={raw}
            onClick={() => setRaw(true)}
            data-testid={testPrefix ? `${testPrefix}-raw` : undefined}
          >
            <IconCode size={14} /> Raw JSON
          </button>
        </div>
      </div>
      {raw ? <RawJson value={schema} testId={testPrefix ? 'schema-raw' : 'output-schema-raw'} /> : <SchemaTable schema={schema} testId={testPrefix ? 'schema-table' : 'output-schema-table'} />}
    </section>
  );
}
