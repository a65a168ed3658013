import { readFileSync } from 'node:fs';
import { type APQStore, useAPQ } from '@graphql-yoga/plugin-apq';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/config.ts';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';

// Two ways to send an operation by id (Apollo's `extensions.persistedQuery.sha256Hash`):
// - automatic persisted queries (APQ): anyone may register a document by sending it once with
//   its SHA-256; later requests send the hash alone. The plugin checks that the hash is the
//   document's, so an entry cannot be poisoned; the cache is an LRU bounded in bytes, so
//   registering junk only evicts entries (whose clients then resend the document once). Every
//   document is still parsed, validated and limited on every request, as if sent in full.
// - trusted documents (PERSISTED_OPERATIONS_ONLY): only the operations of a manifest built by
//   GraphQL Code Generator's client preset run; nothing can be registered, no document is read.

const error = (code: ErrorCode, status: number) => createGraphQLError(ERROR_CODES[code], { extensions: { code, http: { status } } });

/** APQ store bounded by the bytes of its hashes and documents. */
export function createApqStore(maxBytes: number): APQStore {
  const cache = new LRUCache<string, string>({ maxSize: maxBytes, sizeCalculation: (query, hash) => query.length + hash.length });
  return {
    get: (hash) => cache.get(hash),
    set: (hash, query) => {
      // A document larger than the whole cache is served, just not kept.
      if (query.length + hash.length <= maxBytes) cache.set(hash, query);
    },
  };
}

/**
 * The manifest written by `@graphql-codegen/client-preset` with `persistedDocuments`: a JSON
 * object from each operation's hash to its document text. Read once at start; a missing or
 * malformed file stops the start with a message naming it.
 */
export function loadManifest(file: string): ReadonlyMap<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new Error(`PERSISTED_OPERATIONS_MANIFEST: cannot read ${file} as JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`PERSISTED_OPERATIONS_MANIFEST: ${file} is not an object of hash -> document`);
  }
  const entries = Object.entries(parsed);
  for (const [hash, document] of entries) {
    if (!/^[A-Za-z0-9_:.-]{1,128}$/.test(hash) || typeof document !== 'string' || document.length === 0) {
      throw new Error(`PERSISTED_OPERATIONS_MANIFEST: ${file} has an entry that is not hash -> document text`);
    }
  }
  return new Map(entries as [string, string][]);
}

export function usePersistedQueries(config: Config['persistedOperations']): Plugin[] {
  if (config.only && config.manifest) {
    const manifest = loadManifest(config.manifest);
    return [
      usePersistedOperations({
        getPersistedOperation: (id) => manifest.get(id) ?? null,
        allowArbitraryOperations: false,
        customErrors: {
          notFound: () => error('PERSISTED_OPERATION_NOT_FOUND', 400),
          keyNotFound: () => error('PERSISTED_OPERATIONS_ONLY', 400),
          persistedQueryOnly: () => error('PERSISTED_OPERATIONS_ONLY', 400),
        },
      }),
    ];
  }
  if (config.automatic) return [useAPQ({ store: createApqStore(config.apqCacheMaxBytes) })];
  // APQ off: tell Apollo's link so, and it stops sending hashes (instead of "Must provide query").
  return [
    {
      onParams({ params }) {
        if (params.query == null && params.extensions?.persistedQuery != null) throw error('PERSISTED_QUERY_NOT_SUPPORTED', 400);
      },
    },
  ];
}
