// A tool's inputSchema as a form: the fields (strings, numbers, booleans, enums, arrays, nested
// objects; anything else as a JSON box), their starting values (defaults), and the values turned
// back into the call's arguments, with an error per field that cannot be sent. No DOM: the
// playground's form component renders what this returns.

import type { JsonSchema } from '../api';

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'array' | 'object' | 'json';

export interface FormField {
  /** Dotted path from the top ("options.retries"); array items add "[]". */
  key: string;
  name: string;
  kind: FieldKind;
  required: boolean;
  description: string | null;
  /** The schema's `default`, when it has one. */
  default?: unknown;
  /** `enum` fields: the values to choose from. */
  options?: unknown[];
  /** `array` fields: the form of one item. */
  item?: FormField;
  /** `object` fields: its properties. */
  fields?: FormField[];
  /** `string` fields: a long text (textarea) rather than one line. */
  multiline?: boolean;
  /** Whether null is allowed (`type: [x, "null"]`, `anyOf` with null). */
  nullable?: boolean;
  /** `string` format (date-time, uri, email, …), shown as a hint. */
  format?: string;
}

/** A form value: strings for text and number inputs (parsed when sent), booleans, arrays of
 *  item values, objects of field values, or JSON text for `json` fields. */
export type FormValue = string | boolean | null | undefined | FormValue[] | { [k: string]: FormValue };

const MAX_DEPTH = 6;

