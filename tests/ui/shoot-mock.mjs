#!/usr/bin/env node
// Screenshots of every dashboard screen against tests/ui/mock-api.mjs, for design review. Also
// checks that OAuth sign-in pages open only as web addresses in a tab without window.opener.
//   node tests/ui/mock-api.mjs --port 7399 &   (after `npm run build` in ui/)
//   node tests/ui/shoot-mock.mjs [baseUrl=http://127.0.0.1:7399] [outDir=tests/ui/screenshots/mock] [width=1200]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:7399';
const out = process.argv[3] ?? new URL('./screenshots/mock', import.meta.url).pathname;
const width = Number(process.argv[4] ?? 1200);
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const mock = (p) => fetch(`${base}${p}`, { method: 'POST' });

/** Signs in to the mock's `secure` server from its row: a web address opens in a new tab with no
 *  window.opener; a `javascript:` address never opens (a toast says why), neither from "Sign in"
 *  nor from "Open sign-in page". */
async function checkSignIn(page) {
  const fail = (msg) => {
    throw new Error(`sign-in check: ${msg}`);
  };
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('server-signin-secure').click()]);
  await popup.waitForLoadState();
  if (!popup.url().startsWith(`${base}/__mock/authorize`)) fail(`the tab opened ${popup.url()}`);
  if (await popup.evaluate(() => window.opener !== null)) fail('the sign-in tab can reach the dashboard through window.opener');
  await popup.close();
  await page.locator('[data-testid="server-auth-secure"][data-auth="signed-in"]').waitFor();

  const hostile = 'javascript:document.title="pwned"';
  await mock(`/__mock/sign-in-url?url=${encodeURIComponent(hostile)}`);
  await page.locator('[data-testid="server-auth-secure"] button', { hasText: 'Sign out' }).click();
  await page.locator('[data-testid="server-auth-secure"][data-auth="needs-sign-in"]').waitFor();
  const refused = page.locator('.toast', { hasText: 'not a web address' });
  for (const how of ['Sign in', 'Open sign-in page']) {
    await page.evaluate(() => document.querySelectorAll('.toast button').forEach((b) => b.click()));
    const opened = page.waitForEvent('popup', { timeout: 1500 }).then(() => true, () => false);
    await page.locator('[data-testid="server-auth-secure"] button', { hasText: how }).click();
    await refused.waitFor({ timeout: 5000 }).catch(() => fail(`no "not a web address" toast after ${how}`));
    if (await opened) fail(`${how} opened a tab for ${hostile}`);
    if ((await page.title()) === 'pwned') fail(`${how} ran the javascript: address`);
    // After "Sign in" the mock's sign-in is pending with that address: the row offers the page.
    await page.locator('[data-testid="server-auth-secure"][data-auth="signing-in"]').waitFor();
  }
  await mock('/__mock/sign-in-url');

  // A pending sign-in with a web address: "Open sign-in page" opens it (inside the click).
  await page.locator('[data-testid="server-auth-secure"] button', { hasText: 'Cancel' }).click();
  await page.locator('[data-testid="server-auth-secure"][data-auth="needs-sign-in"]').waitFor();
  await page.evaluate(() => fetch('/api/servers/secure/auth/login', { method: 'POST' }));
  await page.locator('[data-testid="server-auth-secure"][data-auth="signing-in"]').waitFor();
  const [again] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('server-signin-secure').click()]);
  await again.waitForLoadState();
  if (!again.url().startsWith(`${base}/__mock/authorize`)) fail(`"Open sign-in page" opened ${again.url()}`);
  if (await again.evaluate(() => window.opener !== null)) fail('the sign-in tab can reach the dashboard through window.opener');
  await again.close();
  await page.locator('[data-testid="server-auth-secure"][data-auth="signed-in"]').waitFor();
  console.log('checked: sign-in pages open only as http(s), without window.opener');
}

