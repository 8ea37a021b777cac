#!/bin/sh
# Allocation-failure sweep (SQLite's method): run one command line once for every N, with
# allocation number N failing (tests/fault/failmalloc.c in the fault build), and check each
# run. A run must end with status 71 and "PROG: ... out of memory" as its last message,
# with the folder it ran in exactly as before (no output, no temporary, the files that were
# there untouched), or, where the failure was survived, with status 0 and the same output
# as a run in which nothing failed. Anything else (another status, a crash, a leak the
# sanitizer build reports, a file left behind) is a finding, printed with its N.
#
# usage: sweep.sh [-s STRIDE] [-a] [-i FILE] BIN DIR PROG [ARG...]
#   BIN     the fault build's commands (build/fault, or build-san/fault for ASan's leak check)
#   DIR     the files the command line uses; each run gets a fresh copy of it
#   -s N    try every Nth allocation only (1, 1+N, 1+2N, ...); default every one
#   -a      allocation N and every later one fail (default: N alone fails)
#   -i FILE standard input, relative to DIR (default /dev/null)
# Prints one line: PROG, the allocations of the run, the N tried, the findings. Exits 1 on
# a finding. Run the commands with one thread (-j 1): threads draw from one counter.
stride=1
mode=
stdin=/dev/null
while getopts s:ai: o; do
	case $o in
	s) stride=$OPTARG ;;
	a) mode=+ ;;
	i) stdin=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || { echo "usage: sweep.sh [-s STRIDE] [-a] [-i FILE] BIN DIR PROG [ARG...]" >&2; exit 2; }
bin=$(cd "$1" && pwd) || exit 2
data=$(cd "$2" && pwd) || exit 2
prog=$3
shift 3
[ -x "$bin/$prog" ] || { echo "sweep: no $bin/$prog" >&2; exit 2; }
# tmpfs where there is one: every output is fsynced, which a disk makes slow
if [ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-sweep.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM HUP
run=$scratch/run
export OPENBLAS_NUM_THREADS=1 SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
unset ML_FAILMALLOC ML_FAILMALLOC_HIT ML_FAILMALLOC_COUNT

# The folder's names, types, modes and contents.
snapshot() {
	(cd "$run" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

fresh() {
	rm -rf "$run" && cp -a "$data" "$run"
}

# once: run the command line in a fresh copy of DIR; sets st.
once() {
	fresh
	st=0
	(cd "$run" && exec "$bin/$prog" "$@" <"$stdin" >"$scratch/out" 2>"$scratch/err") || st=$?
}

fresh
snapshot >"$scratch/before"
ML_FAILMALLOC_COUNT=$scratch/count once "$@"
if [ "$st" -ne 0 ]; then
	echo "sweep: $prog $*: status $st without a failure" >&2
	cat "$scratch/err" >&2
	exit 2
fi
total=$(cat "$scratch/count")
snapshot >"$scratch/after"
mv "$scratch/out" "$scratch/ref.out"

findings=0
tried=0
finding() {
	findings=$((findings + 1))
	echo "FINDING $prog N=$n$mode: $1" >&2
	sed 's/^/  | /' "$scratch/err" | head -30 >&2
}
n=1
while [ "$n" -le "$total" ]; do
	rm -f "$scratch/hit"
	ML_FAILMALLOC=$n$mode ML_FAILMALLOC_HIT=$scratch/hit once "$@"
	tried=$((tried + 1))
	if [ ! -e "$scratch/hit" ]; then
		finding "allocation $n was never made (status $st): the run is not repeatable"
	elif [ "$st" -eq 71 ]; then
		last=$(tail -n 1 "$scratch/err")
		case $last in
		"$prog: out of memory" | "$prog: "*": out of memory") ;;
		*) finding "status 71 but the last message is '$last'" ;;
		esac
		snapshot | cmp -s - "$scratch/before" || finding "files changed: $(snapshot | diff "$scratch/before" - | grep '^[<>]' | head -5 | tr '\n' ' ')"
	elif [ "$st" -eq 0 ]; then
		snapshot | cmp -s - "$scratch/after" || finding "status 0 but the files differ from a run without failure"
		cmp -s "$scratch/out" "$scratch/ref.out" || finding "status 0 but the output differs from a run without failure"
	else
		finding "status $st"
	fi
	n=$((n + stride))
done
echo "$prog: $total allocations, $tried tried (every ${stride}${mode:+, failing from N on}), $findings findings"
[ "$findings" -eq 0 ]
