#!/usr/bin/env bats
# Anomaly detectors (-a iforest, lof, zscore, hbos): fitted by mltrain without a target,
# scored by mlpredict, shown by mlinfo; numbers against scikit-learn and hand computations
# (tests/fixtures/gen_anomaly.py), reproducibility, and bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	AF=$FIX/anomaly
	fixture "$AF/train.csv" "$AF/test.csv" "$AF/test_label.csv"
}

# Column NAME of a CSV file, one value a line.
col() {
	awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1"
}

# Pearson correlation of two files of one number a line.
corr() {
	paste -d, "$1" "$2" | awk -F, '{ n++; x += $1; y += $2; xx += $1 * $1; yy += $2 * $2; xy += $1 * $2 }
		END { printf "%.6f\n", (n * xy - x * y) / sqrt((n * xx - x * x) * (n * yy - y * y)) }'
}

# ROC AUC of scores (file 2) against 0/1 labels (file 1), ties counted half.
auc() {
	paste -d, "$1" "$2" | sort -t, -k2,2g | awk -F, '
		{ s[NR] = $2; l[NR] = $1 } END {
			i = 1
			while (i <= NR) {
				j = i; while (j < NR && s[j + 1] == s[i]) j++
				for (k = i; k <= j; k++) if (l[k] == 1) { r += (i + j) / 2; np++ }
				i = j + 1
			}
			nn = NR - np
			printf "%.6f\n", (r - np * (np + 1) / 2) / (np * nn)
		}'
}

@test "lof equals scikit-learn's novelty LocalOutlierFactor to 1e-9, euclidean and manhattan, KD-tree and brute force" {
	fixture "$AF/lof_euclidean.csv" "$AF/lof_manhattan.csv" "$AF/lof_k5.csv"
	for s in kdtree brute; do
		ml mltrain -q -a lof --search $s -o e.mlm "$AF/train.csv"
		ml mlpredict -m e.mlm "$AF/test.csv" | cut -d, -f1,2 > e.csv
		csv_close "$AF/lof_euclidean.csv" e.csv 1e-9
		ml mltrain -q -a lof --metric manhattan --search $s -o m.mlm "$AF/train.csv"
		ml mlpredict -m m.mlm "$AF/test.csv" | cut -d, -f1,2 > m.csv
		csv_close "$AF/lof_manhattan.csv" m.csv 1e-9
		ml mltrain -q -a lof --k 5 --search $s -o k.mlm "$AF/train.csv"
		ml mlpredict -m k.mlm "$AF/test.csv" | cut -d, -f1,2 > k.csv
		csv_close "$AF/lof_k5.csv" k.csv 1e-9
	done
}

