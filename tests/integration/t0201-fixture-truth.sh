#!/bin/bash
# The fixture factory tells the truth: for every fixture `make check` uses,
# tools/fixture-check (its own raw/ELF readers and page walker, llvm-pdbutil,
# libkdumpfile) compares what QEMU dumped with truth.json. See tools/README.md.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip_all "qemu-system-x86_64 not installed"
command -v lld-link >/dev/null 2>&1 || skip_all "lld-link not installed"
FIXTURE_CHECK=${FIXTURE_CHECK:-$TOP/tools/fixture-check}

for name in $("$TOP/tools/fixtures.sh" --list check); do
	if ! dir=$("$TOP/tools/fixtures.sh" "$name" 2>"$TMP/err"); then
		not_ok "$name: fixture built"; sed 's/^/# /' "$TMP/err"; continue
	fi
	ok "$name: fixture built"
	"$FIXTURE_CHECK" "$dir" >"$TMP/check" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		PASS:*) ok "$name: ${line#PASS: }" ;;
		SKIP:*) ok "$name: ${line#SKIP: } # SKIP" ;;
		FAIL:*) not_ok "$name: ${line#FAIL: }" ;;
		*) echo "# $line" ;;
		esac
	done <"$TMP/check"
	check "$name: fixture-check exit status" [ $rc -eq 0 ]
	# A checker that says nothing has checked nothing.
	check "$name: fixture-check compared something ($(grep -c '^PASS:' "$TMP/check") PASS lines)" \
		grep -q '^PASS:' "$TMP/check"
done
done_testing