function isObj(v: unknown): v is JsonSchema {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function resolve(s: unknown, root: JsonSchema): JsonSchema {
  let cur: unknown = s;
  for (let i = 0; i < 10 && isObj(cur) && typeof cur.$ref === 'string' && cur.$ref.startsWith('#/'); i++) {
    let target: unknown = root;
    for (const part of (cur.$ref as string).slice(2).split('/')) target = isObj(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (!isObj(target)) break;
    const { $ref: _r, ...rest } = cur;
    void _r;
    cur = { ...target, ...rest };
  }
  return isObj(cur) ? cur : {};
}

/** The schema without a `null` alternative, and whether null was one. */
function unNull(s: JsonSchema, root: JsonSchema): { s: JsonSchema; nullable: boolean } {
  if (Array.isArray(s.type) && s.type.includes('null')) {
    const rest = s.type.filter((t: unknown) => t !== 'null');
    return { s: { ...s, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) {
    const nonNull = alts.filter((a: unknown) => !(isObj(a) && a.type === 'null'));
    if (nonNull.length === 1 && nonNull.length < alts.length) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      void _a;
      void _o;
      return { s: { ...resolve(nonNull[0], root), ...rest }, nullable: true };
    }
  }
  return { s, nullable: false };
}

function fieldOf(name: string, key: string, raw: unknown, root: JsonSchema, required: boolean, depth: number): FormField {
  const { s, nullable } = unNull(resolve(raw, root), root);
  const description = typeof s.description === 'string' ? s.description : typeof s.title === 'string' ? s.title : null;
  const base: FormField = { key, name, kind: 'json', required, description, nullable };
  if ('default' in s) base.default = s.default;
  if (depth > MAX_DEPTH) return base;
  if (Array.isArray(s.enum) && s.enum.length > 0) return { ...base, kind: 'enum', options: s.enum };
  if ('const' in s) return { ...base, kind: 'enum', options: [s.const], default: 'default' in s ? s.default : s.const };
  const type = typeof s.type === 'string' ? s.type : isObj(s.properties) ? 'object' : s.items ? 'array' : null;
  switch (type) {
    case 'string':
      return {
        ...base,
        kind: 'string',
        format: typeof s.format === 'string' ? s.format : undefined,
        multiline: typeof s.maxLength !== 'number' || s.maxLength > 200 ? /text|content|body|prompt|message|query|code/i.test(name) : false,
      };
    case 'number':
    case 'integer':
    case 'boolean':
      return { ...base, kind: type };
    case 'array': {
      const items = Array.isArray(s.items) ? undefined : s.items;
      if (!isObj(items) && items !== undefined) return base;
      const item = fieldOf(name, `${key}[]`, items ?? {}, root, true, depth + 1);
      return item.kind === 'json' && items === undefined ? base : { ...base, kind: 'array', item };
    }
    case 'object':
      if (!isObj(s.properties)) return base;
      return { ...base, kind: 'object', fields: fieldsOf(s, root, `${key}.`, depth + 1) };
    default:
      return base;
  }
}

function fieldsOf(obj: JsonSchema, root: JsonSchema, prefix: string, depth: number): FormField[] {
  const props = isObj(obj.properties) ? obj.properties : {};
  const required = new Set<string>(Array.isArray(obj.required) ? obj.required : []);
  return Object.entries(props).map(([name, raw]) => fieldOf(name, `${prefix}${name}`, raw, root, required.has(name), depth));
}

/** The form of a tool's `inputSchema`: one field per top-level property. */
export function buildFields(schema: JsonSchema | null | undefined): FormField[] {
  if (!isObj(schema)) return [];
  return fieldsOf(resolve(schema, schema), schema, '', 0);
}

/** The form value showing `v` (a JSON value) in field `f`. */
export function valueFor(f: FormField, v: unknown): FormValue {
  if (v === undefined) return undefined;
  if (v === null) return f.kind === 'json' ? 'null' : null;
  switch (f.kind) {
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'number':
    case 'integer':
      return String(v);
    case 'boolean':
      return v === true;
    case 'enum':
      return JSON.stringify(v);
    case 'array':
      return Array.isArray(v) && f.item ? v.map((x) => valueFor(f.item!, x)) : undefined;
    case 'object':
      if (!isObj(v) || !f.fields) return undefined;
      return Object.fromEntries(f.fields.map((c) => [c.name, valueFor(c, v[c.name])]));
    default:
      return JSON.stringify(v, null, 2);
  }
}

/** The starting values: every field's default (nested ones too), nothing where there is none
 *  (required booleans start false). */
export function initialValues(fields: FormField[], args?: Record<string, unknown>): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const f of fields) {
    if (args && f.name in args) out[f.name] = valueFor(f, args[f.name]);
    else if ('default' in f) out[f.name] = valueFor(f, f.default);
    else if (f.kind === 'object' && f.fields) out[f.name] = initialValues(f.fields);
    else if (f.kind === 'boolean' && f.required) out[f.name] = false;
  }
  return out;
}

export interface Converted {
  /** The arguments to send. */
  args: Record<string, unknown>;
  /** Field key → what is wrong; empty when the arguments can be sent. */
  errors: Record<string, string>;
}

const empty = (v: FormValue) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

function convert(f: FormField, v: FormValue, errors: Record<string, string>): unknown {
  if (v === null) return null;
  switch (f.kind) {
    case 'string':
      return String(v);
    case 'number':
    case 'integer': {
      const n = Number(String(v).trim());
      if (String(v).trim() === '' || !Number.isFinite(n)) errors[f.key] = 'not a number';
      else if (f.kind === 'integer' && !Number.isInteger(n)) errors[f.key] = 'must be a whole number';
      return n;
    }
    case 'boolean':
      return v === true || v === 'true';
    case 'enum': {
      try {
        return JSON.parse(String(v));
      } catch {
        return v;
      }
    }
    case 'array':
      return (Array.isArray(v) ? v : []).map((x) => convert(f.item!, x, errors));
    case 'object': {
      const out: Record<string, unknown> = {};
      const obj = (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, FormValue>;
      for (const c of f.fields ?? []) {
        const cv = obj[c.name];
        if (empty(cv)) {
          if (c.required) errors[c.key] = 'required';
          continue;
        }
        out[c.name] = convert(c, cv, errors);
      }
      return out;
    }
    default:
      try {
        return JSON.parse(String(v));
      } catch (e) {
        errors[f.key] = `not valid JSON: ${(e as Error).message}`;
        return undefined;
      }
  }
}

/** The arguments the form's `values` stand for: empty optional fields left out, required ones
 *  reported, numbers and JSON parsed. */
export function toArguments(fields: FormField[], values: Record<string, FormValue>): Converted {
  const errors: Record<string, string> = {};
  const args = convert({ key: '', name: '', kind: 'object', required: true, description: null, fields }, values, errors) as Record<string, unknown>;
  return { args, errors };
}

/** Parses raw-JSON mode text: an object of arguments, or an error for people. */
export function parseRawArguments(text: string): { args: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { args: {} };
  try {
    const v = JSON.parse(text);
    if (!isObj(v)) return { error: 'The arguments must be a JSON object ({ … }).' };
    return { args: v };
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
}