@test "zscore, robust, standard and Mahalanobis, equals the hand computation" {
	for m in robust standard mahalanobis; do
		fixture "$AF/zscore_$m.csv"
		ml mltrain -q -a zscore --method $m -o z.mlm "$AF/train.csv"
		ml mlpredict -m z.mlm "$AF/test.csv" | cut -d, -f1 > z.csv
		csv_close "$AF/zscore_$m.csv" z.csv 1e-12
	done
	# the robust scale of a column with over half its values equal: the mean absolute
	# deviation from the median times sqrt(pi/2)
	printf 'x\n0\n0\n0\n4\n8\n' > half.csv
	ml mltrain -q -a zscore -o h.mlm half.csv
	run -0 ml mlinfo --table features h.mlm
	[ "$output" = "feature,center,scale
x,0,3.0079539295572006" ]
}

@test "hbos equals PyOD's static-bin formula" {
	fixture "$AF/hbos.csv"
	ml mltrain -q -a hbos -o h.mlm "$AF/train.csv"
	ml mlpredict -m h.mlm "$AF/test.csv" | cut -d, -f1 > h.csv
	csv_close "$AF/hbos.csv" h.csv 1e-12
}

@test "iforest scores correlate with scikit-learn's over seeds and give its ROC AUC within 0.01" {
	fixture "$AF/iforest_sklearn.csv" "$AF/iforest_auc.txt"
	col "$AF/iforest_sklearn.csv" score > ref.txt
	col "$AF/test_label.csv" outlier > lab.txt
	# 2000 trees: the average of 20 forests of 100, as the reference
	ml mltrain -q -a iforest --trees 2000 -o f.mlm "$AF/train.csv"
	ml mlpredict -m f.mlm "$AF/test.csv" > f.csv
	col f.csv score > s.txt
	run -0 corr ref.txt s.txt
	echo "correlation $output" >&2
	awk -v r="$output" 'BEGIN { exit !(r >= 0.99) }'
	total=0
	for seed in 1 2 3 4 5 6 7 8 9 10; do
		ml mltrain -q -a iforest --seed $seed -o f$seed.mlm "$AF/train.csv"
		ml mlpredict -m f$seed.mlm "$AF/test.csv" > f$seed.csv
		col f$seed.csv score > s$seed.txt
		total=$(awk -v t="$total" -v a="$(auc lab.txt s$seed.txt)" 'BEGIN { print t + a }')
	done
	ref=$(cat "$AF/iforest_auc.txt")
	echo "mean auc $(awk -v t="$total" 'BEGIN { print t / 10 }') vs $ref" >&2
	awk -v t="$total" -v r="$ref" 'BEGIN { d = t / 10 - r; exit !(d <= 0.01 && d >= -0.01) }'
}

@test "iforest follows Liu et al.: scores in (0, 1), 0.5 the auto threshold, the height limit from max-samples" {
	ml mltrain -q -a iforest -o f.mlm "$AF/train.csv"
	ml mlpredict -m f.mlm "$AF/test.csv" > f.csv
	run -0 awk -F, 'NR > 1 && !($1 > 0 && $1 < 1) { bad++ } NR > 1 && ($2 != ($1 > 0.5)) { bad++ } END { print bad + 0 }' f.csv
	[ "$output" = 0 ]
	run -0 ml mlinfo --table severity f.mlm
	[ "${lines[1]%,*}" = "anomaly,$(ml mlinfo --table severity f.mlm | awk -F, 'NR == 2 { print $2 }')" ]
	[ "${lines[1]##*,}" = 0.5 ]
	# a row far away is isolated at once: its score is near the maximum
	printf 'a,b,c,d\n100,-100,100,-100\n' > far.csv
	run -0 ml mlpredict -m f.mlm far.csv
	[ "${lines[1]##*,}" = critical ]
	awk -F, 'NR == 2 { exit !($1 > 0.7) }' <<< "$output"
}

@test "--contamination F flags the training rows above their (1-F) quantile; --bands sets the severities" {
	ml mltrain -q -a zscore --contamination 0.1 -o z.mlm "$AF/train.csv"
	ml mlpredict -m z.mlm "$AF/train.csv" > z.csv
	run -0 awk -F, 'NR > 1 { n += $2 } END { print n }' z.csv
	[ "$output" = 40 ]
	run -0 ml mlinfo --table severity z.mlm
	[ "${lines[0]}" = "level,quantile,score" ]
	[ "${lines[1]%%,*}" = anomaly ]
	[ "$(echo "${lines[1]}" | cut -d, -f2)" = 0.9 ]
	[ "$(echo "${lines[5]}" | cut -d, -f1,2)" = critical,0.999 ]
	run -0 awk -F, 'NR > 1 { c[$3]++ } END { print c["none"] + 0, c["low"] + 0, c["medium"] + 0, c["high"] + 0, c["critical"] + 0 }' z.csv
	[ "$output" = "360 20 16 3 1" ]
	ml mltrain -q -a zscore --contamination 0.1 --bands 0.5,0.6,0.7,0.8 -o b.mlm "$AF/train.csv"
	ml mlpredict -m b.mlm "$AF/train.csv" > b.csv
	run -0 awk -F, 'NR > 1 { c[$3]++ } END { print c["none"] + 0, c["critical"] + 0 }' b.csv
	[ "$output" = "200 80" ]
	run -2 --separate-stderr ml mltrain -a zscore --contamination 0.7 -o x.mlm "$AF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '0.7' for --contamination of -a zscore (auto, or a fraction above 0 and at most 0.5)" ]
	run -2 --separate-stderr ml mltrain -a zscore --bands 0.9,0.8,0.95,0.99 -o x.mlm "$AF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --bands: the quantiles must rise strictly between 0 and 1" ]
	run -2 --separate-stderr ml mltrain -a zscore --bands 0.9,0.99 -o x.mlm "$AF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --bands takes four quantiles (low, medium, high, critical), not 2" ]
	[ ! -e x.mlm ]
}

