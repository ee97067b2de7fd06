// The form of a tool's inputSchema (fields from lib/schema-form.ts): text and number inputs,
// checkboxes, selects for enums, repeatable rows for arrays, nested fieldsets for objects, a JSON
// box for anything else; required marks, defaults and descriptions shown.

import type { FormField, FormValue } from '../../lib/schema-form';

type Set = (v: FormValue) => void;

function Label({ f, id }: { f: FormField; id: string }) {
  return (
    <label class="field-label" for={id}>
      <code>{f.name}</code>
      {f.required ? <span class="req" title="required">*</span> : <span class="muted opt">optional</span>}
      <span class="pg-type">{f.kind === 'enum' ? 'one of' : f.kind}{f.format ? ` (${f.format})` : ''}</span>
    </label>
  );
}

function Input({ f, value, set, id, error }: { f: FormField; value: FormValue; set: Set; id: string; error?: string }) {
  const common = { id, 'aria-invalid': error ? true : undefined, 'data-testid': `pg-field-${f.key}` };
  switch (f.kind) {
    case 'boolean':
      if (!f.required && value === undefined) {
        return (
          <select class="select" {...common} value="" onChange={(e) => set((e.target as HTMLSelectElement).value === 'true')}>
            <option value="">(not set)</option>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        );
      }
      return (
        <label class="pg-check">
          <input type="checkbox" {...common} checked={value === true} onChange={(e) => set((e.target as HTMLInputElement).checked)} />
          <span>{value === true ? 'true' : 'false'}</span>
        </label>
      );
    case 'enum':
      return (
        <select class="select" {...common} value={typeof value === 'string' ? value : ''} onChange={(e) => set((e.target as HTMLSelectElement).value || undefined)}>
          {!f.required && <option value="">(not set)</option>}
          {f.required && value === undefined && <option value="">Choose…</option>}
          {(f.options ?? []).map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {typeof o === 'string' ? o : JSON.stringify(o)}
            </option>
          ))}
        </select>
      );
    case 'number':
    case 'integer':
      return (
        <input
          class="input mono"
          {...common}
          inputMode={f.kind === 'integer' ? 'numeric' : 'decimal'}
          value={typeof value === 'string' ? value : ''}
          placeholder={f.kind === 'integer' ? 'a whole number' : 'a number'}
          onInput={(e) => set((e.target as HTMLInputElement).value)}
        />
      );
    case 'string':
      return f.multiline ? (
        <textarea class="input" rows={3} {...common} value={typeof value === 'string' ? value : ''} onInput={(e) => set((e.target as HTMLTextAreaElement).value)} />
      ) : (
        <input class="input" {...common} value={typeof value === 'string' ? value : ''} onInput={(e) => set((e.target as HTMLInputElement).value)} />
      );
    case 'array': {
      const items = Array.isArray(value) ? value : [];
      return (
        <div class="pg-array" data-testid={`pg-field-${f.key}`}>
          {items.map((v, i) => (
            <div class="pg-array-row" key={i}>
              <Input f={f.item!} value={v} id={`${id}-${i}`} set={(nv) => set(items.map((x, j) => (j === i ? nv : x)))} />
              <button type="button" class="btn btn-sm btn-ghost" aria-label={`Remove item ${i + 1}`} onClick={() => set(items.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="btn btn-sm" onClick={() => set([...items, f.item?.kind === 'object' ? {} : undefined])}>
            Add item
          </button>
        </div>
      );
    }
    case 'object': {
      const obj = (value && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, FormValue>;
      return (
        <fieldset class="pg-object">
          <Fields fields={f.fields ?? []} values={obj} onChange={(nv) => set(nv)} errors={{}} idPrefix={id} />
        </fieldset>
      );
    }
    default:
      return (
        <textarea
          class="input mono"
          rows={3}
          {...common}
          placeholder="JSON"
          value={typeof value === 'string' ? value : ''}
          onInput={(e) => set((e.target as HTMLTextAreaElement).value)}
        />
      );
  }
}

/** Every field of `fields`, editing `values`; `errors` by field key. */
export function Fields(props: {
  fields: FormField[];
  values: Record<string, FormValue>;
  errors: Record<string, string>;
  onChange: (v: Record<string, FormValue>) => void;
  idPrefix?: string;
}) {
  const { fields, values, errors, onChange, idPrefix = 'pg' } = props;
  return (
    <div class="pg-fields">
      {fields.map((f) => {
        const id = `${idPrefix}-${f.key.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
        const error = errors[f.key];
        return (
          <div class={`field pg-field${error ? ' has-error' : ''}`} key={f.key}>
            <Label f={f} id={id} />
            <Input f={f} id={id} value={values[f.name]} error={error} set={(v) => onChange({ ...values, [f.name]: v })} />
            {error && (
              <div class="field-error" data-testid={`pg-error-${f.key}`}>
                {error}
              </div>
            )}
            {(f.description || 'default' in f) && (
              <div class="field-hint">
                {f.description}
                {'default' in f && <span class="chip">default: {JSON.stringify(f.default)}</span>}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
