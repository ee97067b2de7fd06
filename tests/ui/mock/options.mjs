// The mock's command-line options (usage at the top of tests/ui/mock-api.mjs), read once at
// start: port, access token, config file to mirror, first scenario, and the stand-in home
// directory for the AI clients' files (never the real one).

import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};

export const PORT = Number(opt('port', process.env.PORT ?? 7399));
export const TOKEN = opt('token', 'devtoken');
/** Where the servers are written after every change (the gateway's mcpServers shape); null: nowhere. */
export const CONFIG = opt('config', null);
/** The scenario to start with. */
export const SCENARIO = opt('scenario', 'demo');
export const HOME = (() => {
  const h = opt('home', null);
  if (!h) return realpathSync(mkdtempSync(join(tmpdir(), 'loopgate-mock-home-')));
  mkdirSync(h, { recursive: true });
  const real = realpathSync(h);
  if (real === realpathSync(homedir())) {
    console.error('mock: --home must not be your real home directory');
    process.exit(2);
  }
  return real;
})();