try {
  for (const scheme of ['light', 'dark']) {
    await mock('/__mock/scenario?name=demo');
    const ctx = await browser.newContext({ viewport: { width, height: 820 }, colorScheme: scheme, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('pageerror:', e.message));
    page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()));
    const shot = async (name, full = true) => {
      await page.evaluate(() => document.querySelectorAll('.toast button').forEach((b) => b.click()));
      if (full) await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(350);
      await page.screenshot({ path: join(out, `${name}-${scheme}.png`), fullPage: full });
      console.log('saved', name, scheme);
    };

    await page.goto(`${base}/auth?nonce=devlink`);
    await page.getByTestId('server-row-everything').waitFor();
    await shot('servers');

    await page.goto(`${base}/#/servers/everything`);
    await page.getByTestId('tool-row-search-issues').waitFor();
    await page.getByTestId('tool-toggle-search-issues').click();
    await page.getByTestId('schema-table').waitFor();
    await shot('detail');

    await page.getByTestId('tool-search').fill('sum');
    await page.getByTestId('tool-toggle-get-sum').click();
    await shot('detail-search', false);

    await page.goto(`${base}/#/servers/github`);
    await page.getByTestId('server-error').waitFor();
    await shot('detail-failed');

    await page.goto(`${base}/#/tools`);
    await page.getByTestId('tool-results').waitFor();
    await shot('tools-all');
    await page.getByTestId('tools-search').fill('echo');
    await shot('tools');

    await page.goto(`${base}/#/connect`);
    await page.getByTestId('client-row-cursor').waitFor();
    await shot('connect');
    await page.getByTestId('client-install-claude-desktop').click();
    await page.getByTestId('client-remove-claude-desktop').waitFor();
    await page.getByTestId('client-install-windsurf').click(); // its file has comments: an inline error
    await page.locator('[data-testid="client-notice-windsurf"] .cr-notice').waitFor();
    await page.mouse.move(0, 0);
    await shot('connect-actions');

    await page.goto(`${base}/#/profiles`);
    await page.getByTestId('profile-row-coding').waitFor();
    await page.getByTestId('client-profile-cursor').waitFor();
    await page.mouse.move(0, 0);
    await shot('profiles');
    await page.getByTestId('profile-delete-coding').click();
    await page.getByTestId('confirm-dialog-confirm').click();
    await page.getByTestId('profile-error-coding').waitFor(); // in use: the gateway's 409, verbatim
    await page.mouse.move(0, 0);
    await shot('profiles-in-use');
    await page.goto(`${base}/#/profiles/coding/edit`);
    await page.getByTestId('profile-server-toggle-everything').click();
    await page.getByTestId('profile-tool-everything-echo').uncheck();
    await shot('profile-edit');
    await page.goto(`${base}/#/profiles/new`);
    await page.getByTestId('field-name').fill('bad name');
    await page.getByTestId('profile-search-switch').click();
    await page.getByTestId('submit-profile').click();
    await page.getByTestId('field-error-name').waitFor();
    await shot('profile-new-error', false);

    await page.goto(`${base}/#/add`);
    await page.getByTestId('field-name').fill('github');
    await page.getByTestId('field-command').fill('npx -y @modelcontextprotocol/server-github');
    await page.getByTestId('add-env').click();
    await page.locator('.kv-key-input').last().fill('GITHUB_TOKEN');
    await page.getByTestId('env-value-0').fill('ghp_example');
    await page.getByTestId('env-secret-0').check();
    await shot('add');
    await page.getByTestId('submit-server').click();
    await page.getByTestId('field-error-name').waitFor();
    await shot('add-error');

    await page.goto(`${base}/#/servers/py/edit`);
    await page.getByTestId('field-url').waitFor();
    await shot('edit-http');

    await page.goto(`${base}/#/servers/everything`);
    await page.getByTestId('remove-server').click();
    await shot('remove-confirm', false);
    await page.keyboard.press('Escape');

    await mock('/__mock/drop-events');
    await mock('/__mock/events?off=1');
    await page.goto(`${base}/#/`);
    await page.getByTestId('live-indicator').and(page.locator('[data-live="reconnecting"]')).waitFor({ timeout: 10000 });
    await page.getByTestId('offline-banner').waitFor({ timeout: 10000 });
    await shot('reconnecting', false);
    await mock('/__mock/events?off=0');

    await mock('/__mock/scenario?name=empty');
    await page.goto(`${base}/#/`);
    await page.reload();
    await page.getByTestId('servers-empty').waitFor();
    await shot('empty', false);
    await page.goto(`${base}/#/tools`);
    await shot('tools-empty', false);
    await mock('/__mock/scenario?name=oauth');
    await page.goto(`${base}/#/`);
    await page.locator('[data-testid="server-auth-secure"][data-auth="needs-sign-in"]').waitFor();
    await page.mouse.move(0, 0);
    await shot('sign-in');
    if (scheme === 'light') await checkSignIn(page);
    await mock('/__mock/scenario?name=demo');

    const anon = await browser.newContext({ viewport: { width, height: 720 }, colorScheme: scheme });
    const p2 = await anon.newPage();
    await p2.goto(`${base}/`);
    await p2.getByTestId('unauthorized').waitFor();
    await p2.waitForTimeout(300);
    await p2.screenshot({ path: join(out, `unauthorized-${scheme}.png`) });
    await anon.close();

    const down = await browser.newContext({ viewport: { width, height: 720 }, colorScheme: scheme });
    const p3 = await down.newPage();
    await p3.goto(`${base}/auth?nonce=devlink`);
    await p3.getByTestId('server-row-everything').waitFor();
    await p3.route('**/api/**', (r) => r.abort('connectionrefused'));
    await p3.reload();
    await p3.getByTestId('unreachable').waitFor();
    await p3.waitForTimeout(300);
    await p3.screenshot({ path: join(out, `unreachable-${scheme}.png`) });
    await down.close();
    await ctx.close();
  }
} finally {
  await browser.close();
}