@test "the same seed gives the same model and scores whatever -j" {
	for a in iforest lof; do
		ml mltrain -q -a $a -j1 --seed 7 -o one.mlm "$AF/train.csv"
		ml mltrain -q -a $a -j2 --seed 7 -o two.mlm "$AF/train.csv"
		ml mltrain -q -a $a -j3 --seed 7 -o three.mlm "$AF/train.csv"
		cmp one.mlm two.mlm
		cmp one.mlm three.mlm
		ml mlpredict -j1 -m one.mlm "$AF/test.csv" > p1.csv
		ml mlpredict -j3 -m one.mlm "$AF/test.csv" > p3.csv
		same p1.csv p3.csv
	done
	ml mltrain -q -a iforest --extended yes -j1 --seed 3 -o e1.mlm "$AF/train.csv"
	ml mltrain -q -a iforest --extended yes -j2 --seed 3 -o e2.mlm "$AF/train.csv"
	cmp e1.mlm e2.mlm
	ml mltrain -q -a iforest --seed 8 -o other.mlm "$AF/train.csv"
	run ! cmp -s one.mlm other.mlm
}

@test "extended isolation forest scores and ranks the labelled outliers" {
	col "$AF/test_label.csv" outlier > lab.txt
	ml mltrain -q -a iforest --extended yes -o e.mlm "$AF/train.csv"
	ml mlpredict -m e.mlm "$AF/test.csv" > e.csv
	col e.csv score > s.txt
	run -0 auc lab.txt s.txt
	echo "auc $output" >&2
	awk -v a="$output" 'BEGIN { exit !(a > 0.85) }'
	run -0 ml mlinfo e.mlm
	[[ "$output" == *'"extended": "yes"'* ]]
}

@test "a detector's model: outputs in the metadata, tables, --check, columns bound by name" {
	ml mltrain -q -a hbos -o h.mlm "$AF/train.csv"
	run -0 ml mlinfo h.mlm
	[[ "$output" == *'"task": "unsupervised",'* ]]
	[[ "$output" == *'"outputs": ["score", "anomaly", "severity"],'* ]]
	[[ "$output" == *'"tables": ["calibration", "severity"]'* ]]
	[[ "$output" != *'"target"'* ]]
	run -0 ml mlinfo --check h.mlm
	run -0 ml mlinfo --table calibration h.mlm
	[ "${#lines[@]}" = 1002 ]
	[ "${lines[0]}" = "quantile,score" ]
	[ "${lines[1001]%%,*}" = 1 ]
	# the columns in another order, and an extra one, give the same scores
	awk -F, -v OFS=, '{ print $4, "x", $2, $1, $3 }' "$AF/test.csv" > shuffled.csv
	ml mlpredict -m h.mlm "$AF/test.csv" > a.csv
	ml mlpredict -m h.mlm shuffled.csv > b.csv
	same a.csv b.csv
	run -65 --separate-stderr ml mlpredict -m h.mlm <(cut -d, -f1-3 "$AF/test.csv")
	[[ "$stderr" == *"no column 'd' (a feature of the model)"* ]]
}

@test "categorical features are one-hot encoded inside a detector" {
	awk -F, -v OFS=, 'NR == 1 { print $0, "kind"; next } { print $0, (NR % 3 ? "x" : "y") }' "$AF/train.csv" > cat.csv
	ml mltrain -q -a zscore --method standard -o c.mlm cat.csv
	run -0 ml mlinfo --table features c.mlm
	[[ "$output" == *$'\nkind=x,'* ]]
	[[ "$output" == *$'\nkind=y,'* ]]
	printf 'a,b,c,d,kind\n0,0,1,0,z\n' > unseen.csv
	run -0 ml mlpredict -m c.mlm unseen.csv
	[ "${#lines[@]}" = 2 ]
}

