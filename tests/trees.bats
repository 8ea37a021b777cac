#!/usr/bin/env bats
# Tree learners end to end: gbdt, rf and tree through mltrain, mlpredict and mlinfo.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
}

@test "gbdt separates breast_cancer held-out rows and saves what it learnt" {
	ml mlsplit --test 0.25 --stratify target --seed 3 --train-out tr.csv --test-out te.csv "$SAMPLES/breast_cancer.csv"
	ml mltrain -q -t target -a gbdt --rounds 100 -o g.mlm tr.csv
	ml mlpredict -m g.mlm --keep target te.csv >p.csv
	run -0 --separate-stderr ml mleval -t target --min auc=0.97 --min accuracy=0.92 p.csv
	run -0 --separate-stderr ml mlinfo --check g.mlm
	ml mlinfo --table importance g.mlm >imp.csv
	[ "$(head -1 imp.csv)" = "feature,gain,splits,cover" ]
	[ "$(wc -l <imp.csv)" -eq 31 ]
}

@test "gbdt takes missing values and categories as they are" {
	run -0 --separate-stderr ml mltrain -t species -a gbdt --rounds 30 -o s.mlm "$SAMPLES/penguins.csv"
	ml mlpredict -m s.mlm --keep species "$SAMPLES/penguins.csv" >p.csv
	run -0 --separate-stderr ml mleval -t species --min accuracy=0.97 p.csv
	[ "$(head -1 p.csv)" = "species,pred,p_Adelie,p_Chinstrap,p_Gentoo" ]
}

@test "gbdt regression, early stopping keeps the best round" {
	ml mltrain -q -t y -a gbdt --rounds 200 -o r.mlm "$SAMPLES/airpassengers.csv"
	ml mlpredict -m r.mlm --keep y "$SAMPLES/airpassengers.csv" >p.csv
	run -0 --separate-stderr ml mleval -t y --min r2=0.95 p.csv
	run -0 --separate-stderr ml mltrain -t target -a gbdt --rounds 500 --valid-frac 0.2 --early-stop 10 -o e.mlm "$SAMPLES/breast_cancer.csv"
	[[ "$stderr" == *"best round"* ]]
	ml mlinfo e.mlm >info.json
	grep -q '"best_iteration"\|"best_round"' info.json
}

@test "the same seed gives the same model bytes with 1 and 2 threads" {
	for a in gbdt rf tree; do
		ml mltrain -q -t species -a "$a" --seed 5 -j 1 -o m1.mlm "$SAMPLES/penguins.csv"
		ml mltrain -q -t species -a "$a" --seed 5 -j 2 -o m2.mlm "$SAMPLES/penguins.csv"
		cmp m1.mlm m2.mlm || { echo "$a differs"; return 1; }
	done
	ml mltrain -q -t species -a rf --seed 6 -o m3.mlm "$SAMPLES/penguins.csv"
	run -1 cmp -s m1.mlm m3.mlm
}

@test "a saved model predicts exactly what the fitted one did, through the stream too" {
	ml mltrain -q -t target -a gbdt --rounds 40 -o g.mlm "$SAMPLES/breast_cancer.csv"
	ml mlpredict -m g.mlm "$SAMPLES/breast_cancer.csv" >a.csv
	ml mlcat -f stream "$SAMPLES/breast_cancer.csv" | ml mlpredict -m g.mlm >b.csv
	same a.csv b.csv
}

@test "--contrib adds up to the margin, --leaf names a leaf per tree" {
	ml mltrain -q -t target -a gbdt --rounds 20 -o g.mlm "$SAMPLES/breast_cancer.csv"
	ml mlpredict -m g.mlm --raw --contrib "$SAMPLES/breast_cancer.csv" >c.csv
	[ "$(head -1 c.csv | tr ',' '\n' | tail -1)" = "contrib_bias" ]
	awk -F, 'NR > 1 { s = 0; for (i = 3; i <= NF; i++) s += $i; d = s - $2; if (d < 0) d = -d; if (d > 1e-9) bad = 1 } END { exit bad }' c.csv
	ml mlpredict -m g.mlm --leaf "$SAMPLES/breast_cancer.csv" >l.csv
	[ "$(head -1 l.csv | tr ',' '\n' | grep -c '^leaf_')" -eq 20 ]
	ml mltrain -q -t species -a gbdt --rounds 5 -o s.mlm "$SAMPLES/penguins.csv"
	ml mlpredict -m s.mlm --raw --contrib --no-proba "$SAMPLES/penguins.csv" >sc.csv
	head -1 sc.csv | grep -q 'contrib_Gentoo_bias'
	ml mltrain -q -t target -a logistic -o lg.mlm "$SAMPLES/breast_cancer.csv"
	run -2 --separate-stderr ml mlpredict -m lg.mlm --leaf "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mlpredict: --leaf: -a logistic models have no trees
Try 'mlpredict --help' for more information." ]
}

