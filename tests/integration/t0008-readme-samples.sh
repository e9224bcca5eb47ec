#!/bin/bash
# README's sample blocks match what wdt prints today on the fixtures they
# name (tools/readme-samples); the checker itself catches a stale line.
. "$(dirname "$0")/lib.sh"
need python3
expect_exit 0 "README samples match current output" "$TOP/tools/readme-samples"
check "  ... every block was checked" grep -Eq '^[1-9][0-9]* sample blocks checked, 0 problems$' <<<"$OUT"
# On a mismatch the checker's report (stdout) says which line and why.
grep -q ', 0 problems$' <<<"$OUT" || sed 's/^/# /' <<<"$OUT"
# The checker can fail: a copy of README.md with one stale line each in an
# abridged block and in a whole one.
sed 's/^  Found by:        idt$/  Found by:        a stale guess/; s/^Length:  32$/Length:  33/' \
	"$TOP/README.md" >"$TMP/README.md"
check "  ... (the copy has the stale lines)" bash -c 'grep -q "a stale guess" "$1" && grep -q "^Length:  33" "$1"' _ "$TMP/README.md"
expect_exit 1 "stale lines are found" "$TOP/tools/readme-samples" --readme "$TMP/README.md"
check "  ... named, with what to do" bash -c 'grep -q "no output line matches .*a stale guess" <<<"$1" && grep -q "wdt read guest.elf 0x100000 32: output differs" <<<"$1" && grep -q "run make readme-samples" <<<"$1"' _ "$OUT"
expect_exit 0 "--update fixes them" "$TOP/tools/readme-samples" --readme "$TMP/README.md" --update
check "  ... back to the real lines" cmp -s "$TOP/README.md" "$TMP/README.md"
done_testing
