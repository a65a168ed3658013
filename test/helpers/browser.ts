import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Browser tests need Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). A
 * machine without it skips them, saying so; CI never does (it fails instead).
 */
export const chromiumMissing = !existsSync(CHROMIUM_PATH) && process.env.CI !== 'true';
if (chromiumMissing) {
  process.stderr.write(`Browser tests skipped: ${CHROMIUM_PATH} is not installed (apt-get install -y chromium).\n`);
}

/** Screenshots and other artefacts for reviewers (gitignored). */
export const TEST_OUTPUT_DIR = path.resolve(import.meta.dirname, '../../test-output');

export async function launchChromium(): Promise<Browser> {
  await mkdir(TEST_OUTPUT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // No sandbox as root in a container; nothing in the background that could reach the internet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface NetworkLog {
  /** Every URL the pages of the context requested, workers included. */
  requests: string[];
  /** Console errors, uncaught exceptions and CSP violations. */
  errors: string[];
}

/**
 * Records what a context's pages fetch and complain about, and refuses any request to a host
 * other than the allowed ones (so a regression shows as a failed request, not a slow test).
 */
export async function watchContext(context: BrowserContext, allowedHosts: string[]): Promise<NetworkLog> {
  const log: NetworkLog = { requests: [], errors: [] };
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || allowedHosts.includes(url.host)) return route.fallback();
    return route.abort('blockedbyclient');
  });
  context.on('request', (request) => log.requests.push(request.url()));
  context.on('console', (message) => {
    if (message.type() === 'error') log.errors.push(`console: ${message.text()}`);
  });
  context.on('weberror', (error) => log.errors.push(`page error: ${error.error().message}`));
  return log;
}
