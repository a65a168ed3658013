import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/build.mjs as a deploy runs it: in place, possibly beside a server still running an older build.
const ROOT = path.resolve(import.meta.dirname, '..');
// A name of its own per run: another run's build (a second suite in the same checkout) prunes only its own.
const OLD_CHUNK_NAME = `chunk-TESTOLD${randomBytes(4).toString('hex').toUpperCase()}.mjs`;
const OLD_CHUNK = path.join(ROOT, 'dist', OLD_CHUNK_NAME);
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
    expect(Date.now() - recorded[OLD_CHUNK_NAME]!).toBeLessThan(60_000);

    // A day later the next build removes it.
    writeFileSync(SUPERSEDED, JSON.stringify({ ...recorded, [OLD_CHUNK_NAME]: Date.now() - 25 * 3600_000 }));
    build();
    expect(existsSync(OLD_CHUNK)).toBe(false);
    expect(Object.keys(JSON.parse(readFileSync(SUPERSEDED, 'utf8')))).not.toContain(OLD_CHUNK_NAME);
  });

  it('takes over the lock an interrupted build left behind', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.pid'], { stdio: 'ignore' }).pid!;
    const lock = path.join(ROOT, 'dist.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(path.join(lock, 'pid'), `${gone}\n`);
    build(); // waited for the lock to age (two minutes) before: past execFileSync's timeout
    // Finished, and the dead builder's lock is gone (another build, of a test running beside, may hold a new one).
    const holder = existsSync(path.join(lock, 'pid')) ? Number(readFileSync(path.join(lock, 'pid'), 'utf8')) : null;
    expect(holder).not.toBe(gone);
  });
});
