import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// Review: scripts/build.mjs prunes a chunk it did not write once the chunk *file* is a day old. A server
// started from a build made days ago still loads some chunks lazily; a deploy that builds in place
// before restarting it removes them at once (their mtime is the old build's), not a day later.
it('keeps the chunks of a build older than a day that a running server may still import', () => {
  const root = path.resolve(import.meta.dirname, '..');
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  const old = path.join(root, 'dist/chunk-REVIEWOLD.mjs');
  writeFileSync(old, 'export const lazy = 1;\n');
  const threeDaysAgo = new Date(Date.now() - 3 * 86400_000);
  utimesSync(old, threeDaysAgo, threeDaysAgo); // written by the build the running server started from
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'pipe' });
  expect(existsSync(old)).toBe(true);
}, 120_000);
