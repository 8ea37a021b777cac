#!/usr/bin/env bats
# mleval: metrics against scikit-learn fixtures (tests/fixtures/gen_metrics.py), the
# confusion and reliability tables, groups, bootstrap intervals, gates, plots, bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	MF=$FIX/metrics
}

# Run mleval on a fixture and compare with the expected table to 1e-9.
check() {
	local expected=$1
	shift
	fixture "$MF/$expected"
	run -0 --separate-stderr ml mleval -o out.csv "$@"
	[ -z "$stderr" ] || { echo "stderr: $stderr"; return 1; }
	csv_close "$MF/$expected" out.csv 1e-9
}

# A tiny binary table: scores with a tie, two groups.
tiny() {
	printf 'y,p_1,g\n0,0.1,a\n0,0.4,b\n1,0.35,a\n1,0.8,b\n1,0.8,a\n' >tiny.csv
}

@test "binary: every metric as scikit-learn, ties in the scores, argmax predictions" {
	check binary.default.csv -t target "$MF/binary.csv"
	run ml mleval -t target "$MF/binary.csv"
	[ "${lines[0]}" = "metric,value" ]
	[ "${#lines[@]}" -eq 14 ]
}

@test "binary with sample weights" {
	check binary.weighted.csv -t target -w w "$MF/binary.csv"
}

@test "binary with --pos naming the other class" {
	check binary.pos0.csv -t target --pos 0 "$MF/binary.csv"
}

@test "binary text labels, a pred column and only p_Yes" {
	check binary_str.default.csv -t churn "$MF/binary_str.csv"
}

@test "multiclass with string labels and a pred column" {
	check multiclass.default.csv -t animal "$MF/multiclass.csv"
}

@test "multiclass with sample weights" {
	check multiclass.weighted.csv -t animal -w w "$MF/multiclass.csv"
}

@test "multiclass without pred: argmax, ties to the first class" {
	check multiclass_nopred.default.csv -t animal "$MF/multiclass_nopred.csv"
}

@test "regression, plain and weighted (mape epsilon, smape of 0 and 0, even median)" {
	check regression.default.csv -t y "$MF/regression.csv"
	check regression.weighted.csv -t y -w w "$MF/regression.csv"
}

@test "-p names the prediction column" {
	sed '1s/pred/forecast/' "$MF/regression.csv" >r.csv
	check regression.default.csv -t y -p forecast r.csv
}

@test "the input may be a stream, gzip'd CSV, or TSV" {
	ml mlcat -f stream "$MF/multiclass.csv" >m.mls
	check multiclass.default.csv -t animal m.mls
	ml mlcat -f stream "$MF/multiclass.csv" >m.mls
	check multiclass.default.csv -t animal - <m.mls
	gzip -c "$MF/binary.csv" >b.csv.gz
	check binary.default.csv -t target b.csv.gz
	tr , '\t' <"$MF/regression.csv" >r.tsv
	check regression.default.csv -t y r.tsv
}

@test "confusion matrices as scikit-learn" {
	run -0 --separate-stderr ml mleval -t target --confusion "$MF/binary.csv"
	echo "$output" >out.csv
	same "$MF/binary.confusion.csv" out.csv
	run -0 --separate-stderr ml mleval -t animal --confusion "$MF/multiclass.csv"
	echo "$output" >out.csv
	same "$MF/multiclass.confusion.csv" out.csv
}

