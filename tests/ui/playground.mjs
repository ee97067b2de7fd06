// Browser steps for the playground, resources, prompts and the Activity page (issue #16), run by
// run.mjs against the real gateway's `everything` server (server-everything over stdio):
// get-sum from a generated form, get-tiny-image's image, get-structured-content validated against
// its output schema, a tool error shown as an error, trigger-long-running-operation's progress and
// Cancel (the call ends cancelled in the activity log), a resource template filled and read, a
// prompt with arguments fetched, and the Activity page: the dashboard's calls listed, filtered,
// opened, and run again in the playground. Screenshots: playground-*, resources-prompts,
// activity-light/dark, activity-detail.

/** Runs the steps with run.mjs's helpers. */
export async function playgroundSteps({ page, byId, step, until, assert, go, shot, api }) {
  const pick = async (tool) => {
    await byId('pg-tool').selectOption(tool);
    await byId('pg-run').waitFor();
  };
  const result = () => page.getByTestId('playground').getByTestId('pg-result');

  await step('p1: playground: get-sum from a generated form shows the sum', async () => {
    await go('#/servers/everything');
    await byId('playground').waitFor();
    // (Preact sets an option's value as a property, not an attribute.)
    await until('get-sum in the tool picker', () => byId('pg-tool').evaluate((s) => [...s.options].some((o) => o.value === 'get-sum')), 30_000);
    await pick('get-sum');
    const a = byId('pg-field-a');
    await a.waitFor();
    assert((await page.locator('label[for="pg-a"] .req').count()) === 1, 'a is not marked required');
    await a.fill('2');
    await byId('pg-field-b').fill('3');
    await byId('pg-run').click();
    await until('the sum in the result', async () => (await result().getByTestId('pg-text').innerText()).includes('5'), 20_000);
    assert((await result().getAttribute('data-error')) === 'false', 'get-sum shows as an error');
    assert(/\d/.test(await result().getByTestId('pg-duration').innerText()), 'no duration shown');
    await result().getByTestId('pg-raw-toggle').click();
    await until('the raw JSON of the result', async () => (await result().getByTestId('pg-raw').innerText()).includes('"content"'), 5000);
    await result().getByTestId('pg-raw-toggle').click();
    await byId('playground').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${process.env.SHOT_DIR}/playground-get-sum.png`, fullPage: true });
  });

  await step('p2: get-tiny-image shows the image', async () => {
    await pick('get-tiny-image');
    await byId('pg-run').click();
    const img = result().getByTestId('pg-image');
    await img.waitFor({ timeout: 20_000 });
    await until('the image to load', async () => (await img.evaluate((i) => i.complete && i.naturalWidth)) > 0, 5000);
  });

  await step('p3: get-structured-content validated against its output schema', async () => {
    await pick('get-structured-content');
    const loc = byId('pg-field-location');
    await loc.waitFor();
    await loc.selectOption('"Chicago"');
    await byId('pg-run').click();
    await result().getByTestId('pg-structured').waitFor({ timeout: 20_000 });
    await result().getByTestId('pg-schema-valid').waitFor();
    await page.screenshot({ path: `${process.env.SHOT_DIR}/playground-structured.png`, fullPage: true });
  });

  await step('p4: a tool error shows as an error (raw JSON mode)', async () => {
    await pick('get-sum');
    await byId('pg-mode-raw').click();
    await byId('pg-raw-args').fill('{"a": "not a number", "b": 1}');
    await byId('pg-run').click();
    await until('an error result', async () => (await result().getAttribute('data-error')) === 'true', 20_000);
    await result().getByTestId('pg-result-error').waitFor();
    await page.screenshot({ path: `${process.env.SHOT_DIR}/playground-error.png`, fullPage: true });
    await page.getByRole('button', { name: 'Form', exact: true }).click();
  });

  await step('p5: trigger-long-running-operation shows progress and can be cancelled', async () => {
    await pick('trigger-long-running-operation');
    await byId('pg-field-duration').fill('20');
    await byId('pg-field-steps').fill('20');
    const started = Date.now();
    await byId('pg-run').click();
    await until('progress', async () => Number((await byId('pg-progress').getAttribute('data-progress')) || 0) >= 1, 20_000);
    await page.screenshot({ path: `${process.env.SHOT_DIR}/playground-progress.png`, fullPage: true });
    await byId('pg-cancel').click();
    await page.getByTestId('playground').getByTestId('pg-cancelled').waitFor({ timeout: 10_000 });
    assert(Date.now() - started < 15_000, 'the call ran to its end instead of being cancelled');
    // The gateway saw the cancellation (and told the server): the call is recorded cancelled.
    await until('the cancelled call in the activity log', async () => {
      const page = await api('/api/activity?tool=everything__trigger-long-running-operation&client=dashboard');
      return page.items.some((c) => c.outcome === 'cancelled');
    }, 10_000);
  });

  await step('p6: a resource template is filled and read', async () => {
    const section = byId('resources-section');
    await section.waitFor();
    const tpl = section.locator('[data-testid^="template-"][data-testid*="/text/"]').first();
    await tpl.getByTestId('template-var-resourceId').fill('3');
    await until('the URI to be filled in', async () => (await tpl.getByTestId('template-uri').innerText()).endsWith('/3'), 5000);
    await tpl.getByTestId('template-read').click();
    const read = section.getByTestId('pg-read-result');
    await until('the resource text', async () => (await read.getByTestId('pg-resource-text').innerText()).length > 0, 20_000);
  });

  await step('p7: a prompt with arguments is fetched', async () => {
    const section = byId('prompts-section');
    const p = section.locator('[data-testid$="args-prompt"]').first();
    await p.getByTestId('prompt-arg-city').fill('Lyon');
    await p.getByTestId('prompt-get').click();
    await until('the prompt messages', async () => (await section.getByTestId('pg-message').first().innerText()).includes('Lyon'), 20_000);
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${process.env.SHOT_DIR}/resources-prompts.png`, fullPage: true });
  });

  await step('p8: the Activity page lists, filters and opens the calls; run again in the playground', async () => {
    await byId('nav-activity').click();
    await byId('activity-table').waitFor();
    const sumRow = page.locator('[data-testid^="activity-row-"][data-target="everything__get-sum"][data-caller="dashboard"]');
    await until('the get-sum calls', async () => (await sumRow.count()) >= 2, 10_000);
    await byId('activity-filter-outcome').selectOption('isError');
    await until('only failed tool calls', async () => {
      // One read of every row (the live list re-renders every second).
      const outcomes = await page.locator('[data-testid^="activity-row-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
      return outcomes.length > 0 && outcomes.every((o) => o === 'isError');
    }, 10_000);
    await byId('activity-filter-outcome').selectOption('');
    await byId('activity-filter-tool').selectOption('everything__get-sum');
    await until('only get-sum', async () => (await page.locator('[data-testid^="activity-row-"]:not([data-target="everything__get-sum"])').count()) === 0, 10_000);
    await byId('figures-server').waitFor();
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await shot(`activity-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('[data-testid^="activity-row-"][data-outcome="ok"]').last().click();
    await byId('activity-detail').waitFor();
    assert((await byId('detail-caller').innerText()).includes('Dashboard'), 'the call is not attributed to the dashboard');
    await byId('run-again').waitFor();
    await shot('activity-detail');
    await byId('run-again').click();
    await until('the playground with a=2, b=3', async () => (await byId('pg-field-a').inputValue()) === '2' && (await byId('pg-field-b').inputValue()) === '3', 10_000);
  });
}
