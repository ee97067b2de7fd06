// Browser test step h2 (run by tests/ui/run.mjs): the Profiles page. Creates the profile `coding`
// (everything only, its echo hidden), checks its counts against "everything" and what a client of
// it lists, binds Cursor to it, checks the gateway's refusals (deleting it in use; a PUT naming an
// unknown server, crafted and from the editor) are shown verbatim, switches on search mode, and
// deletes it again. `t` carries run.mjs's page and helpers.

export async function profilesStep(t) {
  const { page, byId, api, go, until, assert, config, mcpToolNames, shot, base, token } = t;
  const profiles = () => api('/api/profiles');
  const coding = async () => (await profiles()).profiles.find((p) => p.name === 'coding');
  await go('#/');
  await byId('nav-profiles').click();
  await page.waitForURL((u) => u.hash === '#/profiles');
  await until('the Profiles nav entry marked current', async () => (await byId('nav-profiles').getAttribute('aria-current')) === 'page', 5000);
  const everything = byId('profiles-everything');
  await everything.waitFor();
  assert((await profiles()).profiles.length === 0, 'the gateway starts with profiles');
  await until('the "everything" line to show the count of GET /api/profiles', async () => {
    const want = (await profiles()).everything.toolCount;
    return want > 0 && Number(await everything.getAttribute('data-tools')) === want && Number(await everything.getByTestId('tool-count').innerText()) === want;
  });
  const note = await byId('profiles-estimate-note').innerText();
  assert(/estimate/i.test(note) && note.includes('o200k'), `the page does not say the token counts are o200k estimates: “${note}”`);

  // A name the page refuses itself: nothing is sent.
  await byId('new-profile-button').click();
  await page.waitForURL((u) => u.hash === '#/profiles/new');
  const sent = [];
  const onRequest = (r) => r.method() === 'PUT' && new URL(r.url()).pathname.startsWith('/api/profiles/') && sent.push(r.url());
  page.on('request', onRequest);
  await byId('field-name').fill('bad name');
  await byId('submit-profile').click();
  await byId('field-error-name').waitFor();
  await page.waitForTimeout(300);
  page.off('request', onRequest);
  assert(sent.length === 0, `a name the page refused was sent: ${sent.join(', ')}`);

  // "coding": only everything, and everything's echo hidden.
  await byId('field-name').fill('coding');
  assert((await byId('field-error-name').count()) === 0, 'the name error stays after changing the name');
  await byId('profile-every-server').uncheck();
  await byId('profile-server-py').uncheck();
  assert((await byId('profile-server-row-py').getAttribute('data-included')) === 'false', 'py is still checked');
  await byId('profile-server-toggle-everything').click();
  const echo = byId('profile-tool-everything-echo');
  await echo.waitFor();
  assert((await echo.getAttribute('id')) && (await page.locator(`label[for="${await echo.getAttribute('id')}"]`).count()) === 1, 'the tool checkbox has no label');
  await echo.uncheck();
  await page.mouse.move(0, 0);
  await shot('profile-new');
  await byId('submit-profile').click();
  await page.waitForURL((u) => u.hash === '#/profiles');
  const row = byId('profile-row-coding');
  await row.waitFor();
  const saved = config().profiles?.coding;
  assert(JSON.stringify(saved?.servers) === '["everything"]' && JSON.stringify(saved?.disabledTools) === '{"everything":["echo"]}' && !saved?.toolSearch, `config profiles.coding is ${JSON.stringify(saved)}`);
  const own = (await api('/api/servers/everything/tools')).filter((t) => t.enabled).length;
  const p = await coding();
  assert(p.cost.toolCount === own - 1, `coding has ${p.cost.toolCount} tools; everything offers ${own}, one hidden`);
  await until('the coding line to show its count, below everything', async () => {
    const [n, all] = [Number(await row.getAttribute('data-tools')), Number(await everything.getAttribute('data-tools'))];
    return n === p.cost.toolCount && Number(await row.getByTestId('tool-count').innerText()) === n && n < all;
  }, 10_000);
  const all = (await profiles()).everything;
  if (p.cost.definitionTokens !== null && all.definitionTokens !== null) {
    assert(p.cost.definitionTokens < all.definitionTokens, `coding's ${p.cost.definitionTokens} tokens are not fewer than everything's ${all.definitionTokens}`);
    const tokens = (await row.getByTestId('token-count').innerText()).trim();
    assert(tokens === `≈ ${p.cost.definitionTokens.toLocaleString('en-US')}`, `the coding line shows “${tokens}” for ${p.cost.definitionTokens} tokens`);
    assert((await row.innerText()).includes('fewer than everything'), 'the coding line does not compare itself with everything');
  }
  // What a client of the profile gets: the gateway's own token asking for it.
  await until('tools/list of coding: everything__ tools without everything__echo', async () => {
    const names = await mcpToolNames(token, { 'loopgate-profile': 'coding' });
    return names.length === p.cost.toolCount && names.every((n) => n.startsWith('everything__')) && !names.includes('everything__echo');
  });

  // Cursor uses it: its line says so, and it cannot be deleted (the gateway's 409, verbatim).
  await byId('client-profile-cursor').selectOption('coding');
  await until('clientProfiles.cursor in the config', () => config().clientProfiles?.cursor === 'coding', 5000);
  await until('Cursor among coding’s users', async () => (await byId('profile-clients-coding').innerText()).includes('Cursor'), 5000);

  // The Connect page: Cursor, wired, sees coding — its count against its 40-tool limit — and the
  // profile changes there with one click (every server, then coding again).
  await go('#/connect');
  await byId('client-install-cursor').click();
  await until('Cursor wired', async () => (await byId('client-status-cursor').getAttribute('data-wired')) === 'true', 10_000);
  const count = byId('client-count-cursor');
  await until('Cursor’s count to be coding’s', async () => Number(await count.getAttribute('data-count')) === p.cost.toolCount, 5000);
  assert((await count.getAttribute('data-limit')) === '40', `Cursor's limit shows as ${await count.getAttribute('data-limit')}`);
  assert((await count.innerText()).includes(`${p.cost.toolCount} of the 40 tools`), `Cursor's row says “${await count.innerText()}”`);
  const select = byId('client-profile-select-cursor');
  assert((await select.inputValue()) === 'coding', 'the Connect page does not show Cursor on coding');
  await select.selectOption('');
  await until('clientProfiles.cursor gone', () => config().clientProfiles?.cursor === undefined, 5000);
  const allTools = (await api('/api/profiles')).everything.toolCount;
  await until('Cursor’s count to be everything’s', async () => Number(await count.getAttribute('data-count')) === allTools, 5000);
  await select.selectOption('coding');
  await until('clientProfiles.cursor back on coding', () => config().clientProfiles?.cursor === 'coding', 5000);
  await page.mouse.move(0, 0);
  await shot('connect-profile');
  await byId('client-remove-cursor').click();
  await until('Cursor unwired', async () => (await byId('client-status-cursor').getAttribute('data-wired')) === 'false', 10_000);
  await go('#/profiles');
  await byId('profile-row-coding').waitFor();
  await page.mouse.move(0, 0);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await shot(`profiles-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await byId('profile-delete-coding').click();
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === '/api/profiles/coding'),
    byId('confirm-dialog-confirm').click(),
  ]);
  assert(del.status() === 409, `deleting a profile in use answered HTTP ${del.status()}`);
  const inUse = await del.json();
  await byId('profile-error-coding').waitFor();
  const inUseShown = (await byId('profile-error-coding').innerText()).trim();
  assert(inUseShown === inUse.error && inUse.error.includes('cursor'), `the page shows “${inUseShown}” for the gateway’s “${inUse.error}”`);
  assert(config().profiles?.coding, 'a profile in use was deleted');
  await page.mouse.move(0, 0);
  await shot('profiles-in-use');

  // A PUT naming a server that does not exist (the page never sends one on its own), crafted in
  // the page: the API's error shape, naming the server; nothing changes.
  const before = JSON.stringify(config().profiles);
  const crafted = await page.evaluate(async () => {
    const r = await fetch('/api/profiles/coding', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ servers: ['nope'], disabledTools: {}, toolSearch: false }) });
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.json() };
  });
  assert(crafted.status === 400 && crafted.type.startsWith('application/json'), `the unknown server answered HTTP ${crafted.status} (${crafted.type})`);
  assert(Object.keys(crafted.body).sort().join() === 'error,field' && typeof crafted.body.field === 'string', `not the API's error shape: ${JSON.stringify(crafted.body)}`);
  assert(crafted.body.error.includes('"nope"') && crafted.body.error.includes('profiles.coding'), `the error does not name the server and the profile: ${crafted.body.error}`);
  assert(JSON.stringify(config().profiles) === before, 'a refused PUT changed the profiles');

  // The same refusal through the editor: a server checked there and removed meanwhile.
  const add = await fetch(`${base}/api/servers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'gone', url: 'http://127.0.0.1:9/mcp', auth: 'none' }),
  });
  assert(add.status === 201, `adding the server gone answered HTTP ${add.status}`);
  await byId('profile-edit-coding').click();
  await page.waitForURL((u) => u.hash === '#/profiles/coding/edit');
  await byId('profile-server-gone').check();
  const removed = await fetch(`${base}/api/servers/gone`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  assert(removed.ok, `removing gone answered HTTP ${removed.status}`);
  await until('the editor to mark gone as removed', async () => (await byId('profile-server-row-gone').getAttribute('data-missing')) === 'true', 10_000);
  const [put] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === '/api/profiles/coding'),
    byId('submit-profile').click(),
  ]);
  assert(put.status() === 400, `saving with a removed server answered HTTP ${put.status()}`);
  const refused = await put.json();
  await byId('profile-form-error').waitFor();
  const refusedShown = (await byId('profile-form-error').innerText()).trim();
  assert(refusedShown === refused.error && refused.error.includes('"gone"'), `the editor shows “${refusedShown}” for the gateway’s “${refused.error}”`);
  assert(JSON.stringify(config().profiles) === before, 'a refused save changed the profiles');
  await page.mouse.move(0, 0);
  await shot('profile-edit-refused');

  // Search mode: two tools, reaching the profile's.
  await byId('profile-server-gone').click(); // unchecked, a removed server's line goes
  await until('the line of gone to go', async () => (await byId('profile-server-row-gone').count()) === 0, 5000);
  await byId('profile-search-switch').click();
  await byId('submit-profile').click();
  await page.waitForURL((u) => u.hash === '#/profiles');
  await until('coding in search mode: 2 tools, reaching the others', async () => Number(await row.getAttribute('data-tools')) === 2 && Number(await row.getAttribute('data-reachable')) === p.cost.toolCount, 10_000);
  assert(config().profiles?.coding?.toolSearch === true, `config profiles.coding is ${JSON.stringify(config().profiles?.coding)}`);
  await until('tools/list of coding: search_tools and call_tool', async () => (await mcpToolNames(token, { 'loopgate-profile': 'coding' })).sort().join() === 'call_tool,search_tools');

  // Cursor back to everything; then the profile can go.
  await byId('client-profile-cursor').selectOption('');
  await until('no clientProfiles.cursor in the config', () => config().clientProfiles?.cursor === undefined, 5000);
  await byId('profile-delete-coding').click();
  await byId('confirm-dialog-confirm').click();
  await until('the coding line to go', async () => (await row.count()) === 0, 5000);
  await until('no profiles.coding in the config', () => config().profiles?.coding === undefined, 5000);
}
