#!/bin/sh
# tools/fixtures.sh NAME...: make (or reuse) named fixtures and print the
# directory of each, one per line. Names and parameters: tools/fixtures.list.
# A fixture lives in ${WDT_FIXTURES:-build/fixtures}/NAME and is reused while
# its key (a hash of the factory's sources, its parameters and the QEMU,
# clang and lld versions) is unchanged; otherwise it is rebuilt from nothing.
# `tools/fixtures.sh --list [TAG]` prints the names (with TAG: only those).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
LIST=$TOP/tools/fixtures.list
OUT=${WDT_FIXTURES:-$TOP/build/fixtures}

die() { echo "fixtures.sh: $*" >&2; exit 1; }

if [ "${1:-}" = "--list" ]; then
	awk -v tag="${2:-}" '!/^#/ && NF >= 2 && (tag == "" || index("," $2 ",", "," tag ","))' \
		"$LIST" | awk '{print $1}'
	exit 0
fi
[ $# -ge 1 ] || die "usage: tools/fixtures.sh NAME... | --list [TAG]"
command -v qemu-system-x86_64 >/dev/null 2>&1 || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
for t in clang lld-link as ld python3; do
	command -v $t >/dev/null 2>&1 || die "$t not found (run: make deps)"
done

key_of() {
	{
		printf '%s\n' "$1"
		cat "$TOP/tools/mkguest" "$TOP/tools/qemu-dump" "$TOP/tools/boot/stub.S" \
			"$TOP/tools/fake-kernel/ntoskrnl.c" "$TOP/tools/fake-kernel/wdtfault.c" "$TOP/tools/fake-kernel/layouts.json" \
			"$TOP/tools/fixtures.sh"
		qemu-system-x86_64 --version | head -1
		clang --version | head -1
		lld-link --version | head -1
	} | sha256sum | cut -c1-32
}

mkdir -p "$OUT"
for name in "$@"; do
	line=$(awk -v n="$name" '!/^#/ && $1 == n' "$LIST")
	[ -n "$line" ] || die "$name: no such fixture in tools/fixtures.list (have: $(sh "$0" --list | tr '\n' ' '))"
	args=$(printf '%s\n' "$line" | cut -d' ' -f2- | sed 's/^ *[^ ]* *//')
	dir=$OUT/$name
	key=$(key_of "$args")
	# One builder per fixture at a time; others wait and then reuse.
	exec 9>"$OUT/.$name.lock"
	flock 9
	if [ "$(cat "$dir/.key" 2>/dev/null || true)" != "$key" ]; then
		tmp=$OUT/.$name.tmp.$$
		rm -rf "$tmp"
		# shellcheck disable=SC2086
		if ! "$TOP/tools/mkguest" $args --out "$tmp" >&2 || ! "$TOP/tools/qemu-dump" "$tmp" >&2; then
			rm -rf "$tmp"
			die "$name: building the fixture failed"
		fi
		echo "$key" >"$tmp/.key"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	exec 9>&-
	echo "$dir"
done
