// The name/value editor of environment variables (stdio) and headers (HTTP); values marked
// secret go to the OS keychain.

import { useRef } from 'preact/hooks';
import { IconAlert, IconLock, IconPlus, IconX } from '../../components/icons';
import { newRow, type Row } from '../../lib/server-form';

export function RowsEditor(props: {
  field: 'env' | 'headers';
  label: string;
  noun: string;
  keyPlaceholder: string;
  rows: Row[];
  setRows: (r: Row[]) => void;
  error?: string;
}) {
  const { rows, setRows, field } = props;
  const update = (id: number, patch: Partial<Row>) => setRows(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  const listRef = useRef<HTMLDivElement>(null);
  const add = () => {
    setRows([...rows, newRow()]);
    requestAnimationFrame(() => {
      const inputs = listRef.current?.querySelectorAll<HTMLInputElement>('.kv-key-input');
      inputs?.[inputs.length - 1]?.focus();
    });
  };
  return (
    <fieldset class={`field${props.error ? ' has-error' : ''}`} data-testid={`field-${field}`}>
      <legend class="field-label">
        {props.label}
        <span class="optional">optional</span>
      </legend>
      <div class="kv-editor" ref={listRef} data-field={field} tabIndex={-1}>
        {rows.length > 0 && (
          <div class="kv-row kv-head" aria-hidden="true">
            <span>Name</span>
            <span>Value</span>
            <span>Secret</span>
            <span />
          </div>
        )}
        {rows.map((r, i) => (
          <div class={`kv-row${r.secret ? ' is-secret' : ''}`} key={r.id} data-testid={`${field}-row-${i}`}>
            <input
              type="text"
              class="input mono kv-key-input"
              value={r.key}
              placeholder={props.keyPlaceholder}
              aria-label={`${props.noun} ${i + 1} name`}
              spellcheck={false}
              autoComplete="off"
              readOnly={!!r.existing}
              title={r.existing ? 'To rename a stored secret, remove it and add a new one.' : undefined}
              onInput={(e) => update(r.id, { key: (e.target as HTMLInputElement).value })}
            />
            <input
              type={(r.secret ? 'password' : 'text') as 'text'}
              class="input mono"
              value={r.value}
              placeholder={r.existing ? 'In keychain · type to replace' : r.secret ? 'Secret value' : 'value'}
              aria-label={`${props.noun} ${i + 1} value`}
              spellcheck={false}
              autoComplete={r.secret ? 'new-password' : 'off'}
              data-testid={`${field}-value-${i}`}
              onInput={(e) => update(r.id, { value: (e.target as HTMLInputElement).value })}
            />
            <label class={`secret-check${r.secret ? ' is-on' : ''}`} title="Store the value in the OS keychain instead of the config file">
              <input
                type="checkbox"
                checked={r.secret}
                disabled={!!r.existing}
                data-testid={`${field}-secret-${i}`}
                onChange={(e) => update(r.id, { secret: (e.target as HTMLInputElement).checked })}
              />
              <IconLock size={13} />
              <span>Secret</span>
            </label>
            <button
              type="button"
              class="btn btn-ghost btn-icon"
              aria-label={`Remove ${props.noun} ${r.key || i + 1}`}
              onClick={() => setRows(rows.filter((x) => x.id !== r.id))}
            >
              <IconX size={15} />
            </button>
          </div>
        ))}
        <button type="button" class="btn btn-ghost btn-sm add-row" onClick={add} data-testid={`add-${field}`}>
          <IconPlus size={14} /> Add {props.noun}
        </button>
      </div>
      {props.error && (
        <div class="field-error" data-testid={`field-error-${field}`} role="alert">
          <IconAlert size={13} /> {props.error}
        </div>
      )}
      <div class="field-hint">
        <IconLock size={12} /> Values marked secret go to your OS keychain; the config file only keeps a reference to them.
      </div>
    </fieldset>
  );
}
