// Suggested servers (GET /api/suggestions) without the UI: which deserve a hint on the Servers page.

import type { Server, Suggestion } from '../api';

/** The suggestions worth a hint: their program was found on this computer (not just `npx` or
 *  `uvx`, which every Node or Python setup has) and no server uses them yet (same name, or the
 *  same command). */
export function worthHinting(all: Suggestion[], servers: Pick<Server, 'name' | 'config'>[]): Suggestion[] {
  return all.filter(
    (s) =>
      s.detected !== null &&
      s.program !== null &&
      !['npx', 'uvx'].includes(s.program) &&
      !servers.some((v) => v.name === s.name || (!!v.config?.command && v.config.command === s.entry.command)),
  );
}
