import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { Config } from './config.ts';
import { closeFile } from './private-dir.ts';

/**
 * SECRET from configuration, or (for the embedded quick start) one generated on first start and
 * kept in DATA_DIR/secret.key, readable only by its owner. Production requires SECRET.
 */
export async function loadOrCreateSecret(config: Config, logger: Logger): Promise<string> {
  if (config.secret) return config.secret;
  const file = path.join(config.dataDir, 'secret.key');
  const existing = await readSecretFile(file);
  if (existing !== null) {
    if (await closeFile(file))
      logger.warn({ file }, 'secret.key was readable by other accounts: made it private (0600); consider it leaked');
    return existing;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  // Written whole under a temporary name, then linked into place: a crash never leaves a short
  // secret.key behind, and of two instances starting at once the first link wins.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readSecretFile(file)) as string;
  } finally {
    await unlink(temporary);
  }
  logger.warn({ file }, 'SECRET is not set: generated one and stored it in the data directory');
  return secret;
}

async function readSecretFile(file: string): Promise<string | null> {
  let content: string;
  try {
    content = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (content.length < 32) throw new Error(`${file} holds no usable secret (fewer than 32 characters): restore it, or set SECRET`);
  return content;
}
