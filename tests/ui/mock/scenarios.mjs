// The canned scenarios: `demo` (every server state, three profiles), `two` (only `everything` and
// `py`, no profiles: what tests/ui/run.mjs expects), `oauth` (the demo plus `secure`, which needs
// a sign-in), `empty`.

import { addServer } from './lifecycle.mjs';
import { loadProfiles } from './profiles.mjs';
import { log, servers, switches } from './state.mjs';

export function loadScenario(name) {
  servers.clear();
  switches.scenario = name;
  loadProfiles(name);
  if (name === 'empty') return;
  const ev = addServer('everything', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@2026.8.31', 'stdio'], env: { LOG_LEVEL: 'info' }, disabledTools: name === 'demo' ? ['trigger-long-running-operation'] : [] });
  for (const l of ['Starting default (STDIO) server...', 'Registered 13 tools, 7 prompts, 100 resources', 'everything MCP server running on stdio', 'Client requested tools/list', 'Client requested tools/call echo']) log(ev, 'stderr', l);
  addServer('py', { url: 'http://127.0.0.1:3401/mcp', headers: { 'X-Team': 'blue', Authorization: '${secret:loopgate/py/Authorization}' } });
  if (name === 'two') return;
  const gh = addServer('github', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${secret:loopgate/github/GITHUB_PERSONAL_ACCESS_TOKEN}', GITHUB_API_URL: 'https://api.github.com' } }, { state: 'failed', lastError: 'process exited with status 1 before the MCP handshake (5 failed starts in a row; parked until re-enabled or restarted)' });
  log(gh, 'stderr', 'Error: Bad credentials (401) — check GITHUB_PERSONAL_ACCESS_TOKEN');
  log(gh, 'gateway', 'exited with status 1; giving up after 5 attempts');
  addServer('linear', { url: 'https://mcp.linear.app/mcp', headers: { Authorization: '${secret:loopgate/linear/Authorization}' }, disabled: true });
  if (name !== 'oauth') return;
  const sec = addServer('secure', { url: 'https://mcp.secure.example/mcp' }, { state: 'needs-sign-in' });
  sec.oauth = { signedIn: false, pending: false, url: null, lastError: null, started: 0 };
  log(sec, 'gateway', 'HTTP 401 from the server: it needs a sign-in');
}
