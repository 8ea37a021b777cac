#!/bin/sh
# Runs the C unit tests, the check of libml.so's exports and the bats suites; ends with one
# line "N passed, N failed". ML_BIN: the binaries' folder; ML_UNIT: the unit tests' folder;
# ML_SO: the shared library; ML_FUZZ: the fuzzing harnesses' replay drivers (replay_NAME),
# each run on its committed corpus and past findings (tests/fuzz/corpus/NAME,
# tests/fuzz/regressions/NAME); ML_TESTS: bats files.
ML_BIN=${ML_BIN:-bin}
ML_UNIT=${ML_UNIT:-build/unit}
ML_SO=${ML_SO:-build/libml.so}
ML_BIN=$(cd "$ML_BIN" && pwd) || exit 2
export ML_BIN
log=${TMPDIR:-/tmp}/mlpipe-test.$$
passed=0
failed=0
ran=0
for t in "$ML_UNIT"/test_*; do
	[ -x "$t" ] || continue
	ran=$((ran + 1))
	$ML_TEST_WRAPPER "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -gt 0 ] && { echo "FAIL ${t##*/}"; grep -v '^ok ' "$log" | head -40; }
	passed=$((passed + p))
	failed=$((failed + f))
done
# no unit test found is a failure, never a quiet pass
[ "$ran" -gt 0 ] || { echo "FAIL no unit tests in $ML_UNIT"; failed=$((failed + 1)); }
echo "unit: $passed passed, $failed failed"
# libml.so exports exactly what the public headers declare with ML_API
if sh scripts/check-exports.sh "$ML_SO" include/ml >"$log" 2>&1; then
	passed=$((passed + 1))
	cat "$log"
else
	echo "FAIL check-exports"
	head -60 "$log"
	failed=$((failed + 1))
fi
# every input the fuzzers kept or found runs again, under the sanitizers in their build
ML_FUZZ=${ML_FUZZ:-build/fuzz}
nrep=0
for t in "$ML_FUZZ"/replay_*; do
	[ -x "$t" ] || continue
	name=${t##*/replay_}
	nrep=$((nrep + 1))
	if OPENBLAS_NUM_THREADS=1 $ML_TEST_WRAPPER "$t" tests/fuzz/corpus/"$name"/* \
		$(ls -d tests/fuzz/regressions/"$name"/* 2>/dev/null) >"$log" 2>&1; then
		passed=$((passed + 1))
	else
		echo "FAIL fuzz replay $name"
		tail -n 30 "$log"
		failed=$((failed + 1))
	fi
done
[ "$nrep" -gt 0 ] || { echo "FAIL no fuzz replay drivers in $ML_FUZZ"; failed=$((failed + 1)); }
echo "fuzz replay: $nrep harnesses"
jobs=$(nproc 2>/dev/null || echo 1)
files=${ML_TESTS:-$(ls tests/*.bats 2>/dev/null)}
if [ -n "$files" ]; then
	if bats --help 2>&1 | grep -q -- '--jobs' && command -v parallel >/dev/null 2>&1; then
		par="--jobs $jobs"
	else
		par=
	fi
	bats --tap $par $files >"$log" 2>&1
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	grep -q '^1\.\.' "$log" || f=$((f + 1))
	[ "$f" -gt 0 ] && sed -n '/^not ok /,/^ok /p' "$log" | grep -v '^ok ' | head -200
	grep -v '^ok \|^not ok \|^#\|^1\.\.' "$log" | head -20
	passed=$((passed + p))
	failed=$((failed + f))
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
