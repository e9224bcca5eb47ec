# bash completion for wdt and its wdt-COMMAND links.             -*- sh -*-
#
# Asks wdt itself, every time: `wdt --list-commands` for the commands and
# `wdt COMMAND --help` for the options -- the option table that parses the
# command line prints that help, so the completion cannot drift from it.
# Installed as share/bash-completion/completions/wdt (and wdt-COMMAND links).

# _wdt_opts CMD...: "-x --name --name=ARG" words from CMD --help's Options.
_wdt_opts()
{
	"$@" --help 2>/dev/null | awk '
		/^Options:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^ +-/ {
			for (i = 1; i <= NF; i++) {
				t = $i; sub(/,$/, "", t)
				if (t !~ /^--?[A-Za-z0-9]/) break
				print t
			}
		}'
}

_wdt()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]} i w cmd= opt= word
	local -a run

	COMPREPLY=()
	# --name=VALUE: bash splits at '=' (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		opt=$prev cur=
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		opt=${COMP_WORDS[COMP_CWORD-2]}
	fi
	if [[ ${prog##*/} == wdt-* ]]; then
		run=("$prog")
		i=1
	else
		for ((i = 1; i < COMP_CWORD; i++)); do
			w=${COMP_WORDS[i]}
			[[ $w == -* ]] && continue
			cmd=$w
			break
		done
		if [[ -z $cmd ]]; then
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W '--help --version -h -V --list-commands' -- "$cur"))
			else
				COMPREPLY=($(compgen -W "$("$prog" --list-commands 2>/dev/null) help" -- "$cur"))
			fi
			return 0
		fi
		if [[ $cmd == help ]]; then
			COMPREPLY=($(compgen -W "$("$prog" --list-commands 2>/dev/null)" -- "$cur"))
			return 0
		fi
		run=("$prog" "$cmd")
	fi

	local -a opts
	opts=($(_wdt_opts "${run[@]}"))
	# The option whose value is being typed (--opt=VALUE, --opt VALUE,
	# -x VALUE) and its metavariable from the help (--output=FILE).
	local arg= last=
	[[ -z $opt && $prev == -* ]] && opt=$prev
	if [[ -n $opt ]]; then
		for word in "${opts[@]}"; do
			if [[ $word == "$opt"=* ]] ||
				[[ $last == "$opt" && $opt != --* && $word == --*=* ]]; then
				arg=${word#*=}
				opt=${word%%=*}
				break
			fi
			last=$word
		done
	fi
	if [[ -n $arg ]]; then
		case $opt:$arg in
		--format:*)
			local main=$prog
			[[ ${prog##*/} == wdt-* ]] && main=${prog%wdt-*}wdt
			COMPREPLY=($(compgen -W "$("$main" info --list-formats 2>/dev/null |
				awk '/^  [a-z]/ { print $1 }')" -- "$cur"))
			;;
		*:*FILE* | *:*DIR* | *:*PATH*)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		local -a names=()
		for word in "${opts[@]}"; do
			names+=("${word%%=*}")
		done
		COMPREPLY=($(compgen -W "${names[*]}" -- "$cur"))
		return 0
	fi
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
	return 0
}

complete -F _wdt wdt
# The wdt-COMMAND links (bash-completion loads this file for them through
# the links `make install` puts beside it).
for _wdt_c in $(wdt --list-commands 2>/dev/null); do
	complete -F _wdt "wdt-$_wdt_c"
done
unset _wdt_c
