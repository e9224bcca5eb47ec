#!/bin/bash
# wdt verify on QEMU's own DMP (fixtures crashed and smp4): sound, with the
# two defects QEMU really writes (header ContextRecord left as 'PAGE' fill,
# PfnDataBase = the address of nt!MmPfnDatabase instead of its value), and
# for the crashed guest a third: QEMU wrote every CPU's live registers over
# the saved bugcheck context (crash-context-lost).
# Then one working copy of crashed's DMP is broken in exactly one way per
# case (t08-dmp.py, which knows the layout without wdt code), verify must
# report exactly the expected findings, and the edit is undone.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
H="python3 $TOP/tests/integration/t08-dmp.py"

for name in smp4 crashed; do
	fixture dir "$name"
	expect_exit 0 "$name: QEMU's dump.win-dmp is sound" "$WDT" verify --json "$dir/dump.win-dmp"
	echo "$OUT" >"$TMP/v.json"
	codes=$($H codes "$TMP/v.json")
	want="context-unset:warning pfn-database:warning"
	[ "$name" = crashed ] && want="context-unset:warning crash-context-lost:warning pfn-database:warning"
	check "$name: only QEMU's own defects ($codes)" test "$codes" = "$want"
	check "$name: PfnDataBase message names the real value" \
		grep -q "$(json_get "$dir/truth.json" "d['mm_pfn_database'][2:]")" "$TMP/v.json"
	expect_exit 1 "$name: --strict makes the warnings fail" "$WDT" verify --strict "$dir/dump.win-dmp"
done
DIR=$dir
TRUTH=$DIR/truth.json
W=$TMP/w.dmp
U=$TMP/undo
cp "$DIR/dump.win-dmp" "$W" && chmod u+w "$W"
: >"$U"
# The working copy is the crashed guest's: the bugcheck context is lost
# (L) whenever the memory checks can find the kernel.
L=crash-context-lost:warning
B0="context-unset:warning pfn-database:warning"
B="$B0 $L"
# hx EXPR: 64-bit arithmetic printed as unsigned hex.
hx() { printf '0x%x' $(($1)); }

# brk DESC "EXPECTED CODES" EXIT EDIT...: patch, verify, compare, undo.
brk() {
	local d=$1 want=$2 rc=$3; shift 3
	$H patch "$W" "$U" "$@"
	expect_exit "$rc" "$d" "$WDT" verify --json "$W"
	echo "$OUT" >"$TMP/b.json"
	local got
	got=$($H codes "$TMP/b.json")
	want=$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then ok "  ... findings: $got"; else
		not_ok "  ... findings: got '$got', want '$want'"; fi
	$H undo "$W" "$U"
}
expect_exit 0 "working copy is sound" "$WDT" verify "$W"

kdbg=$(python3 -c "import struct;print(hex(struct.unpack_from('<Q',open('$W','rb').read(0x88),0x80)[0]))")
kdbg_off=$($H va2off "$W" "$kdbg")
kernbase=$(json_get "$TRUTH" "d['kernel']['base_va']")
procs=$(json_get "$TRUTH" "d['ps_active_process_head']")
procs_off=$($H va2off "$W" "$procs")
ctx1=$(json_get "$TRUTH" "d['cpus'][1]['context_va']")
ctx1_off=$($H va2off "$W" "$ctx1")
prcb1=$(json_get "$TRUTH" "d['cpus'][1]['kprcb']")
ctxptr1_off=$($H va2off "$W" $(hx "prcb1 + $(json_get "$TRUTH" "d['kprcb']['context_pointer']")"))
pfnval=$(json_get "$TRUTH" "d['mm_pfn_database']")
enc_kdbg=$(json_get "$TRUTH" "d['kdbg']['va']")

# --- header fields ---
# The reader refuses the file too, so memory checks are skipped.
brk "ValidDump 'DUXX'" "valid-dump:error context-unset:warning" 1 4:s:DUXX
brk "ValidDump 'DUMP' (32-bit)" "not-64-bit:error" 1 4:s:DUMP
brk "DumpType 4 (triage)" "dump-type:error context-unset:warning" 1 0xF98:I:4
brk "DumpType 9 (RDMP range)" "dump-type:warning context-unset:warning" 0 0xF98:I:9
brk "MachineImageType i386" "machine-type:error $B" 1 0x30:I:0x14c
brk "MajorVersion 5" "version:error $B" 1 8:I:5
brk "MinorVersion 100" "version:error $B" 1 0xC:I:100
brk "NumberProcessors 3 (KiProcessorBlock has 2)" "processor-count:error $B" 1 0x34:I:3
brk "NumberProcessors 0" "processor-count:error processor-count:error $B" 1 0x34:I:0

# --- run list and sizes ---
brk "runs split in two, still sound" "$B" 0 0x88:I:2 0x98:Q:0 0xA0:Q:0xFFF0 0xA8:Q:0xFFF0 0xB0:Q:0x10
brk "NumberOfRuns 43" "runs-count:error context-unset:warning" 1 0x88:I:43
brk "NumberOfRuns 'PAGE' fill" "runs-count:error context-unset:warning" 1 0x88:s:PAGE
brk "a run with 0 pages" "runs-invalid:error context-unset:warning" 1 0xA0:Q:0
brk "runs not ascending" "runs-unsorted:error $B" 1 \
	0x88:I:3 0xA0:Q:0xFFF0 0xA8:Q:0x20000 0xB0:Q:1 0xB8:Q:0xFFF0 0xC0:Q:0xF
