#!/usr/bin/env bats
# mlinfo: metadata as JSON for any kind, tables, sections, and checking files.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	MF=$FIX/mltrain
}

@test "metadata is pretty-printed JSON in the file's key order" {
	ml mltrain -q -t temp_max -a ridge --l2 2.5 --ignore date -o m.mlm "$SAMPLES/seattle_weather.csv"
	run -0 --separate-stderr ml mlinfo m.mlm
	[ "$stderr" = "" ]
	[ "${lines[0]}" = "{" ]
	[ "${lines[1]}" = '  "format": "ml-model",' ]
	[ "${lines[2]}" = '  "version": 1,' ]
	[ "${lines[3]}" = '  "kind": "model",' ]
	[ "${lines[4]}" = '  "algorithm": "ridge",' ]
	[ "${lines[5]}" = '  "tool": "mlpipe 0.1.0",' ]
	[ "${lines[6]}" = '  "created": "2023-11-14T22:13:20Z",' ]
	[ "${lines[7]}" = '  "task": "regress",' ]
	[ "${lines[8]}" = '  "target": "temp_max",' ]
	[[ "$output" == *'"levels": ["drizzle", "fog", "rain", "snow", "sun"]'* ]]
	[[ "$output" == *'"params": {
    "l2": 2.5
  },'* ]]
	[[ "$output" == *'"ignore": "date"'* ]]
	[ "${lines[${#lines[@]}-1]}" = "}" ]
	# the same from standard input, and stable from run to run
	ml mlinfo - <m.mlm >a.json
	ml mlinfo m.mlm >b.json
	same a.json b.json
}

@test "any kind prints, even one without tables or learner" {
	run -0 --separate-stderr ml mlinfo "$MF/features.mlm"
	[ "$output" = '{
  "format": "ml-model",
  "version": 1,
  "kind": "features",
  "tool": "mlpipe 0.1.0",
  "created": "2026-01-01T00:00:00Z"
}' ]
	run -0 --separate-stderr ml mlinfo --check "$MF/future.mlm"
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlinfo --check "$MF/features.mlm"
	[ "$stderr" = "mlinfo: $MF/features.mlm: the model has no section named 'feat.pipeline'" ]
	run -2 --separate-stderr ml mlinfo --table coef "$MF/features.mlm"
	[ "${stderr_lines[0]}" = "mlinfo: $MF/features.mlm: a 'features' artefact has no tables" ]
}

@test "--table prints a model's table as CSV; an unknown one lists them" {
	ml mltrain -q -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	run -0 --separate-stderr ml mlinfo --table coef bc.mlm
	[ "${lines[0]}" = "feature,coef" ]
	[[ "${lines[1]}" == "(intercept),"* ]]
	[ "${#lines[@]}" -eq 32 ]
	ml mlinfo --table coef -f tsv -o coef.tsv bc.mlm
	[ "$(head -1 coef.tsv)" = "$(printf 'feature\tcoef')" ]
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	run -0 --separate-stderr ml mlinfo --table theta pg.mlm
	[[ "${lines[0]}" == "feature,"* ]]
	run -2 --separate-stderr ml mlinfo --table coef pg.mlm
	[ "$stderr" = "mlinfo: -a nb models have no table 'coef' (tables: classes, theta, var)
Try 'mlinfo --help' for more information." ]
	ml mltrain -q -t target -a knn -o k.mlm "$SAMPLES/breast_cancer.csv"
	run -2 --separate-stderr ml mlinfo --table coef k.mlm
	[ "${stderr_lines[0]}" = "mlinfo: -a knn models have no table 'coef' (none has tables)" ]
}

@test "--sections lists sections and sizes" {
	ml mltrain -q -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	run -0 --separate-stderr ml mlinfo --sections bc.mlm
	[ "${lines[0]}" = "section,bytes" ]
	[[ "${lines[1]}" =~ ^logistic\.[a-z]+,[0-9]+$ ]]
}

@test "--check: 0 for a sound file, 65 with the loader's message otherwise" {
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	run -0 --separate-stderr ml mlinfo --check pg.mlm
	[ "$output" = "" ]
	[ "$stderr" = "" ]
	run -0 --separate-stderr ml mlinfo --check -v pg.mlm
	[ "$stderr" = "mlinfo: pg.mlm: ok" ]
	size=$(wc -c <pg.mlm)
	for at in 20 300 $((size - 20)) $((size - 3)); do
		cp pg.mlm bad.mlm
		b=$(od -An -tu1 -j "$at" -N1 bad.mlm | tr -d ' ')
		printf "\\$(printf %o $((b ^ 4)))" | dd of=bad.mlm bs=1 seek="$at" conv=notrunc 2>/dev/null
		run -65 --separate-stderr ml mlinfo --check bad.mlm
		[[ "$stderr" == "mlinfo: bad.mlm: "* ]] || { echo "byte $at: $stderr"; return 1; }
		run -65 --separate-stderr ml mlinfo bad.mlm
		[ "$output" = "" ]
	done
	cp pg.mlm bad.mlm
	printf '\x41' | dd of=bad.mlm bs=1 seek=300 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlinfo --check bad.mlm
	[ "$stderr" = "mlinfo: bad.mlm: corrupted (checksum mismatch)" ]
	head -c 200 pg.mlm >short.mlm
	run -65 --separate-stderr ml mlinfo --check short.mlm
	[ "$stderr" = "mlinfo: short.mlm: truncated (in the metadata)" ]
	run -65 --separate-stderr ml mlinfo --check "$MF/hollow.mlm"
	[ "$stderr" = "mlinfo: $MF/hollow.mlm: the model has no section named 'logistic.coef'" ]
	run -0 --separate-stderr ml mlinfo "$MF/hollow.mlm"
}

@test "-o puts every mode's output in place; --check, which writes nothing, refuses it" {
	ml mltrain -q -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	local mode
	for mode in "" --sections "--table coef"; do
		ml mlinfo $mode bc.mlm >a.txt
		ml mlinfo $mode -o b.txt bc.mlm >out.txt
		same a.txt b.txt
		[ ! -s out.txt ]
		rm b.txt
	done
	run -2 --separate-stderr ml mlinfo --check -o b.txt bc.mlm
	[ "$stderr" = "mlinfo: --check writes nothing: -o cannot be combined with it
Try 'mlinfo --help' for more information." ]
	[ ! -e b.txt ]
}

@test "bad arguments and inputs" {
	run -2 --separate-stderr ml mlinfo
	[ "$stderr" = "mlinfo: no ARTEFACT given
Try 'mlinfo --help' for more information." ]
	run -2 --separate-stderr ml mlinfo a.mlm b.mlm
	[ "${stderr_lines[0]}" = "mlinfo: one ARTEFACT at a time" ]
	run -2 --separate-stderr ml mlinfo --check --sections a.mlm
	[ "${stderr_lines[0]}" = "mlinfo: --table, --check and --sections cannot be combined" ]
	run -66 --separate-stderr ml mlinfo nope.mlm
	[ "$stderr" = "mlinfo: nope.mlm: cannot open: No such file or directory" ]
	run -65 --separate-stderr ml mlinfo "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlinfo: $SAMPLES/penguins.csv: not an ml-model file (starts with '\"species\",\"island\",\"bill_length_mm\",\"bil')" ]
	ml mlcat -f stream "$SAMPLES/penguins.csv" >p.mls
	run -65 --separate-stderr ml mlinfo p.mls
	[ "$stderr" = "mlinfo: p.mls: is an ml-stream, not a model" ]
}

@test "gzip'd model files are read" {
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	gzip -c pg.mlm >pg.mlm.gz
	ml mlinfo pg.mlm >a.json
	ml mlinfo pg.mlm.gz >b.json
	same a.json b.json
	ml mlpredict -m pg.mlm.gz "$SAMPLES/penguins.csv" >b.csv
	ml mlpredict -m pg.mlm "$SAMPLES/penguins.csv" >a.csv
	same a.csv b.csv
}
