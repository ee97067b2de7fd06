// A labelled form field with its hint and error, and the text input most fields use.

import type { ComponentChildren } from 'preact';
import { IconAlert } from '../../components/icons';

/** What a field hands its control: the id its label points at, test and error wiring. */
export interface FieldInputProps {
  id: string;
  'data-field': string;
  'data-testid': string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
}

export function Field(props: {
  label: string;
  field: string;
  error?: string;
  hint?: string;
  optional?: boolean;
  children: (p: FieldInputProps) => ComponentChildren;
}) {
  const id = `f-${props.field}`;
  const describedBy = [props.error ? `${id}-err` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label class="field-label" for={id}>
        {props.label}
        {props.optional && <span class="optional">optional</span>}
      </label>
      {props.children({
        id,
        'data-field': props.field,
        'data-testid': `field-${props.field}`,
        'aria-invalid': props.error ? true : undefined,
        'aria-describedby': describedBy,
      })}
      {props.error && (
        <div class="field-error" id={`${id}-err`} data-testid={`field-error-${props.field}`}>
          <IconAlert size={13} /> {props.error}
        </div>
      )}
      {props.hint && (
        <div class="field-hint" id={`${id}-hint`}>
          {props.hint}
        </div>
      )}
    </div>
  );
}

/** A one-line monospace input for a field (no autocomplete, no spell check). */
export function TextInput(
  props: FieldInputProps & {
    value: string;
    onValue: (value: string) => void;
    type?: 'text' | 'url' | 'password';
    placeholder?: string;
    readOnly?: boolean;
    autoFocus?: boolean;
    autoComplete?: string;
  },
) {
  const { value, onValue, type = 'text', autoComplete = 'off', ...rest } = props;
  return (
    <input
      {...rest}
      type={type as 'text'} // Preact's types split inputs by type; these three take the same attributes
      class="input mono"
      value={value}
      autoComplete={autoComplete}
      spellcheck={false}
      onInput={(e) => onValue((e.target as HTMLInputElement).value)}
    />
  );
}
