import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/build.mjs as a deploy runs it: in place, possibly beside a server still running an older build.
const ROOT = path.resolve(import.meta.dirname, '..');
const OLD_CHUNK = path.join(ROOT, 'dist/chunk-TESTOLDBUILD.mjs');
const SUPERSEDED = path.join(ROOT, 'dist/superseded.json');
const build = (...args: string[]) =>
  execFileSync(process.execPath, ['scripts/build.mjs', ...args], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });

afterAll(() => rmSync(OLD_CHUNK, { force: true }));

describe('building dist/ in place', { timeout: 120_000 }, () => {
  it('keeps the chunks of an older build a running server may still import, and removes them a day after they were superseded', () => {
    mkdirSync(path.dirname(OLD_CHUNK), { recursive: true });
    writeFileSync(OLD_CHUNK, 'export const lazy = 1;\n');
    const threeDaysAgo = new Date(Date.now() - 3 * 86400_000);
    utimesSync(OLD_CHUNK, threeDaysAgo, threeDaysAgo); // written by the build the running server started from
    build();
    expect(existsSync(OLD_CHUNK)).toBe(true);
    const recorded = JSON.parse(readFileSync(SUPERSEDED, 'utf8')) as Record<string, number>;
    expect(Date.now() - recorded['chunk-TESTOLDBUILD.mjs']!).toBeLessThan(60_000);

    // A day later the next build removes it.
    writeFileSync(SUPERSEDED, JSON.stringify({ ...recorded, 'chunk-TESTOLDBUILD.mjs': Date.now() - 25 * 3600_000 }));
    build();
    expect(existsSync(OLD_CHUNK)).toBe(false);
    expect(JSON.parse(readFileSync(SUPERSEDED, 'utf8'))).not.toHaveProperty('chunk-TESTOLDBUILD.mjs');
  });

  it('takes over the lock an interrupted build left behind', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.pid'], { stdio: 'ignore' }).pid!;
    const lock = path.join(ROOT, 'dist.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(path.join(lock, 'pid'), `${gone}\n`);
    build(); // waited for the lock to age (two minutes) before: past execFileSync's timeout
    expect(existsSync(lock)).toBe(false);
  });
});
