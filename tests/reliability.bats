#!/usr/bin/env bats
# No silent wrong answers: a stray token in a column of numbers, typed the same way by every
# command and every reader; identifiers refused as features.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
}

# A table of ROWS rows: y (0/1), x (numbers), c (a few categories); TOKEN replaces x on row AT.
table() {
	awk -v n="$1" -v at="$2" -v tok="$3" 'BEGIN {
		srand(7); print "y,x,c"
		for (i = 1; i <= n; i++)
			printf "%d,%s,k%d\n", i % 2, i == at ? tok : sprintf("%.5f", rand()), i % 5
	}'
}

@test "a stray token in a column of numbers stops every command, whatever the file's size" {
	local rows at tok want c
	for rows in 2000 60000; do
		for at in 50 1500; do
			for tok in n/a inf 1e309 -; do
				table "$rows" "$at" "$tok" >t.csv
				want="t.csv:$((at + 1)): cannot parse '$tok' as a"
				for c in "mlcat t.csv" "mltrain -t y -a nb -o m.mlm t.csv" \
					"mlsplit --test 0.5 --train-out a.csv --test-out b.csv t.csv" \
					"mlfeat --scale standard -t y t.csv"; do
					run -65 --separate-stderr ml $c
					[[ "$stderr" == "${c%% *}: $want"* ]] || { echo "$c: $stderr"; return 1; }
					[[ "$stderr" == *"give --na '$tok' if it marks a missing value, or --cat 'x' to read the column as text" ]]
				done
				[ ! -e m.mlm ] && [ ! -e a.csv ]
			done
		done
	done
	table 2000 50 1e309 >t.csv
	run -65 --separate-stderr ml mlcat t.csv
	[ "$stderr" = "mlcat: t.csv:51: cannot parse '1e309' as a finite number in column 'x' (its other 1999 values are numbers): give --na '1e309' if it marks a missing value, or --cat 'x' to read the column as text" ]
	# The ways out work.
	table 2000 50 n/a >t.csv
	run -0 --separate-stderr ml mlcat --schema --na n/a t.csv
	[ "${lines[2]}" = "x,num," ]
	run -0 --separate-stderr ml mlcat --schema --cat x t.csv
	[[ "${lines[2]}" == x,cat,* ]]
}

@test "a stray token after the rows that decide is the same error in every reader" {
	table 150000 120000 oops >t.csv
	run -65 --separate-stderr ml mlcat t.csv
	[ "$stderr" = "mlcat: t.csv:120001: cannot parse 'oops' as a number in column 'x' (numbers in its first 100000 rows): give --na 'oops' if it marks a missing value, or --cat 'x' to read the column as text" ]
	for j in 1 2; do
		run -65 --separate-stderr ml mltrain -j $j -t y -a nb -o m.mlm t.csv
		[ "$stderr" = "mltrain: t.csv:120001: cannot parse 'oops' as a number in column 'x' (numbers in its first 100000 rows): give --na 'oops' if it marks a missing value, or --cat 'x' to read the column as text" ]
	done
	gzip -c t.csv >t.csv.gz
	run -65 --separate-stderr ml mltrain -t y -a nb -o m.mlm t.csv.gz
	[[ "$stderr" == "mltrain: t.csv.gz:120001: cannot parse 'oops' as a number in column 'x'"* ]]
	run -65 --separate-stderr ml mltrain -t y -a nb -o m.mlm - <t.csv
	[[ "$stderr" == "mltrain: <stdin>:120001: cannot parse 'oops' as a number in column 'x'"* ]]
}

@test "a text column with some numbers in it is categorical in every command" {
	awk 'BEGIN { print "y,s"; for (i = 1; i <= 3000; i++) printf "%d,%s\n", i % 2, i % 3 ? "t" i % 7 : i % 4 }' >s.csv
	run -0 ml mlcat --schema s.csv
	[ "${lines[2]}" = "s,cat,11" ]
	ml mltrain -q -t y -a nb -o m.mlm s.csv
	run -0 ml mlinfo m.mlm
	[[ "$output" == *'"name": "s",'*'"type": "cat",'* ]]
}

