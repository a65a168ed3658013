import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// GraphiQL's prebuilt assets, as @graphql-yoga/render-graphiql ships them. That package is a development
// dependency (17.5 MB installed: the same 9 MB bundle as CommonJS and as ESM): the build (scripts/build.mjs)
// writes the assets gzipped to dist/graphiql/ and puts in place of this module one that reads them there,
// with the same two exports. So what is served is the same either way, and a production install does without it.

/** The bundle's exports: strings, as @graphql-yoga/render-graphiql/graphiql defines them. */
export interface GraphiQLBundle {
  js: string;
  css: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
  favicon: string;
}

/** The assets (~9 MB): loaded when someone first opens GraphiQL, not before. */
export async function loadGraphiQLBundle(): Promise<GraphiQLBundle> {
  return import('@graphql-yoga/render-graphiql/graphiql');
}

/** The bundle's version, read without loading the bundle itself. */
export function graphiqlBundleVersion(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@graphql-yoga/render-graphiql');
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}
