// Bundles the server and the operator commands into dist/*.mjs: our own TypeScript, the generated Prisma
// client and its runtime included, while the run-time dependencies stay external in node_modules. So the production install needs
// neither the Prisma CLI, tsx nor esbuild (`npm ci --omit=dev` + dist/, see the README's Deploy section),
// and `npm start` runs plain JavaScript: faster to start, lighter in memory than compiling at run time.
//
// `--if-changed` (what `npm start` and the operator scripts run) builds only when a source differs from the
// one the bundle was built from: dist/build-inputs.json records the SHA-256 of each of our files esbuild read,
// and of package.json and package-lock.json (what is bundled, and in which versions).
// Comparing hashes costs a few milliseconds and never loads esbuild, which a production install lacks.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(ROOT, 'dist/build-inputs.json');
const ENTRIES = {
  main: 'src/main.ts',
  'admin-create': 'scripts/admin-create.ts',
  'keys-rotate': 'scripts/keys-rotate.ts',
  'db-migrate': 'scripts/db-migrate.ts',
  'db-migrate-embedded': 'scripts/db-migrate-embedded.ts',
  'users-list': 'scripts/users-list.ts',
  'users-suspend': 'scripts/users-suspend.ts',
  'sessions-revoke': 'scripts/sessions-revoke.ts',
  'audit-tail': 'scripts/audit-tail.ts',
};
const THIS_FILE = 'scripts/build.mjs'; // changing the build's options changes the bundle too
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const sha256 = (file) =>
  createHash('sha256')
    .update(readFileSync(path.join(ROOT, file)))
    .digest('hex');

/** Why a build is needed, or null when every bundle exists and every recorded input is unchanged. */
function staleReason() {
  if (!existsSync(STAMP)) return 'no build yet';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'unreadable build record';
  }
  for (const name of Object.keys(ENTRIES)) if (!existsSync(path.join(ROOT, `dist/${name}.mjs`))) return `dist/${name}.mjs missing`;
  for (const [file, hash] of Object.entries(stamp.inputs ?? {})) {
    if (!existsSync(path.join(ROOT, file)) || sha256(file) !== hash) return `${file} changed`;
  }
  return null;
}

async function build(esbuild) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(ENTRIES).map(([out, input]) => ({ out, in: input })),
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // No code splitting: paths taken from import.meta.url (../prisma/migrations) must stay those of an entry in dist/.
    // What package.json lists as dependencies is installed in production and stays external; anything else
    // our code imports (the Prisma client runtime, @pothos/plugin-prisma) is a devDependency bundled in here.
    external: Object.keys(PACKAGE.dependencies).flatMap((name) => [name, `${name}/*`]),
    // Bundled CommonJS (Prisma's runtime is CommonJS under Node's conditions) calls require() for Node's own
    // modules; an ES module has no require of its own, so the bundle makes one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  // Bundled packages are recorded by package-lock.json and the generated client by the schema it comes from,
  // not file by file: a production install has neither, and is checked against what it has.
  const ours = Object.keys(result.metafile.inputs).filter((file) => !/(^|\/)(node_modules|src\/generated)\//.test(file));
  const recorded = [...ours, THIS_FILE, 'package.json', 'package-lock.json', 'prisma/schema.prisma'];
  const inputs = Object.fromEntries(recorded.sort().map((file) => [file, sha256(file)]));
  writeFileSync(STAMP, `${JSON.stringify({ inputs }, null, 1)}\n`);
}

// esbuild is a devDependency, absent from a production install; loaded only when there is something to build.
const loadEsbuild = () => import('esbuild').catch(() => null);
if (!process.argv.includes('--if-changed')) {
  const esbuild = await loadEsbuild();
  if (!esbuild) throw new Error('esbuild is not installed: `npm ci` (with dev dependencies) first');
  await build(esbuild);
} else {
  const reason = staleReason();
  const esbuild = reason ? await loadEsbuild() : null;
  if (reason && esbuild) {
    process.stderr.write(`Building dist/ (${reason})\n`);
    await build(esbuild);
  } else if (reason && existsSync(path.join(ROOT, 'dist/main.mjs'))) {
    // A production install (npm ci --omit=dev) runs the bundle it was given; say so if the sources moved on.
    process.stderr.write(`Warning: dist/ does not match the sources (${reason}) and esbuild is not installed: running dist/ as built.\n`);
  } else if (reason) {
    process.stderr.write(
      'dist/ is missing and esbuild is not installed (a production install): build it with `npm ci && npm run build` first; see the README, Deploy.\n',
    );
    process.exit(1);
  }
}
