// "Connect a client" page: what to say after an install or a removal, and the apps' monograms.

import type { ClientChange, ClientState } from '../api';

export type ClientAction = 'install' | 'uninstall';

/** What the last install/remove on a row did (shown inline on that row until dismissed). */
export interface Notice {
  kind: 'ok' | 'info' | 'error';
  title: string;
  text?: string;
  /** Where the previous config file was copied to, if it was. */
  backup?: string | null;
}

/** The notice after `action` succeeded on client `c` with result `change`. */
export function noticeFor(c: Pick<ClientState, 'name'>, action: ClientAction, change: ClientChange): Notice {
  if (!change.written) {
    return action === 'install'
      ? { kind: 'info', title: `${c.name} already has Loopgate`, text: 'Its config file was left as it was.' }
      : { kind: 'info', title: `Loopgate wasn’t in ${c.name}’s config`, text: 'Nothing to remove; the file was left as it was.' };
  }
  return action === 'install'
    ? { kind: 'ok', title: `Added to ${c.name}`, text: `restart ${c.name} to pick it up.`, backup: change.backup }
    : { kind: 'ok', title: `Removed from ${c.name}`, text: `restart ${c.name} to let go of it.`, backup: change.backup };
}

/** Two letters standing in for an app's logo: "Claude Desktop" → "CD", "Cursor" → "Cu"; a
 *  trailing "CLI" does not count ("Codex CLI" → "Co", not the "CC" of Claude Code). */
export function monogram(name: string): string {
  const words = name
    .split(/\s+/)
    .filter(Boolean)
    .filter((w, i) => i === 0 || w !== 'CLI');
  if (words.length > 1 && /^[A-Z]/.test(words[1])) return (words[0][0] + words[1][0]).toUpperCase();
  return words.join(' ').slice(0, 2);
}
