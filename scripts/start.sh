#!/bin/sh
# `npm start`: builds dist/ when a source changed (see scripts/build.mjs), then replaces this shell with the
# server, so that signals reach it directly. The one place where the server's process settings live: the
# benchmarks (bench/http.ts) and the start-up tests launch this script too, so what they measure is what
# `npm start` runs. Arguments are passed to node before the entry (`npm start -- --cpu-prof`).
#
# - MALLOC_ARENA_MAX=1 (unless the environment sets it): one glibc arena instead of one per thread, so each
#   libuv thread that hashed a password does not keep its own 19 MiB (see the README's Benchmarks).
# - --max-semi-space-size=2: V8's young generation at most 2 x 2 MiB instead of 2 x 16 MiB; see the README's
#   Benchmarks for what it saves and what it costs per request.
set -e
cd "$(dirname "$0")/.."
node scripts/build.mjs --if-changed
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_ARENA_MAX
exec node --max-semi-space-size=2 "$@" dist/main.mjs