@test "mltrain without -t: the target rules and the options that need one" {
	run -2 --separate-stderr ml mltrain -a iforest -t a -o x.mlm "$AF/train.csv"
	[ "$stderr" = "mltrain: -a iforest takes no target (drop -t a)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -a ridge -o x.mlm "$AF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: no target given (-t COLUMN)" ]
	for opt in "--cv 3" "--valid $AF/test.csv" "--valid-frac 0.2" "--report r.csv" "--class-weight balanced" "--task classify"; do
		run -2 --separate-stderr ml mltrain -a lof $opt -o x.mlm "$AF/train.csv"
		[ "${stderr_lines[0]}" = "mltrain: ${opt%% *} does not apply to -a lof, which fits without a target" ]
	done
	[ ! -e x.mlm ] && [ ! -e r.csv ]
	run -0 --separate-stderr ml mltrain -a zscore -o z.mlm "$AF/train.csv"
	[ "$stderr" = "${stderr%%,*}, 4 features, ${stderr##*, }" ]
	[[ "$stderr" == "mltrain: 400 rows, 4 features, "*" s" ]]
}

@test "bad input: constant columns, fewer rows than --k, text, missing values, one row" {
	awk -F, -v OFS=, '{ print $0, (NR == 1 ? "k" : 5) }' "$AF/train.csv" > const.csv
	run -65 --separate-stderr ml mltrain -a zscore -o x.mlm const.csv
	[ "$stderr" = "mltrain: feature 'k' is constant in the training rows (-a zscore cannot scale it; --ignore it)" ]
	run -65 --separate-stderr ml mltrain -a zscore --method mahalanobis -o x.mlm const.csv
	[ "$stderr" = "mltrain: the features' covariance is singular at 'k' (constant, or a combination of the features before it): --ignore it or use --method robust" ]
	run -0 ml mltrain -q -a zscore --ignore k -o x.mlm const.csv
	rm x.mlm
	head -11 "$AF/train.csv" > ten.csv
	run -65 --separate-stderr ml mltrain -a lof -o x.mlm ten.csv
	[ "$stderr" = "mltrain: -a lof needs more training rows than --k 20, not 10" ]
	head -2 "$AF/train.csv" > one.csv
	run -65 --separate-stderr ml mltrain -a iforest -o x.mlm one.csv
	[ "$stderr" = "mltrain: -a iforest needs at least 2 training rows, not 1" ]
	printf 'a,b\n1,2\n3,\n5,6\n' > miss.csv
	run -65 --separate-stderr ml mltrain -a hbos -o x.mlm miss.csv
	[[ "$stderr" == *"miss.csv:3:"*"'b'"* ]]
	printf 'a,b\n1,2\n3,4\nn/a,6\n' > text.csv
	run -65 --separate-stderr ml mltrain -a iforest -o x.mlm text.csv
	[[ "$stderr" == *"text.csv:4"*"'n/a'"* ]]
	[ ! -e x.mlm ]
}

@test "a damaged detector model is refused" {
	ml mltrain -q -a iforest --trees 5 -o f.mlm "$AF/train.csv"
	cp f.mlm g.mlm
	printf '\377' | dd of=g.mlm bs=1 seek=600 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m g.mlm "$AF/test.csv"
	[ -n "$stderr" ]
}

@test "mlpredict --alert-at: exit 1 once a row reaches the severity, after every row is written" {
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	printf 'a,b,c,d\n0,0,1,0\n' > calm.csv
	printf 'a,b,c,d\n0,0,1,0\n30,0,1,0\n0,0,1,0\n' > wild.csv
	run -0 ml mlpredict -m z.mlm --alert-at low calm.csv
	[ "${lines[1]##*,}" = none ]
	run -1 --separate-stderr ml mlpredict -m z.mlm --alert-at critical -o w.csv wild.csv
	[ -z "$stderr" ]
	[ "$(wc -l < w.csv)" = 4 ]
	[ "$(sed -n 3p w.csv | cut -d, -f2,3)" = 1,critical ]
	run -1 ml mlpredict -m z.mlm --alert-at high wild.csv
	run -1 ml mlpredict -j2 -f stream -m z.mlm --alert-at medium wild.csv
	run -2 --separate-stderr ml mlpredict -m z.mlm --alert-at severe wild.csv
	[ "${stderr_lines[0]}" = "mlpredict: invalid value 'severe' for --alert-at (low, medium, high or critical)" ]
	ml mltrain -q -t a -a ridge -o r.mlm "$AF/train.csv"
	run -2 --separate-stderr ml mlpredict -m r.mlm --alert-at high -o x.csv wild.csv
	[ "${stderr_lines[0]}" = "mlpredict: --alert-at: the model gives no severity (an anomaly detector's does)" ]
	[ ! -e x.csv ]
}

@test "mlpredict --explain names the features behind each flagged row's score" {
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	printf 'a,b,c,d\n0,0,1,0\n30,0,1,-9\n0,12,1,0\n' > wild.csv
	run -0 ml mlpredict -m z.mlm --explain wild.csv
	[ "${lines[0]}" = "score,anomaly,severity,explain" ]
	[ "${lines[1]##*,}" = "" ]
	[ "${lines[2]##*,}" = "a;d;c" ]
	[ "${lines[3]%%;*}" = "${lines[3]%%,*},1,critical,b" ]
	# the same through the stream, whose dictionary grows as rows come
	ml mlpredict -m z.mlm --explain -f stream wild.csv | ml mlcat > s.csv
	ml mlpredict -m z.mlm --explain wild.csv > t.csv
	same t.csv s.csv
	for a in iforest lof hbos; do
		ml mltrain -q -a $a -o m.mlm "$AF/train.csv"
		run -0 ml mlpredict -m m.mlm --explain wild.csv
		[[ "${lines[2]}" == *",1,"*[abcd]* ]]
	done
	ml mltrain -q -t a -a ridge -o r.mlm "$AF/train.csv"
	run -2 --separate-stderr ml mlpredict -m r.mlm --explain wild.csv
	[ "${stderr_lines[0]}" = "mlpredict: --explain: -a ridge models are not anomaly detectors that explain their scores" ]
	run -2 --separate-stderr ml mlpredict -m z.mlm --contrib wild.csv
	[ "${stderr_lines[0]}" = "mlpredict: --contrib: -a zscore models have no margin (--explain names the features behind a detector's score)" ]
}

@test "ecod equals the numpy hand computation (Li et al.), and --explain ranks the winning tail's terms" {
	E=$FIX/anomaly2
	fixture "$E/ecod.csv" "$E/ecod_explain.txt"
	ml mltrain -q -a ecod -o e.mlm "$AF/train.csv"
	ml mlpredict -m e.mlm "$AF/test.csv" | cut -d, -f1,2 > e.csv
	csv_close "$E/ecod.csv" e.csv 1e-12
	row=$(head -1 "$E/ecod_explain.txt")
	want=$(tail -n +2 "$E/ecod_explain.txt" | paste -d, - <(printf 'a\nb\nc\nd\n') | sort -t, -k1,1gr | head -3 | cut -d, -f2 | paste -sd';')
	ml mlpredict -m e.mlm --explain "$AF/test.csv" > x.csv
	[ "$(sed -n "$((row + 1))p" x.csv | cut -d, -f4)" = "$want" ]
	run -0 ml mlinfo --table severity e.mlm
	[ "${lines[1]%%,*}" = anomaly ]
}

# An ensemble's score by hand: each member's score standardised on the mean and standard
# deviation of its calibration grid, times its weight (mlinfo --table members), summed.
by_hand() { # ensemble, then the members
	local ens=$1 k=0 m
	shift
	ml mlinfo --table members "$ens" | tail -n +2 | cut -d, -f2 > w.txt
	for m in "$@"; do
		k=$((k + 1))
		ml mlinfo --table calibration "$m" | tail -n +2 | cut -d, -f2 > g.txt
		mean=$(awk '{ s += $1; n++ } END { printf "%.17g", s / n }' g.txt)
		sd=$(awk -v m="$mean" '{ v += ($1 - m) ^ 2; n++ } END { printf "%.17g", sqrt(v / n) }' g.txt)
		ml mlpredict -m "$m" "$AF/test.csv" | tail -n +2 | cut -d, -f1 |
			awk -v m="$mean" -v s="$sd" -v w="$(sed -n "${k}p" w.txt)" '{ printf "%.17g\n", w * ($1 - m) / s }' > "z$k.txt"
	done
	paste -d, z*.txt | awk -F, '{ t = 0; for (i = 1; i <= NF; i++) t += $i; printf "%.17g\n", t }'
	rm -f z*.txt
}

@test "mlensemble --method anomaly: the score is the weighted sum of the members' standardised scores" {
	ml mltrain -q -a iforest -o if.mlm "$AF/train.csv"
	ml mltrain -q -a lof -o lof.mlm "$AF/train.csv"
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	ml mltrain -q -a ecod -o ec.mlm "$AF/train.csv"
	ml mlensemble --method anomaly -m if.mlm -m lof.mlm -m z.mlm -m ec.mlm -o ens.mlm
	by_hand ens.mlm if.mlm lof.mlm z.mlm ec.mlm | sed '1i score' > want.csv
	ml mlpredict -m ens.mlm "$AF/test.csv" | cut -d, -f1 > got.csv
	csv_close want.csv got.csv 1e-12
	# the agreement weights sum to one; -w gives its own, scaled
	run -0 ml mlinfo --table members ens.mlm
	[ "$(echo "$output" | tail -n +2 | awk -F, '{ s += $2 } END { printf "%.9f", s }')" = 1.000000000 ]
	ml mlensemble --method anomaly -w 2,1,1 -m if.mlm -m lof.mlm -m z.mlm -o w.mlm
	run -0 ml mlinfo --table members w.mlm
	[ "$(echo "${lines[1]}" | cut -d, -f2,3)" = 0.5,iforest ]
	[ "$(echo "${lines[2]}" | cut -d, -f2,3)" = 0.25,lof ]
	by_hand w.mlm if.mlm lof.mlm z.mlm | sed '1i score' > want.csv
	ml mlpredict -m w.mlm "$AF/test.csv" | cut -d, -f1 > got.csv
	csv_close want.csv got.csv 1e-12
	# the combined scores rank the labelled outliers
	ml mlpredict -m ens.mlm "$AF/test.csv" | tail -n +2 | cut -d, -f1 > s.txt
	col "$AF/test_label.csv" outlier > y.txt
	[ "$(auc y.txt s.txt | awk '{ print ($1 > 0.9) }')" = 1 ]
}

@test "anomaly ensemble: flags, severities and kinds from its own scores, --alert-at, mlinfo" {
	ml mltrain -q -a iforest -o if.mlm "$AF/train.csv"
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	ml mltrain -q -a hbos -o h.mlm "$AF/train.csv"
	ml mlensemble --method anomaly --contamination 0.05 -m if.mlm -m z.mlm -m h.mlm -o ens.mlm
	run -0 ml mlinfo ens.mlm
	[[ "$output" == *'"method": "anomaly"'* ]]
	[[ "$output" == *'"weights": "agreement"'* ]]
	[[ "$output" == *'"rows": "kept sample"'* ]]
	run -0 ml mlinfo --table severity ens.mlm
	[ "$(echo "${lines[1]}" | cut -d, -f1,2)" = anomaly,0.95 ]
	printf 'a,b,c,d\n0,0,1,0\n30,0,1,0\n2.5,-2.5,1,2\n' > wild.csv
	run -0 ml mlpredict -m ens.mlm wild.csv
	[ "${lines[0]}" = "score,anomaly,severity,kind" ]
	[ "$(echo "${lines[1]}" | cut -d, -f2-)" = "0,none," ]
	[ "$(echo "${lines[2]}" | cut -d, -f2-)" = "1,critical,statistical" ]
	[ "$(echo "${lines[3]}" | cut -d, -f2,4)" = "1,multivariate" ]
	run -1 ml mlpredict -m ens.mlm --alert-at critical wild.csv
	head -2 wild.csv > calm.csv
	run -0 ml mlpredict -m ens.mlm --alert-at low calm.csv
	run -2 --separate-stderr ml mlpredict -m ens.mlm --contrib wild.csv
	[[ "${stderr_lines[0]}" == "mlpredict: an anomaly ensemble gives score, anomaly, severity, kind and explain only"* ]]
}

@test "anomaly ensemble: --explain combines the members' feature shares by their parts of the score" {
	# zscore standard: |x| / 1 and |y| / sqrt(7) (population); robust: |x| and |y| over
	# 1.4826 (both medians 0, MADs 1). Each member's shares of its row's |z|s, weighted by
	# w(k) max(z(k), 0), z(k) its score standardised by the mean and sd of the members table.
	printf 'x,y\n-1,-1\n-1,-1\n-1,-1\n-1,1\n1,1\n1,1\n1,-5\n1,5\n' > h.csv
	printf 'x,y\n3,4\n0,0\n4,3\n2.5,5\n-3.5,0.5\n2,5\n' > r.csv
	ml mltrain -q -a zscore --method standard -o zs.mlm h.csv
	ml mltrain -q -a zscore -o zr.mlm h.csv
	ml mlensemble --method anomaly -w 1,3 -m zs.mlm -m zr.mlm -o e.mlm
	ml mlinfo --table members e.mlm | tail -n +2 | cut -d, -f2,5,6 > m.txt
	paste -d, r.csv <(ml mlpredict -m zs.mlm r.csv | cut -d, -f1) \
		<(ml mlpredict -m zr.mlm r.csv | cut -d, -f1) | tail -n +2 > in.csv
	awk -F, 'NR == FNR { w[NR] = $1; mu[NR] = $2; sd[NR] = $3; next } {
		x = $1 < 0 ? -$1 : $1; y = $2 < 0 ? -$2 : $2
		a1 = w[1] * (($3 - mu[1]) / sd[1]); a2 = w[2] * (($4 - mu[2]) / sd[2])
		if (a1 < 0) a1 = 0
		if (a2 < 0) a2 = 0
		if (a1 == 0 && a2 == 0) { a1 = w[1]; a2 = w[2] }
		r = 1.482602218505602; s = sqrt(7)
		fx = (x + y / s > 0 ? a1 * x / (x + y / s) : 0) + (x + y > 0 ? a2 * x / (x + y) : 0)
		fy = (x + y / s > 0 ? a1 * (y / s) / (x + y / s) : 0) + (x + y > 0 ? a2 * y / (x + y) : 0)
		print (fx >= fy ? (fy > 0 ? "x;y" : fx > 0 ? "x" : "") : (fx > 0 ? "y;x" : "y"))
	}' m.txt in.csv > want.txt
	ml mlpredict -m e.mlm --explain r.csv > o.csv
	[ "$(head -1 o.csv)" = "score,anomaly,severity,kind,explain" ]
	# the flagged rows, and for them the features by their combined weights
	[ "$(tail -n +2 o.csv | cut -d, -f2 | paste -sd' ')" = "1 0 1 1 1 1" ]
	[ "$(tail -n +2 o.csv | awk -F, '$2 == 1 { print $5 }' | paste -sd' ')" = "$(paste -d, want.txt <(tail -n +2 o.csv | cut -d, -f2) | awk -F, '$2 == 1 { print $1 }' | paste -sd' ')" ]
	# the member weights decide a row the members explain apart (2.5,5: x for the standard
	# member, y for the robust one)
	[ "$(sed -n 5p o.csv | cut -d, -f5)" = "y;x" ]
	ml mlensemble --method anomaly -w 3,1 -m zs.mlm -m zr.mlm -o e31.mlm
	[ "$(ml mlpredict -m e31.mlm --explain r.csv | sed -n 5p | cut -d, -f2,5)" = "1,x;y" ]
	# the scores are those without --explain; the stream format and -j agree
	same <(cut -d, -f1-4 o.csv) <(ml mlpredict -m e.mlm r.csv)
	ml mlpredict -j 2 -m e.mlm --explain -f stream r.csv | ml mlcat > s.csv
	same o.csv s.csv
}