@test "an identifier column is refused as a feature unless asked for" {
	awk 'BEGIN { srand(5); print "id,x,y"; for (i = 1; i <= 500; i++) printf "C%05d,%.4f,%d\n", i, rand(), rand() < 0.5 }' >ids.csv
	run -65 --separate-stderr ml mltrain -t y -a logistic -o m.mlm ids.csv
	[ "$stderr" = "mltrain: ids.csv: column 'id' looks like an identifier (500 distinct values in 500 rows): leave it out with --ignore 'id', or give --allow-ids to learn from it" ]
	[ ! -e m.mlm ]
	run -0 ml mltrain -q -t y -a logistic --ignore id -o m.mlm ids.csv
	run -0 ml mltrain -q -t y -a logistic --allow-ids -o m2.mlm ids.csv
	run -0 ml mlinfo m2.mlm
	[[ "$output" == *'"encoded_features": 501'* ]]
	# 100 levels or fewer, or levels well below the rows, are features as they are.
	awk 'BEGIN { srand(5); print "id,x,y"; for (i = 1; i <= 100; i++) printf "C%05d,%.4f,%d\n", i, rand(), rand() < 0.5 }' >few.csv
	run -0 ml mltrain -q -t y -a logistic -o m3.mlm few.csv
}

@test "mleval checks everything it can before any output: plots, their files" {
	ml mltrain -q -t target -a logistic -o m.mlm "$SAMPLES/breast_cancer.csv"
	ml mlpredict -m m.mlm --keep target "$SAMPLES/breast_cancer.csv" >p.csv
	ml mlpredict -m m.mlm --no-proba --keep target "$SAMPLES/breast_cancer.csv" >np.csv
	# several plots, each into its own file
	run -0 --separate-stderr ml mleval -t target --plot roc:roc.svg --plot pr:pr.svg \
		--plot calibration --plot-file cal.svg p.csv
	grep -q 'ROC curve' roc.svg
	grep -q 'Precision-recall curve' pr.svg
	grep -q 'Reliability diagram' cal.svg
	# a plot that cannot be drawn: nothing on standard output, no file
	run -65 --separate-stderr ml mleval -t target --plot roc:r.svg np.csv
	[ "$output" = "" ]
	[ "$stderr" = "mleval: np.csv: --plot roc needs class probabilities (columns 'p_<label>')" ]
	[ ! -e r.svg ]
	# an unwritable plot file: named, with the reason, before the metrics
	run -74 --separate-stderr ml mleval -t target --plot roc:nodir/r.svg p.csv
	[ "$output" = "" ]
	[ "$stderr" = "mleval: nodir/r.svg: cannot create: No such file or directory" ]
	run -2 --separate-stderr ml mleval -t target --plot roc --plot pr --plot-file x.svg p.csv
	[ "${stderr_lines[0]}" = "mleval: several plots need a file each (--plot roc:roc.svg --plot pr:pr.svg)" ]
	run -2 --separate-stderr ml mleval -t target --plot roc:a.svg --plot pr:a.svg p.csv
	[ "${stderr_lines[0]}" = "mleval: two plots into the same file 'a.svg'" ]
	[ ! -e a.svg ] && [ ! -e x.svg ]
}

@test "mleval --rows: a pipeline whose scorer died half way fails instead of passing its gate" {
	ml mltrain -q -t target -a logistic -o m.mlm "$SAMPLES/breast_cancer.csv"
	ml mlpredict -m m.mlm --keep target "$SAMPLES/breast_cancer.csv" >p.csv
	head -101 p.csv >cut.csv
	run -0 --separate-stderr ml mleval -t target --min auc=0.9 --rows 569 p.csv
	run -65 --separate-stderr ml mleval -t target --min auc=0.9 --rows 569 cut.csv
	[ "$stderr" = "mleval: cut.csv: 100 rows where --rows expects 569 (did a command before this one fail? see set -o pipefail)" ]
	# without --rows the cut input passes its gate: set -o pipefail catches the command
	# that died (here one that writes 100 rows, then fails with status 3)
	run -0 ml mleval -t target --min auc=0.9 cut.csv
	run -0 bash -c "{ cat cut.csv; exit 3; } | '$ML_BIN/mleval' -t target --min auc=0.9 >/dev/null"
	run -3 bash -o pipefail -c "{ cat cut.csv; exit 3; } | '$ML_BIN/mleval' -t target --min auc=0.9 >/dev/null"
}

