#!/usr/bin/env bash
# The whole test suite: native unit tests (plain, ASan, valgrind, bounded fuzzing), then the node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f native/test/Makefile ]; then make -s -C native/test check; fi
node --test --test-concurrency=1 dist/test/*.test.js
