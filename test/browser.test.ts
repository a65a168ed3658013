import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserExample } from '../examples/browser/server.ts';
import { chromiumMissing, launchChromium, TEST_OUTPUT_DIR, watchContext } from './helpers/browser.ts';
import { freePort } from './helpers/free-port.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Headless Chromium with every host but this machine's servers refused: GraphiQL as a developer
// meets it, and the browser example (examples/browser) in COOKIE mode, on the same site as
// Gatehouse and on another one. Screenshots go to test-output/ for reviewers.

const TTL_SECONDS = 3;

describe.skipIf(chromiumMissing)('in a real browser', () => {
  let app: TestApp;
  let example: Awaited<ReturnType<typeof startBrowserExample>>;
  let browser: Browser;
  beforeAll(async () => {
    const pagePort = await freePort();
    // The example page: 127.0.0.1 like Gatehouse (same site, another port), or localhost (another site).
    const origins = [`http://127.0.0.1:${pagePort}`, `http://localhost:${pagePort}`];
    [app, browser] = await Promise.all([
      startTestApp({ ACCESS_TOKEN_TTL: `${TTL_SECONDS}s`, CORS_ORIGINS: origins.join(',') }),
      launchChromium(),
    ]);
    example = await startBrowserExample({ endpoint: `${app.url}/graphql`, port: pagePort });
  });
  afterAll(() => Promise.all([app?.close(), browser?.close(), example?.close()]));

  async function open(
    url: string,
    hosts: string[],
  ): Promise<{ context: BrowserContext; page: Page; log: Awaited<ReturnType<typeof watchContext>> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(60_000);
    const log = await watchContext(context, hosts);
    const page = await context.newPage();
    await page.goto(url);
    return { context, page, log };
  }

  it('GraphiQL renders from local assets, runs a typed { __typename } query and shows the result', { timeout: 120_000 }, async () => {
    const host = new URL(app.url).host;
    const { context, page, log } = await open(`${app.url}/graphql`, [host]);
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

  describe('the browser example (examples/browser, COOKIE mode)', () => {
    const status = (page: Page) => page.locator('#status').innerText();
    const refreshCookie = async (context: BrowserContext) =>
      (await context.cookies(app.url)).find((c) => c.name === app.config.cookies.refreshName);

    async function signIn(page: Page, email: string) {
      await expect.poll(() => status(page), { timeout: 15_000 }).toBe('Not signed in');
      await page.fill('#email', email);
      await page.fill('#password', TEST_PASSWORD);
      await page.click('button[type=submit]');
      await expect.poll(() => status(page), { timeout: 15_000 }).toBe(`Signed in as ${email}`);
    }

    it('on the same site: signs in, survives a reload, refreshes an expired token from the HttpOnly cookie, logs out', {
      timeout: 120_000,
    }, async () => {
      const hosts = [new URL(app.url).host, new URL(example.url).host];
      const { context, page, log } = await open(example.url, hosts);
      const codes: string[] = [];
      page.on('response', async (response) => {
        if (response.url() !== `${app.url}/graphql` || response.request().method() !== 'POST') return;
        const body = (await response.json().catch(() => ({}))) as { errors?: { extensions?: { code?: string } }[] };
        codes.push(body.errors?.[0]?.extensions?.code ?? 'ok');
      });
      const email = uniqueEmail('browser');
      await signIn(page, email);

      const cookie = await refreshCookie(context);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      // Nothing a script could carry off: the cookie is HttpOnly, the access token only in memory.
      expect(await page.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length])).toEqual(['', 0, 0]);

      // A reload forgets the access token; the cookie signs the user back in.
      await page.reload();
      await expect.poll(() => status(page), { timeout: 15_000 }).toBe(`Signed in as ${email}`);

      await page.waitForTimeout((TTL_SECONDS + 1) * 1000);
      codes.length = 0;
      await page.click('#who-am-i');
      // viewer answered TOKEN_EXPIRED, the refresh (cookie) succeeded, viewer again.
      await expect.poll(() => codes, { timeout: 15_000 }).toEqual(['TOKEN_EXPIRED', 'ok', 'ok']);
      expect(await status(page)).toBe(`Signed in as ${email}`);
      expect((await refreshCookie(context))?.value).not.toBe(cookie?.value);
      await page.screenshot({ path: path.join(TEST_OUTPUT_DIR, 'browser-example.png') });

      await page.click('#log-out');
      await expect.poll(() => status(page), { timeout: 15_000 }).toBe('Not signed in');
      expect(await refreshCookie(context)).toBeUndefined();
      await context.close();
      expect(log.errors).toEqual([]);
    });

    it('on another site (localhost is not 127.0.0.1): login answers, the browser drops the cookie, so no refresh', {
      timeout: 120_000,
    }, async () => {
      const crossSite = example.url.replace('127.0.0.1', 'localhost');
      const { context, page } = await open(crossSite, [new URL(app.url).host, new URL(crossSite).host]);
      const email = uniqueEmail('cross-site');
      // The access token came in the body, so the page works for now...
      await signIn(page, email);
      expect(await refreshCookie(context)).toBeUndefined();
      // ...until it expires: the refresh finds no cookie, and the user must log in again.
      await page.waitForTimeout((TTL_SECONDS + 1) * 1000);
      await page.click('#who-am-i');
      await expect.poll(() => status(page), { timeout: 15_000 }).toBe('Signed out (TOKEN_EXPIRED): log in again');
      await context.close();
    });
  });
});
