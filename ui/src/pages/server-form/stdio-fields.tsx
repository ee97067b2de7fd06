// Fields of a local server (stdio): the command, its arguments, working directory, environment.

import { Field, TextInput } from './field';
import { RowsEditor } from './rows-editor';
import type { ServerForm } from './use-server-form';

export function StdioFields({ form }: { form: ServerForm }) {
  const { values, errors, set } = form;
  return (
    <>
      <Field label="Command" field="command" error={errors.command} hint="The program to start: npx, uvx, node, python, or a full path.">
        {(p) => <TextInput {...p} value={values.command} onValue={(v) => set('command', v)} placeholder="npx" />}
      </Field>
      {form.canSplit && (
        <div class="split-hint">
          <span>That looks like a whole command line.</span>
          <button type="button" class="btn btn-sm" onClick={form.splitCommand}>
            Split into command and arguments
          </button>
        </div>
      )}
      <Field label="Arguments" field="args" error={errors.args} hint="One argument per line, without quotes." optional>
        {(p) => (
          <textarea
            {...p}
            class="input mono"
            rows={Math.min(8, Math.max(3, values.argsText.split('\n').length + 1))}
            value={values.argsText}
            placeholder={'-y\n@modelcontextprotocol/server-memory'}
            spellcheck={false}
            onInput={(e) => set('argsText', (e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <Field label="Working directory" field="cwd" error={errors.cwd} optional>
        {(p) => <TextInput {...p} value={values.cwd} onValue={(v) => set('cwd', v)} placeholder="Inherit Loopgate’s" />}
      </Field>
      <RowsEditor
        field="env"
        label="Environment variables"
        noun="variable"
        keyPlaceholder="API_KEY"
        rows={values.envRows}
        setRows={(r) => set('envRows', r)}
        error={errors.env}
      />
    </>
  );
}
