import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { loadConfig } from './config.ts';
import { loadOrCreateSecret } from './secret.ts';

describe('the generated secret', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-secret-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const logger = createLogger('silent');

  it('is created once, owner-only, and the same for instances starting together', async () => {
    const config = loadConfig({ DATA_DIR: dir });
    const secrets = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateSecret(config, logger)));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]!.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, 'secret.key');
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect((await readFile(file, 'utf8')).trim()).toBe(secrets[0]);
  });

  it('refuses a damaged secret.key instead of deriving keys from it', async () => {
    await writeFile(path.join(dir, 'secret.key'), 'short\n');
    await expect(loadOrCreateSecret(loadConfig({ DATA_DIR: dir }), logger)).rejects.toThrow(/no usable secret/);
  });
});
