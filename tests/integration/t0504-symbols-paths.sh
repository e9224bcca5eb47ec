#!/bin/bash
# Symbol paths as WinDbg reads them, through the CLI on the "basic" fixture:
# srv* alone, symsrv*DLL*…, cache*, ; lists, _NT_ALT_SYMBOL_PATH first,
# Windows drive-letter and UNC paths refused without creating anything;
# .pd_ cabinets made here with gcab (MSZIP and stored) expanded from a
# local store and from a 127.0.0.1 server that has only the .pd_
# (tools/symserver.py /cabonly/); `wdt symbols` with and without a cached
# PDB, --fetch, and --add followed by an offline kdbg that finds the PDB.
. "$(dirname "$0")/lib.sh"
set -o pipefail
need python3 qemu-system-x86_64 clang lld-link gcab
fixture dir basic
ELF=$dir/dump.elf
key=$(json_get "$dir/truth.json" 'd["kernel"]["pdb_key"]')
PDB=$dir/symbols/ntkrnlmp.pdb/$key/ntkrnlmp.pdb
MSDL=https://msdl.microsoft.com/download/symbols
REL=ntkrnlmp.pdb/$key/ntkrnlmp.pdb
unset WDT_SYMBOL_PATH _NT_SYMBOL_PATH _NT_ALT_SYMBOL_PATH
export XDG_CACHE_HOME=$TMP/xdg
j() { json_get <(echo "$OUT") "$1"; }
# the number of regular files under a directory (temp files included)
nfiles() { find "$1" -type f 2>/dev/null | wc -l; }

# The server's tree: the PDB and its .pd_ (MSZIP), made here.
mkdir -p "$TMP/srv/ntkrnlmp.pdb/$key"
cp "$PDB" "$TMP/srv/ntkrnlmp.pdb/$key/"
(cd "$TMP/srv/ntkrnlmp.pdb/$key" && gcab -c -z ntkrnlmp.pd_ ntkrnlmp.pdb)
check "gcab made a cabinet (MSCF)" test "$(head -c 4 "$TMP/srv/ntkrnlmp.pdb/$key/ntkrnlmp.pd_")" = MSCF
python3 "$TOP/tools/symserver.py" --root "$TMP/srv" --log "$TMP/log" \
	--port-file "$TMP/port" &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port")
SRV=http://127.0.0.1:$port
: >"$TMP/log"

# ---- wdt symbols: identity, URL, cache path, presence ----
expect_exit 0 "symbols with the default path and a cold cache" "$WDT" symbols --json --offline "$ELF"
# truth's GUID is the 32 hex digits of the key; ours is {8-4-4-4-12}
check "... PDB identity is truth's" test "$(j '"%s %s %d %s" % (d["pdb"]["name"], d["pdb"]["guid"].strip("{}").replace("-", ""), d["pdb"]["age"], d["pdb"]["key"])')" = \
	"$(json_get "$dir/truth.json" '"%s %s %d %s" % (d["kernel"]["pdb_name"], d["kernel"]["pdb_guid"], d["kernel"]["pdb_age"], d["kernel"]["pdb_key"])')"
check "... URL is Microsoft's" test "$(j 'd["url"]')" = "$MSDL/$REL"
check "... cache path is in XDG_CACHE_HOME" test "$(j 'd["save_path"]')" = "$TMP/xdg/wdt/symbols/$REL"
check "... not present, path null, a note with the URL" test "$(j '(d["present"], d["path"], d["url"] in d["note"])')" = "(False, None, True)"
check "... origin default" test "$(j 'd["symbol_path_origin"]')" = default
expect_exit 0 "symbols, text" "$WDT" symbols --offline "$ELF"
check "... says Present: no and the URL" bash -c 'grep -q "^Present: *no$" <<<"$1" && grep -qF "$2" <<<"$1"' _ "$OUT" "$MSDL/$REL"
expect_exit 0 "symbols finds the fixture's store" "$WDT" symbols --json --symbol-path "srv*$dir/symbols" "$ELF"
check "... present at the store's path" test "$(j '(d["present"], d["path"])')" = "(True, '$PDB')"
check "... srv*DIR has no server: URL is Microsoft's, not the path's" test "$(j '(d["url_in_path"], d["url"])')" = "(False, '$MSDL/$REL')"

