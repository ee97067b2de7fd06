#!/usr/bin/env node
// Browser tests of the Loopgate dashboard against a running gateway, as a person would use it:
// Debian's Chromium (never a downloaded browser) drives the UI; a real MCP client
// (@modelcontextprotocol/sdk, Streamable HTTP) checks what AI clients see; the config file is
// read to check what was written.
//
//   node tests/ui/run.mjs <baseUrl> <token> <configPath> <screenshotDir>
//
// The gateway must have exactly two servers: `everything` (server-everything, stdio) and `py`
// (the Python SDK server over HTTP, tools `add` and `echo`). MEMORY_SERVER_JS must name
// server-memory's entry script (step e adds it as `memory2`; step g removes it again).
// Step e3 saves edits of `py` that the gateway refuses and checks the form shows the gateway's
// own message at the field (its JSON error body, verbatim); the config stays as it was.
// Step h wires Loopgate into Cursor from the "Connect a client" page and takes it out again, so it
// writes the gateway's ~/.cursor/mcp.json: run the gateway with HOME (and XDG_CONFIG_HOME) set to a
// temporary directory, and name that directory in LOOPGATE_TEST_HOME — the step then refuses to
// touch a file outside it.
// Step h2 creates the profile `coding` on the Profiles page (everything only, its echo hidden),
// checks its counts against "everything" and what a client of it lists, binds Cursor to it,
// checks the gateway's refusals (deleting it in use; a PUT naming an unknown server, crafted and
// from the editor) are shown verbatim, switches on search mode, and deletes it again.
// With HOSTILE_MCP_URL (oauth-server.py with HOSTILE_AUTHORIZE), step j checks its javascript:
// authorization page is never opened.
// With OAUTH_MCP_URL (tests/peers/oauth-server.py), step i adds it as `secure` and signs in from
// its row through the browser popup, signs out and in again.
// Prints `UI TESTS PASSED` on success; on failure the step and the reason, and exits 1.

import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';
import { profilesStep } from './profiles-step.mjs';
import { playgroundSteps } from './playground.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [baseArg, token, configPath, shotDir] = process.argv.slice(2);
if (!baseArg || !token || !configPath || !shotDir) {
  console.error('usage: node tests/ui/run.mjs <baseUrl> <token> <configPath> <screenshotDir>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const memoryJs = process.env.MEMORY_SERVER_JS;
mkdirSync(shotDir, { recursive: true });

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SETTLE_MS = 60_000; // a server (re)starting: npx, python
const TOOLS_MS = 30_000; // a change reaching tools/list

// ---- helpers -----------------------------------------------------------------------------------

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
let current = '(setup)';

async function step(name, fn) {
  current = name;
  console.log(`ui: [${since()}] step ${name}`);
  await fn();
}

class Check extends Error {}
function assert(cond, msg) {
  if (!cond) throw new Check(msg);
}

/** Polls `fn` until it returns a truthy value; fails with `what` (and the last value) after `ms`. */
async function until(what, fn, ms = TOOLS_MS, every = 400) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() > end) throw new Check(`timed out after ${ms / 1000}s waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function api(path) {
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  assert(res.ok, `GET ${path} answered HTTP ${res.status}`);
  return res.json();
}

/** Names of the tools a real MCP client sees now (fresh session each time, all pages); `headers`
 *  go with every request (e.g. `loopgate-profile`, which the gateway's own token may send). */
async function mcpToolNames(bearer = token, headers = {}) {
  const client = new Client({ name: 'loopgate-ui-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${bearer}`, ...headers } },
  });
  await client.connect(transport);
  try {
    const names = [];
    let cursor;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    return names;
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }
}

/** The HTTP status /mcp answers an initialize with `bearer` (401 = the token is refused). */
async function mcpStatus(bearer) {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'loopgate-ui-test', version: '1.0.0' } } }),
  });
  await res.body?.cancel().catch(() => {});
  return res.status;
}

