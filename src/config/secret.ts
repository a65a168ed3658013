import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { Config } from './config.ts';

/**
 * SECRET from configuration, or (for the embedded quick start) one generated on first start and
 * kept in DATA_DIR/secret.key, readable only by its owner. Production requires SECRET.
 */
export async function loadOrCreateSecret(config: Config, logger: Logger): Promise<string> {
  if (config.secret) return config.secret;
  const file = path.join(config.dataDir, 'secret.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw error;
  }
  logger.warn({ file }, 'SECRET is not set: generated one and stored it in the data directory');
  return secret;
}