# ---- path forms ----
form() { # form DESC URL SAVE ENV=VALUE...
	local d=$1 url=$2 save=$3; shift 3
	expect_exit 0 "$d" env "$@" "$WDT" symbols --json --offline "$ELF"
	check "... URL $url" test "$(j 'd["url"]')" = "$url/$REL"
	check "... saved under $save" test "$(j 'd["save_path"]')" = "$save/$REL"
}
form "_NT_SYMBOL_PATH=srv* (what .symfix writes): Microsoft's server" "$MSDL" "$TMP/xdg/wdt/symbols" "_NT_SYMBOL_PATH=srv*"
check "... the URL comes from the path" test "$(j 'd["url_in_path"]')" = True
form "srv*DIR* (empty server part)" "$MSDL" "$TMP/c1" "_NT_SYMBOL_PATH=srv*$TMP/c1*"
form "symsrv*symsrv.dll (no parts)" "$MSDL" "$TMP/xdg/wdt/symbols" "_NT_SYMBOL_PATH=symsrv*symsrv.dll"
form "symsrv*symsrv.dll*DIR*URL" "$SRV/store" "$TMP/c2" "_NT_SYMBOL_PATH=symsrv*symsrv.dll*$TMP/c2*$SRV/store"
form "symsrv*symsrv.dll**URL (empty cache part)" "$SRV/store" "$TMP/xdg/wdt/symbols" "_NT_SYMBOL_PATH=symsrv*symsrv.dll**$SRV/store"
form "cache*DIR;srv*URL" "$SRV/store" "$TMP/k" "_NT_SYMBOL_PATH=cache*$TMP/k;srv*$SRV/store"
form "WDT_SYMBOL_PATH wins over _NT_*" "$SRV/w" "$TMP/w" "WDT_SYMBOL_PATH=srv*$TMP/w*$SRV/w" "_NT_SYMBOL_PATH=srv*$TMP/n*$SRV/n" "_NT_ALT_SYMBOL_PATH=srv*$TMP/a*$SRV/a"
form "_NT_ALT_SYMBOL_PATH comes before _NT_SYMBOL_PATH" "$SRV/a" "$TMP/a" "_NT_SYMBOL_PATH=srv*$TMP/n*$SRV/n" "_NT_ALT_SYMBOL_PATH=srv*$TMP/a*$SRV/a"
check "... origin names both" test "$(j 'd["symbol_path_origin"]')" = "_NT_ALT_SYMBOL_PATH;_NT_SYMBOL_PATH"

# _NT_ALT_SYMBOL_PATH is searched first: a flat copy there wins.
mkdir -p "$TMP/alt" && cp "$PDB" "$TMP/alt/"
expect_exit 0 "kdbg: _NT_ALT_SYMBOL_PATH searched before _NT_SYMBOL_PATH" \
	env "_NT_ALT_SYMBOL_PATH=$TMP/alt" "_NT_SYMBOL_PATH=srv*$dir/symbols" "$WDT" kdbg --json --offline "$ELF"
check "... uses the ALT copy" test "$(j '(d["kdbg"]["pdb_used"], d["kdbg"]["pdb"])')" = "(True, '$TMP/alt/ntkrnlmp.pdb')"
expect_exit 0 "kdbg: a ; list, first entry empty" \
	env "_NT_SYMBOL_PATH=$TMP/nothing; ;srv*$dir/symbols" "$WDT" kdbg --json --offline "$ELF"
check "... finds the second entry's PDB" test "$(j '(d["kdbg"]["pdb_used"], d["kdbg"]["pdb"])')" = "(True, '$PDB')"
expect_exit 0 "kdbg: cache*DIR;srv*URL downloads into DIR" \
	env "_NT_SYMBOL_PATH=cache*$TMP/k;srv*$SRV/store" "$WDT" kdbg --json "$ELF"
check "... used, and in the cache* directory" test "$(j 'd["kdbg"]["pdb_used"]')" = True -a -f "$TMP/k/$REL"

