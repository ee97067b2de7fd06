// A search field with a clear button; Escape clears it. Used by the Tools page and a server's
// tool list.

import { IconSearch, IconX } from './icons';

export function SearchBox(props: {
  value: string;
  onInput: (v: string) => void;
  label: string;
  placeholder?: string;
  testId?: string;
  autoFocus?: boolean;
  big?: boolean;
}) {
  return (
    <div class={`search${props.big ? ' search-big' : ''}`}>
      <IconSearch size={props.big ? 18 : 15} />
      <input
        type="search"
        value={props.value}
        placeholder={props.placeholder ?? props.label}
        aria-label={props.label}
        data-testid={props.testId}
        autoFocus={props.autoFocus}
        spellcheck={false}
        autoComplete="off"
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && props.value) {
            e.preventDefault();
            props.onInput('');
          }
        }}
      />
      {props.value && (
        <button type="button" class="btn btn-ghost btn-icon btn-sm search-clear" aria-label="Clear search" onClick={() => props.onInput('')}>
          <IconX size={14} />
        </button>
      )}
    </div>
  );
}
