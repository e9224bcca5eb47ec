#!/bin/bash
# make bench: benchmarks, recorded as ratios against a baseline measured in
# the same run (never absolute wall-clock claims), plus peak RSS.
#
# 1. "info is O(metadata)": `wdt info` on a 4 GiB QEMU ELF core against the
#    same on a 256 MiB one. Reading an image's description must not grow
#    with the image; the ratio should stay near 1.
# 2. "physical reads stream at disk speed": `wdt read --raw` of 64 MiB of a
#    run against `dd` of the same bytes from the file (page cache warm).
set -euo pipefail
: "${WDT:?}"
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/bench
mkdir -p "$work"
N=${BENCH_RUNS:-5}

mkdump() { # mkdump OUT MEM
	local sock=$work/qmp.sock
	rm -f "$sock"
	qemu-system-x86_64 -S -display none -nodefaults -accel tcg -machine q35 -m "$2" \
		-qmp "unix:$sock,server=on,wait=off" &
	local pid=$!
	python3 "$top/tools/qmp.py" "$sock" dump-guest-memory \
		"{\"paging\":false,\"protocol\":\"file:$1\"}" quit >/dev/null
	wait $pid
}
[ -f "$work/small.elf" ] || mkdump "$work/small.elf" 256M
[ -f "$work/big.elf" ] || mkdump "$work/big.elf" 4G

# best-of-N wall time in seconds, and peak RSS (KiB) of the last run
best() {
	local b=999999 t rss
	for _ in $(seq "$N"); do
		/usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null
		read -r t rss <"$work/time"
		b=$(python3 -c "print(min($b, $t))")
	done
	echo "$b $rss"
}
read -r t_small rss_small < <(best "$WDT" info "$work/small.elf")
read -r t_big rss_big < <(best "$WDT" info "$work/big.elf")
read -r t_wdt rss_read < <(best "$WDT" read --raw "$work/big.elf" 0x100000 67108864)
# The run [1 MiB, 2 GiB) starts at file offset of that PT_LOAD.
off=$(readelf -W -l "$work/big.elf" | awk '$1=="LOAD" && $4 ~ /0x0*100000$/ {print $2}')
read -r t_dd _ < <(best dd if="$work/big.elf" of=/dev/null bs=1M count=64 \
	iflag=skip_bytes skip=$((off)))
ratio() { python3 -c "print('%.2f' % (max($1, 0.001) / max($2, 0.001)))"; }

{
	echo "# Benchmarks"
	echo
	echo "Measured by \`make bench\` ($(date -u +%Y-%m-%d), $(nproc) cores, best of $N)."
	echo "Figures are ratios against a baseline run in the same invocation."
	echo
	echo "| benchmark | baseline | ratio | peak RSS |"
	echo "|---|---|---|---|"
	echo "| wdt info, 4 GiB ELF | wdt info, 256 MiB ELF | $(ratio "$t_big" "$t_small") | ${rss_big} KiB (256 MiB: ${rss_small} KiB) |"
	echo "| wdt read --raw 64 MiB | dd bs=1M of the same bytes | $(ratio "$t_wdt" "$t_dd") | ${rss_read} KiB |"
	echo
	echo "A ratio near 1 for \`info\` means describing an image costs the same"
	echo "whatever its size; RSS does not grow with the image either."
} >"$top/BENCHMARKS.md"
cat "$top/BENCHMARKS.md"
