// Bundles the server's own TypeScript into dist/main.mjs (dependencies stay in node_modules), so
// `npm start` runs plain JavaScript: faster to start, lighter in memory than compiling at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
