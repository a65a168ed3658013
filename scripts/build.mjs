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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

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
// Development dependencies that a command imports only when it runs, telling how to install them if they are
// missing: PGlite (27 MB, with its WebAssembly files beside it), for `npm run db:migrate-embedded` alone.
const LOADED_IF_INSTALLED = ['@electric-sql/pglite'];
const THIS_FILE = 'scripts/build.mjs'; // changing the build's options changes the bundle too
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

// GraphiQL's prebuilt assets: src/http/graphiql-bundle.ts imports them from @graphql-yoga/render-graphiql, a
// devDependency (17.5 MB installed). The build writes them gzipped to dist/graphiql/ (~2 MB) and bundles, in place
// of that module, one with the same exports that reads them there: the bytes served are the same.
const GRAPHIQL_BUNDLE = /[\\/]src[\\/]http[\\/]graphiql-bundle\.ts$/;
const GRAPHIQL_DIR = 'dist/graphiql';
const GRAPHIQL_EXPORTS = ['js', 'css', 'editorWorkerService', 'jsonWorker', 'graphqlWorker', 'favicon'];
const graphiqlAssets = {
  name: 'graphiql-assets',
  setup(build) {
    build.onLoad({ filter: GRAPHIQL_BUNDLE }, async () => {
      const require = createRequire(import.meta.url);
      const manifest = path.join(path.dirname(require.resolve('@graphql-yoga/render-graphiql')), '..', 'package.json');
      const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
      const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
      mkdirSync(path.join(ROOT, GRAPHIQL_DIR), { recursive: true });
      for (const name of GRAPHIQL_EXPORTS) {
        if (typeof bundle[name] !== 'string') throw new Error(`@graphql-yoga/render-graphiql/graphiql has no string export ${name}`);
        writeFileSync(path.join(ROOT, GRAPHIQL_DIR, `${name}.gz`), gzipSync(bundle[name], { level: 9 }));
      }
      const contents = `import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
const NAMES = ${JSON.stringify(GRAPHIQL_EXPORTS)};
const read = async (name) => [name, gunzipSync(await readFile(new URL(\`./graphiql/\${name}.gz\`, import.meta.url))).toString('utf8')];
export const graphiqlBundleVersion = () => ${JSON.stringify(version)};
export const loadGraphiQLBundle = async () => Object.fromEntries(await Promise.all(NAMES.map(read)));
`;
      return { contents, loader: 'js' };
    });
  },
};

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
  for (const name of GRAPHIQL_EXPORTS)
    if (!existsSync(path.join(ROOT, GRAPHIQL_DIR, `${name}.gz`))) return `${GRAPHIQL_DIR}/${name}.gz missing`;
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
    // Optional dependencies (the embedded PostgreSQL binaries) and LOADED_IF_INSTALLED stay external too: they are
    // looked up at run time, and may be absent.
    external: [...Object.keys(PACKAGE.dependencies), ...Object.keys(PACKAGE.optionalDependencies ?? {}), ...LOADED_IF_INSTALLED].flatMap(
      (name) => [name, `${name}/*`],
    ),
    // Bundled CommonJS (Prisma's runtime is CommonJS under Node's conditions) calls require() for Node's own
    // modules; an ES module has no require of its own, so the bundle makes one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [graphiqlAssets],
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