brk "runs overlap" "runs-overlap:error context-unset:warning" 1 \
	0x88:I:2 0xA0:Q:0xFFF0 0xA8:Q:0xFFE0 0xB0:Q:0x10
brk "NumberOfPages one more than the runs" "runs-page-count:error $B" 1 0x90:Q:0x10001
brk "RequiredDumpSpace one page more" "required-space:error $B" 1 0xFA0:Q:$((0x10002000 + 4096))

# --- header ContextRecord ---
ctx="0x378:I:0x10001F 0x37C:I:0x1F80 0x380:H:0x10 0x38A:H:0x18 0x38C:I:0x202 0x3E0:Q:0xffffe49080018fa8 0x440:Q:0xfffff80295001012 0x460:I:0x1F80"
brk "a valid header ContextRecord" "pfn-database:warning $L" 0 $ctx
brk "header context: non-canonical Rip" "context-rip:error pfn-database:warning $L" 1 $ctx 0x440:Q:0x0000800000000000
brk "header context: non-canonical Rsp" "context-rsp:error pfn-database:warning $L" 1 $ctx 0x3E0:Q:0x1234567812345678
brk "header context: SegCs 0x23" "context-cs:error pfn-database:warning $L" 1 $ctx 0x380:H:0x23
brk "header context: MxCsr != FltSave.MxCsr" "context-mxcsr:error pfn-database:warning $L" 1 $ctx 0x37C:I:0x1F81

# --- memory ---
brk "DirectoryTableBase not page aligned" "dtb:error $B" 1 0x10:Q:$(($(json_get "$TRUTH" "int(d['dtb'],16)") | 0x800))
brk "DirectoryTableBase at an empty page" "dtb:error context-unset:warning" 1 0x10:Q:0x0FFFF000
brk "KdDebuggerDataBlock unmapped" "kdbg-unreadable:error context-unset:warning" 1 0x80:Q:0xFFFF800000000000
brk "KdDebuggerDataBlock = the encoded original" "kdbg-encoded:error context-unset:warning" 1 0x80:Q:$enc_kdbg
brk "KDBG KernBase in user space" "kernbase-range:error $B0" 1 $((kdbg_off + 0x18)):Q:0x7ff000000000
brk "KDBG KernBase one page in (no MZ)" "kernbase-no-image:error $B0" 1 $((kdbg_off + 0x18)):Q:$(hx "kernbase + 0x1000")
brk "header PsLoadedModuleList off by 0x10" "ps-loaded-module-list:error $B" 1 \
	0x20:Q:$(hx "$(json_get "$TRUTH" "d['ps_loaded_module_list']") + 0x10")
brk "header PsActiveProcessHead off by 0x10" "ps-active-process-head:error $B" 1 0x28:Q:$(hx "procs + 0x10")
brk "header PfnDataBase the real value" "context-unset:warning $L" 0 0x18:Q:$pfnval
brk "header PfnDataBase neither value nor address" "pfn-database:error context-unset:warning $L" 1 0x18:Q:0xffff123400000000
brk "PsActiveProcessHead Flink not a kernel pointer" "list-head:error $B" 1 $procs_off:Q:0x1234
brk "CPU 1 context SegCs 0" "context-cs:error $B" 1 $((ctx1_off + 0x38)):H:0
brk "CPU 1 context Rip non-canonical" "context-rip:error $B" 1 $((ctx1_off + 0xF8)):Q:0x1234567812345678
brk "CPU 1 KPRCB context pointer unmapped" "context-unreadable:error $B" 1 $ctxptr1_off:Q:0xFFFF800000000000
check "  ... message names CPU 1" grep -q "CPU 1" "$TMP/b.json"

# --- size of the file ---
head -c 4096 /dev/zero >>"$W"
expect_exit 0 "one page appended: sound with a warning" "$WDT" verify --json "$W"
echo "$OUT" >"$TMP/b.json"
check "  ... trailing-data" test "$($H codes "$TMP/b.json")" = "context-unset:warning $L pfn-database:warning trailing-data:warning"
truncate -s $((0x10002000 - 3 * 4096 - 100)) "$W"
expect_exit 1 "file cut 3 pages and 100 bytes short" "$WDT" verify --json "$W"
echo "$OUT" >"$TMP/b.json"
check "  ... truncated" test "$($H codes "$TMP/b.json")" = "context-unset:warning $L pfn-database:warning truncated:error"
check "  ... says 4 pages missing" grep -q "4 pages missing" "$TMP/b.json"

# --- not a DMP at all ---
head -c 4096 "$DIR/dump.win-dmp" >"$TMP/short.dmp"
expect_exit 3 "header cut at 0x1000" "$WDT" verify "$TMP/short.dmp"
check "  ... one line naming the file" test "$(echo "$ERR" | wc -l)" = 1 -a -n "$(echo "$ERR" | grep short.dmp)"
printf 'PAGX' | cat - "$TMP/short.dmp" >"$TMP/notdmp"
expect_exit 3 "no 'PAGE' signature" "$WDT" verify "$TMP/notdmp"
expect_exit 3 "missing file" "$WDT" verify "$TMP/nosuch.dmp"
expect_exit 2 "no FILE" "$WDT" verify
done_testing
