#!/bin/bash
# make bench: benchmarks, recorded as ratios against a baseline measured in
# the same run (never absolute wall-clock claims), plus peak RSS.
#
# 1. "info is O(metadata)": `wdt info` on a 4 GiB QEMU ELF core against the
#    same on a 256 MiB one. Reading an image's description must not grow
#    with the image; the ratio should stay near 1.
# 2. "physical reads stream at disk speed": `wdt read --raw` of 64 MiB of a
#    run against `dd` of the same bytes from the file (page cache warm).
# 3. kdump decompression throughput per codec (issue 4): every page of the
#    mix2g fixture (2 GiB, mkguest --fill) through the page readers,
#    one thread against all cores (the baseline is the 1-thread run of the
#    same file), MB/s of physical memory produced, peak RSS compared with
#    the same on the 512 MiB guest mix512m. BENCH_KDUMP=0 skips it.
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

# best-of-N wall time in seconds (date +%s.%N around the run: /usr/bin/time
# only has 10 ms), and peak RSS (KiB) of the last run
best() {
	local b=999999 t rss t0 t1
	for _ in $(seq "$N"); do
		t0=$(date +%s.%N)
		/usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		read -r rss <"$work/time"
		b=$(python3 -c "print('%.6f' % min($b, $t1 - $t0))")
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

# ---- 3. kdump codecs ----
KB=${BENCH_KDUMP_RUNS:-5}
ncpu=$(nproc)
codecs="zlib zlib-flat lzo snappy zstd none"
kdump_rows=
if [ "${BENCH_KDUMP:-1}" != 0 ]; then
	make --no-print-directory -s -C "$top" kdumpgen kdumptest >&2
	rel=$top/build/rel/tools
	[ -x "$rel/kdumptest" ] || rel=$(dirname "$WDT")/tools
	mix=$("$top/tools/fixtures.sh" mix2g)
	small=$("$top/tools/fixtures.sh" mix512m)
	# kdump file of fixture dir $1 for codec $2: QEMU's own zlib
	# (flattened, and its makedumpfile -R rebuild), the rest by mkkdump
	# from QEMU's ELF.
	kfile() {
		case $2 in
		zlib) echo "$1/dump.kdump-zlib" ;;
		zlib-flat) echo "$1/dump.kdump-zlib.flat" ;;
		*)
			local out=$work/$(basename "$1").kdump-$2
			if [ ! -f "$out" ] || [ "$out" -ot "$1/dump.elf" ]; then
				"$rel/mkkdump" --codec "$2" --force "$1/dump.elf" "$out" >&2
			fi
			echo "$out"
			;;
		esac
	}
	# One timed run: seconds (inside kdumptest, open excluded), bytes,
	# CPU use (user+sys)/wall, peak RSS (KiB); our CPU seconds are added
	# to $work/ours so the machine's other load can be told apart.
	krun() {
		local line u s e m
		line=$(/usr/bin/time -f '%U %S %e %M' -o "$work/time" \
			"$rel/kdumptest" pages "$1" "$2")
		read -r u s e m <"$work/time"
		echo "$u + $s" >>"$work/ours"
		echo "$(echo "$line" | awk '{print $6, $4}')" \
			"$(python3 -c "print('%.2f' % (($u + $s) / max($e, 0.001)))")" "$m" \
			"$(python3 -c "print('%.2f' % ($u + $s))")"
	}
	# Best of $KB rounds, 1 thread and all cores interleaved so both see
	# the same machine: t1 tn bytes cpu_n rss1 rssn.
	kpair() {
		local b1=999999 bn=999999 cpu=0 r1=0 rn=0 t bytes c m x x1=0 xn=0
		for _ in $(seq "$KB"); do
			read -r t bytes c m x < <(krun "$1" 1)
			[ "$m" -gt "$r1" ] && r1=$m
			if python3 -c "import sys; sys.exit(not $t < $b1)"; then
				b1=$t
				x1=$x
			fi
			read -r t bytes c m x < <(krun "$1" 0)
			[ "$m" -gt "$rn" ] && rn=$m
			if python3 -c "import sys; sys.exit(not $t < $bn)"; then
				bn=$t
				cpu=$c
				xn=$x
			fi
		done
		echo "$b1 $bn $bytes $cpu $r1 $rn $x1 $xn"
	}
	# busy jiffies (all but idle and iowait) of the whole machine
	busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
	mbs() { python3 -c "print('%.0f' % ($2 / $1 / 1e6))"; }
	for c in $codecs; do
		kfile "$mix" "$c" >/dev/null
		kfile "$small" "$c" >/dev/null
	done
	: >"$work/ours"
	b0=$(busy)
	w0=$(date +%s.%N)
	for c in $codecs; do
		f=$(kfile "$mix" "$c")
		fs=$(kfile "$small" "$c")
		read -r t1 tn bytes cpun rss1 rssn x1 xn < <(kpair "$f")
		read -r _ _ _ rss_sm _ < <(krun "$fs" 0)
		size=$(stat -c %s "$f")
		kdump_rows+="| $c | $((size >> 20)) MiB | $(mbs "$t1" "$bytes") | $(mbs "$tn" "$bytes") | $(ratio "$t1" "$tn") | $cpun | $x1 / $xn | ${rssn} KiB (1 thread ${rss1}) | ${rss_sm} KiB |"$'\n'
		echo "bench: kdump $c: 1 thread ${t1}s, $ncpu threads ${tn}s" >&2
	done
	# Share of the machine's CPU time used by other processes meanwhile.
	others=$(python3 -c "
hz = $(getconf CLK_TCK); wall = $(date +%s.%N) - $w0
busy = ($(busy) - $b0) / hz
ours = sum(eval(l) for l in open('$work/ours'))
print('%.0f' % (100 * max(0, busy - ours) / (wall * $ncpu)))")
	mix_args=$(awk '$1 == "mix2g" {for (i = 3; i <= NF; i++) printf "%s ", $i}' "$top/tools/fixtures.list")
	pages=$(python3 -c "import json; p = json.load(open('$mix/truth.json'))['phys']['fill']['pages']; print(', '.join('%s %d' % kv for kv in p.items()))")
fi
load=$(cut -d' ' -f1-3 /proc/loadavg)

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
	if [ -n "$kdump_rows" ]; then
		echo
		echo "## kdump decompression throughput"
		echo
		echo "Every dumpable page of the \`mix2g\` fixture (2 GiB of guest RAM,"
		echo "\`tools/mkguest $mix_args\`: pages $pages;"
		echo "zero pages in whole MiBs, the other MiBs in runs of 16 pages of one kind)"
		echo "decompressed by"
		echo "page readers (\`wdt_image_reader_read()\`, 256 pages a call) in rounds of 16384 pages (64 MiB), the data"
		echo "discarded (\`kdumptest pages\`). MB/s = 10^6 bytes of physical memory"
		echo "produced per second, timed inside the process (open excluded), best of"
		echo "$KB. Baseline: the 1-thread run of the same file; ratio = 1-thread time /"
		echo "$ncpu-thread time. CPU use = (user + sys) / wall of the best $ncpu-thread run"
		echo "(below $ncpu means the threads were waiting or preempted). The 1-thread and"
		echo "$ncpu-thread runs alternate, so both see the same machine. Other processes"
		echo "used $others % of the machine's CPU time while these ran (load average at"
		echo "the end: $load); with that much of it taken, $ncpu threads cannot reach"
		echo "$ncpu× — compare CPU use with the ratio. CPU s: user + sys seconds of the"
		echo "best runs; equal figures mean the threads split the work without extra"
		echo "cost (no lock or cache contention), so the speed-up is bounded by the"
		echo "cores actually free. Peak RSS of the 2 GiB guest"
		echo "against the same read of the 512 MiB guest \`mix512m\` (same mix)."
		echo "zlib is QEMU's own kdump-zlib (\`makedumpfile -R\` rebuild; \`zlib-flat\`:"
		echo "QEMU's flattened file read directly); the other codecs are written by"
		echo "\`tools/mkkdump\` from QEMU's ELF (level 1 / LZO1X-1 / raw snappy)."
		echo "\`none\` (stored pages) decompresses nothing: its pages are copied and"
		echo "its shared zero page is stored with memset, so both threads wait on one"
		echo "memory bus and the ratio says little; its MB/s are the reader's ceiling."
		echo "Machine: $ncpu cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
		echo
		echo "| codec | file | 1 thread MB/s | $ncpu threads MB/s | ratio | CPU use | CPU s 1 / $ncpu threads | peak RSS 2 GiB | peak RSS 512 MiB |"
		echo "|---|---|---|---|---|---|---|---|---|"
		printf '%s' "$kdump_rows"
	fi
} >"$top/BENCHMARKS.md"
cat "$top/BENCHMARKS.md"
