// Suggested servers (GET /api/suggestions) without the UI: which deserve a hint on the Servers page.

import type { Server, ServerConfig, Suggestion } from '../api';

/** The suggestions worth a hint: their program was found on this computer (not just `npx` or
 *  `uvx`, which every Node or Python setup has) and no server uses them yet (same name, or the
 *  same command). */
export function worthHinting(all: Suggestion[], servers: { name: string; config?: Server['config'] | ServerConfig }[]): Suggestion[] {
  const command = (v: { config?: Server['config'] | ServerConfig }) => (v.config as ServerConfig | undefined)?.command;
  return all.filter(
    (s) =>
      s.detected !== null &&
      s.program !== null &&
      !['npx', 'uvx'].includes(s.program) &&
      !servers.some((v) => v.name === s.name || (!!command(v) && command(v) === s.entry.command)),
  );
}
