#!/bin/bash
# Shell completion: bash itself runs completion/wdt.bash and must offer
# every command, every option each command's --help lists, format names
# for --format and files for FILE values, also for the wdt-COMMAND links;
# the zsh function parses (when zsh is installed).
. "$(dirname "$0")/lib.sh"
set -o pipefail
COMP=$TOP/completion/wdt.bash

# complete WORD...: the candidates bash's _wdt offers for the last word.
complete_words() {
	bash -c '
		source "$1" || exit 9
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		_wdt || exit 8
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@"
}
offers() { # offers WANT GOT: every line of WANT is a line of GOT
	local w
	while IFS= read -r w; do
		grep -qxF -- "$w" <<<"$2" || { echo "# missing: $w"; return 1; }
	done <<<"$1"
}

check "the bash script parses" bash -n "$COMP"
cmds=$("$WDT" --list-commands)
expect_exit 0 "wdt <TAB>" complete_words "$WDT" ""
check "  ... offers every command" offers "$cmds" "$OUT"
check "  ... and help" grep -qx help <<<"$OUT"
expect_exit 0 "wdt con<TAB>" complete_words "$WDT" con
check "  ... convert only" test "$OUT" = convert
expect_exit 0 "wdt help <TAB>" complete_words "$WDT" help ""
check "  ... every command" offers "$cmds" "$OUT"
expect_exit 0 "wdt -<TAB>" complete_words "$WDT" -
check "  ... --help, --version, -V" offers "$(printf '%s\n' --help --version -V)" "$OUT"

for c in $cmds; do
	want=$("$WDT" "$c" --help | sed -n '/^Options:/,/^$/p' | grep -Eo -- '(^| )--?[A-Za-z0-9][a-z0-9-]*' | tr -d ' ' | sort -u)
	expect_exit 0 "wdt $c -<TAB>" complete_words "$WDT" "$c" -
	check "  ... every option of wdt $c --help ($(wc -l <<<"$want"))" offers "$want" "$OUT"
	check "  ... nothing else" test "$(sort -u <<<"$OUT")" = "$want"
	ln -sf "$WDT" "$TMP/wdt-$c"
	expect_exit 0 "wdt-$c --<TAB> (link)" complete_words "$TMP/wdt-$c" --
	check "  ... its long options" offers "$(grep -- '^--' <<<"$want")" "$OUT"
done

expect_exit 0 "wdt convert --out<TAB>" complete_words "$WDT" convert --out
check "  ... --output and --out-format" test "$(sort <<<"$OUT" | tr '\n' ' ')" = "--out-format --output "
formats=$("$WDT" info --list-formats | awk '/^  [a-z]/ { print $1 }')
expect_exit 0 "wdt info --format <TAB>" complete_words "$WDT" info --format ""
check "  ... every format" test "$OUT" = "$formats"
expect_exit 0 "wdt info --format=<TAB> (split at =)" complete_words "$WDT" info --format = ""
check "  ... every format" test "$OUT" = "$formats"
expect_exit 0 "wdt info -f k<TAB>" complete_words "$WDT" info -f k
check "  ... kdump" test "$OUT" = kdump
mkdir "$TMP/d" && : >"$TMP/d/guest.elf" && : >"$TMP/d/guest.dmp"
expect_exit 0 "wdt convert -o FILE<TAB>: files" complete_words "$WDT" convert -o "$TMP/d/guest.d"
check "  ... guest.dmp" test "$OUT" = "$TMP/d/guest.dmp"
expect_exit 0 "wdt info IMAGE<TAB>: files" complete_words "$WDT" info "$TMP/d/guest.e"
check "  ... guest.elf" test "$OUT" = "$TMP/d/guest.elf"
expect_exit 0 "wdt convert --threads <TAB>: no files for a number" complete_words "$WDT" convert --threads "$TMP/d/g"
check "  ... nothing" test -z "$OUT"
expect_exit 0 "wdt on PATH" env PATH="$(dirname "$WDT"):$PATH" bash -c '
	source "$1"; COMP_WORDS=(wdt ""); COMP_CWORD=1; _wdt; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP"
check "  ... every command" offers "$cmds" "$OUT"
expect_exit 0 "sourcing registers wdt and the links" env PATH="$(dirname "$WDT"):$PATH" bash -c 'source "$1"; complete -p wdt wdt-info' _ "$COMP"
check "  ... complete -F _wdt" test "$(grep -c -- '-F _wdt' <<<"$OUT")" -eq 2

check "the zsh function names wdt and the links" grep -qx '#compdef wdt -p wdt-\*' "$TOP/completion/_wdt"
if command -v zsh >/dev/null; then
	check "the zsh function parses" zsh -n "$TOP/completion/_wdt"
	check "compinit registers _wdt for wdt and wdt-*" zsh -fc '
		fpath=("$1" $fpath); autoload -U compinit; compinit -u -d "$2/zcompdump"
		[[ $_comps[wdt] == _wdt && $_patcomps[wdt-*] == _wdt ]]' _ "$TOP/completion" "$TMP"
	# Run _wdt with zsh's completion functions stubbed: what it hands to
	# _arguments/_describe is what zsh offers.
	cat >"$TMP/zdrive" <<'ZSH'
_call_program() { shift; eval "$@"; }
_arguments() { print -rl -- "$@"; }
_describe() { print -rl -- ${(P)${@[-1]}}; }
_files() { :; }
words=("${(@)argv}")
CURRENT=$#words
source "$ZCOMP"
ZSH
	zsh_words() { ZCOMP=$TOP/completion/_wdt zsh -f "$TMP/zdrive" "$@"; }
	expect_exit 0 "zsh: wdt <TAB>" zsh_words "$WDT" ""
	check "  ... every command with its summary" offers "$("$WDT" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { n = $1; $1 = ""; sub(/^ +/, ""); print n ":" $0 }')" "$OUT"
	for c in $cmds; do
		want=$("$WDT" "$c" --help | sed -n '/^Options:/,/^$/p' | grep -Eo -- '(^| )--?[A-Za-z0-9][a-z0-9-]*' | tr -d ' ' | sort -u)
		expect_exit 0 "zsh: wdt $c -<TAB>" zsh_words "$WDT" "$c" -
		# the specs after _arguments' own flags (-s -S)
		got=$(grep -vx -e -s -e -S <<<"$OUT" | sed -n 's/^([^)]*)//; s/^\(--\{0,1\}[A-Za-z0-9][a-z0-9-]*\).*/\1/p' | sort -u)
		check "  ... every option of wdt $c --help, nothing else" test "$got" = "$want"
	done
	expect_exit 0 "zsh: wdt info --format <TAB>" zsh_words "$WDT" info --format ""
	check "  ... the formats" grep -qF -- "--format=-[read IMAGE as format NAME instead of detecting it]:name:($(tr '\n' ' ' <<<"$formats" | sed 's/ $//'))" <<<"$OUT"
	check "  ... files for -o FILE" grep -qF -- "--output=-[" <<<"$(zsh_words "$WDT" convert -)"
else
	echo "# zsh not installed: the zsh checks did not run"
fi
done_testing