@test "a weighted confusion matrix holds sums of weights" {
	printf 'y,pred,w\na,a,0.5\na,b,2\nb,b,1\nb,b,1.5\n' >in.csv
	run -0 --separate-stderr ml mleval -t y -w w --confusion in.csv
	[ "$output" = "truth,a,b
a,0.5,2
b,0,2.5" ]
}

@test "the reliability table as calibration_curve" {
	check binary.calibration.csv -t target --calibration 5 "$MF/binary.csv"
}

@test "--by: overall rows with an empty group, then each group as scikit-learn" {
	check binary.by.csv -t target --by g "$MF/binary.csv"
}

@test "--by with a numeric column sorts groups as numbers" {
	printf 'y,pred,k\na,a,10\nb,b,9\na,b,10\nb,b,9\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --by k in.csv
	[ "${lines[0]}" = "group,metric,value" ]
	[ "${lines[1]}" = ",accuracy,0.75" ]
	[ "$(printf '%s\n' "${lines[@]}" | cut -d, -f1 | uniq | tr '\n' ' ')" = "group  9 10 " ]
}

@test "a metric a group cannot define is empty" {
	printf 'y,p_1,g\n0,0.2,a\n1,0.7,a\n1,0.9,b\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --by g in.csv
	[[ "$output" == *$'\nb,auc,\n'* ]]
	[[ "$output" == *$'\nb,average_precision,1\n'* ]]
}

@test "--json: an object of metrics" {
	tiny
	run -0 --separate-stderr ml mleval -t y --json tiny.csv
	[ "$output" = '{"accuracy": 0.8, "balanced_accuracy": 0.8333333333333333, "precision": 1, "recall": 0.6666666666666666, "f1": 0.8, "precision_macro": 0.8333333333333333, "recall_macro": 0.8333333333333333, "f1_macro": 0.8, "auc": 0.8333333333333334, "average_precision": 0.9166666666666666, "logloss": 0.42245907331018284, "brier": 0.1345, "mcc": 0.6666666666666666}' ]
}

@test "--json with --by, --confusion and --calibration; null for undefined" {
	printf 'y,p_1,g\n0,0.2,a\n1,0.7,a\n1,0.9,b\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --json --by g in.csv
	[[ "${lines[0]}" == '{"overall": {"accuracy": 1, '* ]]
	[[ "${lines[1]}" == ' "groups": {"a": {"accuracy": 1, '* ]]
	[[ "${lines[2]}" == '  "b": {"accuracy": 1, '*'"auc": null, "average_precision": 1, '*'}}}' ]]
	tiny
	run -0 --separate-stderr ml mleval -t y --json --confusion tiny.csv
	[ "$output" = '{"labels": ["0", "1"],
 "matrix": [[2, 0],
  [1, 2]]}' ]
	run -0 --separate-stderr ml mleval -t y --json --calibration 2 tiny.csv
	[ "$output" = '[{"bin": 1, "lower": 0, "upper": 0.5, "count": 3, "mean_predicted": 0.2833333333333333, "fraction_positive": 0.3333333333333333},
 {"bin": 2, "lower": 0.5, "upper": 1, "count": 2, "mean_predicted": 0.8, "fraction_positive": 1}]' ]
}

@test "TSV output and --precision" {
	tiny
	run -0 --separate-stderr ml mleval -t y -f tsv --precision 3 tiny.csv
	[ "${lines[0]}" = "metric	value" ]
	[ "${lines[2]}" = "balanced_accuracy	0.833" ]
}

@test "--ci: intervals around the value, the same for any -j, seeded" {
	run -0 --separate-stderr ml mleval -t target --ci --bootstrap 300 -j 1 "$MF/binary.csv"
	echo "$output" >j1.csv
	[ "${lines[0]}" = "metric,value,lower,upper" ]
	[ "${#lines[@]}" -eq 14 ]
	awk -F, 'NR > 1 && !($3 <= $2 && $2 <= $4 && $3 < $4) { print "bad: " $0; bad = 1 } END { exit bad }' j1.csv
	ml mleval -t target --ci --bootstrap 300 -j 4 "$MF/binary.csv" >j4.csv
	same j1.csv j4.csv
	ml mleval -t target --ci --bootstrap 300 -j 3 --seed 42 "$MF/binary.csv" >j3.csv
	same j1.csv j3.csv
	ml mleval -t target --ci --bootstrap 300 --seed 7 "$MF/binary.csv" >s7.csv
	run -1 cmp -s j1.csv s7.csv
	# the values are those without --ci
	cut -d, -f1,2 j1.csv >v.csv
	csv_close "$MF/binary.default.csv" v.csv 1e-9
}

@test "--ci for a regression and per group" {
	run -0 --separate-stderr ml mleval -t y --ci --bootstrap 200 "$MF/regression.csv"
	[ "${lines[0]}" = "metric,value,lower,upper" ]
	[ "${#lines[@]}" -eq 7 ]
	echo "$output" | awk -F, 'NR > 1 && !($3 <= $2 && $2 <= $4) { bad = 1 } END { exit bad }'
	run -0 --separate-stderr ml mleval -t target --by g --bootstrap 100 -j 2 "$MF/binary.csv"
	[ "${lines[0]}" = "group,metric,value,lower,upper" ]
	[ "${#lines[@]}" -eq 53 ]
	ml mleval -t target --by g --bootstrap 100 -j 1 "$MF/binary.csv" >a.csv
	echo "$output" >b.csv
	same a.csv b.csv
}

@test "gates that pass exit 0 and say nothing" {
	run -0 --separate-stderr ml mleval -t target --min auc=0.85 --max logloss=1.1 --min accuracy=0.8 "$MF/binary.csv"
	[ -z "$stderr" ]
	[ "${lines[0]}" = "metric,value" ]
}

@test "failed gates: the metrics, then one line each, exit 1" {
	run -1 --separate-stderr ml mleval -t target --min auc=0.9 --max logloss=0.5 --min f1=0.5 "$MF/binary.csv"
	[ "${#lines[@]}" -eq 14 ]
	[ "$stderr" = "mleval: gate failed: auc = 0.8575605680868839 < 0.9
mleval: gate failed: logloss = 1.0149777083423939 > 0.5" ]
}

@test "gates hold for every group too, and fail on an undefined value" {
	run -1 --separate-stderr ml mleval -t target --by g --min auc=0.8 "$MF/binary.csv"
	[ "$stderr" = "mleval: gate failed: auc = 0.7698209718670077 < 0.8 in group 'north'" ]
	printf 'y,p_1\n1,0.2\n1,0.7\n' >one.csv
	run -1 --separate-stderr ml mleval -t y --min auc=0.5 one.csv
	[ "$stderr" = "mleval: gate failed: auc = nan < 0.5" ]
	[[ "$output" == *$'\nauc,\n'* ]]
}

@test "a gate on an unknown metric or a bad bound is a usage error" {
	run -2 --separate-stderr ml mleval -t target --min aucc=0.9 "$MF/binary.csv"
	[ "$stderr" = "mleval: unknown metric 'aucc' in --min
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --max logloss=low "$MF/binary.csv"
	[ "$stderr" = "mleval: invalid value 'low' for --max logloss (a number)
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --min auc "$MF/binary.csv"
	[ "$stderr" = "mleval: invalid gate 'auc' for --min (NAME=VALUE)
Try 'mleval --help' for more information." ]
	[ "$output" = "" ]
}

@test "a gate on a metric the task does not compute is a usage error" {
	run -2 --separate-stderr ml mleval -t y --min auc=0.9 "$MF/regression.csv"
	[ "$stderr" = "mleval: cannot gate on 'auc': not computed for this input
Try 'mleval --help' for more information." ]
	[ "$output" = "" ]
	run -2 --separate-stderr ml mleval -t animal --min f1=0.5 "$MF/multiclass.csv"
	[ "$stderr" = "mleval: cannot gate on 'f1': not computed for this input
Try 'mleval --help' for more information." ]
}

@test "--plot roc, pr and calibration write SVG files atomically" {
	run -0 --separate-stderr ml mleval -t target --plot roc --plot-file roc.svg -o m.csv "$MF/binary.csv"
	[ -z "$output" ]
	csv_close "$MF/binary.default.csv" m.csv 1e-9
	head -1 roc.svg | grep -q '^<?xml version="1.0"'
	grep -q '<svg xmlns="http://www.w3.org/2000/svg"' roc.svg
	grep -q 'ROC curve (AUC = 0.8576)' roc.svg
	grep -q '<polyline' roc.svg
	tail -1 roc.svg | grep -q '^</svg>$'
	ml mleval -t target --plot pr --plot-file pr.svg "$MF/binary.csv" >/dev/null
	grep -q 'PR curve (AP = 0.8415)' pr.svg
	ml mleval -t target --plot calibration --calibration 5 --plot-file cal.svg "$MF/binary.csv" >/dev/null
	[ "$(grep -c '<circle' cal.svg)" -ge 5 ]
	grep -q 'perfectly calibrated' cal.svg
	ml mleval -t animal --plot roc --plot-file m.svg "$MF/multiclass.csv" >/dev/null
	grep -q 'bird (AUC = ' m.svg
	grep -q 'dog (AUC = ' m.svg
	[ "$(ls -A | grep -c '^\.')" -eq 0 ]
}

@test "a plot that cannot be drawn leaves no file" {
	run -65 --separate-stderr ml mleval -t y --plot roc --plot-file r.svg -o m.csv "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: --plot roc needs class probabilities (columns 'p_<label>')" ]
	[ ! -e r.svg ]
	[ ! -e m.csv ]
	run -65 --separate-stderr ml mleval -t animal --plot calibration --plot-file c.svg "$MF/multiclass.csv"
	[ "$stderr" = "mleval: $MF/multiclass.csv: --plot calibration needs a binary task, or --pos to name the class" ]
	[ ! -e c.svg ]
	run -0 --separate-stderr ml mleval -t animal --pos cat --plot calibration --plot-file c.svg "$MF/multiclass.csv"
	grep -q 'p_cat (10 bins)' c.svg
}

@test "--plot and --plot-file go together; combinations are checked" {
	run -2 --separate-stderr ml mleval -t target --plot roc "$MF/binary.csv"
	[ "$stderr" = "mleval: --plot needs a file (--plot roc:FILE, or --plot-file FILE)
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --plot-file x.svg "$MF/binary.csv"
	[ "$stderr" = "mleval: --plot-file needs --plot roc, pr or calibration
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --plot lift --plot-file x.svg "$MF/binary.csv"
	[ "$stderr" = "mleval: unknown plot 'lift' (roc, pr or calibration)
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --confusion --calibration 3 "$MF/binary.csv"
	[ "$stderr" = "mleval: --confusion and --calibration cannot be combined
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --confusion --ci "$MF/binary.csv"
	[ "$stderr" = "mleval: --confusion cannot be combined with --ci
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --calibration 0 "$MF/binary.csv"
	[[ "$stderr" == "mleval: invalid value '0' for --calibration"* ]]
	run -2 --separate-stderr ml mleval -t target --bootstrap 0 "$MF/binary.csv"
	[[ "$stderr" == "mleval: invalid value '0' for --bootstrap"* ]]
	[ ! -e x.svg ]
}

@test "-t is required; --task takes classify or regress" {
	run -2 --separate-stderr ml mleval "$MF/binary.csv"
	[ "$stderr" = "mleval: the truth column is required (-t COL)
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target --task cluster "$MF/binary.csv"
	[ "$stderr" = "mleval: unknown task 'cluster' (classify or regress)
Try 'mleval --help' for more information." ]
	run -2 --separate-stderr ml mleval -t target a.csv b.csv
	[ "$stderr" = "mleval: one input at most (got 2)
Try 'mleval --help' for more information." ]
}

@test "--task classify turns numbers into labels; --task regress ignores p_ columns" {
	printf 'y,pred\n1,1\n2,2\n2,1\n3,3\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --task classify --confusion in.csv
	[ "$output" = "truth,1,2,3
1,1,0,0
2,1,1,0
3,0,0,1" ]
	printf 'y,pred,p_1\n1,1.5,0.2\n2,2,0.3\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --task regress in.csv
	[ "${lines[1]}" = "rmse,0.3535533905932738" ]
}

@test "numeric labels match p_ columns by value; other p_ columns are not classes" {
	printf 'y,p_1.0,p_value\n0,0.2,7\n1,0.9,8\n1,0.4,9\n' >in.csv
	run -0 --separate-stderr ml mleval -t y -v in.csv
	[[ "$stderr" == *"column 'p_value' is not a class probability (the truth is numeric)"* ]]
	[[ "$output" == *$'\nauc,1\n'* ]]
}

@test "a p_ column for a label the truth never has is fine" {
	printf 'y,p_a,p_b,p_c\na,0.7,0.2,0.1\nb,0.1,0.8,0.1\na,0.5,0.4,0.1\n' >in.csv
	run -0 --separate-stderr ml mleval -t y in.csv
	[ "${lines[1]}" = "accuracy,1" ]
	[[ "$output" == *$'\nauc,1\n'* ]]
	run -0 --separate-stderr ml mleval -t y --confusion in.csv
	[ "$output" = "truth,a,b
a,2,0
b,0,1" ]
}

@test "--pos must be a label of the data" {
	run -65 --separate-stderr ml mleval -t target --pos 2 "$MF/binary.csv"
	[ "$stderr" = "mleval: $MF/binary.csv: the label '2' given to --pos is not in the truth or the predictions" ]
}

@test "bad input: missing truth column" {
	run -65 --separate-stderr ml mleval -t label "$MF/binary.csv"
	[ "$stderr" = "mleval: $MF/binary.csv: no column 'label' (-t)" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mleval --truth Target "$MF/binary.csv"
	[ "$stderr" = "mleval: $MF/binary.csv: no column 'Target' (-t); did you mean 'target'?" ]
	[ "$output" = "" ]
}

@test "bad input: no prediction columns" {
	printf 'y,x\n1,2\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv: no prediction columns: looked for 'pred' and 'p_<label>'" ]
	run -65 --separate-stderr ml mleval -t y -p forecast in.csv
	[ "$stderr" = "mleval: in.csv: no column 'forecast' (-p)" ]
	run -65 --separate-stderr ml mleval -t y --task regress in.csv
	[ "$stderr" = "mleval: in.csv: no prediction column 'pred'" ]
	run -65 --separate-stderr ml mleval -t y -w weight "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: no column 'weight' (-w)" ]
	run -65 --separate-stderr ml mleval -t y --by region "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: no column 'region' (--by)" ]
	run -65 --separate-stderr ml mleval -t target --by G "$MF/binary.csv"
	[ "$stderr" = "mleval: $MF/binary.csv: no column 'G' (--by); did you mean 'g'?" ]
	run -65 --separate-stderr ml mleval -t y -p prd "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: no column 'prd' (-p); did you mean 'pred'?" ]
}

@test "bad input: a truth label without its probability column" {
	printf 'y,p_a,p_b\na,0.6,0.4\nb,0.3,0.7\nc,0.5,0.5\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv: no probability column 'p_c' for the truth label 'c'" ]
}

@test "bad input: missing truth or prediction values are errors, not skipped" {
	printf 'y,pred\na,a\n,b\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: missing truth in column 'y'" ]
	printf 'y,pred\na,a\nb,NA\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: missing prediction in column 'pred'" ]
	printf 'y,pred\n1,1\n2,\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: missing prediction in column 'pred'" ]
}

@test "bad input: empty input, and a header without rows" {
	: >empty.csv
	run -65 --separate-stderr ml mleval -t y empty.csv
	[ "$stderr" = "mleval: empty.csv: empty input: no header" ]
	printf 'y,pred\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv: empty input: no rows" ]
	run -65 --separate-stderr ml mleval -t y <in.csv
	[ "$stderr" = "mleval: <stdin>: empty input: no rows" ]
}

@test "bad input: non-numeric predictions for a regression" {
	printf 'y,pred\n1,2\n2,abc\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: cannot parse 'abc' as a number in prediction column 'pred'" ]
	printf 'y,pred\n1,2\nlow,3\n' >in.csv
	run -65 --separate-stderr ml mleval -t y --task regress in.csv
	[ "$stderr" = "mleval: in.csv:3: cannot parse 'low' as a number in truth column 'y'" ]
	# numbers read as categories are still numbers to a regression
	printf 'y,pred\n1,2\n2,3\n' >in.csv
	run -0 --separate-stderr ml mleval -t y --task regress --cat y,pred in.csv
	[ "${lines[1]}" = "rmse,1" ]
}

@test "bad input: probabilities outside [0, 1] or NaN, naming line and column" {
	printf 'y,p_a,p_b\na,0.5,0.5\nb,0.2,1.25\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: probability 1.25 in column 'p_b' is outside [0, 1]" ]
	printf 'y,p_a,p_b\na,0.5,0.5\nb,-0.1,0.8\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: probability -0.1 in column 'p_a' is outside [0, 1]" ]
	printf 'y,p_a,p_b\na,0.5,0.5\nb,NaN,0.8\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: missing or NaN probability in column 'p_a'" ]
	printf 'y,p_a,p_b\na,0.5,0.5\nb,nan,0.8\n' >in.csv
	run -65 --separate-stderr ml mleval -t y --na NA in.csv
	[ "$stderr" = "mleval: in.csv:3: missing or NaN probability in column 'p_a'" ]
	printf 'y,p_a,p_b\na,0.5,0.5\nb,high,0.8\n' >in.csv
	run -65 --separate-stderr ml mleval -t y in.csv
	[ "$stderr" = "mleval: in.csv:3: cannot parse 'high' as a number in probability column 'p_a'" ]
}

@test "bad input: weights" {
	printf 'y,pred,w\n1,1,1\n2,2,-1\n' >in.csv
	run -65 --separate-stderr ml mleval -t y -w w in.csv
	[ "$stderr" = "mleval: in.csv:3: negative weight -1 in column 'w'" ]
	printf 'y,pred,w\n1,1,0\n2,2,0\n' >in.csv
	run -65 --separate-stderr ml mleval -t y -w w in.csv
	[ "$stderr" = "mleval: in.csv: the weights in column 'w' sum to zero" ]
	printf 'y,pred,w\n1,1,1\n2,2,\n' >in.csv
	run -65 --separate-stderr ml mleval -t y -w w in.csv
	[ "$stderr" = "mleval: in.csv:3: missing weight in column 'w'" ]
}

@test "bad input: too many labels for a classification" {
	awk 'BEGIN { print "y,pred"; for (i = 0; i < 1001; i++) print i "," i }' >in.csv
	run -65 --separate-stderr ml mleval -t y --task classify in.csv
	[ "$stderr" = "mleval: in.csv: 1001 labels are too many for a classification (at most 1000)" ]
	run -0 --separate-stderr ml mleval -t y in.csv
	[ "${lines[1]}" = "rmse,0" ]
}

@test "bad input: a missing group" {
	printf 'y,pred,g\n1,1,a\n2,2,\n' >in.csv
	run -65 --separate-stderr ml mleval -t y --by g in.csv
	[ "$stderr" = "mleval: in.csv:3: missing group in column 'g'" ]
}

@test "--calibration and --confusion need a classification" {
	run -65 --separate-stderr ml mleval -t y --confusion "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: --confusion needs a classification task" ]
	run -65 --separate-stderr ml mleval -t y --calibration 4 "$MF/regression.csv"
	[ "$stderr" = "mleval: $MF/regression.csv: --calibration needs a classification task" ]
	run -65 --separate-stderr ml mleval -t animal --calibration 4 "$MF/multiclass.csv"
	[ "$stderr" = "mleval: $MF/multiclass.csv: --calibration needs a binary task, or --pos to name the class" ]
}

@test "-o writes the output atomically, and not at all on failure" {
	run -0 --separate-stderr ml mleval -t target -o m.csv "$MF/binary.csv"
	[ -z "$output" ]
	csv_close "$MF/binary.default.csv" m.csv 1e-9
	printf 'y,pred\n' >in.csv
	run -65 --separate-stderr ml mleval -t y -o n.csv in.csv
	[ ! -e n.csv ]
	[ "$(ls -A | grep -c '^\.')" -eq 0 ]
}

@test "large inputs with many ties: the row order does not matter" {
	awk 'BEGIN { srand(3); print "y,p_1,w"; for (i = 0; i < 200000; i++) { y = rand() < 0.3; printf "%d,%.3f,%.1f\n", y, 0.7 * rand() + 0.3 * y, rand() * 2 } }' >big.csv
	(head -1 big.csv && tail -n +2 big.csv | tac) >rev.csv
	ml mleval -t y -w w big.csv >a.csv
	ml mleval -t y -w w rev.csv >b.csv
	csv_close a.csv b.csv 1e-12
	[ "$(wc -l <a.csv)" -eq 14 ]
}
