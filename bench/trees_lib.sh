# Shared by bench/trees.sh and bench/trees_mc.sh (sourced, not run): the generated binary
# problem, the training-alone timer and the timing helpers. The caller sets D (the data
# folder), REP (runs per figure) and CC.

# trees_data: bench/gen.c's 1M x 28 binary problem (seed 1), its first 800000 rows in
# $D/trees-train.csv and the other 200000 in $D/trees-test.csv, with header-less copies
# (*-nh.csv) for the XGBoost command.
trees_data() {
	csv=$D/higgs-1000000.csv
	if [ -s "$D/trees-train.csv" ] && [ -s "$D/trees-test.csv" ] &&
		[ -s "$D/trees-train-nh.csv" ] && [ -s "$D/trees-test-nh.csv" ]; then
		return 0
	fi
	if [ ! -s "$csv" ]; then
		$CC -O2 -o "$D/gen" bench/gen.c -lm
		"$D/gen" 1000000 1 >"$csv"
	fi
	head -n 800001 "$csv" >"$D/trees-train.csv"
	{ head -n 1 "$csv"; tail -n +800002 "$csv"; } >"$D/trees-test.csv"
	tail -n +2 "$D/trees-train.csv" >"$D/trees-train-nh.csv"
	tail -n +2 "$D/trees-test.csv" >"$D/trees-test-nh.csv"
}

# $D/trees_fit (bench/trees_fit.c): ml_learner_fit alone on rows read beforehand.
trees_fit_build() {
	$CC -O2 -std=c11 -D_GNU_SOURCE -Iinclude -o "$D/trees_fit" bench/trees_fit.c build/libml.a \
		-lcsv $(pkg-config --libs libcjson zlib openblas lapacke) -lm -pthread
}

# best COMMAND...: the least wall time of REP runs of a command (its errors shown when it
# fails); sets $best, $mem to the peak resident set (MB) of the fastest run, and keeps the
# standard output of the fastest run in $D/trees.out.
best() {
	best=
	mem=
	i=0
	while [ $i -lt "$REP" ]; do
		if ! /usr/bin/time -f "%e %M" -o "$D/trees.time" "$@" >"$D/trees.run" \
			2>"$D/trees.err"; then
			cat "$D/trees.err" >&2
			exit 1
		fi
		read -r w m <"$D/trees.time"
		if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$w
			mem=$(awk -v k="$m" 'BEGIN { printf "%.0f", k / 1024 }')
			mv "$D/trees.run" "$D/trees.out"
		fi
		i=$((i + 1))
	done
}

# fit COMMAND...: the least of REP figures printed by a command (a training-alone time).
fit() {
	fit=
	i=0
	while [ $i -lt "$REP" ]; do
		v=$("$@")
		if [ -z "$fit" ] || awk -v a="$v" -v b="$fit" 'BEGIN { exit !(a < b) }'; then
			fit=$v
		fi
		i=$((i + 1))
	done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pairs "A ARGS" "B ARGS": BENCH_PAIRS (default 5) alternating runs of two commands (each a
# string of words without quoting); sets $pa and $pb to their wall times and $pr to the
# ratios a / b, each a list with a leading space.
pairs() {
	pa=
	pb=
	pr=
	i=0
	while [ $i -lt "${BENCH_PAIRS:-5}" ]; do
		# shellcheck disable=SC2086
		/usr/bin/time -f %e -o "$D/trees.time" $1 >/dev/null 2>&1
		a=$(cat "$D/trees.time")
		# shellcheck disable=SC2086
		/usr/bin/time -f %e -o "$D/trees.time" $2 >/dev/null 2>&1
		b=$(cat "$D/trees.time")
		pa="$pa $a"
		pb="$pb $b"
		pr="$pr $(ratio "$a" "$b")"
		i=$((i + 1))
	done
}
diff4() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.4f", a - b }'; }

trees_clean() { rm -f "$D/trees.time" "$D/trees.err" "$D/trees.run" "$D/trees.out"; }
