import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Integration tests drive real HTTP servers on one database per run: the embedded PostgreSQL on a
// temporary DATA_DIR by default, or a fresh database on the PostgreSQL server named by
// TEST_DATABASE_URL (test/helpers/global-setup.ts).
export default defineConfig({
  // graphql 16 has no `exports` map: Node loads its CJS build for Pothos and Yoga, Vite would pick
  // the .mjs one for our files, and two copies of graphql refuse each other's types.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
  },
});
