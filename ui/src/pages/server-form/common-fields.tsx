// The fields every server has: its name and how Loopgate connects to it.

import type { ComponentChildren } from 'preact';
import type { Transport } from '../../api';
import { IconGlobe, IconTerminal } from '../../components/icons';
import { Field, TextInput } from './field';
import type { ServerForm } from './use-server-form';

export function CommonFields({ form }: { form: ServerForm }) {
  const { values, errors, editing, set } = form;
  return (
    <>
      <Field
        label="Name"
        field="name"
        error={errors.name}
        hint={editing ? 'A server’s name can’t be changed here.' : 'Tools reach clients as name__tool, e.g. github__create_issue.'}
      >
        {(p) => <TextInput {...p} value={values.name} onValue={(v) => set('name', v)} readOnly={editing} placeholder="github" autoFocus={!editing} />}
      </Field>

      <fieldset class="field">
        <legend class="field-label">Connection</legend>
        <div class="transport-choice" role="radiogroup" aria-label="Connection type">
          <TransportOption
            value="stdio"
            current={values.transport}
            onSelect={(t) => set('transport', t)}
            icon={<IconTerminal size={18} />}
            title="Local command"
            sub="Runs a program and talks over stdio"
          />
          <TransportOption
            value="http"
            current={values.transport}
            onSelect={(t) => set('transport', t)}
            icon={<IconGlobe size={18} />}
            title="Remote URL"
            sub="Connects to a Streamable HTTP endpoint"
          />
        </div>
      </fieldset>
    </>
  );
}

/** One of the two radio cards (arrow keys move between them). */
function TransportOption(props: {
  value: Transport;
  current: Transport;
  onSelect: (t: Transport) => void;
  icon: ComponentChildren;
  title: string;
  sub: string;
}) {
  const checked = props.value === props.current;
  return (
    <button
      type="button"
      role="radio"
      aria-checked={checked}
      tabIndex={checked ? 0 : -1}
      class={`transport-opt${checked ? ' is-on' : ''}`}
      data-testid={`transport-${props.value}`}
      onClick={() => props.onSelect(props.value)}
      onKeyDown={(e) => {
        if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) {
          e.preventDefault();
          const next: Transport = props.value === 'stdio' ? 'http' : 'stdio';
          props.onSelect(next);
          const parent = (e.currentTarget as HTMLElement).parentElement;
          requestAnimationFrame(() => parent?.querySelector<HTMLElement>(`[data-testid="transport-${next}"]`)?.focus());
        }
      }}
    >
      <span class="transport-icon">{props.icon}</span>
      <span class="transport-text">
        <span class="transport-title">{props.title}</span>
        <span class="transport-sub">{props.sub}</span>
      </span>
      <span class="radio-mark" aria-hidden="true" />
    </button>
  );
}
