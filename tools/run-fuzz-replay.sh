#!/bin/sh
# Replay every fuzz target over its corpus (tests/fuzz/corpus/NAME) and any
# inputs it generates itself; a crash or sanitizer report fails the check.
set -u
build=$1; shift
pass=0; fail=0
for n in "$@"; do
	corpus=tests/fuzz/corpus/$n
	mkdir -p "$corpus"
	if "$build/fuzz/replay_$n" "$corpus"; then pass=$((pass + 1)); else
		echo "fuzz replay failed: $n" >&2; fail=$((fail + 1)); fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
