#!/bin/bash
# Packaging: make install puts the binary, links, man pages (pointing at the
# installed docs), docs and shell completion under PREFIX/DESTDIR, and
# uninstall takes them away; man page footers do not say BSD; make honours
# CPPFLAGS from the command line; -Werror only with WERROR=1 (make check).
. "$(dirname "$0")/lib.sh"
set -o pipefail
: "${BUILD:?BUILD must point at the build directory}"
need make mandoc col
D=$TMP/dest
# A make of its own: under `make check` the parent's variables (WERROR=1)
# would reach it through MAKEFLAGS and hide what a plain build does.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u WERROR -u CHECK_WERROR \
	make --no-print-directory -C "$TOP" BUILD="$BUILD" WDT="$WDT" "$@"; }

expect_exit 0 "make install PREFIX=/usr DESTDIR=…" mk install PREFIX=/usr DESTDIR="$D"
check "  ... bin/wdt" test -x "$D/usr/bin/wdt"
# The installed program works, not just exists.
check "  ... bin/wdt --version prints the version" \
	grep -Eqx 'wdt [0-9]+\.[0-9]+\.[0-9]+' <<<"$("$D/usr/bin/wdt" --version)"
cmds=$("$WDT" --list-commands)
check "wdt --list-commands names commands" test -n "$cmds"
for c in $cmds; do
	check "  ... bin/wdt-$c -> wdt" test "$(readlink "$D/usr/bin/wdt-$c")" = wdt
	check "  ... bin/wdt-$c --help is wdt $c's help" grep -q "^usage: wdt $c" <<<"$("$D/usr/bin/wdt-$c" --help)"
	check "  ... man1/wdt-$c.1" test -f "$D/usr/share/man/man1/wdt-$c.1"
	check "  ... bash completion link wdt-$c" test -e "$D/usr/share/bash-completion/completions/wdt-$c"
done
check "  ... man1/wdt.1" test -f "$D/usr/share/man/man1/wdt.1"
for f in "$TOP"/docs/*.md; do
	check "  ... share/doc/wdt/$(basename "$f")" cmp -s "$f" "$D/usr/share/doc/wdt/$(basename "$f")"
done
check "  ... bash completion" cmp -s "$TOP/completion/wdt.bash" "$D/usr/share/bash-completion/completions/wdt"
check "  ... zsh completion" cmp -s "$TOP/completion/_wdt" "$D/usr/share/zsh/site-functions/_wdt"
for m in "$D"/usr/share/man/man1/*.1; do
	b=$(basename "$m")
	check "  ... $b: no docs/ left, only installed paths" bash -c '! grep -q "docs/[a-z-]*\.md" "$1"' _ "$m"
	for p in $(grep -o '/usr/share/doc/wdt/[A-Za-z0-9_-]*\.md' "$m" | sort -u); do
		check "  ... $b points at $p, which is installed" test -f "$D$p"
	done
	check "  ... $b lints clean" mandoc -T lint -W warning "$m"
	check "  ... $b footer does not say BSD" bash -c 'mandoc -T ascii "$1" | col -b | tail -n 1 | grep -qv BSD' _ "$m"
done
check "  ... some man page points at the installed json.md" grep -q '/usr/share/doc/wdt/json.md' "$D/usr/share/man/man1/wdt.1"
expect_exit 0 "make uninstall" mk uninstall PREFIX=/usr DESTDIR="$D"
check "  ... leaves no file behind" test -z "$(find "$D" -type f -o -type l)"

# Flags: a command-line CPPFLAGS adds to the build's; -Werror only on request.
expect_exit 0 "make -n CPPFLAGS=-DWDT_X" mk -n -B CPPFLAGS=-DWDT_X "$BUILD/core/err.o"
check "  ... -DWDT_X and the build's own -I. -DWDT_VERSION" bash -c 'grep -q -- "-DWDT_X" <<<"$1" && grep -q -- " -I\. " <<<"$1" && grep -q -- "-DWDT_VERSION" <<<"$1"' _ "$OUT"
check "  ... no -Werror by default" bash -c '! grep -q -- -Werror <<<"$1"' _ "$OUT"
expect_exit 0 "make -n WERROR=1" mk -n -B WERROR=1 "$BUILD/core/err.o"
check "  ... -Werror" grep -q -- -Werror <<<"$OUT"
expect_exit 0 "make -n check" mk -n check
check "  ... builds and tests with WERROR=1" bash -c '[ "$(grep -c "WERROR=1" <<<"$1")" -ge 4 ]' _ "$OUT"
done_testing