@test "anomaly ensemble: agreement on a FILE of unlabelled rows; the same bytes for any -j" {
	ml mltrain -q -a iforest --seed 3 -o if.mlm "$AF/train.csv"
	ml mltrain -q -a lof -o lof.mlm "$AF/train.csv"
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	ml mlensemble --method anomaly -m if.mlm -m lof.mlm -m z.mlm -o f.mlm "$AF/test.csv"
	run -0 ml mlinfo f.mlm
	[[ "$output" == *'"rows": "file"'* ]]
	[[ "$output" == *'"nrow": '"$(($(wc -l < "$AF/test.csv") - 1))"* ]]
	by_hand f.mlm if.mlm lof.mlm z.mlm | sed '1i score' > want.csv
	ml mlpredict -m f.mlm "$AF/test.csv" | cut -d, -f1 > got.csv
	csv_close want.csv got.csv 1e-12
	ml mlensemble -j 1 --method anomaly -m if.mlm -m lof.mlm -m z.mlm -o a.mlm
	ml mlensemble -j 4 --method anomaly -m if.mlm -m lof.mlm -m z.mlm -o b.mlm
	same a.mlm b.mlm
	ml mlpredict -j 1 -m a.mlm "$AF/test.csv" > a.csv
	ml mlpredict -j 4 -m a.mlm "$AF/test.csv" > b.csv
	same a.csv b.csv
	ml mltrain -q -j 4 -a iforest --seed 3 -o if4.mlm "$AF/train.csv"
	ml mlensemble --method anomaly -m if4.mlm -m lof.mlm -m z.mlm -o c.mlm
	ml mlpredict -m c.mlm "$AF/test.csv" > c.csv
	same a.csv c.csv
}