# Windows paths: refused naming the entry; nothing created in the cwd.
mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || exit 1
win='srv*C:\cache*https://msdl.microsoft.com/download/symbols'
expect_exit 2 "symbols: _NT_SYMBOL_PATH with a drive letter is refused" env "_NT_SYMBOL_PATH=$win" "$WDT" symbols "$ELF"
check "... one line naming the entry and the Windows path" bash -c \
	'test "$(wc -l <<<"$1")" -eq 1 && grep -qF "_NT_SYMBOL_PATH: symbol path entry \"$2\": \"C:\\cache\" is a Windows path" <<<"$1"' _ "$ERR" "$win"
expect_exit 0 "kdbg with that path goes on without the PDB" env "_NT_SYMBOL_PATH=$win" "$WDT" kdbg --json "$ELF"
check "... and says why" test "$(j '(d["kdbg"]["pdb_used"], "is a Windows path" in d["kdbg"]["pdb_note"])')" = "(False, True)"
expect_exit 2 "symbols: a UNC share is refused" "$WDT" symbols --symbol-path 'srv*\\server\share' "$ELF"
check "... naming it" grep -qF '"\\server\share" is a Windows path' <<<"$ERR"
expect_exit 2 "symbols: cache*D:\\x is refused" env '_NT_SYMBOL_PATH=cache*D:\x;srv*' "$WDT" symbols "$ELF"
check "nothing was created in the current directory" test -z "$(ls -A "$TMP/cwd")"
cd "$TOP" || exit 1

# ---- .pd_ expansion ----
# A local store holding only the .pd_ (stored, no compression this time).
mkdir -p "$TMP/cabstore/ntkrnlmp.pdb/$key"
cp "$PDB" "$TMP/cabstore/ntkrnlmp.pdb/$key/"
(cd "$TMP/cabstore/ntkrnlmp.pdb/$key" && gcab -c ntkrnlmp.pd_ ntkrnlmp.pdb && rm ntkrnlmp.pdb)
expect_exit 0 "kdbg: a local .pd_ (srv*CACHE*STORE)" "$WDT" kdbg --json --offline --symbol-path "srv*$TMP/lc*$TMP/cabstore" "$ELF"
check "... PDB used, expanded into the cache" test "$(j '(d["kdbg"]["pdb_used"], d["kdbg"]["pdb"])')" = "(True, '$TMP/lc/$REL')"
check "... byte-identical to the original" cmp -s "$PDB" "$TMP/lc/$REL"
check "... no temporary file left" test "$(nfiles "$TMP/lc")" -eq 1
n=$(wc -l <"$TMP/log")
expect_exit 0 "kdbg: a server with only the .pd_" "$WDT" kdbg --json --symbol-path "srv*$TMP/sc*$SRV/cabonly" "$ELF"
check "... PDB used from the cache" test "$(j '(d["kdbg"]["pdb_used"], d["kdbg"]["pdb"])')" = "(True, '$TMP/sc/$REL')"
check "... byte-identical to the original" cmp -s "$PDB" "$TMP/sc/$REL"
check "... asked for the .pdb, then the .pd_" test "$(tail -n +$((n + 1)) "$TMP/log")" = \
	"$(printf 'GET /cabonly/%s\nGET /cabonly/%s' "$REL" "${REL%?}_")"
check "... only the PDB is left in the cache" test "$(nfiles "$TMP/sc")" -eq 1
# A broken cabinet: said so, no PDB, no litter.
mkdir -p "$TMP/badcab/ntkrnlmp.pdb/$key"
head -c 100 "$TMP/srv/ntkrnlmp.pdb/$key/ntkrnlmp.pd_" >"$TMP/badcab/ntkrnlmp.pdb/$key/ntkrnlmp.pd_"
expect_exit 0 "kdbg: a truncated .pd_" "$WDT" kdbg --json --offline --symbol-path "srv*$TMP/bc*$TMP/badcab" "$ELF"
check "... not used, the note says why" test "$(j '(d["kdbg"]["pdb_used"], "expanding the CAB-compressed PDB" in d["kdbg"]["pdb_note"])')" = "(False, True)"
check "... nothing left in the cache" test "$(nfiles "$TMP/bc")" -eq 0

