// JSON Schema rendered for people: a table of fields (nested objects indented) or the raw JSON.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { JsonSchema } from '../api';
import { IconCode, IconTable } from './icons';
import { CopyButton } from './ui';

interface FieldRow {
  key: string;
  name: string;
  depth: number;
  type: string;
  required: boolean;
  description: string | null;
  details: string[];
}

const MAX_DEPTH = 8;

function isObj(v: unknown): v is JsonSchema {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Resolves a local `$ref` ("#/$defs/X", "#/definitions/X"); anything else is returned as is. */
function resolve(s: unknown, root: JsonSchema, seen: Set<unknown>): JsonSchema {
  let cur: unknown = s;
  for (let i = 0; i < 10 && isObj(cur) && typeof cur.$ref === 'string'; i++) {
    const ref: string = cur.$ref;
    if (!ref.startsWith('#/')) break;
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      target = isObj(target) ? target[key] : undefined;
    }
    if (!isObj(target) || seen.has(target)) break;
    // Sibling keywords (e.g. description) next to $ref win over the target's.
    const { $ref: _ignored, ...siblings } = cur;
    void _ignored;
    cur = { ...target, ...siblings };
  }
  return isObj(cur) ? cur : {};
}

function variants(s: JsonSchema): JsonSchema[] | null {
  const v = s.anyOf ?? s.oneOf;
  return Array.isArray(v) ? v.filter(isObj) : null;
}

export function typeOf(s0: unknown, root: JsonSchema, depth = 0): string {
  if (s0 === true || (isObj(s0) && Object.keys(s0).length === 0)) return 'any';
  if (!isObj(s0) || depth > 4) return 'any';
  const s = resolve(s0, root, new Set());
  if ('const' in s) return JSON.stringify(s.const);
  const vs = variants(s);
  if (vs) return [...new Set(vs.map((v) => typeOf(v, root, depth + 1)))].join(' | ');
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return typeOf(s.allOf[0], root, depth + 1);
  let t: string[] = Array.isArray(s.type) ? s.type.map(String) : typeof s.type === 'string' ? [s.type] : [];
  if (t.length === 0) {
    if (Array.isArray(s.enum)) return 'enum';
    if (isObj(s.properties)) t = ['object'];
    else if (s.items) t = ['array'];
    else if (typeof s0.$ref === 'string') return s0.$ref.split('/').pop() ?? 'any';
    else return 'any';
  }
  return t
    .map((one) => {
      if (one === 'array') {
        const items = Array.isArray(s.items) ? s.items[0] : s.items;
        return items ? `${typeOf(items, root, depth + 1)}[]` : 'array';
      }
      if (one === 'object' && !isObj(s.properties) && isObj(s.additionalProperties)) {
        return `map<string, ${typeOf(s.additionalProperties, root, depth + 1)}>`;
      }
      if (one === 'string' && typeof s.format === 'string') return `string (${s.format})`;
      return one;
    })
    .join(' | ');
}

function detailsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  if (Array.isArray(s.enum)) out.push(`one of: ${s.enum.map((v: unknown) => JSON.stringify(v)).join(', ')}`);
  if ('default' in s) out.push(`default: ${JSON.stringify(s.default)}`);
  const pairs: [string, string][] = [
    ['minimum', '≥'],
    ['exclusiveMinimum', '>'],
    ['maximum', '≤'],
    ['exclusiveMaximum', '<'],
  ];
  for (const [k, sym] of pairs) if (typeof s[k] === 'number') out.push(`${sym} ${s[k]}`);
  if (typeof s.minLength === 'number') out.push(`min length ${s.minLength}`);
  if (typeof s.maxLength === 'number') out.push(`max length ${s.maxLength}`);
  if (typeof s.minItems === 'number') out.push(`min items ${s.minItems}`);
  if (typeof s.maxItems === 'number') out.push(`max items ${s.maxItems}`);
  if (typeof s.pattern === 'string') out.push(`pattern ${s.pattern}`);
  if (Array.isArray(s.examples) && s.examples.length) out.push(`e.g. ${JSON.stringify(s.examples[0])}`);
  return out;
}

/** Where nested fields live: the object itself, an array's item object, or a single object variant. */
function nestedObject(s: JsonSchema, root: JsonSchema, seen: Set<unknown>): JsonSchema | null {
  if (isObj(s.properties)) return s;
  const items = Array.isArray(s.items) ? s.items[0] : s.items;
  if (isObj(items)) {
    const r = resolve(items, root, seen);
    if (isObj(r.properties)) return r;
  }
  const vs = variants(s);
  if (vs) {
    const objs = vs.map((v) => resolve(v, root, seen)).filter((v) => isObj(v.properties));
    if (objs.length === 1) return objs[0];
  }
  return null;
}

export function flattenSchema(schema: JsonSchema): FieldRow[] {
  const rows: FieldRow[] = [];
  const walk = (obj: JsonSchema, depth: number, prefix: string, seen: Set<unknown>) => {
    if (depth > MAX_DEPTH || seen.has(obj)) return;
    const next = new Set(seen).add(obj);
    const props = isObj(obj.properties) ? obj.properties : {};
    const required = new Set<string>(Array.isArray(obj.required) ? obj.required : []);
    for (const [name, raw] of Object.entries(props)) {
      const s = resolve(raw, schema, next);
      const key = `${prefix}${name}`;
      rows.push({
        key,
        name,
        depth,
        type: typeOf(raw, schema),
        required: required.has(name),
        description:
          typeof s.description === 'string'
            ? s.description
            : typeof s.title === 'string' && s.title.toLowerCase().replace(/[\s_-]/g, '') !== name.toLowerCase().replace(/[\s_-]/g, '')
              ? s.title
              : null,
        details: detailsOf(s),
      });
      const nested = nestedObject(s, schema, next);
      if (nested) walk(nested, depth + 1, `${key}.`, next);
    }
  };
  walk(resolve(schema, schema, new Set()), 0, '', new Set());
  return rows;
}

/** Colors JSON tokens (keys, strings, numbers, literals) without a dependency. */
function highlightJson(text: string) {
  const parts: ComponentChildren[] = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let i = 0;
  while ((m = re.exec(text))) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    if (m[1]) {
      parts.push(
        <span key={i++} class={m[2] ? 'j-key' : 'j-str'}>
          {m[1]}
        </span>,
      );
      if (m[2]) parts.push(m[2]);
    } else if (m[3]) {
      parts.push(
        <span key={i++} class="j-lit">
          {m[3]}
        </span>,
      );
    } else if (m[4]) {
      parts.push(
        <span key={i++} class="j-num">
          {m[4]}
        </span>,
      );
    }
    last = re.lastIndex;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
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
