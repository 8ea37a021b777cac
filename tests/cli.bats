#!/usr/bin/env bats
# What every command shares: --help, --version, bad options, man pages, exit codes.

load helpers

@test "there are commands to check" {
	[ -n "$COMMANDS" ]
}

@test "--help prints usage to stdout and exits 0" {
	for c in $COMMANDS; do
		run --separate-stderr ml "$c" --help
		[ "$status" -eq 0 ] || { echo "$c --help: $status"; return 1; }
		[[ "$output" == "Usage: $c "* ]] || { echo "$c: $output" | head -3; return 1; }
		[ -z "$stderr" ] || { echo "$c --help wrote to stderr"; return 1; }
	done
}

@test "--version names the command and its libraries" {
	for c in $COMMANDS; do
		run --separate-stderr ml "$c" --version
		[ "$status" -eq 0 ]
		[[ "$output" =~ ^$c\ [0-9]+\.[0-9]+\.[0-9]+\ \(libml\ .*OpenBLAS.*zlib.*cJSON.*libcsv ]] ||
			{ echo "$c: $output"; return 1; }
	done
}

@test "an unknown option is a usage error with two lines on stderr" {
	for c in $COMMANDS; do
		run -2 --separate-stderr ml "$c" --bogus
		[ "$output" = "" ]
		[ "$stderr" = "$c: unrecognized option '--bogus'
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
	done
}

@test "a missing option argument is a usage error" {
	for c in $COMMANDS; do
		run -2 --separate-stderr ml "$c" --output
		[ "$stderr" = "$c: option '--output' requires an argument
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
	done
}

@test "bad numbers for common options are usage errors" {
	local n=0
	for c in $COMMANDS; do
		if ml "$c" --list-options | grep -qx -- '--threads='; then
			run -2 --separate-stderr ml "$c" -j x
			[ "$stderr" = "$c: invalid value 'x' for --threads (a whole number from 0 to 1024)
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
			n=$((n + 1))
		fi
		if ml "$c" --list-options | grep -qx -- '--seed='; then
			run -2 --separate-stderr ml "$c" --seed -1
			[ "$stderr" = "$c: invalid value '-1' for --seed (a whole number >= 0)
Try '$c --help' for more information." ] || { echo "$c: $stderr"; return 1; }
			n=$((n + 1))
		fi
	done
	[ "$n" -ge 8 ]
}

# Which common options each command takes: those that have an effect for it.
@test "each command takes the common options that have an effect for it, and no others" {
	cd "$BATS_TEST_TMPDIR"
	local input='--delimiter= --no-header --na= --num= --cat='
	local output='--output= --format= --precision= --compress= --force'
	local always='--help --version --list-options'
	local all="$input $output --threads= --seed= --quiet --verbose $always" o arg
	declare -A want=(
		[mlcat]="$input $output --seed= $always"
		[mlsplit]="$all"
		[mlfeat]="$all"
		[mltrain]="$all"
		[mlpredict]="$input $output --threads= --quiet $always"
		[mleval]="$input $output --threads= --seed= --verbose $always"
		[mlinfo]="$output --verbose $always"
		[mldrift]="$input --output= --format= --precision= --threads= --seed= --quiet --verbose $always"
		[mlensemble]="$all"
		[mlforecast]="$input $output --threads= --quiet --verbose $always"
	)
	declare -A short=([--delimiter=]=d [--no-header]=H [--output=]=o [--format=]=f
		[--threads=]=j [--quiet]=q [--verbose]=v)
	for c in $COMMANDS; do
		[ -n "${want[$c]}" ] || { echo "$c: not in this test"; return 1; }
		ml "$c" --list-options >listed
		for o in $all; do
			if [[ " ${want[$c]} " == *" $o "* ]]; then
				grep -qx -- "$o" listed || { echo "$c lacks $o"; return 1; }
				continue
			fi
			if grep -qx -- "$o" listed; then
				echo "$c takes $o"
				return 1
			fi
			arg=
			[[ $o == *= ]] && arg=1
			run -2 --separate-stderr ml "$c" "$o$arg"
			[ "$stderr" = "$c: unrecognized option '$o$arg'
Try '$c --help' for more information." ] || { echo "$c $o$arg: $stderr"; return 1; }
			[ -n "${short[$o]}" ] || continue
			run -2 --separate-stderr ml "$c" "-${short[$o]}" ${arg:+"$arg"}
			[ "$stderr" = "$c: invalid option -- '${short[$o]}'
Try '$c --help' for more information." ] || { echo "$c -${short[$o]}: $stderr"; return 1; }
		done
	done
}

# The long options a text names, one a line: whole --words, roff's \- read as -, a mention
# of another command's option ("mlfeat --impute") left out. $1: the command, $2: the text.
opt_words() {
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$2" |
		sed -E "s/(^|[^a-z])$1 +--/\\1--/g; s/(^|[^a-z])ml[a-z]+ +--[a-z0-9][a-z0-9-]*/\\1/g" |
		grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

# What a man page documents as options: its OPTIONS section, and the hyperparameters of
# its ALGORITHMS section where it has one.
man_options() {
	sed -n '/^\.SH OPTIONS/,/^\.SH /p; /^\.SH ALGORITHMS/,/^\.SH /p' "$TOP/man/$1.1"
}

# The options a man page's OPTIONS text has an entry for: the tags of its .TP and .TQ
# paragraphs. $1: the command.
man_entries() {
	man_options "$1" | awk 'tag { print; tag = 0 } /^\.T[PQ]/ { tag = 1 }' >entries.txt
	opt_words "$1" entries.txt
}

# The options --help has a line for: "  -x, --name..." or "      --name...".
help_entries() {
	ml "$1" --help | sed -nE 's/^ {2}(-[[:alnum:]], |    )(--[a-z0-9][a-z0-9-]*).*/\2/p' | sort -u
}

# Whole names both ways: every option --list-options prints has an entry in --help and in
# the man page's OPTIONS; every --name either of them mentions is one it prints.
@test "--list-options, --help and the man page name the same long options" {
	cd "$BATS_TEST_TMPDIR"
	local o bad=0
	for c in $COMMANDS; do
		[ -f "$TOP/man/$c.1" ] || { echo "no man/$c.1"; return 1; }
		ml "$c" --list-options >listed.raw
		if grep -vxE -- '--[a-z0-9][a-z0-9-]*=?' listed.raw; then
			echo "$c --list-options: odd lines above"
			return 1
		fi
		sed 's/=$//' listed.raw | sort -u >listed
		[ "$(wc -l <listed)" -ge 5 ] || { echo "$c lists too few options"; return 1; }
		help_entries "$c" >help_entries
		man_entries "$c" >man_entries
		ml "$c" --help >help.txt
		opt_words "$c" help.txt >help_words
		man_options "$c" >man.txt
		opt_words "$c" man.txt >man_words
		for o in $(comm -23 listed help_entries); do echo "$c --help has no line for $o"; bad=1; done
		for o in $(comm -23 listed man_entries); do echo "man/$c.1 has no entry for $o"; bad=1; done
		for o in $(comm -13 listed help_words); do echo "$c --help names $o, not an option of $c"; bad=1; done
		for o in $(comm -13 listed man_words); do echo "man/$c.1 names $o, not an option of $c"; bad=1; done
	done
	[ "$bad" -eq 0 ]
}

@test "every man page has an EXIT STATUS and EXAMPLES" {
	for c in $COMMANDS; do
		grep -q '^\.SH EXIT STATUS' "$TOP/man/$c.1" || { echo "$c.1: no EXIT STATUS"; return 1; }
		grep -q '^\.SH EXAMPLES' "$TOP/man/$c.1" || { echo "$c.1: no EXAMPLES"; return 1; }
	done
}

@test "man page EXAMPLES run" {
	cd "$BATS_TEST_TMPDIR"
	cp "$SAMPLES"/*.csv .
	for c in $COMMANDS; do
		# Lines of the EXAMPLES section that start with '$ ' are commands.
		sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$TOP/man/$c.1" | sed -n 's/^\\\$ //p; s/^\$ //p' |
			sed 's/\\-/-/g; s/\\(aq/'"'"'/g; s/\\e/\\/g' >examples.sh
		[ -s examples.sh ] || { echo "$c.1: no runnable examples"; return 1; }
		PATH="$ML_BIN:$PATH" bash -e -o pipefail examples.sh >out.txt 2>err.txt ||
			{ echo "$c.1 example failed:"; cat examples.sh err.txt; return 1; }
	done
}

@test "the man pages of the formats and the overview exist" {
	for m in ml-stream.5 ml-model.5 mlpipe.7; do
		[ -f "$TOP/man/$m" ] || { echo "no man/$m"; return 1; }
	done
}

@test "the completions offer each command's options, and only options that exist" {
	cd "$BATS_TEST_TMPDIR"
	local o
	: >all
	for c in $COMMANDS; do
		echo $(ml "$c" --list-options | sed 's/=$//') >want
		sed -n "s/^\t$c) echo '\(.*\)' ;;\$/\1/p" "$TOP/completions/mlpipe.bash" >got
		same want got || { echo "completions/mlpipe.bash: $c"; return 1; }
		sed -n "s/^$c) opts=(\(.*\) ) ;;\$/\1/p" "$TOP/completions/_mlpipe" >got
		same want got || { echo "completions/_mlpipe: $c"; return 1; }
		ml "$c" --list-options | sed 's/=$//' >>all
	done
	# Every option the scripts name or call (the -a case calls mltrain --list-algorithms).
	for f in mlpipe.bash _mlpipe; do
		for o in $(grep -oE -- '--[a-z0-9][a-z0-9-]*' "$TOP/completions/$f" | sort -u); do
			grep -qx -- "$o" all || { echo "completions/$f uses $o, which no command has"; return 1; }
		done
	done
	grep -q '"\${dir}mltrain" --list-algorithms' "$TOP/completions/mlpipe.bash"
	ml mltrain --list-options | grep -qx -- --list-algorithms
}

@test "bash completes -a with the algorithm names, for mltrain and mlfeat" {
	source "$TOP/completions/mlpipe.bash"
	for c in mltrain mlfeat; do
		COMP_WORDS=("$ML_BIN/$c" -t y -a g)
		COMP_CWORD=4
		COMPREPLY=()
		_mlpipe
		[ "${COMPREPLY[*]}" = "gbdt gp" ] || { echo "$c: ${COMPREPLY[*]}"; return 1; }
		COMP_WORDS=("$ML_BIN/$c" --algorithm "")
		COMP_CWORD=2
		_mlpipe
		[ "${COMPREPLY[*]}" = "$(ml mltrain --list-algorithms | tr '\n' ' ' | sed 's/ $//')" ]
		COMP_WORDS=("$ML_BIN/$c" --list-o)
		COMP_CWORD=1
		_mlpipe
		[ "${COMPREPLY[*]}" = "--list-options" ]
	done
}

@test "out of memory while setting up the command line is status 71 with a message" {
	[ -z "$ML_TEST_WRAPPER" ] || skip "the wrapper brings its own allocator"
	if ldd "$ML_BIN/mlcat" | grep -q libasan; then skip "ASan brings its own allocator"; fi
	cd "$BATS_TEST_TMPDIR"
	# Every allocation fails once getenv("ML_FORMAT") is asked, the first thing the set-up
	# of the common options does.
	cat >nomem.c <<'EOF'
#include <stdlib.h>
#include <string.h>

extern char **environ;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static int failing;

char *getenv(const char *name)
{
	size_t n = strlen(name);
	char **e;

	if (strcmp(name, "ML_FORMAT") == 0)
		failing = 1;
	for (e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

void *malloc(size_t n) { return failing ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t m) { return failing ? NULL : __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { return failing ? NULL : __libc_realloc(p, n); }
EOF
	${CC:-cc} -shared -fPIC -o nomem.so nomem.c
	for c in $COMMANDS; do
		run -71 --separate-stderr env LD_PRELOAD="$PWD/nomem.so" "$ML_BIN/$c" --help
		[ "$output" = "" ]
		[ "$stderr" = "$c: out of memory" ] || { echo "$c: $stderr"; return 1; }
	done
}

@test "a column an option names that the input lacks: status 65, one message, the nearest name" {
	cd "$BATS_TEST_TMPDIR"
	printf 'id,Y,x,grp\n1,a,1.5,u\n2,b,2.5,v\n3,a,3.5,u\n4,b,4.5,v\n' >d.csv
	ml mltrain -q -t Y -a nb -o m.mlm d.csv
	check() {
		local c=$1 msg=$2
		shift 2
		run -65 --separate-stderr ml "$c" "$@"
		[ "$stderr" = "$c: d.csv: $msg" ] || { echo "$c $*: $stderr"; return 1; }
		[ "$output" = "" ]
	}
	check mlcat "no column 'y' (--select); did you mean 'Y'?" --select id,y d.csv
	check mlsplit "no column 'y' (--stratify); did you mean 'Y'?" --kfold 2 --stratify y d.csv
	check mlsplit "no column 'grps' (--group); did you mean 'grp'?" --kfold 2 --group grps d.csv
	check mlfeat "no column 'y' (-t); did you mean 'Y'?" -t y --scale standard d.csv
	check mlfeat "no column 'ids' (--keep); did you mean 'id'?" --keep ids --scale standard d.csv
	check mltrain "no column 'y' (-t); did you mean 'Y'?" -t y -a nb -o n.mlm d.csv
	check mltrain "no column 'wt' (--weight)" -t Y -a nb --weight wt -o n.mlm d.csv
	check mlpredict "no column 'ID' (--keep); did you mean 'id'?" -m m.mlm --keep ID d.csv
	check mleval "no column 'y' (-t); did you mean 'Y'?" -t y d.csv
	check mleval "no column 'GRP' (--by); did you mean 'grp'?" -t Y --by GRP d.csv
	[ ! -e n.mlm ]
}

@test "a full disk is a write error (74)" {
	run -74 --separate-stderr bash -c "'$ML_BIN/mlcat' '$SAMPLES/penguins.csv' >/dev/full"
	[[ "$stderr" == "mlcat: "*"write error"* ]]
}

@test "-o onto a device or a FIFO writes to it and leaves it in place" {
	ml mlcat "$SAMPLES/penguins.csv" -o /dev/null
	[ -c /dev/null ]
	run -74 --separate-stderr ml mlcat "$SAMPLES/penguins.csv" -o /dev/full
	[[ "$stderr" == "mlcat: /dev/full: write error"* ]]
	[ -c /dev/full ]
	mkfifo "$BATS_TEST_TMPDIR/f"
	cat "$BATS_TEST_TMPDIR/f" >"$BATS_TEST_TMPDIR/got" &
	ml mlcat "$SAMPLES/airpassengers.csv" -o "$BATS_TEST_TMPDIR/f"
	wait
	[ -p "$BATS_TEST_TMPDIR/f" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/got")" -eq 145 ]
	run -74 --separate-stderr ml mlcat "$SAMPLES/airpassengers.csv" -o "$BATS_TEST_TMPDIR"
	[[ "$stderr" == *"Is a directory"* ]]
}

@test "a closed pipe ends quietly" {
	run --separate-stderr bash -c "'$ML_BIN/mlcat' '$SAMPLES/seattle_weather.csv' | head -1"
	[ "$status" -eq 0 ]
	[ "$output" = "date,precipitation,temp_max,temp_min,wind,weather" ]
	[ -z "$stderr" ]
}