@test "a NUL byte in a header name is an error; a column without a name is called cN, with a warning" {
	printf 'a,b\000x,c\n1,2,3\n' >nul.csv
	run -65 --separate-stderr ml mlcat nul.csv
	[ "$stderr" = "mlcat: nul.csv:1: NUL byte in the name of column 2" ]
	printf 'a,,c\n1,2,3\n' >nn.csv
	run -0 --separate-stderr ml mlcat nn.csv
	[ "$output" = "a,c2,c
1,2,3" ]
	[ "$stderr" = "mlcat: warning: nn.csv:1: column 2 has no name: it is called c2" ]
	# once, whichever reader reads it
	{ echo 'y,,c'; awk 'BEGIN { for (i = 0; i < 120000; i++) print i % 2 "," i "," i % 3 }'; } >big.csv
	run -0 --separate-stderr ml mltrain -t y -a nb -o m.mlm big.csv
	[ "${stderr_lines[0]}" = "mltrain: warning: big.csv:1: column 2 has no name: it is called c2" ]
	[[ "${stderr_lines[1]}" == "mltrain: 120000 rows, 2 features"* ]]
	run -0 --separate-stderr ml mltrain -q -t y -a nb -o m.mlm big.csv
	[ "$stderr" = "" ]
}

@test "a one-field header with ';' in it gets a hint at -d; gzip compressed twice is named" {
	printf 'a;b;c\n1;2;3\n' >semi.csv
	run -0 --separate-stderr ml mlcat semi.csv
	[ "$stderr" = "mlcat: warning: semi.csv:1: one column (the header is one field with ';' in it: give -d ';' if the file is separated by ';')" ]
	run -0 --separate-stderr ml mlcat -d ';' semi.csv
	[ "$stderr" = "" ]
	[ "$output" = "a,b,c
1,2,3" ]
	printf 'a|b\n1,2\n' >pipe.csv
	run -65 --separate-stderr ml mlcat pipe.csv
	[ "${stderr_lines[1]}" = "mlcat: pipe.csv:2: expected 1 field, found at least 2 (the header is one field with '|' in it: give -d '|' if the file is separated by '|')" ]
	printf 'a,b\n1,2\n' | gzip | gzip >twice.csv.gz
	run -65 --separate-stderr ml mlcat twice.csv.gz
	[ "$stderr" = "mlcat: twice.csv.gz: gzip data compressed twice (decompress it once with gunzip)" ]
	printf 'a,b\n1,2\n' | gzip >once.csv.gz
	run -0 ml mlcat once.csv.gz
	[ "$output" = "a,b
1,2" ]
}

@test "a regressor given a text target names the line and the value that made it text" {
	printf 'x,y\n1,a\n2,b\n3,c\n4,5\n' >t.csv
	run -65 --separate-stderr ml mltrain -t y -a linear -o m.mlm t.csv
	[ "$stderr" = "mltrain: t.csv:2: -a linear does not classify, and target 'y' is text ('a'; 4 distinct values): choose a classifier, give --na 'a' if it marks a missing value, or fix the value" ]
	[ ! -e m.mlm ]
	printf 'x,y\n1,2\n2,3\n3,4\n' >n.csv
	run -2 --separate-stderr ml mltrain -t y -a linear --cat y -o m.mlm n.csv
	[ "${stderr_lines[0]}" = "mltrain: -a linear does not classify, and target 'y' was read as text (--cat?)" ]
	run -65 --separate-stderr ml mltrain -t Y -a linear -o m.mlm n.csv
	[ "$stderr" = "mltrain: n.csv: no column 'Y' (-t); did you mean 'y'?" ]
}

# stderr on a terminal: script(1) gives the command one, and keeps what it drew
on_tty() {
	script -qec "$1" /dev/null | tr '\r' '\n'
}

@test "progress: one line on a terminal with the count, the rate and the time left; nothing otherwise" {
	command -v script >/dev/null
	awk 'BEGIN { srand(3); print "a,b,c,y"; for (i = 0; i < 60000; i++) { a = rand(); b = rand(); print a "," b "," rand() "," (a + b > 1) } }' >p.csv
	# every tree is counted as it is grown, to the last
	run -0 on_tty "'$ML_BIN/mltrain' -t y -a rf --trees 40 -j 2 -o rf.mlm p.csv"
	[[ "$output" == *"mltrain: 40/40 trees"* ]]
	[[ "$output" == *"MB read"* ]]
	# rounds with their rate and ETA once the step has run for a moment
	run -0 on_tty "'$ML_BIN/mltrain' -t y -a gbdt --rounds 400 --max-depth 8 -o g.mlm p.csv"
	[[ "$output" == *"/400 rounds train-logloss "*" rounds/s, ETA "* ]]
	[[ "$output" == *"400/400 rounds"* ]]
	# folds, with the time left for them from the second on
	run -0 on_tty "'$ML_BIN/mltrain' -t y -a logistic --cv 3 -o l.mlm p.csv"
	[[ "$output" == *"fold 2/3 (folds: ETA "* ]]
	# scoring a file: how far into it
	run -0 on_tty "'$ML_BIN/mlpredict' -m g.mlm p.csv >s.csv"
	[[ "$output" == *"MB scored, 60000 rows"* ]]
	[ "$(wc -l <s.csv)" -eq 60001 ]
	# -q, or stderr not a terminal: no progress
	run -0 on_tty "'$ML_BIN/mltrain' -q -t y -a rf --trees 10 -o rf.mlm p.csv"
	[ -z "$(printf '%s' "$output" | tr -d '\n')" ]
	run -0 --separate-stderr ml mltrain -t y -a rf --trees 10 -o rf.mlm p.csv
	[[ "$stderr" != *$'\r'* ]]
	[[ "$stderr" != *"trees"* ]]
	run -0 --separate-stderr ml mlpredict -m g.mlm -o s.csv p.csv
	[ "$stderr" = "" ]
}

@test "mlpredict -q draws no progress line on a terminal" {
	command -v script >/dev/null
	awk 'BEGIN { srand(3); print "a,b,y"; for (i = 0; i < 20000; i++) { a = rand(); print a "," rand() "," (a > 0.5) } }' >q.csv
	ml mltrain -q -t y -a logistic -o m.mlm q.csv
	run -0 on_tty "'$ML_BIN/mlpredict' -q -m m.mlm q.csv >s.csv"
	[ -z "$(printf '%s' "$output" | tr -d '\n')" ]
	run -0 on_tty "'$ML_BIN/mlpredict' -m m.mlm q.csv >s.csv"
	[[ "$output" == *"MB scored, 20000 rows"* ]]
}

@test "-o puts in place the same bytes as standard output, in every command's main modes" {
	local c n=0
	cp "$SAMPLES/penguins.csv" "$SAMPLES/pima.csv" "$SAMPLES/breast_cancer.csv" \
		"$SAMPLES/airpassengers.csv" "$SAMPLES/seattle_weather.csv" .
	ml mltrain -q -t target -a logistic -o lr.mlm breast_cancer.csv
	ml mltrain -q -t target -a nb -o nb.mlm breast_cancer.csv
	ml mlfeat --save feat.mlm -t species --impute median --onehot island,sex penguins.csv >/dev/null
	ml mlpredict -m lr.mlm --keep target breast_cancer.csv >lr.csv
	ml mlpredict -m nb.mlm breast_cancer.csv >nb.csv
	sed '1s/,/,lr_/g' lr.csv >lr_.csv
	sed '1s/^/nb_/; 1s/,/,nb_/g' nb.csv >nb_.csv
	paste -d, lr_.csv nb_.csv >both.csv
	ml mldrift --profile -o ref.mlm seattle_weather.csv
	ml mlforecast --time t -y y --model theta --horizon 3 --save air.mlm airpassengers.csv >/dev/null
	# each line runs once to standard output, once with -o (the last -o given is the one taken)
	while IFS= read -r c; do
		n=$((n + 1))
		ml $c >a.$n
		ml $c -o b.$n >out.$n
		[ -e b.$n ] || { echo "$c -o: no file"; return 1; }
		same a.$n b.$n || { echo "$c -o: other bytes"; return 1; }
		[ ! -s out.$n ] || { echo "$c -o: output on standard output too"; return 1; }
	done <<-'LIST'
	mlcat penguins.csv
	mlcat --schema penguins.csv
	mlcat --describe pima.csv
	mlcat --head 3 -f stream penguins.csv
	mlinfo lr.mlm
	mlinfo --sections lr.mlm
	mlinfo --table coef lr.mlm
	mlsplit --kfold 3 --stratify species penguins.csv
	mlsplit --kfold 3 --by-key date seattle_weather.csv
	mlfeat --scale standard -t species penguins.csv
	mlfeat --save f.mlm --scale standard -t species penguins.csv
	mlfeat --load feat.mlm penguins.csv
	mltrain -q -t target -a nb -o - breast_cancer.csv
	mltrain -q -t target -a nb --cv 3 --report r.csv --oof oof.csv -o - breast_cancer.csv
	mlpredict -m lr.mlm --keep target breast_cancer.csv
	mlpredict -j 2 -m lr.mlm breast_cancer.csv
	mleval -t target lr.csv
	mleval -t target --json lr.csv
	mleval -t target --confusion lr.csv
	mleval -t target --calibration 5 --plot roc:roc.svg lr.csv
	mlensemble --combine mean lr.csv nb.csv
	mlensemble --method mean -m lr.mlm -m nb.mlm -o -
	mlensemble --method stack -t target --base nb --cv 3 -o - breast_cancer.csv
	mlensemble --adaptive --init --state w.mlm --members lr,nb --metric logloss -t target both.csv
	mldrift --ref ref.mlm --report-only seattle_weather.csv
	mldrift --ref ref.mlm --window 200 --json --plot d.svg --report-only seattle_weather.csv
	mlforecast --time t -y y --model theta --horizon 3 airpassengers.csv
	mlforecast --time t -y y --model theta --horizon 3 --backtest 2 --report r.csv --plot p.svg airpassengers.csv
	mlforecast --load air.mlm --horizon 3
	LIST
	[ "$n" -eq 29 ]
}
