// A server's elicitation, raised during a playground call, asked of the user: the message and a
// form of the requested schema (or, in URL mode, the page to open), answered Accept, Decline or
// Cancel. Nothing is answered on the user's behalf.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { onElicitation, type ElicitationAsk } from '../../mcp';
import { buildFields, initialValues, toArguments, type FormValue } from '../../lib/schema-form';
import { webUrl } from '../../lib/url';
import { Fields } from './schema-form';

function Ask({ ask }: { ask: ElicitationAsk }) {
  const fields = useMemo(() => buildFields(ask.schema ?? {}), [ask]);
  const [values, setValues] = useState<Record<string, FormValue>>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const url = ask.url ? webUrl(ask.url) : null;
  const accept = () => {
    const { args, errors } = toArguments(fields, values);
    setErrors(errors);
    if (Object.keys(errors).length === 0) ask.answer({ action: 'accept', content: ask.url ? undefined : args });
  };
  return (
    <div class="pg-elicit card" role="dialog" aria-label="The server asks for input" data-testid="pg-elicitation">
      <h3 class="card-title">The server asks for input</h3>
      <p class="pg-elicit-message">{ask.message}</p>
      {ask.url ? (
        url ? (
          <p>
            It asks you to open <a href={url} target="_blank" rel="noopener noreferrer">{url}</a>.
          </p>
        ) : (
          <p class="field-error">It asks you to open an address that is not a web page; it is not shown.</p>
        )
      ) : (
        <Fields fields={fields} values={values} errors={errors} onChange={setValues} idPrefix={`elicit-${ask.id}`} />
      )}
      <div class="pg-actions">
        <button type="button" class="btn btn-primary" data-testid="pg-elicit-accept" onClick={accept}>
          Accept
        </button>
        <button type="button" class="btn" data-testid="pg-elicit-decline" onClick={() => ask.answer({ action: 'decline' })}>
          Decline
        </button>
        <button type="button" class="btn btn-ghost" onClick={() => ask.answer({ action: 'cancel' })}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** Every pending elicitation, oldest first. */
export function Elicitations() {
  const [asks, setAsks] = useState<ElicitationAsk[]>([]);
  useEffect(() => onElicitation(setAsks), []);
  return (
    <>
      {asks.map((a) => (
        <Ask key={a.id} ask={a} />
      ))}
    </>
  );
}
