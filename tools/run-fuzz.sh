#!/bin/sh
# Run each libFuzzer target for N seconds, starting from its committed corpus;
# new interesting inputs go to build/libfuzzer/corpus-NAME (not committed).
set -u
build=$1; secs=$2; shift 2
rc=0
for n in "$@"; do
	work=$build/corpus-$n
	mkdir -p "$work"
	echo "fuzz: $n for ${secs}s" >&2
	"$build/fuzz_$n" -max_total_time="$secs" -max_len=65536 \
		-artifact_prefix="$build/crash-$n-" "$work" "tests/fuzz/corpus/$n" \
		>"$build/fuzz-$n.log" 2>&1 || { echo "fuzz: $n FAILED, see $build/fuzz-$n.log" >&2; rc=1; }
	tail -n 2 "$build/fuzz-$n.log" >&2
done
exit $rc
