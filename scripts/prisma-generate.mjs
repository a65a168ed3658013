// `prisma generate` (postinstall, and `npm run prisma:generate`) without Prisma's native engines: generate never runs the schema engine, but
// the CLI wants its path, so any existing file will do. Migrations use the WASM engine instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let cli;
try {
  cli = require.resolve('prisma/build/index.js');
} catch {
  // The Prisma CLI is a devDependency. Without it this is a production install (`npm ci --omit=dev`, which runs
  // this as postinstall too): the generated client is already bundled into dist/ there, nothing to generate.
  process.stderr.write('prisma generate skipped: the Prisma CLI is not installed (a production install; dist/ holds the client)\n');
  process.exit(0);
}
const result = spawnSync(process.execPath, [cli, 'generate'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    // The pothos generator is a bin of @pothos/plugin-prisma; npm puts .bin on PATH, plain node does not.
    PATH: `${path.resolve('node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
