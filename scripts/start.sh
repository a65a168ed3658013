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
# - --heap-growing-percent=20: after each full GC, V8 lets the old generation grow to 1.2 x what survived (at
#   least +8 MiB) before the next one, instead of up to 4 x on a machine with this much memory. Under `viewer`
#   load the live heap is ~30 MiB: the old generation went to ~125 MiB between full GCs (peak RSS 190-230
#   MiB), now to ~40 (peak 133-143 MiB). It caps nothing (a heap that really grows keeps growing; no
#   out-of-memory crash it would not have had): full GCs only come more often, ~1 per s under that load,
#   ~25 ms each: server CPU per request typically +5 % (0 to +29 % in noisy side-by-side runs; see the README's
#   Benchmarks).
set -e
cd "$(dirname "$0")/.."
node scripts/build.mjs --if-changed
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_ARENA_MAX
exec node --max-semi-space-size=2 --heap-growing-percent=20 "$@" dist/main.mjs
