// Server list helpers for the store: optimistic switches, reconnect backoff, sign-out messages.

import type { Server, SignedOut } from '../api';

/** Whether `s` should show as enabled: an in-flight switch click wins over the server's state. */
export function effectiveEnabled(s: Pick<Server, 'name' | 'enabled'>, pending: Record<string, boolean>): boolean {
  return s.name in pending ? pending[s.name] : s.enabled;
}

/** `pending` without the optimistic values the servers have caught up with; the same object when
 *  nothing changed. */
export function settlePending(pending: Record<string, boolean>, servers: Pick<Server, 'name' | 'enabled'>[]): Record<string, boolean> {
  let next: Record<string, boolean> | null = null;
  for (const s of servers) {
    if (s.name in pending && pending[s.name] === s.enabled) {
      next ??= { ...pending };
      delete next[s.name];
    }
  }
  return next ?? pending;
}

/** Milliseconds to wait before reconnecting the live stream after `attempts` failures in a row:
 *  1 s, 2 s, 4 s, 8 s, then 10 s. */
export function reconnectDelay(attempts: number): number {
  return Math.min(1000 * 2 ** attempts, 10000);
}

/** The toast after signing out of `name`: success unless revoking the tokens failed. */
export function signedOutMessage(name: string, out: SignedOut): { message: string; kind: 'success' | 'error' } {
  const r = out.revocation;
  if (!out.removed) return { message: `${name} had no stored sign-in`, kind: 'success' };
  if (r.outcome === 'revoked') return { message: `Signed out of ${name}; its tokens were revoked and deleted from the keychain`, kind: 'success' };
  if (r.outcome === 'failed') {
    return {
      message: `Signed out of ${name}; its tokens were deleted from the keychain, but revoking them failed (${r.detail}): they stay valid at the server until they expire`,
      kind: 'error',
    };
  }
  return {
    message: `Signed out of ${name}; its tokens were deleted from the keychain (the server offers no revocation, so they stay valid there until they expire)`,
    kind: 'success',
  };
}