# ---- wdt symbols --fetch ----
n=$(wc -l <"$TMP/log")
expect_exit 3 "symbols --fetch --offline with a cold cache" "$WDT" symbols --fetch --offline --symbol-path "srv*$TMP/fc*$SRV/store" "$ELF"
check "... names the URL and the cache path" bash -c 'grep -qF "$2" <<<"$1" && grep -qF "$3" <<<"$1"' _ "$ERR" "$SRV/store/$REL" "$TMP/fc/$REL"
check "... made no request" test "$(wc -l <"$TMP/log")" -eq "$n"
expect_exit 0 "symbols --fetch downloads" "$WDT" symbols --json --fetch --symbol-path "srv*$TMP/fc*$SRV/store" "$ELF"
check "... present, fetched, at the cache path" test "$(j '(d["present"], d["fetched"], d["path"] == d["save_path"])')" = "(True, True, True)"
check "... byte-identical" cmp -s "$PDB" "$TMP/fc/$REL"
n=$(wc -l <"$TMP/log")
expect_exit 0 "symbols --fetch again" "$WDT" symbols --json --fetch --symbol-path "srv*$TMP/fc*$SRV/store" "$ELF"
check "... already present, no request" test "$(j '(d["present"], d["fetched"])')" = "(True, False)" -a "$(wc -l <"$TMP/log")" -eq "$n"
expect_exit 2 "symbols --fetch --add" "$WDT" symbols --fetch --add "$PDB"

# ---- wdt symbols --add, then kdbg offline ----
expect_exit 0 "kdbg --offline before --add: no PDB" "$WDT" kdbg --json --offline "$ELF"
check "... not used" test "$(j 'd["kdbg"]["pdb_used"]')" = False
expect_exit 0 "symbols --add FILE.pdb" "$WDT" symbols --json --add "$PDB"
check "... filed under its key in the default cache" test "$(j '(d["added"], d["path"], d["pdb"]["key"])')" = "(True, '$TMP/xdg/wdt/symbols/$REL', '$key')"
check "... byte-identical, no temporary file" test "$(nfiles "$TMP/xdg")" -eq 1 -a -n "$(cmp "$PDB" "$TMP/xdg/wdt/symbols/$REL" && echo same)"
expect_exit 0 "kdbg --offline after --add" "$WDT" kdbg --json --offline "$ELF"
check "... finds and uses it" test "$(j '(d["kdbg"]["pdb_used"], d["kdbg"]["pdb"])')" = "(True, '$TMP/xdg/wdt/symbols/$REL')"
expect_exit 0 "symbols --add again" "$WDT" symbols --json --add "$PDB"
check "... already there, not copied" test "$(j 'd["added"]')" = False
expect_exit 0 "symbols now says present" "$WDT" symbols --json --offline "$ELF"
check "... at the cache path" test "$(j '(d["present"], d["path"] == d["save_path"])')" = "(True, True)"
cp "$PDB" "$TMP/download.bin"
expect_exit 2 "symbols --add of a file not named .pdb" "$WDT" symbols --add "$TMP/download.bin" --symbol-path "srv*$TMP/ren"
check "... asks for --name" grep -q -- "--name" <<<"$ERR"
expect_exit 0 "symbols --add --name ntkrnlmp.pdb" "$WDT" symbols --add "$TMP/download.bin" --name ntkrnlmp.pdb --symbol-path "srv*$TMP/ren"
check "... filed under the name given" test -f "$TMP/ren/$REL"
expect_exit 3 "symbols --add of a non-PDB" "$WDT" symbols --add "$dir/truth.json" --name ntkrnlmp.pdb
check "... one line: not a PDB" bash -c 'test "$(wc -l <<<"$1")" -eq 1 && grep -q "not a PDB" <<<"$1"' _ "$ERR"
expect_exit 3 "symbols --add --json of a non-PDB" "$WDT" symbols --json --add "$dir/truth.json" --name x.pdb
check "... JSON error not_found/unknown_format" test "$(j 'd["error"]["status"]')" = unknown_format
expect_exit 2 "symbols without IMAGE or --add" "$WDT" symbols
expect_exit 2 "symbols --add with an IMAGE" "$WDT" symbols --add "$PDB" "$ELF"
done_testing