@test "rf stores its out-of-bag score and both importances" {
	ml mltrain -q -t target -a rf --trees 50 -o rf0.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo --table importance rf0.mlm >imp0.csv
	[ "$(head -1 imp0.csv)" = "feature,impurity" ]
	ml mltrain -q -t target -a rf --trees 50 --importance permutation -o rf.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo rf.mlm >info.json
	grep -q '"oob_score"' info.json
	ml mlinfo --table importance rf.mlm >imp.csv
	[ "$(head -1 imp.csv)" = "feature,impurity,permutation" ]
	# The same forest either way: permutation importances only add a column.
	paste -d, imp0.csv <(cut -d, -f2 imp.csv) | awk -F, 'NR > 1 && $2 != $3 { bad = 1 } END { exit bad }'
	# The most important feature shuffled costs out-of-bag accuracy.
	sort -t, -k3 -g -r <(tail -n +2 imp.csv) | head -1 | awk -F, '{ exit !($3 > 0) }'
	ml mlpredict -m rf.mlm --keep target "$SAMPLES/breast_cancer.csv" >p.csv
	run -0 --separate-stderr ml mleval -t target --min accuracy=0.97 p.csv
}

@test "a CART tree prints its rules with level names" {
	ml mltrain -q -t species -a tree --max-depth 2 -o t.mlm "$SAMPLES/penguins.csv"
	ml mlinfo --table tree t.mlm >rules.csv
	[ "$(head -1 rules.csv | cut -d, -f1-5)" = "tree,node,depth,feature,condition" ]
	grep -q 'flipper_length_mm <= 206.5' rules.csv
	grep -q 'island in {Biscoe}' rules.csv
}

@test "a CART tree on few rows splits between sorted values, as scikit-learn's" {
	# 456-544 distinct values a feature, more than the bins: scikit-learn's first splits
	ml mltrain -q -t target -a tree --max-depth 2 -o t.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo --table tree t.mlm >rules.csv
	[ "$(sed -n 2p rules.csv | cut -d, -f5)" = "worst radius <= 16.795" ]
	[ "$(sed -n 3p rules.csv | cut -d, -f5)" = "worst concave points <= 0.13579999999999998" ]
	# a --max-bin of one's own asks for the bins
	ml mltrain -q -t target -a tree --max-depth 2 --max-bin 16 -o b.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo --table tree b.mlm >binned.csv
	[ "$(sed -n 2p binned.csv | cut -d, -f5)" != "worst radius <= 16.795" ]
}

@test "tree options that do not apply are usage errors" {
	run -2 --separate-stderr ml mltrain -t target -a rf --learning-rate 0.1 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: --learning-rate does not apply to -a rf
Try 'mltrain --help' for more information." ]
	[ ! -e x.mlm ]
}

@test "a damaged gbdt model is refused" {
	ml mltrain -q -t target -a gbdt --rounds 10 -o g.mlm "$SAMPLES/breast_cancer.csv"
	size=$(wc -c <g.mlm)
	head -c $((size - 100)) g.mlm >t.mlm
	run -65 --separate-stderr ml mlpredict -m t.mlm "$SAMPLES/breast_cancer.csv"
	run -65 --separate-stderr ml mlinfo --check t.mlm
}

@test "mlpredict and mltrain score with any number of threads to the same bytes" {
	{ cat "$SAMPLES/breast_cancer.csv"; for i in 1 2 3 4 5; do tail -n +2 "$SAMPLES/breast_cancer.csv"; done; } >big.csv
	[ "$(wc -l <big.csv)" -gt 3000 ]
	for a in gbdt rf tree nb; do
		ml mltrain -q -t target -a "$a" -o m.mlm big.csv
		ml mlpredict -j 1 -m m.mlm --keep target big.csv >p1.csv
		ml mlpredict -j 3 -m m.mlm --keep target big.csv >p3.csv
		cmp p1.csv p3.csv || { echo "$a differs"; return 1; }
		ml mlcat -f stream big.csv | ml mlpredict -j 2 -m m.mlm --keep target >p2.csv
		cmp p1.csv p2.csv || { echo "$a differs through the stream"; return 1; }
	done
	ml mltrain -q -t target -a gbdt --rounds 20 -o g.mlm big.csv
	ml mlpredict -j 1 -m g.mlm --contrib --leaf big.csv >c1.csv
	ml mlpredict -j 2 -m g.mlm --contrib --leaf big.csv >c2.csv
	cmp c1.csv c2.csv
	# The training metrics, from rows scored on threads, agree too (the time aside).
	ml mltrain -t target -a gbdt --rounds 20 -j 1 -o a.mlm big.csv 2>&1 | sed 's/[0-9.]* s;/T;/' >s1.txt
	ml mltrain -t target -a gbdt --rounds 20 -j 2 -o b.mlm big.csv 2>&1 | sed 's/[0-9.]* s;/T;/' >s2.txt
	grep -q 'T; train: accuracy' s1.txt
	cmp s1.txt s2.txt
	cmp a.mlm b.mlm
}
