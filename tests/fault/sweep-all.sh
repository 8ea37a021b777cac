#!/bin/sh
# Allocation-failure sweeps of a representative run of every command (tests/fault/sweep.sh
# on each line of LINES below), on 60 rows of samples/pima.csv and a metrics fixture.
#
# usage: sweep-all.sh [-b BUDGET] [-a] [-c PROG] [BIN]
#   BIN        the fault build's commands (default build/fault)
#   -b BUDGET  try about BUDGET values of N per command line, evenly spaced (make test);
#              default every N (make fault)
#   -a         also sweep with allocation N and every later one failing
#   -c PROG    only the lines that run PROG
# Prints a line per command line; exits 1 when any sweep found something.
budget=
also=
only=
while getopts b:ac: o; do
	case $o in
	b) budget=$OPTARG ;;
	a) also=1 ;;
	c) only=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:-$root/build/fault}" && pwd) || exit 2
if [ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; fi
export TMPDIR
data=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-sweep-data.XXXXXX") || exit 2
trap 'rm -rf "$data" "$data.count" "$data.failed"' EXIT
trap 'exit 130' INT TERM HUP
export SOURCE_DATE_EPOCH=1700000000 OPENBLAS_NUM_THREADS=1

# The inputs: rows without missing values, as CSV and as a stream, a model, a pipeline.
awk -F, 'NR == 1 || !/(^|,)(,|$)/' "$root/samples/pima.csv" | head -61 >"$data/p.csv"
cp "$root/tests/fixtures/metrics/binary.csv" "$data/binary.csv"
(cd "$data" && "$bin/mlcat" -f stream -o p.mls p.csv &&
	"$bin/mltrain" -q -j 1 -t diabetes -a logistic -o m.mlm p.csv &&
	"$bin/mlfeat" -j 1 --save f.mlm -t diabetes --impute median --scale standard \
		-o /dev/null p.csv &&
	"$bin/mltrain" -q -j 1 -t diabetes -a nb -o n.mlm p.csv &&
	"$bin/mldrift" --profile -o ref.mlm p.csv &&
	"$bin/mltrain" -q -j 1 -a iforest --trees 5 -o i.mlm p.csv &&
	"$bin/mlensemble" --method mean -m m.mlm -m n.mlm -o e.mlm) || exit 2
# a monthly series of five years (airline passengers)
head -61 "$root/samples/airpassengers.csv" >"$data/air.csv"

LINES='mlcat -o out.csv p.csv
mlcat -f stream -o out.mls p.csv
mlcat --head 20 -o out.csv p.mls
mlsplit -j 1 --test 0.25 --seed 3 --train-out tr.csv --test-out te.csv p.csv
mlfeat -j 1 --save f2.mlm -t diabetes --cat pregnant --impute median --scale standard --onehot pregnant -o f.csv p.csv
mltrain -j 1 -q -t diabetes -a logistic --cv 3 --report r.csv --oof oof.csv -o m2.mlm p.csv
mltrain -j 1 -q -t diabetes -a gbdt --rounds 3 -o g.mlm p.mls
mlpredict -j 1 -m f.mlm -m m.mlm -o pred.csv p.csv
mleval -j 1 -t target --plot roc --plot-file roc.svg -o ev.csv binary.csv
mlinfo -o info.json m.mlm
mlinfo --table coef -o coef.csv m.mlm
mltrain -j 1 -q -a iforest --trees 5 -o i.mlm p.csv
mldrift -j 1 --profile -o prof.mlm p.csv
mldrift -j 1 --ref ref.mlm --report-only --json p.csv
mldrift --merge -o merged.mlm ref.mlm ref.mlm
mlensemble --method mean -m m.mlm -m n.mlm -o e.mlm
mlensemble -j 1 -q --method stack -t diabetes --base logistic --base nb --cv 3 -o s.mlm p.csv
mlpredict -j 1 -m i.mlm -o pi.csv p.csv
mlpredict -j 1 -m e.mlm -o pe.csv p.csv
mlforecast -j 1 -q --time t -y y --model ets --horizon 6 --save fc.mlm -o fc.csv air.csv
mlforecast -j 1 -q --time t -y y --model arima --horizon 6 -o fa.csv air.csv'

# The loop runs in a subshell: a finding is a file.
echo "$LINES" | while read -r line; do
	[ -n "$line" ] || continue
	# shellcheck disable=SC2086
	set -- $line
	[ -z "$only" ] || [ "$1" = "$only" ] || continue
	stride=1
	if [ -n "$budget" ]; then
		# the run's allocations, for the stride; then the folder as it was
		mkdir "$data.count"
		cp -a "$data/." "$data.count"
		(cd "$data.count" && ML_FAILMALLOC_COUNT=.count "$bin/$@" >/dev/null 2>&1 </dev/null)
		stride=$(($(cat "$data.count/.count") / budget + 1))
		rm -rf "$data.count"
	fi
	sh "$here/sweep.sh" -s "$stride" "$bin" "$data" "$@" || touch "$data.failed"
	if [ -n "$also" ]; then
		sh "$here/sweep.sh" -a -s "$stride" "$bin" "$data" "$@" || touch "$data.failed"
	fi
done
[ ! -e "$data.failed" ] || { rm -f "$data.failed"; exit 1; }
