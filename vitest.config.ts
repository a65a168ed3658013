import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
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
    // Vitest's default is one worker fewer than the machine has cores: one on a 2-core machine, where
    // the files then run one after another although most of their time is spent waiting (on the
    // servers they start, on timers, on PostgreSQL). Test files are written to share the run's
    // database (unique addresses, their own SMTP catcher), so as many workers as cores, and at least
    // two: on the 2-core machine the PostgreSQL run took 5m45s instead of ~10 min.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
