// What is wrong with a server, under its heading: its last error, a sign-in it needs (with
// Sign in / Cancel), or a note that it is signed in with OAuth (with Sign out).

import type { Server } from '../../api';
import { IconAlert } from '../../components/icons';
import { cancelSignIn, signIn, signOut } from '../../store';

export function StatusAlerts({ server }: { server: Server }) {
  return (
    <>
      {server.lastError && (server.state === 'failed' || server.state === 'degraded' || server.state === 'starting') && (
        <div class={`alert ${server.state === 'starting' ? 'alert-warning' : 'alert-danger'}`} role="alert" data-testid="server-error">
          <IconAlert size={18} />
          <div>
            <div class="alert-title">
              {server.state === 'failed' ? 'Not connected' : server.state === 'degraded' ? 'Connected, but not working fully' : 'Retrying after an error'}
            </div>
            <div class="alert-text">{server.lastError}</div>
          </div>
        </div>
      )}

      {server.state === 'needs-sign-in' && (
        <div class="alert alert-warning" role="alert" data-testid="server-needs-sign-in">
          <IconAlert size={18} />
          <div>
            <div class="alert-title">{server.signIn?.pending ? 'Signing in…' : 'Sign-in needed'}</div>
            <div class="alert-text">
              {server.signIn?.pending
                ? 'Finish signing in in the browser tab; Loopgate connects as soon as you are back.'
                : server.signIn?.lastError ?? 'This server uses OAuth and has no valid sign-in. Tokens are kept in the OS keychain.'}
            </div>
            <div class="alert-actions">
              <button type="button" class="btn btn-primary btn-sm" onClick={() => void signIn(server.name)}>
                {server.signIn?.pending ? 'Open sign-in page' : 'Sign in'}
              </button>
              {server.signIn?.pending && (
                <button type="button" class="btn btn-ghost btn-sm" onClick={() => void cancelSignIn(server.name)}>
                  Cancel
                </button>
              )}
            </div>
          </div>
        </div>
      )}
      {server.signedIn && server.state !== 'needs-sign-in' && (
        <p class="footnote" data-testid="server-signed-in">
          Signed in with OAuth; tokens are in the OS keychain and refresh automatically.{' '}
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => void signOut(server.name)}>
            Sign out
          </button>
        </p>
      )}
    </>
  );
}
