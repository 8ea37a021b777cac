#!/bin/sh
# Runs each fuzzing harness on the inputs of its past findings (tests/fuzz/regressions/NAME),
# then for a while from its committed corpus; fails on any crash, leak, sanitizer report,
# timeout or disagreement (libFuzzer then exits non-zero and leaves the input in
# OUT/artifacts/). Usage: run.sh OUT SECONDS NAME...
# New inputs go to OUT/corpus/NAME, never into tests/fuzz/corpus/NAME.
out=$1
secs=$2
shift 2
here=$(dirname "$0")
mkdir -p "$out/artifacts" || exit 1
art=$(cd "$out/artifacts" && pwd) || exit 1 # absolute: fuzz_mleval runs the command elsewhere
failed=0
for name in "$@"; do
	seeds=$here/corpus/$name
	if [ ! -d "$seeds" ]; then
		echo "FAIL $name: no corpus $seeds"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$out/corpus/$name" || exit 1
	if [ -d "$here/regressions/$name" ]; then
		log=$out/$name-regressions.log
		if ! OPENBLAS_NUM_THREADS=1 "$out/fuzz_$name" -timeout=10 "$here/regressions/$name"/* \
			>"$log" 2>&1; then
			echo "FAIL $name: a past finding is back (log $log)"
			grep -A 30 '^==[0-9]*==ERROR\|^fuzz: \|runtime error\|^SUMMARY' "$log" | head -60
			failed=$((failed + 1))
			continue
		fi
	fi
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	log=$out/$name.log
	OPENBLAS_NUM_THREADS=1 nice -n 19 "$out/fuzz_$name" -max_total_time="$secs" -timeout=30 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/$name-" \
		$dict "$out/corpus/$name" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "FAIL $name (status $rc, log $log)"
		grep -A 30 '^==[0-9]*==ERROR\|^fuzz: \|runtime error\|^SUMMARY' "$log" | head -60
		failed=$((failed + 1))
	else
		echo "ok $name: ${runs:-?} runs in ${secs} s"
	fi
done
echo "fuzz: $# harnesses, $failed failed"
[ "$failed" -eq 0 ]
