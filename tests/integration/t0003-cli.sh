#!/bin/bash
# The command line: help, version, usage errors (exit 2), argv[0] links,
# and that --help, the man pages and the command list agree.
. "$(dirname "$0")/lib.sh"
need mandoc col

expect_exit 0 "wdt --help" "$WDT" --help
check "  ... lists info" grep -q '^  info ' <<<"$OUT"
expect_exit 0 "wdt --version" "$WDT" --version
check "  ... prints a version" grep -Eq '^wdt [0-9]+\.[0-9]+\.[0-9]+$' <<<"$OUT"
expect_exit 2 "no command" "$WDT"
expect_exit 2 "unknown command with a suggestion" "$WDT" inof x
check "  ... did you mean info" grep -q "did you mean 'info'" <<<"$ERR"
expect_exit 2 "unknown option with a suggestion" "$WDT" info --jsno x
check "  ... did you mean --json" grep -q "did you mean '--json'" <<<"$ERR"
expect_exit 2 "abbreviated option refused" "$WDT" info --js x
expect_exit 2 "missing argument" "$WDT" read x
expect_exit 2 "extra argument" "$WDT" info a b
expect_exit 2 "option missing its value" "$WDT" info --format
expect_exit 2 "unknown --format" "$WDT" info --format=nope "$TOP/tests/fuzz/corpus/elf/qemu72-4g-i386.elf"
expect_exit 2 "bad number" "$WDT" read "$TOP/tests/fuzz/corpus/elf/qemu72-4g-i386.elf" 12q
# With --json anywhere on the line, parse errors are the JSON error too.
jerr() { python3 -c 'import json,sys; e=json.load(sys.stdin)["error"]; print(e["status"], e["exit_code"])' <<<"$OUT"; }
expect_exit 2 "unknown option before --json" "$WDT" info --bogus --json x
check "  ... JSON usage error" test "$(jerr)" = "usage 2"
check "  ... and the line on stderr" grep -q "unknown option '--bogus'" <<<"$ERR"
expect_exit 2 "option missing its value, --json" "$WDT" info --json --format
check "  ... JSON usage error" test "$(jerr)" = "usage 2"
expect_exit 2 "unknown short option, --json" "$WDT" read -Z --json x 0
check "  ... JSON usage error" test "$(jerr)" = "usage 2"
expect_exit 2 "extra argument, --json" "$WDT" info --json a b
check "  ... JSON usage error" test "$(jerr)" = "usage 2"
expect_exit 2 "no JSON without --json" "$WDT" info --bogus x
check "  ... stdout empty" test -z "$OUT"
expect_exit 0 "wdt -V" "$WDT" -V
check "  ... prints the version" grep -Eq '^wdt [0-9]+\.[0-9]+\.[0-9]+$' <<<"$OUT"
# Short options bundle as with getopt(3); the last may take a value.
SEED="$TOP/tests/fuzz/corpus/elf/qemu72-4g-i386.elf"
expect_exit 0 "separate -f raw" "$WDT" info -f raw "$SEED"
sep=$OUT
expect_exit 0 "value glued: -fraw" "$WDT" info -fraw "$SEED"
check "  ... same output" test "$sep" = "$OUT"
expect_exit 2 "bundle -vf VALUE reaches -f" "$WDT" find-kernel -vf nope "$SEED"
check "  ... -f got 'nope'" grep -q "unknown format 'nope'" <<<"$ERR"
expect_exit 2 "bundle -vfVALUE reaches -f" "$WDT" find-kernel -vfnope "$SEED"
check "  ... -f got 'nope'" grep -q "unknown format 'nope'" <<<"$ERR"
expect_exit 3 "bundle -qvo FILE parses (then the input is missing)" \
	"$WDT" convert -qvo "$TMP/b.dmp" "$TMP/missing.elf"
check "  ... the error is about the input" grep -q "missing.elf: no such file" <<<"$ERR"
check "  ... no output left" test ! -e "$TMP/b.dmp"
expect_exit 2 "unknown letter inside a bundle" "$WDT" convert -qz -o "$TMP/b.dmp" "$SEED"
check "  ... names -z and the bundle" grep -q "unknown option '-z' in '-qz'" <<<"$ERR"
expect_exit 2 "bundle ending in an option without its value" "$WDT" convert -qo
check "  ... says -o needs a value" grep -q "option '-o' needs a value" <<<"$ERR"
expect_exit 0 "-hV: help wins (first)" "$WDT" info -hV
check "  ... help text" grep -q '^usage: wdt info' <<<"$OUT"
expect_exit 0 "--list-formats" "$WDT" info --list-formats
check "  ... lists elf and raw" bash -c 'grep -q "^  elf " <<<"$1" && grep -q "^  raw " <<<"$1"' _ "$OUT"

for c in $("$WDT" --list-commands); do
	expect_exit 0 "wdt $c --help" "$WDT" "$c" --help
	h1=$OUT
	expect_exit 0 "wdt $c --version" "$WDT" "$c" --version
	check "  ... the version" test "$OUT" = "$("$WDT" --version)"
	expect_exit 0 "wdt $c -V" "$WDT" "$c" -V
	check "  ... the version" test "$OUT" = "$("$WDT" --version)"
	expect_exit 0 "wdt help $c" "$WDT" help "$c"
	check "  ... same text as --help" test "$h1" = "$OUT"
	ln -sf "$WDT" "$TMP/wdt-$c"
	expect_exit 0 "wdt-$c --help (argv[0] link)" "$TMP/wdt-$c" --help
	check "  ... same text" test "$h1" = "$OUT"
	check "man page docs/wdt-$c.1 exists" test -f "$TOP/docs/wdt-$c.1"
	# Every option --help lists is documented in the rendered man page.
	mandoc -T ascii "$TOP/docs/wdt-$c.1" | col -b >"$TMP/man-$c.txt"
	for o in $(grep -Eo -- '--[a-z][a-z-]+' <<<"$h1" | sort -u); do
		check "  ... man page wdt-$c documents $o" grep -q -- "$o" "$TMP/man-$c.txt"
	done
	check "wdt.1 mentions $c" grep -q "wdt-$c" "$TOP/docs/wdt.1"
done
for m in "$TOP"/docs/*.1; do
	check "mandoc lint $(basename "$m")" bash -c "mandoc -T lint -W warning '$m' >/dev/null 2>&1"
done
done_testing
