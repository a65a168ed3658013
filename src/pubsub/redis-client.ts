// The Redis client, for the dynamic imports that load it only with REDIS_URL (src/pubsub/pubsub.ts,
// src/modules/rate-limits/limiter-store.ts). Imported through this ES module, not as `import('@redis/client')`:
// @redis/client is CommonJS, and in a bundle built with code splitting (scripts/build.mjs) a dynamic import() of a
// CommonJS package yields only its `default` (evanw/esbuild#3245), so `createClient` was undefined in dist/ and the
// server did not start with REDIS_URL. A static import here gets esbuild's usual CommonJS interop.
export { createClient } from '@redis/client';