@test "anomaly ensemble: bad members and options are refused, naming the member and what differs" {
	ml mltrain -q -a iforest -o if.mlm "$AF/train.csv"
	ml mltrain -q -a zscore -o z.mlm "$AF/train.csv"
	ml mltrain -q -t a -a ridge -o r.mlm "$AF/train.csv"
	run -65 --separate-stderr ml mlensemble --method anomaly -m if.mlm -m r.mlm -o x.mlm
	[ "$stderr" = 'mlensemble: r.mlm: member 2: a model of task "regress" cannot join an anomaly ensemble (detectors, fitted without a target, can)' ]
	awk -F, -v OFS=, 'NR == 1 { print $0, "y"; next } { print $0, (NR % 2 ? "p" : "q") }' "$AF/train.csv" > lab.csv
	ml mltrain -q -t y -a logistic -o lr.mlm lab.csv
	ml mltrain -q -t y -a nb -o nb.mlm lab.csv
	ml mltrain -q -a iforest --ignore y -o ify.mlm lab.csv
	run -65 --separate-stderr ml mlensemble --method mean -m lr.mlm -m nb.mlm -m ify.mlm -o x.mlm
	[ "$stderr" = 'mlensemble: ify.mlm: member 3: a model of task "unsupervised" cannot be combined (classification and regression can; detectors, with --method anomaly)' ]
	ml mltrain -q -a zscore --ignore d -o z3.mlm "$AF/train.csv"
	run -65 --separate-stderr ml mlensemble --method anomaly -m if.mlm -m z3.mlm -o x.mlm
	[ "$stderr" = "mlensemble: z3.mlm: member 2 does not read column 'd', which member 1 reads: the members of an anomaly ensemble read the same columns" ]
	head -301 "$AF/train.csv" > part.csv
	ml mltrain -q -a zscore -o zp.mlm part.csv
	run -65 --separate-stderr ml mlensemble --method anomaly -m if.mlm -m zp.mlm -o x.mlm
	[[ "$stderr" == "mlensemble: zp.mlm: member 2 was fitted on other rows than member 1 ("*"give a FILE of unlabelled rows" ]]
	run -0 ml mlensemble --method anomaly -m if.mlm -m zp.mlm -o x.mlm "$AF/test.csv"
	rm x.mlm
	printf 'a,b,c\n1,2,3\n4,5,6\n' > short.csv
	run -65 --separate-stderr ml mlensemble --method anomaly -m if.mlm -m z.mlm -o x.mlm short.csv
	[[ "$stderr" == *"'d'"* ]]
	run -2 --separate-stderr ml mlensemble --method anomaly -m if.mlm -o x.mlm
	[ "${stderr_lines[0]}" = "mlensemble: --method anomaly needs two members at least (-m)" ]
	run -2 --separate-stderr ml mlensemble --method anomaly --contamination 0.7 -m if.mlm -m z.mlm -o x.mlm
	[ "${stderr_lines[0]}" = "mlensemble: invalid value '0.7' for --contamination (auto, or a fraction above 0 and at most 0.5)" ]
	run -2 --separate-stderr ml mlensemble --method anomaly --bands 0.9,0.8,0.99,0.999 -m if.mlm -m z.mlm -o x.mlm
	[ "${stderr_lines[0]}" = "mlensemble: --bands '0.9,0.8,0.99,0.999': the quantiles must rise strictly between 0 and 1" ]
	run -2 --separate-stderr ml mlensemble --method anomaly -w 1 -m if.mlm -m z.mlm -o x.mlm
	[[ "${stderr_lines[0]}" == "mlensemble: -w '1': give 2 comma-separated weights"* ]]
	run -2 --separate-stderr ml mlensemble --method mean --contamination 0.1 -m lr.mlm -m nb.mlm -o x.mlm
	[ "${stderr_lines[0]}" = "mlensemble: --contamination and --bands are for --method anomaly" ]
	run -2 --separate-stderr ml mlensemble --combine anomaly a.csv b.csv
	[[ "${stderr_lines[0]}" == "mlensemble: invalid value 'anomaly' for --combine"* ]]
	[ ! -e x.mlm ]
}
