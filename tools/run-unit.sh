#!/bin/sh
# Run the cmocka unit-test programs given as arguments; summarise.
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failing unit programs:$failed" >&2; exit 1; }
