import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, TEST_OUTPUT_DIR, watchContext } from './helpers/browser.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

// GraphiQL as a developer meets it, in headless Chromium with every other host refused: the page,
// its bundle, Monaco's workers and the query all come from this server, or the test fails.
describe.skipIf(chromiumMissing)('GraphiQL in a real browser, offline', () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchChromium()]);
  });
  afterAll(() => Promise.all([app?.close(), browser?.close()]));

  it('renders from local assets, runs a typed { __typename } query and shows the result', { timeout: 120_000 }, async () => {
    const host = new URL(app.url).host;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(60_000);
    const log = await watchContext(context, [host]);
    const page = await context.newPage();
    await page.goto(`${app.url}/graphql`);
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ __typename }');
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response');
    await expect.poll(() => result.innerText(), { timeout: 30_000 }).toMatch(/"__typename":\s*"Query"/);
    await page.screenshot({ path: path.join(TEST_OUTPUT_DIR, 'graphiql.png') });
    await context.close();

    const requested = log.requests.map((u) => new URL(u));
    expect(requested.filter((u) => u.protocol !== 'data:' && u.host !== host).map((u) => u.href)).toEqual([]);
    // The bundle and Monaco's workers did load (from the versioned asset path).
    for (const file of ['graphiql.js', 'graphiql.css', 'graphql.worker.js']) {
      expect(
        requested.some((u) => u.pathname.startsWith('/graphiql/') && u.pathname.endsWith(`/${file}`)),
        file,
      ).toBe(true);
    }
    // No console error: a CSP violation (say, a bundle that starts to need eval) would be one.
    expect(log.errors).toEqual([]);
  });
});
