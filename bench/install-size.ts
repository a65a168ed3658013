// npm run bench:install — the production install, measured (`npm run bench` prints it as one row of its table).
// package.json and package-lock.json are copied to a temporary directory and installed there as the README's
// Deploy section says: `npm ci --omit=dev` (the embedded default: the PostgreSQL binaries are optional
// dependencies, installed for this machine), then `npm prune --omit=dev --omit=optional` (a deploy on an external
// PostgreSQL). node_modules is summed as `du` does (allocated blocks), each time with its largest packages.
// npm runs from its cache (--offline), from the registry when the cache lacks something; --ignore-scripts, so what
// install scripts add (argon2's build/, ~0.4 MB) is not counted. dist/ is measured where it is.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const MiB = 1024 * 1024;

export interface InstallSize {
  /** Bytes allocated on disk (as `du`), node_modules as a whole. */
  bytes: number;
  /** Per package name, every installed copy summed (a package nested in several places counts each time). */
  packages: { name: string; bytes: number; copies: number }[];
}

export interface ProductionInstall {
  /** `npm ci --omit=dev`: the embedded default. */
  embedded: InstallSize;
  /** The same without the optional dependencies: a deploy on an external PostgreSQL. */
  postgresql: InstallSize;
  /** dist/ as built here (the bundle the install runs). */
  distBytes: number;
  /** Per bundle in dist/, the packages it imports that `npm ci --omit=dev` did not install. */
  missing: Record<string, string[]>;
  /** Per bundle, the packages it loads only on the path that uses them (dynamic import, require) and the install lacks. */
  optionalMissing: Record<string, string[]>;
  /** devDependencies that the production tree holds anyway (brought by a run-time dependency). */
  devInTree: string[];
  seconds: number;
}

const NPM_FLAGS = ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];

async function npm(cwd: string, args: string[]): Promise<void> {
  try {
    await run('npm', [...args, '--offline'], { cwd });
  } catch {
    await run('npm', [...args, '--prefer-offline'], { cwd }); // the cache lacks something: the registry fills it in
  }
}

/** Disk usage of a tree, attributed to the innermost package each file belongs to. */
async function measure(nodeModules: string): Promise<InstallSize> {
  const byName = new Map<string, { bytes: number; copies: Set<string> }>();
  const seen = new Set<string>(); // hard links count once, as du counts them
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      const stat = await lstat(file);
      const key = `${stat.dev}:${stat.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const bytes = stat.blocks * 512;
      total += bytes;
      const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/@.][^/]*))(?:\/|$)/.exec(path.relative(path.dirname(nodeModules), file));
      if (match) {
        const [, copy, name] = match as unknown as [string, string, string];
        const entryForName = byName.get(name) ?? { bytes: 0, copies: new Set<string>() };
        entryForName.bytes += bytes;
        entryForName.copies.add(copy);
        byName.set(name, entryForName);
      }
      if (entry.isDirectory()) await walk(file);
    }
  };
  await walk(nodeModules);
  const packages = [...byName].map(([name, { bytes, copies }]) => ({ name, bytes, copies: copies.size }));
  packages.sort((a, b) => b.bytes - a.bytes);
  return { bytes: total, packages };
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += (await lstat(file)).blocks * 512;
    if (entry.isDirectory()) total += await treeBytes(file);
  }
  return total;
}

/**
 * Packages (by name) that each dist/*.mjs loads from node_modules, as the build recorded them from esbuild's
 * metafile (dist/build-inputs.json): `static` ones are needed to load the file at all, `whenUsed` ones (dynamic
 * import(), require()) only on the path that uses them, some of them only if installed.
 */
async function distImports(): Promise<Record<string, { static: Set<string>; whenUsed: Set<string> }>> {
  const stamp = JSON.parse(await readFile(path.join(ROOT, 'dist/build-inputs.json'), 'utf8')) as {
    imports?: Record<string, { static: string[]; whenUsed: string[] }>;
  };
  const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
  return Object.fromEntries(
    Object.entries(stamp.imports ?? {}).map(([file, i]) => [
      file,
      { static: new Set(i.static.map(packageOf)), whenUsed: new Set(i.whenUsed.map(packageOf)) },
    ]),
  );
}

export async function measureProductionInstall(): Promise<ProductionInstall> {
  const started = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-install-'));
  try {
    for (const file of ['package.json', 'package-lock.json']) await copyFile(path.join(ROOT, file), path.join(dir, file));
    await npm(dir, ['ci', ...NPM_FLAGS]);
    const embedded = await measure(path.join(dir, 'node_modules'));
    const installed = (name: string) => existsSync(path.join(dir, 'node_modules', name, 'package.json'));
    const imports = await distImports().catch(() => ({}));
    const missing = Object.fromEntries(Object.entries(imports).map(([file, i]) => [file, [...i.static].filter((n) => !installed(n))]));
    const optionalMissing = Object.fromEntries(
      Object.entries(imports).map(([file, i]) => [file, [...i.whenUsed].filter((n) => !installed(n))]),
    );
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const devInTree = Object.keys(manifest.devDependencies).filter(installed);
    await npm(dir, ['prune', ...NPM_FLAGS, '--omit=optional']);
    const postgresql = await measure(path.join(dir, 'node_modules'));
    const distBytes = await treeBytes(path.join(ROOT, 'dist')).catch(() => 0);
    return { embedded, postgresql, distBytes, missing, optionalMissing, devInTree, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
export const topPackages = (size: InstallSize, n = 10) =>
  size.packages
    .slice(0, n)
    .map((p) => `${p.name} ${(p.bytes / MiB).toFixed(1)}${p.copies > 1 ? ` (${p.copies} copies)` : ''}`)
    .join(', ');

/** What a production install lacks that dist/ imports, and which development packages it holds anyway. */
export function dependencyCheck(result: ProductionInstall): string {
  const lacking = Object.entries(result.missing).filter(([, names]) => names.length > 0);
  const server = result.missing['main.mjs'];
  return [
    server === undefined
      ? 'dist/main.mjs not built: imports not checked'
      : server.length === 0
        ? `every package dist/main.mjs imports is installed ✓`
        : `dist/main.mjs imports packages the install lacks: ${server.join(', ')} ✗`,
    ...lacking.filter(([file]) => file !== 'main.mjs').map(([file, names]) => `dist/${file} imports, not installed: ${names.join(', ')} ✗`),
    `loaded only where used, and not installed (optional, or for development): ${
      [...new Set(Object.values(result.optionalMissing).flat())].sort().join(', ') || 'none'
    }`,
    `devDependencies in the production tree (brought by a run-time dependency): ${result.devInTree.join(', ') || 'none'}`,
  ].join('\n');
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('bench/install-size.ts')) {
  const result = await measureProductionInstall();
  for (const [label, command, size] of [
    ['embedded (default)', 'npm ci --omit=dev', result.embedded],
    ['external PostgreSQL', 'npm ci --omit=dev --omit=optional', result.postgresql],
  ] as const) {
    console.log(`${label}: \`${command}\` → node_modules ${mib(size.bytes)}, ${size.packages.length} packages`);
    console.log(`  largest (MiB): ${topPackages(size)}`);
  }
  console.log(`dist/ (the bundle, built here): ${mib(result.distBytes)}`);
  console.log(dependencyCheck(result));
  console.log(`(measured in ${result.seconds.toFixed(0)} s)`);
}