/** `path` resolved through symlinks as far as it exists (the file itself may not, yet). */
function realish(path) {
  const p = resolve(path);
  if (existsSync(p)) return realpathSync(p);
  const parent = dirname(p);
  return parent === p ? p : join(realish(parent), basename(p));
}

function config() {
  return JSON.parse(readFileSync(configPath, 'utf8'));
}
const entry = (name) => config().mcpServers?.[name];

// ---- browser -----------------------------------------------------------------------------------

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const ctx = await browser.newContext({ viewport: { width: 1240, height: 860 }, colorScheme: 'light' });
const page = await ctx.newPage();
page.setDefaultTimeout(30_000);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

const byId = (id) => page.getByTestId(id);
const stateOf = (name) => byId(`server-state-${name}`).getAttribute('data-state');
const countOf = async (id) => Number(await byId(id).getAttribute('data-count'));

async function go(hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

async function shot(name) {
  await page.evaluate(() => {
    document.querySelectorAll('.toast button').forEach((b) => b.click()); // transient toasts
    window.scrollTo(0, 0);
  });
  await page.waitForTimeout(300); // let transitions settle
  await page.screenshot({ path: join(shotDir, `${name}.png`), fullPage: true });
}

try {
  await step('a: sign in with a one-time link and see both servers ready', async () => {
    // The gateway mints the link (as `loopgate open` asks it to); it carries no token.
    const minted = await fetch(`${base}/api/dashboard/link`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert(minted.ok, `POST /api/dashboard/link answered ${minted.status}`);
    const { url: link } = await minted.json();
    assert(link.includes('/auth?nonce=') && !link.includes(token), `the dashboard link must not hold the token: ${link}`);
    await page.goto(link);
    await page.waitForURL((u) => u.pathname === '/' && !u.search.includes('nonce'));
    const root = await fetch(`${base}/`);
    assert(root.headers.get('x-frame-options') === 'DENY', 'the dashboard may be framed (X-Frame-Options)');
    assert((root.headers.get('content-security-policy') ?? '').includes("frame-ancestors 'none'"), 'the dashboard may be framed (CSP)');
    const cookies = await ctx.cookies(base);
    assert(cookies.length > 0 && cookies.every((c) => c.httpOnly), `the auth cookie must be HttpOnly (got ${JSON.stringify(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly })))})`);
    assert(cookies.every((c) => !c.value.includes(token)), 'a cookie holds the access token');
    const again = await fetch(link, { redirect: 'manual' });
    assert(again.status === 401, `a used dashboard link must not work again (got ${again.status})`);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert(!stored.includes(token), 'the token was put in web storage');

    for (const name of ['everything', 'py']) {
      await byId(`server-row-${name}`).waitFor();
      await until(`${name} to be ready`, async () => (await stateOf(name)) === 'ready', SETTLE_MS);
      await until(`${name}'s tool count > 0`, async () => (await countOf(`server-toolcount-${name}`)) > 0);
      assert(await byId(`server-switch-${name}`).getAttribute('role') === 'switch', `${name}'s switch has no role=switch`);
      assert((await byId(`server-switch-${name}`).getAttribute('aria-checked')) === 'true', `${name}'s switch is not on`);
    }
    await until('the total tool count to equal GET /api/tools', async () => {
      const [{ count }, shown] = await Promise.all([api('/api/tools'), countOf('total-tools')]);
      const text = Number((await byId('total-tools').innerText()).trim());
      return count > 0 && shown === count && text === count;
    });
  });

  await step('b: server detail shows echo with its input schema', async () => {
    await byId('server-row-everything').locator('.sr-target').click(); // a click anywhere on the row
    await page.waitForURL((u) => u.hash === '#/servers/everything');
    const row = byId('tool-row-echo');
    await row.waitFor();
    await byId('tool-toggle-echo').click();
    const table = row.getByTestId('schema-table');
    await table.waitFor();
    assert((await table.locator('tr[data-field="message"]').count()) === 1, 'the schema table has no `message` field');
    assert((await table.locator('tr[data-field="message"]').innerText()).includes('string'), '`message` is not shown as a string');
    await byId('tool-echo-raw').click();
    await until('the raw JSON schema', async () => (await row.getByTestId('schema-raw').innerText()).includes('"message"'), 5000);
    await row.getByRole('button', { name: 'Fields' }).click();
    await table.waitFor();
    await until('the connection facts', async () => (await byId('server-target').innerText()).length > 0, 5000);
  });

  await step('c: the server switch turns everything off and on', async () => {
    await go('#/');
    const sw = byId('server-switch-everything');
    await sw.click();
    await until('the switch to read off', async () => (await sw.getAttribute('aria-checked')) === 'false', 5000);
    await until('everything to show disabled', async () => (await stateOf('everything')) === 'disabled');
    await until('tools/list without everything__ tools', async () => !(await mcpToolNames()).some((n) => n.startsWith('everything__')));
    await until('config everything.disabled == true', () => entry('everything')?.disabled === true, 5000);
    await until('the total tool count to follow (live, no reload)', async () => {
      const [{ count }, shown] = await Promise.all([api('/api/tools'), countOf('total-tools')]);
      return shown === count && !(await api('/api/tools')).tools.some((t) => t.server === 'everything');
    });

    await sw.click();
    await until('the switch to read on', async () => (await sw.getAttribute('aria-checked')) === 'true', 5000);
    await until('tools/list with everything__ tools again', async () => (await mcpToolNames()).some((n) => n.startsWith('everything__')));
    await until('everything to be ready again', async () => (await stateOf('everything')) === 'ready', SETTLE_MS);
    assert(entry('everything')?.disabled !== true, 'config still has everything disabled');
  });

  await step('d: a tool switch hides py echo from clients and brings it back', async () => {
    await go('#/servers/py');
    const sw = byId('tool-switch-echo');
    await sw.waitFor();
    assert((await sw.getAttribute('aria-checked')) === 'true', 'py echo starts off');
    await sw.click();
    await until('tools/list without py__echo', async () => {
      const names = await mcpToolNames();
      return !names.includes('py__echo') && names.includes('py__add');
    });
    await until('config py.disabledTools to contain "echo"', () => (entry('py')?.disabledTools ?? []).includes('echo'), 5000);
    await until('the tool switch to read off', async () => (await sw.getAttribute('aria-checked')) === 'false', 5000);

    await sw.click();
    await until('tools/list with py__echo again', async () => (await mcpToolNames()).includes('py__echo'));
    await until('config py.disabledTools without "echo"', () => !(entry('py')?.disabledTools ?? []).includes('echo'), 5000);
    await until('the tool switch to read on', async () => (await sw.getAttribute('aria-checked')) === 'true', 5000);
  });

  await step('e: add memory2 through the form', async () => {
    assert(memoryJs, 'MEMORY_SERVER_JS is not set (path of server-memory’s dist/index.js)');
    await go('#/');
    await byId('add-server-button').click();
    await page.waitForURL((u) => u.hash === '#/add');
    await byId('field-name').fill('memory2');
    await byId('transport-stdio').click();
    await byId('field-command').fill('node');
    await byId('field-args').fill(memoryJs);
    await byId('submit-server').click();
    await page.waitForURL((u) => u.hash.startsWith('#/servers/memory2'));

    await page.getByRole('link', { name: /^Servers/ }).first().click();
    await byId('server-row-memory2').waitFor();
    await until('memory2 to be ready', async () => (await stateOf('memory2')) === 'ready', SETTLE_MS);
    await until('tools/list with memory2__read_graph', async () => (await mcpToolNames()).includes('memory2__read_graph'));
    const e = entry('memory2');
    assert(e?.command === 'node' && JSON.stringify(e.args) === JSON.stringify([memoryJs]), `config memory2 is ${JSON.stringify(e)}`);
  });

  await step('e2: add an HTTP server with its own OAuth client through the form, then edit it', async () => {
    await go('#/add');
    await byId('field-name').fill('remote');
    await byId('transport-http').click();
    await byId('field-url').fill('http://127.0.0.1:9/mcp');
    assert((await byId('field-auth').inputValue()) === 'auto', 'sign-in does not default to OAuth when asked');
    // A secret without a client id is refused at its field, before anything is sent.
    await byId('field-clientSecret').fill('cs-s3cret');
    await byId('submit-server').click();
    await byId('field-error-clientSecret').waitFor();
    assert(!(await api('/api/servers')).some((s) => s.name === 'remote'), 'a refused server was added anyway');
    await byId('field-clientId').fill('lg-app');
    assert((await byId('field-error-clientSecret').count()) === 0, 'the client secret error stays after entering a client id');
    await byId('field-scopes').fill('read write');
    await page.mouse.move(0, 0);
    await shot('add-http-oauth');
    await byId('submit-server').click();
    await page.waitForURL((u) => u.hash.startsWith('#/servers/remote'));
    const e = entry('remote');
    assert(
      JSON.stringify(e?.oauth) === JSON.stringify({ clientId: 'lg-app', clientSecret: '${secret:remote.OAUTH_CLIENT_SECRET}', scopes: ['read', 'write'] }),
      `config remote is ${JSON.stringify(e)}`,
    );
    assert(!JSON.stringify(await api('/api/servers')).includes('cs-s3cret'), 'the client secret is in an API answer');
    // Edit: the stored secret is kept without retyping it; turning sign-in off hides the OAuth fields.
    await go('#/servers/remote/edit');
    await byId('field-clientId').waitFor();
    assert((await byId('field-clientId').inputValue()) === 'lg-app', 'the client id is not filled in on edit');
    assert((await byId('field-clientSecret').getAttribute('placeholder')).includes('In keychain'), 'the stored client secret is not shown as stored');
    await byId('field-auth').selectOption('none');
    assert((await byId('field-clientId').count()) === 0, 'OAuth fields are shown with sign-in off');
    await byId('submit-server').click();
    await page.waitForURL((u) => u.hash === '#/servers/remote');
    await until('auth none in the config, client secret kept', async () => entry('remote')?.auth === 'none' && entry('remote')?.oauth?.clientSecret === '${secret:remote.OAUTH_CLIENT_SECRET}');
    const del = await fetch(`${base}/api/servers/remote`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    assert(del.ok, `DELETE remote answered HTTP ${del.status}`);
  });

  await step('e3: an edit the gateway refuses shows its message verbatim at the field', async () => {
    const original = entry('py');
    await go('#/servers/py/edit');
    await byId('field-url').waitFor();
    /** Saves the form; returns the gateway's answer to the PUT it sent, checked to be the API's one error shape. */
    const saveRefused = async () => {
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/servers/py'),
        byId('submit-server').click(),
      ]);
      assert(resp.status() === 400, `the bad edit answered HTTP ${resp.status()}`);
      assert((resp.headers()['content-type'] ?? '').startsWith('application/json'), `the error answer is ${resp.headers()['content-type']}, not JSON`);
      const body = await resp.json();
      const keys = Object.keys(body).sort().join();
      assert(keys === 'error,field' && typeof body.error === 'string' && body.error.length > 0, `not the API's error shape: ${JSON.stringify(body)}`);
      return body;
    };
    const shownAt = async (field) => {
      await byId(`field-error-${field}`).waitFor();
      return (await byId(`field-error-${field}`).innerText()).trim();
    };
    // A URL scheme the gateway refuses (the form itself leaves schemes to the gateway).
    await byId('field-url').fill('ftp://127.0.0.1/mcp');
    const badUrl = await saveRefused();
    assert(badUrl.field === 'url', `the bad URL was blamed on ${badUrl.field}`);
    const urlShown = await shownAt('url');
    assert(urlShown === badUrl.error, `the dashboard shows “${urlShown}” for the gateway’s “${badUrl.error}”`);
    await shot('edit-error-url');
    // A header name HTTP does not allow.
    await byId('field-url').fill(original.url);
    await byId('add-headers').click();
    await byId('headers-row-0').locator('.kv-key-input').fill('Bad Header');
    await byId('headers-value-0').fill('1');
    const badHeader = await saveRefused();
    assert(badHeader.field === 'headers', `the bad header was blamed on ${badHeader.field}`);
    const headerShown = await shownAt('headers');
    assert(headerShown === badHeader.error, `the dashboard shows “${headerShown}” for the gateway’s “${badHeader.error}”`);
    assert(JSON.stringify(entry('py')) === JSON.stringify(original), `a refused edit changed the config: ${JSON.stringify(entry('py'))}`);
    await go('#/servers/py');
    await byId('tool-switch-echo').waitFor();
  });

  await step('f: screenshots of every screen, light and dark', async () => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });

      await go('#/');
      await byId('server-row-everything').waitFor();
      await until('both servers ready', async () => (await stateOf('everything')) === 'ready' && (await stateOf('py')) === 'ready', SETTLE_MS);
      await shot(`servers-${scheme}`);

      await go('#/servers/everything');
      await byId('tool-row-echo').waitFor();
      if ((await byId('tool-toggle-echo').getAttribute('aria-expanded')) !== 'true') await byId('tool-toggle-echo').click();
      await byId('tool-row-echo').getByTestId('schema-table').waitFor();
      await shot(`detail-${scheme}`);

      await go('#/tools');
      await byId('tools-search').fill('echo');
      await byId('tool-result-everything__echo').waitFor();
      await byId('tool-result-py__echo').waitFor();
      assert((await byId('tool-results').locator('li').count()) >= 2, 'search for echo found fewer than 2 tools');
      await shot(`tools-${scheme}`);

      await go('#/add');
      await byId('field-name').waitFor();
      await shot(`add-${scheme}`);

      // An error from the API, shown at its field.
      await byId('field-name').fill('badurl');
      await byId('transport-http').click();
      await byId('field-url').fill('ftp://example.com/mcp');
      await byId('submit-server').click();
      await byId('field-error-url').waitFor();
      assert((await byId('field-error-url').innerText()).trim().length > 0, 'the URL error is empty');
      assert(!(await api('/api/servers')).some((s) => s.name === 'badurl'), 'a refused server was added anyway');
      await shot(`form-error-${scheme}`);

      // Not signed in: a browser without the cookie.
      const anon = await browser.newContext({ viewport: { width: 1240, height: 760 }, colorScheme: scheme });
      const p = await anon.newPage();
      await p.goto(`${base}/`);
      await p.getByTestId('unauthorized').waitFor();
      assert((await p.getByTestId('unauthorized').innerText()).includes('loopgate open'), 'the signed-out screen does not say how to sign in');
      await p.waitForTimeout(300);
      await p.screenshot({ path: join(shotDir, `signed-out-${scheme}.png`), fullPage: true });
      await anon.close();
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  process.env.SHOT_DIR = shotDir;
  await playgroundSteps({ page, byId, step, until, assert, go, shot, api });

  await step('g: remove memory2 (with confirmation)', async () => {
    await go('#/servers/memory2');
    await byId('remove-server').click();
    await byId('confirm-dialog-confirm').click();
    await page.waitForURL((u) => u.hash === '#/' || u.hash === '');
    await until('the memory2 row to go', async () => (await byId('server-row-memory2').count()) === 0, 10_000);
    await until('config without memory2', () => entry('memory2') === undefined, 5000);
    await until('tools/list without memory2__ tools', async () => !(await mcpToolNames()).some((n) => n.startsWith('memory2__')));
  });

  await step('h0: a detected well-known server is suggested and fills the Add form', async () => {
    // tests/ui_browser.rs puts a `claude` on PATH: Claude Code's `claude mcp serve` is suggested.
    await go('#/');
    await byId('suggested-add-claude-code').click();
    await page.waitForURL((u) => u.hash === '#/add?suggest=claude-code');
    await byId('suggestions').waitFor();
    await until('the form filled from the suggestion', async () => (await byId('field-name').inputValue()) === 'claude-code', 5000);
    assert((await byId('field-command').inputValue()).endsWith('/claude'), 'the command is not the claude found on PATH');
    assert((await byId('field-args').inputValue()) === 'mcp\nserve', 'the arguments are not `mcp serve`');
    assert((await byId('suggestion-claude-code').getAttribute('aria-pressed')) === 'true', 'the picked suggestion is not marked');
    await byId('suggestion-memory').click();
    assert((await byId('field-name').inputValue()) === 'memory', 'picking another suggestion did not fill the form');
  });

  await step('h: connect a client: every client listed, two detected; install Loopgate into Cursor, then remove it', async () => {
    const listed = (await api('/api/clients')).clients;
    const ids = listed.map((c) => c.id);
    assert(ids.length >= 17 && ['codex', 'gemini', 'opencode', 'qwen', 'zed', 'goose', 'continue'].every((i) => ids.includes(i)), `GET /api/clients lists ${ids}`);
    await go('#/');
    await byId('nav-connect').click();
    await page.waitForURL((u) => u.hash === '#/connect');
    for (const id of ids) await byId(`client-row-${id}`).waitFor();
    assert((await page.locator('[data-testid^="client-row-"]').count()) === ids.length, `expected ${ids.length} client rows`);
    // tests/ui_browser.rs made ~/.codex and ~/.gemini: both detected, and listed first.
    for (const id of ['codex', 'gemini']) {
      assert((await byId(`client-row-${id}`).getAttribute('data-installed')) === 'true', `${id} is not shown as detected`);
      assert((await byId(`client-row-${id}`).innerText()).includes('Detected'), `${id}'s row has no Detected badge`);
    }
    const detected = listed.filter((c) => c.installed).length;
    assert(detected >= 2, `only ${detected} clients detected`);
    assert((await byId('clients-summary').innerText()).startsWith(`${detected} apps detected`), 'the summary does not count the detected apps');
    const rows = await page.locator('[data-testid^="client-row-"]').evaluateAll((els) => els.map((e) => e.dataset.installed));
    assert(rows.indexOf('false') === -1 || rows.slice(rows.indexOf('false')).every((x) => x === 'false'), `detected clients are not listed first: ${rows}`);
    assert((await byId('nav-connect').getAttribute('aria-current')) === 'page', 'the Connect nav entry is not marked current');

    const cursorPath = await byId('client-row-cursor').getAttribute('data-config-path');
    assert(cursorPath, 'the Cursor row shows no config path');
    assert((await byId('client-row-cursor').innerText()).includes(cursorPath), 'the Cursor row does not show its config path');
    const listedCursor = (await api('/api/clients')).clients.find((c) => c.id === 'cursor');
    assert(listedCursor?.configPath === cursorPath, `the row's path ${cursorPath} differs from GET /api/clients (${listedCursor?.configPath})`);
    // Never edit a real ~/.cursor/mcp.json: with LOOPGATE_TEST_HOME set, the file must be inside it.
    const testHome = process.env.LOOPGATE_TEST_HOME;
    if (testHome) {
      const home = realish(testHome);
      const file = realish(cursorPath);
      if (!file.startsWith(home + sep)) {
        throw new Check(`refusing to edit ${cursorPath}: it is not inside LOOPGATE_TEST_HOME (${home}); run the gateway with HOME set to that directory`);
      }
    } else {
      console.warn(`ui: LOOPGATE_TEST_HOME is not set; step h edits ${cursorPath}`);
    }
    assert((await byId('client-status-cursor').getAttribute('data-wired')) !== 'true', `Cursor already has Loopgate in ${cursorPath} before the test added it`);

    // The snippets for any other client: the real URL, a placeholder for the token, never the token.
    const http = await byId('snippet-http').innerText();
    assert(http.includes(`${base}/mcp`), `the HTTP snippet does not show ${base}/mcp`);
    assert(http.includes('Authorization: Bearer <your token>'), 'the HTTP snippet has no Authorization header line');
    assert(http.includes('loopgate token'), 'the HTTP snippet does not say to run `loopgate token`');
    assert(/"Bearer <token>"/.test(http), 'the HTTP snippet has no JSON with the header');
    assert((await byId('snippet-stdio').innerText()).includes('connect'), 'the stdio snippet has no `… connect` command');
    assert(!(await page.locator('body').innerText()).includes(token), 'the page shows the access token');

    await byId('client-install-cursor').click();
    const status = byId('client-status-cursor');
    await until('the Connected badge on Cursor', async () => (await status.getAttribute('data-wired')) === 'true' && (await status.innerText()).includes('Connected'), 10_000);
    await until('the confirmation on Cursor’s row', async () => (await byId('client-notice-cursor').innerText()).includes('Added to Cursor'), 5000);
    await byId('client-remove-cursor').waitFor();

    let doc;
    try {
      doc = JSON.parse(readFileSync(cursorPath, 'utf8'));
    } catch (e) {
      throw new Check(`${cursorPath} is not readable JSON after Install: ${e.message}`);
    }
    const lg = doc?.mcpServers?.loopgate;
    assert(lg?.url === `${base}/mcp`, `mcpServers.loopgate.url in ${cursorPath} is ${JSON.stringify(lg?.url)}, not ${base}/mcp`);
    const auth = lg.headers?.Authorization;
    assert(typeof auth === 'string' && auth.startsWith('Bearer ') && auth.length > 'Bearer '.length, `mcpServers.loopgate.headers.Authorization is ${JSON.stringify(auth)}`);
    const clientToken = auth.slice('Bearer '.length);
    assert((await mcpToolNames(clientToken)).length > 0, 'tools/list with the token written for Cursor found no tools');

    await page.mouse.move(0, 0); // no hover state in the screenshots
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await shot(`connect-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });

    await byId('client-remove-cursor').click();
    await until('Cursor to read not connected', async () => (await status.getAttribute('data-wired')) === 'false', 10_000);
    await byId('client-install-cursor').waitFor();
    await until(`the loopgate entry to be gone from ${cursorPath}`, () => {
      if (!existsSync(cursorPath)) return true;
      const d = JSON.parse(readFileSync(cursorPath, 'utf8'));
      return d?.mcpServers?.loopgate === undefined;
    }, 5000);
    await until('Cursor’s token to be refused after Remove', async () => (await mcpStatus(clientToken)) === 401, 5000);
  });

  await step('h2: profiles: one server with a tool hidden costs less than everything; refusals shown verbatim', () => profilesStep({ page, byId, api, go, until, assert, config, mcpToolNames, shot, base, token }));

  const oauthUrl = process.env.OAUTH_MCP_URL;
  if (oauthUrl) {
    await step('i: sign in to an OAuth server from its row, sign out, sign in again', async () => {
      const res = await fetch(`${base}/api/servers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'secure', url: oauthUrl }),
      });
      assert(res.status === 201, `adding the OAuth server answered HTTP ${res.status}`);
      await go('#/');
      const row = byId('server-row-secure');
      const auth = byId('server-auth-secure');
      // Its 401 starts one sign-in by itself; the row says so and offers the page.
      await until('the secure row to show a pending sign-in', async () => (await row.getAttribute('data-state')) === 'needs-sign-in' && (await auth.getAttribute('data-auth')) === 'signing-in', 20_000);
      await page.mouse.move(0, 0);
      await shot('sign-in-pending');
      const signInThroughPopup = async () => {
        const [popup] = await Promise.all([page.waitForEvent('popup'), byId('server-signin-secure').click()]);
        await until('the “Signed in” page of the redirect listener', async () => (await popup.locator('body').innerText()).includes('Signed in'), 15_000);
        await popup.close();
      };
      await signInThroughPopup();
      await until('the row to read signed in and ready', async () => (await auth.getAttribute('data-auth')) === 'signed-in' && (await row.getAttribute('data-state')) === 'ready', 20_000);
      await until('tools/list with secure__echo', async () => (await mcpToolNames()).includes('secure__echo'));
      assert((await byId('server-auth-py').count()) === 0, 'the py row (no OAuth) shows a sign-in line');
      await page.mouse.move(0, 0);
      await shot('signed-in');
      await auth.locator('button', { hasText: 'Sign out' }).click();
      // The toast first: it lasts 3.5 s, and the row may take longer to change.
      await until('a toast saying the tokens were revoked', async () => (await page.locator('.toast', { hasText: 'Signed out of secure; its tokens were revoked' }).count()) === 1);
      await until('needs sign-in, with no sign-in started by itself', async () => (await auth.getAttribute('data-auth')) === 'needs-sign-in', 20_000);
      assert((await auth.innerText()).includes('Sign in'), 'the row offers no Sign in button after signing out');
      await signInThroughPopup();
      await until('signed in again', async () => (await auth.getAttribute('data-auth')) === 'signed-in', 20_000);
    });
  }

  const hostileUrl = process.env.HOSTILE_MCP_URL;
  if (hostileUrl) {
    await step('j: a hostile authorization server’s javascript: page is never opened', async () => {
      const res = await fetch(`${base}/api/servers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'hostile', url: hostileUrl }),
      });
      assert(res.status === 201, `adding the hostile server answered HTTP ${res.status}`);
      await go('#/');
      const auth = byId('server-auth-hostile');
      await until('the hostile row to offer a sign-in', async () => (await auth.count()) === 1 && (await auth.getAttribute('data-auth')) === 'needs-sign-in', 20_000);
      const pagesBefore = ctx.pages().length;
      const popups = [];
      page.on('popup', (p) => popups.push(p));
      const urlBefore = page.url();
      await byId('server-signin-hostile').click();
      await until('an error toast naming the refused address', async () => (await page.locator('.toast', { hasText: 'javascript:' }).count()) >= 1, 10_000);
      await page.waitForTimeout(500);
      assert(popups.length === 0 && ctx.pages().length === pagesBefore, `a tab was opened: ${popups.map((p) => p.url()).join(', ')}`);
      assert(page.url() === urlBefore, `the dashboard navigated to ${page.url()}`);
      const servers = await (await fetch(`${base}/api/servers`, { headers: { Authorization: `Bearer ${token}` } })).json();
      assert(!servers.some((s) => s.name === 'pwn'), 'the hostile page added a server');
      await shot('sign-in-hostile-refused');
    });
  }

  assert(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join(' | ')}`);
  console.log(`ui: screenshots in ${shotDir}`);
  console.log('UI TESTS PASSED');
  await browser.close();
  process.exit(0);
} catch (e) {
  console.error(`UI TESTS FAILED at step ${current}: ${e instanceof Error ? (e instanceof Check ? e.message : e.stack) : e}`);
  try {
    await page.screenshot({ path: join(shotDir, 'failure.png'), fullPage: true });
    console.error(`ui: page at failure: ${page.url()} (screenshot ${join(shotDir, 'failure.png')})`);
  } catch {
    /* the browser may be gone */
  }
  await browser.close().catch(() => {});
  process.exit(1);
}
