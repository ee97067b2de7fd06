// JSON Schema for people: the rows of a fields table (nested objects flattened with a depth) and
// a short type for every schema. Also the tokens of pretty-printed JSON, for colouring.

import type { JsonSchema } from '../api';

export interface FieldRow {
  /** Dotted path, unique in the table ("options.retries"). */
  key: string;
  name: string;
  depth: number;
  type: string;
  required: boolean;
  description: string | null;
  /** Constraints for people: "one of: …", "default: …", "≥ 1", "max length 10", "e.g. …". */
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

/** A short type for people: "string", "integer[]", "string | null", "map<string, number>", "any". */
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

/** The rows of the fields table: every property, nested ones (objects, arrays of objects, a single
 *  object variant) right after their parent with depth + 1; cycles and depth > 8 stop. */
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

export interface JsonToken {
  text: string;
  /** key, string, number or literal (true/false/null); null for punctuation and whitespace. */
  kind: 'key' | 'str' | 'num' | 'lit' | null;
}

/** Splits JSON text (as JSON.stringify writes it) into tokens to colour. Joining every token's
 *  text gives `text` back. */
export function jsonTokens(text: string): JsonToken[] {
  const out: JsonToken[] = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), kind: null });
    if (m[1]) {
      out.push({ text: m[1], kind: m[2] ? 'key' : 'str' });
      if (m[2]) out.push({ text: m[2], kind: null });
    } else if (m[3]) {
      out.push({ text: m[3], kind: 'lit' });
    } else if (m[4]) {
      out.push({ text: m[4], kind: 'num' });
    }
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ text: text.slice(last), kind: null });
  return out;
}
