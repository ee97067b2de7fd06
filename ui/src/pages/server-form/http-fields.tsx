// Fields of a remote server (Streamable HTTP): URL, headers, and OAuth sign-in with its optional
// client of your own.

import type { SignInChoice } from '../../lib/server-form';
import { Field, TextInput } from './field';
import { RowsEditor } from './rows-editor';
import type { ServerForm } from './use-server-form';

export function HttpFields({ form }: { form: ServerForm }) {
  const { values, errors, set } = form;
  return (
    <>
      <Field label="URL" field="url" error={errors.url} hint="The server’s Streamable HTTP endpoint, usually ending in /mcp.">
        {(p) => <TextInput {...p} type="url" value={values.url} onValue={(v) => set('url', v)} placeholder="https://mcp.example.com/mcp" />}
      </Field>
      <RowsEditor
        field="headers"
        label="Headers"
        noun="header"
        keyPlaceholder="Authorization"
        rows={values.headerRows}
        setRows={(r) => set('headerRows', r)}
        error={errors.headers}
      />
      <Field
        label="Sign-in"
        field="auth"
        error={errors.auth}
        hint="With OAuth, Loopgate signs in when the server asks (HTTP 401) and keeps the tokens in your OS keychain. An Authorization header turns it off."
      >
        {(p) => (
          <select {...p} class="select" value={values.signIn} onChange={(e) => set('signIn', (e.target as HTMLSelectElement).value as SignInChoice)}>
            <option value="auto">OAuth, when the server asks for it</option>
            <option value="none">Never sign in</option>
          </select>
        )}
      </Field>
      {values.signIn === 'auto' && <OAuthClientFields form={form} />}
    </>
  );
}

/** An OAuth client registered by hand, for providers without dynamic registration. */
function OAuthClientFields({ form }: { form: ServerForm }) {
  const { values, errors, set } = form;
  return (
    <>
      <Field
        label="OAuth client id"
        field="clientId"
        error={errors.clientId}
        optional
        hint="Leave empty and Loopgate registers itself. Fill in for providers that need an app you registered, with redirect URI http://127.0.0.1/callback (any port)."
      >
        {/* Typing a client id also answers the secret's "needs a client id" error. */}
        {(p) => <TextInput {...p} value={values.clientId} onValue={(v) => set('clientId', v, 'clientSecret')} />}
      </Field>
      <Field label="OAuth client secret" field="clientSecret" error={errors.clientSecret} optional hint="For confidential clients only. Stored in your OS keychain.">
        {(p) => (
          <TextInput
            {...p}
            type="password"
            value={values.clientSecret}
            onValue={(v) => set('clientSecret', v)}
            placeholder={form.hasClientSecret ? 'In keychain · type to replace' : ''}
            autoComplete="new-password"
          />
        )}
      </Field>
      <Field label="Scopes" field="scopes" error={errors.scopes} optional hint="Separated by spaces. Empty: what the server asks for.">
        {(p) => <TextInput {...p} value={values.scopes} onValue={(v) => set('scopes', v)} placeholder="read write" />}
      </Field>
    </>
  );
}
