#!/usr/bin/env bash
# The whole test suite, layer by layer: unit (native and node: no root, no namespaces, no servers), then the native
# sanitizer/valgrind/fuzz/tshark checks, then the system tests (namespaces, tshark, real databases, chromium).
# `bash test/run.sh unit` runs the first layer only (npm run test:unit).
set -euo pipefail
cd "$(dirname "$0")/.."
layer="${1:-all}"
have_native_tests=0
if [ -f native/test/Makefile ]; then have_native_tests=1; fi
if [ "$have_native_tests" = 1 ]; then make -s -C native/test unit-report; fi
node --test --test-concurrency=1 dist/test/unit/*.test.js
if [ "$layer" = unit ]; then exit 0; fi
if [ "$have_native_tests" = 1 ]; then make -s -C native/test check; fi
node --test --test-concurrency=1 dist/test/system/*.test.js
