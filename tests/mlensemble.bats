#!/usr/bin/env bats
# mlensemble: ensembles of fitted models scored by mlpredict, combined prediction files
# against NumPy and SciPy, stacking and blending, and bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	EF=$FIX/ensemble
	BC=$SAMPLES/breast_cancer.csv
}

# Three models of the breast cancer data.
members() {
	ml mltrain -q -t target -a logistic -o lr.mlm "$BC"
	ml mltrain -q -t target -a gbdt --rounds 30 -o gb.mlm "$BC"
	ml mltrain -q -t target -a nb -o nb.mlm "$BC"
}

@test "a mean ensemble's output is the mean of its members' mlpredict outputs, exactly" {
	members
	run -0 --separate-stderr ml mlensemble --method mean -m lr.mlm -m gb.mlm -m nb.mlm -o ens.mlm
	[ "$output" = "" ] && [ "$stderr" = "" ]
	ml mlpredict -m ens.mlm --keep target "$BC" >ens.csv
	for m in lr gb nb; do ml mlpredict -m $m.mlm --keep target "$BC" >$m.csv; done
	ml mlensemble --combine mean lr.csv gb.csv nb.csv >comb.csv
	same ens.csv comb.csv
	[ "$(head -1 ens.csv)" = "target,pred,p_0,p_1" ]
	[ $(wc -l <ens.csv) -eq 570 ]
	# and that mean, taken by awk, agrees to the last digits awk keeps
	paste -d, lr.csv gb.csv nb.csv ens.csv | tail -n +2 | awk -F, '{
		m = ($4 + $8 + $12) / 3; d = m - $16; if (d < 0) d = -d
		if (d > 1e-15) { print NR ": " m " " $16; exit 1 }
		if (($16 > $15) != ($14 == 1)) { print NR ": pred"; exit 1 } }'
	# the threads never change the answers
	ml mlpredict -j 2 -m ens.mlm --keep target "$BC" | cmp - ens.csv
}

@test "mlinfo shows the method, members, weights and stages; --table members" {
	members
	ml mlensemble --method weighted -w 0.5,0.3,0.2 -m lr.mlm -m gb.mlm -m nb.mlm -o w.mlm
	run -0 ml mlinfo w.mlm
	[[ "$output" == *'"kind": "ensemble"'* ]]
	[[ "$output" == *'"method": "weighted"'* ]]
	[[ "$output" == *'"name": "gb.mlm"'* ]]
	[[ "$output" == *'"weight": 0.3'* ]]
	run -0 ml mlinfo --table members w.mlm
	[ "${lines[0]}" = "member,weight,algorithm,stages" ]
	[ "${lines[1]}" = "1,0.5,logistic,1" ]
	[ "${lines[3]}" = "3,0.2,nb,1" ]
	# the weighted mean, by awk
	ml mlpredict -m w.mlm "$BC" >w.csv
	for m in lr gb nb; do ml mlpredict -m $m.mlm "$BC" >$m.csv; done
	paste -d, lr.csv gb.csv nb.csv w.csv | tail -n +2 | awk -F, '{
		m = 0.5 * $3 + 0.3 * $6 + 0.2 * $9; d = m - $12; if (d < 0) d = -d
		if (d > 1e-12) { print NR ": " m " " $12; exit 1 } }'
}

@test "vote is hard voting: the share of the members' labels" {
	members
	ml mlensemble --method vote -m lr.mlm -m gb.mlm -m nb.mlm -o v.mlm
	ml mlpredict -m v.mlm "$BC" >v.csv
	for m in lr gb nb; do ml mlpredict -m $m.mlm "$BC" >$m.csv; done
	paste -d, lr.csv gb.csv nb.csv v.csv | tail -n +2 | awk -F, '{
		ones = ($1 == 1) + ($4 == 1) + ($7 == 1)
		if ($10 != (ones >= 2) || $12 != ones / 3) { print NR ": " $0; exit 1 } }'
	ml mlensemble --combine vote lr.csv gb.csv nb.csv | cmp - v.csv
}

@test "members with their own feature pipelines, classes matched by label" {
	ml mlfeat --save feat.mlm -t species --impute median --scale standard --onehot island,sex \
		<"$SAMPLES/penguins.csv" >train.csv
	ml mltrain -q -t species -a logistic -o lr.mlm train.csv
	ml mlfeat --save feat2.mlm -t species --impute median <"$SAMPLES/penguins.csv" >train2.csv
	ml mltrain -q -t species -a gbdt --rounds 20 -o gb.mlm train2.csv
	run -0 ml mlensemble --method mean -m feat.mlm+lr.mlm -m feat2.mlm+gb.mlm -o ens.mlm
	ml mlpredict -m ens.mlm --keep species "$SAMPLES/penguins.csv" >ens.csv
	ml mlpredict -m feat.mlm -m lr.mlm --keep species "$SAMPLES/penguins.csv" >a.csv
	ml mlpredict -m feat2.mlm -m gb.mlm --keep species "$SAMPLES/penguins.csv" >b.csv
	ml mlensemble --combine mean a.csv b.csv | cmp - ens.csv
	[ "$(head -1 ens.csv)" = "species,pred,p_Adelie,p_Chinstrap,p_Gentoo" ]
	run -0 ml mlinfo ens.mlm
	[[ "$output" == *'"kind": "features"'* ]]
	# a prediction file whose classes come in another order combines by label
	mlcat_cols() { ml mlcat --select "$1" "$2"; }
	mlcat_cols species,pred,p_Gentoo,p_Adelie,p_Chinstrap b.csv >b2.csv
	ml mlensemble --combine mean a.csv b2.csv | cmp - ens.csv
}

@test "--combine agrees with NumPy and SciPy: mean, median, vote, rank; --key joins" {
	fixture "$EF/cls1.csv" "$EF/cls_mean.csv" "$EF/reg_mean.csv" "$EF/reg_median.csv"
	for m in mean median vote rank; do
		ml mlensemble --combine $m "$EF/cls1.csv" "$EF/cls2.csv" "$EF/cls3.csv" >out.csv
		same out.csv "$EF/cls_$m.csv"
	done
	ml mlensemble --combine mean --key id "$EF/reg1.csv" "$EF/reg2.csv" "$EF/reg3.csv" >out.csv
	same out.csv "$EF/reg_mean.csv"
	ml mlensemble --combine median --key id "$EF/reg1.csv" "$EF/reg2.csv" "$EF/reg3.csv" >out.csv
	same out.csv "$EF/reg_median.csv"
	# without --key the shuffled file is taken row by row: other numbers
	ml mlensemble --combine mean "$EF/reg1.csv" "$EF/reg2.csv" "$EF/reg3.csv" >out.csv
	run ! cmp -s out.csv "$EF/reg_mean.csv"
}

@test "--combine fails loudly on missing columns, row counts and keys" {
	fixture "$EF/cls1.csv"
	head -10 "$EF/cls2.csv" >short.csv
	run -65 --separate-stderr ml mlensemble --combine mean "$EF/cls1.csv" short.csv
	[ "$stderr" = "mlensemble: short.csv: 9 rows, where $EF/cls1.csv has 40" ]
	ml mlcat --select 'id,pred,p_a,p_b' "$EF/cls2.csv" >nob.csv 2>/dev/null || cut -d, -f1-4 "$EF/cls2.csv" >nob.csv
	cut -d, -f1,2,3,4 "$EF/cls1.csv" >noc.csv
	run -65 --separate-stderr ml mlensemble --combine mean "$EF/cls1.csv" noc.csv
	[ "$stderr" = "mlensemble: noc.csv: no numeric column 'p_c' ($EF/cls1.csv has it)" ]
	cut -d, -f1 "$EF/reg1.csv" >nopred.csv
	run -65 --separate-stderr ml mlensemble --combine mean nopred.csv "$EF/reg1.csv"
	[ "$stderr" = "mlensemble: nopred.csv: no numeric column 'pred' and no p_LABEL columns: not predictions of mlpredict" ]
	sed 's/^101,/100,/' "$EF/reg2.csv" >dup.csv
	run -65 --separate-stderr ml mlensemble --combine mean --key id "$EF/reg1.csv" dup.csv
	[ "$stderr" = "mlensemble: dup.csv: --key 'id': the value '100' is on two rows" ]
	sed 's/^101,/999,/' "$EF/reg2.csv" >other.csv
	run -65 --separate-stderr ml mlensemble --combine mean --key id "$EF/reg1.csv" other.csv
	[ "$stderr" = "mlensemble: other.csv: --key 'id': no row for '101' of $EF/reg1.csv" ]
	run -65 --separate-stderr ml mlensemble --combine mean --key ID "$EF/reg1.csv" other.csv
	[ "$stderr" = "mlensemble: $EF/reg1.csv: no column 'ID' (--key); did you mean 'id'?" ]
	run -2 --separate-stderr ml mlensemble --combine mean "$EF/reg1.csv"
	[ "${lines[0]}" = "" ]
	[ "$stderr" = "mlensemble: --combine needs two prediction files at least
Try 'mlensemble --help' for more information." ]
	run -2 --separate-stderr ml mlensemble --combine weighted a.csv b.csv
	[[ "$stderr" == "mlensemble: invalid value 'weighted' for --combine (mean, median, vote, rank)"* ]]
}

@test "--combine refuses the fitted ensembles' options (--oof, --report) instead of ignoring them" {
	fixture "$EF/cls1.csv" "$EF/cls2.csv"
	local o
	for o in "--oof oof.csv" "--report rep.csv" "-t y" "--base nb"; do
		run -2 --separate-stderr ml mlensemble --combine mean $o -o out.csv "$EF/cls1.csv" "$EF/cls2.csv"
		[ "$stderr" = "mlensemble: -t, --base, --meta, --passthrough, --nonneg, --oof, --report, --feat and --cv-* are for fitted ensembles (stack, blend, weighted --optimize)
Try 'mlensemble --help' for more information." ] || { echo "$o: $stderr"; return 1; }
	done
	[ ! -e oof.csv ] && [ ! -e rep.csv ] && [ ! -e out.csv ]
	# -o puts the combined predictions in place
	ml mlensemble --combine mean "$EF/cls1.csv" "$EF/cls2.csv" >a.csv
	ml mlensemble --combine mean -o b.csv "$EF/cls1.csv" "$EF/cls2.csv" >out.txt
	same a.csv b.csv
	[ ! -s out.txt ]
}

@test "members of different tasks, classes or column types are refused, naming the member" {
	members
	ml mltrain -q -t 'mean radius' -a ridge -o reg.mlm "$BC"
	run -65 --separate-stderr ml mlensemble --method mean -m lr.mlm -m reg.mlm -o e.mlm
	[ "$stderr" = 'mlensemble: reg.mlm: member 2: task "regress" differs from member 1'"'"'s "classify"' ]
	[ ! -e e.mlm ]
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	run -65 --separate-stderr ml mlensemble --method mean -m pg.mlm -m nb.mlm -o e.mlm
	[ "$stderr" = 'mlensemble: nb.mlm: member 2: target "target" differs from member 1'"'"'s "species"' ]
	# the same target with other classes
	awk -F, 'NR == 1 || $NF == 1 || NR % 3 == 0 { if (NR > 1 && NR % 3 == 0) $NF = 2; print }' OFS=, "$BC" >three.csv
	ml mltrain -q -t target -a nb -o three.mlm three.csv
	run -65 --separate-stderr ml mlensemble --method mean -m lr.mlm -m three.mlm -o e.mlm
	[ "$stderr" = 'mlensemble: three.mlm: member 2: classes ["1","2"] differ from member 1'"'"'s ["0","1"]' ]
	ml mlfeat --save feat.mlm -t target --scale standard <"$BC" >/dev/null
	run -65 --separate-stderr ml mlensemble --method mean -m feat.mlm -m lr.mlm -o e.mlm
	[ "$stderr" = "mlensemble: feat.mlm: member 1: a 'features' artefact where a model should be" ]
	run -66 --separate-stderr ml mlensemble --method mean -m nosuch.mlm -m lr.mlm -o e.mlm
	[[ "$stderr" == "mlensemble: nosuch.mlm: cannot open"* ]]
	[ ! -e e.mlm ]
}

@test "usage errors: methods, members, weights" {
	members
	run -2 --separate-stderr ml mlensemble --method mean -m lr.mlm -o e.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: --method mean needs two members at least (-m)" ]
	run -2 --separate-stderr ml mlensemble --method weighted -m lr.mlm -m nb.mlm -o e.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: --method weighted needs -w (one weight per member)" ]
	run -2 --separate-stderr ml mlensemble --method weighted -w 1,2,3 -m lr.mlm -m nb.mlm -o e.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: -w '1,2,3': give 2 comma-separated weights, one per member" ]
	run -2 --separate-stderr ml mlensemble --method weighted -w 0,0 -m lr.mlm -m nb.mlm -o e.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: -w '0,0': the weights sum to zero" ]
	run -2 --separate-stderr ml mlensemble --method bagging -m lr.mlm -m nb.mlm -o e.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: invalid value 'bagging' for --method (mean, median, vote, weighted, stack, blend, anomaly)" ]
	run -2 --separate-stderr ml mlensemble --method mean -m lr.mlm -m nb.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: no output file (-o FILE) for the ensemble" ]
	[ ! -e e.mlm ]
	# mlpredict refuses what an ensemble cannot give
	ml mlensemble --method mean -m lr.mlm -m nb.mlm -o e.mlm
	run -2 --separate-stderr ml mlpredict -m e.mlm --raw "$BC"
	[ "${stderr%%$'\n'*}" = "mlpredict: an ensemble gives pred and p_LABEL only (no margins, leaves, contributions or intervals)" ]
}

@test "a regression ensemble: mean and median of predictions" {
	ml mltrain -q -t temp_max -a ridge --ignore date -o a.mlm "$SAMPLES/seattle_weather.csv"
	ml mltrain -q -t temp_max -a gbdt --rounds 20 --ignore date -o b.mlm "$SAMPLES/seattle_weather.csv"
	ml mltrain -q -t temp_max -a knn --ignore date,weather -o c.mlm "$SAMPLES/seattle_weather.csv"
	for m in mean median; do
		ml mlensemble --method $m -m a.mlm -m b.mlm -m c.mlm -o $m.mlm
		ml mlpredict -m $m.mlm "$SAMPLES/seattle_weather.csv" >$m.csv
	done
	for x in a b c; do ml mlpredict -m $x.mlm "$SAMPLES/seattle_weather.csv" >$x.csv; done
	ml mlensemble --combine mean a.csv b.csv c.csv | cmp - mean.csv
	ml mlensemble --combine median a.csv b.csv c.csv | cmp - median.csv
	[ "$(head -1 mean.csv)" = "pred" ]
}

@test "stack: out-of-fold predictions never come from a fit that saw the row" {
	# A target of coin flips and a feature unique to each row: a 1-nearest-neighbour
	# fit that had seen a row would give its own label back every time.
	awk 'BEGIN { srand(3); print "id,noise,y"; for (i = 1; i <= 400; i++)
		printf "%d,%.6f,%d\n", i, rand(), rand() < 0.5 }' >coin.csv
	ml mlensemble -q --method stack -t y --base 'knn --k 1' --base nb --cv 5 --oof oof.csv \
		-o s.mlm coin.csv
	[ "$(head -1 oof.csv)" = "fold,m1:p_1,m2:p_1" ]
	[ $(tail -n +2 oof.csv | cut -d, -f1 | sort -u | tr '\n' ' ') = "1 2 3 4 5 " ] ||
		[ "$(tail -n +2 oof.csv | cut -d, -f1 | sort -u | tr '\n' ' ')" = "1 2 3 4 5 " ]
	paste -d, coin.csv oof.csv | tail -n +2 | awk -F, '{ n++; hit += (($5 > 0.5) == $3) }
		END { if (hit / n > 0.65) { print "in-fold rows leak: " hit / n; exit 1 } }'
	# the same 1-NN fitted on all rows scores its own rows perfectly: the test can fail
	ml mltrain -q -t y -a knn --k 1 -o k.mlm coin.csv
	ml mlpredict -m k.mlm --keep y coin.csv | tail -n +2 |
		awk -F, '{ n++; hit += ($1 == $2) } END { exit !(hit == n) }'
}

@test "stack: reproducible bytes for any -j" {
	# the base learners and folds are fitted in parallel: any -j, the same bytes
	for j in 1 2 5; do
		ml mlensemble -j $j --method stack -t target --base 'gbdt --rounds 30' --base logistic \
			--base nb --cv 4 --oof oof$j.csv -o s$j.mlm "$BC"
		ml mlensemble -q -j $j --method blend -t target --base 'gbdt --rounds 10' --base nb \
			--feat '--scale standard' -o b$j.mlm "$BC"
	done
	cmp s1.mlm s2.mlm && cmp s1.mlm s5.mlm
	cmp oof1.csv oof2.csv && cmp oof1.csv oof5.csv
	cmp b1.mlm b2.mlm && cmp b1.mlm b5.mlm
	run -0 ml mlinfo s1.mlm
	[[ "$output" == *'"method": "stack"'* ]]
	[[ "$output" == *'"name": "gbdt --rounds 30"'* ]]
	[[ "$output" == *'"meta": {'* ]]
	ml mlpredict -m s1.mlm --keep target "$BC" >p.csv
	[ "$(head -1 p.csv)" = "target,pred,p_0,p_1" ]
	run -0 ml mleval -t target --min auc=0.99 p.csv
}

@test "stack on held-out rows scores at least as well as its best member" {
	ml mlsplit --test 0.3 --stratify target --seed 11 --train-out tr.csv --test-out te.csv "$BC"
	ml mlensemble -q --method stack -t target --base 'gbdt --rounds 100' --base logistic \
		--base 'knn --k 15' -o s.mlm tr.csv
	ml mlpredict -m s.mlm --keep target te.csv | ml mleval -t target >s.txt
	best=0
	for spec in 'gbdt --rounds 100' logistic 'knn --k 15'; do
		ml mltrain -q -t target -a $spec -o m.mlm tr.csv
		ml mlpredict -m m.mlm --keep target te.csv | ml mleval -t target >m.txt
		best=$(awk -F, -v b=$best '$1 == "logloss" { print (b == 0 || $2 < b) ? $2 : b }' m.txt)
	done
	awk -F, -v b=$best '$1 == "logloss" { if ($2 > b) { print $2 " > " b; exit 1 } }' s.txt
}

@test "stack: regression, passthrough with a gbdt meta-learner, blend, time folds" {
	W=$SAMPLES/seattle_weather.csv
	ml mlensemble -q --method stack -t temp_max --base 'ridge --ignore date' --base 'gbdt --rounds 20' \
		-o r.mlm "$W" 2>err.txt || true
	run -2 --separate-stderr ml mlensemble --method stack -t temp_max --base 'ridge --ignore date' -o r.mlm "$W"
	[[ "$stderr" == "mlensemble: --base 'ridge --ignore date': --ignore does not apply to -a ridge"* ]]
	ml mlcat --select '!date' "$W" >w.csv
	ml mlensemble -q --method stack -t temp_max --base ridge --base 'gbdt --rounds 20' -o r.mlm w.csv
	run -0 ml mlinfo r.mlm
	[[ "$output" == *'"algorithm": "linear"'* ]]
	ml mlpredict -m r.mlm w.csv | head -1 | grep -qx pred
	ml mlensemble -q --method stack -t species --base 'gbdt --rounds 20' --base nb --meta gbdt \
		--passthrough -o p.mlm "$SAMPLES/penguins.csv"
	ml mlpredict -m p.mlm --keep species "$SAMPLES/penguins.csv" | ml mleval -t species --min accuracy=0.9 >/dev/null
	ml mlensemble -q --method blend --holdout 0.25 -t target --base logistic --base nb \
		--oof b.csv -o b.mlm "$BC"
	[ "$(tail -n +2 b.csv | cut -d, -f1 | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" = "0:426 1:143 " ]
	ml mlpredict -m b.mlm "$BC" >/dev/null
	awk -F, 'NR == 1 { print "t," $0; next } { print NR "," $0 }' "$BC" >timed.csv
	ml mlensemble -q --method stack -t target --cv-time t --cv 4 --base nb --base logistic \
		--oof t.csv -o t.mlm timed.csv
	[ "$(sed -n 2p t.csv | cut -d, -f1)" = "0" ]
	ml mlpredict -m t.mlm timed.csv >/dev/null
}

@test "stack: bad specs and bad input" {
	run -2 --separate-stderr ml mlensemble --method stack -t target --base 'forest --trees 9' -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: --base 'forest --trees 9': unknown algorithm 'forest' (one of linear, ridge, lasso, elasticnet, logistic, nb, knn, gbdt, rf, tree, iforest, zscore, lof, hbos, ecod, baseline, gp, mlp, kmeans, autoencoder)" ]
	run -2 --separate-stderr ml mlensemble --method stack -t target --base 'gbdt rounds' -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: --base 'gbdt rounds': 'rounds' is not an option" ]
	run -2 --separate-stderr ml mlensemble --method stack -t target --base 'gbdt --rounds' -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: --base 'gbdt --rounds': --rounds needs a value" ]
	run -2 --separate-stderr ml mlensemble --method stack -t target --base nb --meta rf -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: invalid value 'rf' for --meta (logistic, linear or gbdt)" ]
	run -2 --separate-stderr ml mlensemble --method stack -t target -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: no base learner given (--base 'ALGO [OPTIONS]')" ]
	run -2 --separate-stderr ml mlensemble --method stack -t target --base nb -m x.mlm -o s.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: --method stack fits its members from --base specs, not -m or -w" ]
	run -65 --separate-stderr ml mlensemble --method stack -t nosuch --base nb -o s.mlm "$BC"
	[[ "$stderr" == "mlensemble: "*"nosuch"* ]]
	[ ! -e s.mlm ]
}

@test "weighted --optimize: out-of-fold log loss no worse than any member's or equal weights" {
	ml mlensemble -q --method weighted --optimize -t target --base 'gbdt --rounds 30' \
		--base logistic --base nb --oof oof.csv -o w.mlm "$BC"
	ml mlinfo --table members w.mlm | tail -n +2 | cut -d, -f2 >w.txt
	[ $(wc -l <w.txt) -eq 3 ]
	awk '{ s += $1; if ($1 < 0) exit 1 } END { d = s - 1; if (d < 0) d = -d; exit !(d < 1e-12) }' w.txt
	paste -d, "$BC" oof.csv | tail -n +2 | awk -F, -v w="$(tr '\n' , <w.txt)" '
		BEGIN { split(w, W, ",") }
		{ y = $31; for (k = 1; k <= 3; k++) { p = $(32 + k); q[k] = y ? p : 1 - p }
		  mix = W[1] * q[1] + W[2] * q[2] + W[3] * q[3]; eq = (q[1] + q[2] + q[3]) / 3
		  L += -log(mix > 1e-15 ? mix : 1e-15); E += -log(eq > 1e-15 ? eq : 1e-15)
		  for (k = 1; k <= 3; k++) M[k] += -log(q[k] > 1e-15 ? q[k] : 1e-15) }
		END { if (L > E || L > M[1] || L > M[2] || L > M[3]) { print L, E, M[1], M[2], M[3]; exit 1 } }'
	ml mlpredict -m w.mlm "$BC" >/dev/null
	run -2 --separate-stderr ml mlensemble --method mean --optimize -t target --base nb -o x.mlm "$BC"
	[ "${stderr%%$'\n'*}" = "mlensemble: --optimize is for --method weighted" ]
}

@test "--report: members' out-of-fold metrics, the ensemble's, diversity and weights" {
	ml mlensemble -q --method weighted --optimize -t target --base logistic --base nb \
		--report rep.csv --oof oof.csv -o w.mlm "$BC"
	[ "$(head -1 rep.csv)" = "what,member,other,metric,value" ]
	[ "$(cut -d, -f1-4 rep.csv | tail -n +2 | tr '\n' ' ')" = "member,1,,logloss member,1,,auc member,1,,accuracy member,2,,logloss member,2,,auc member,2,,accuracy ensemble,,,logloss ensemble,,,auc ensemble,,,accuracy correlation,1,2, disagreement,1,2, weight,1,, weight,2,, " ]
	# the correlation of the out-of-fold columns, by awk
	r=$(awk -F, '$1 == "correlation" { print $5 }' rep.csv)
	tail -n +2 oof.csv | awk -F, -v r="$r" '{ n++; x += $2; y += $3; xx += $2 * $2; yy += $3 * $3; xy += $2 * $3 }
		END { c = (xy - x * y / n) / sqrt((xx - x * x / n) * (yy - y * y / n)); d = c - r
		      if (d < 0) d = -d; exit !(d < 1e-9) }'
	# the weights are mlinfo's
	[ "$(awk -F, '$1 == "weight" { print $5 }' rep.csv)" = "$(ml mlinfo --table members w.mlm | tail -n +2 | cut -d, -f2)" ]
	ml mlensemble -q --method stack -t target --base logistic --base nb --report s.csv -o s.mlm "$BC"
	grep -q '^ensemble,,,logloss,' s.csv
	run -0 ml mlinfo --table meta s.mlm
	[ "${lines[0]}" = "feature,coef" ] && [[ "${lines[2]}" == "m1:p_1,"* ]]
	run -2 --separate-stderr ml mlensemble --method mean -m w.mlm -m s.mlm --report r.csv -o x.mlm
	[ "${stderr%%$'\n'*}" = "mlensemble: -t, --base, --meta, --passthrough, --nonneg, --oof, --report, --feat and --cv-* are for fitted ensembles (stack, blend, weighted --optimize)" ]
}

@test "--feat fits the pipeline inside each fold: a target encoder never sees the rows it scores" {
	# coin-flip labels and a shop of about three rows each: an encoder fitted on the rows
	# it scores reads their own labels back
	awk 'BEGIN { srand(5); print "shop,x,y"; for (i = 1; i <= 600; i++)
		printf "s%d,%.5f,%d\n", int(rand() * 200), rand(), rand() < 0.5 }' >leak.csv
	ml mlensemble -q --method stack -t y --base logistic --feat '--target-encode shop' \
		--report honest.csv -o h.mlm leak.csv
	auc=$(awk -F, '$1 == "member" && $4 == "auc" { print $5 }' honest.csv)
	awk -v a="$auc" 'BEGIN { exit !(a < 0.6) }'
	# the same pipeline fitted on every row beforehand leaks: the test can fail
	ml mlfeat --save f.mlm -t y --target-encode shop <leak.csv >/dev/null
	ml mlfeat --load f.mlm <leak.csv >leaky.csv
	ml mlensemble -q --method stack -t y --base logistic --report leaky_rep.csv -o l.mlm leaky.csv
	auc=$(awk -F, '$1 == "member" && $4 == "auc" { print $5 }' leaky_rep.csv)
	awk -v a="$auc" 'BEGIN { exit !(a > 0.7) }'
	# the members carry the pipeline fitted on every row, and score raw rows
	run -0 ml mlinfo h.mlm
	[[ "$output" == *'"kind": "features"'* ]]
	ml mlpredict -m h.mlm --keep y leak.csv | head -1 | grep -qx 'y,pred,p_0,p_1'
	run -2 --separate-stderr ml mlensemble --method stack -t y --base nb --feat '--bogus 1' -o x.mlm leak.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --feat '--bogus 1': --bogus is not an option of a feature pipeline" ]
	run -2 --separate-stderr ml mlensemble --method stack -t y --base nb --feat 'impute' -o x.mlm leak.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --feat 'impute': 'impute' is not an option" ]
}

# A stream of 300 rows: a time, the truth y (yes/no), and members good (right 90% of the
# time), coin (a coin flip) and bad (wrong 70% of the time), as class probabilities.
stream() {
	awk 'BEGIN { srand(11); print "time,y,good_p_no,good_p_yes,coin_p_no,coin_p_yes,bad_p_no,bad_p_yes"
		for (i = 1; i <= 300; i++) {
			y = rand() < 0.5; g = rand() < 0.9 ? y : !y; c = rand() < 0.5; b = rand() < 0.3 ? y : !y
			pg = g ? 0.8 : 0.2; pc = c ? 0.6 : 0.4; pb = b ? 0.7 : 0.3
			printf "%d,%s,%g,%g,%g,%g,%g,%g\n", 1700000000 + 600 * i, y ? "yes" : "no",
				1 - pg, pg, 1 - pc, pc, 1 - pb, pb } }' >stream.csv
}

@test "adaptive: two runs over halves give the same answers and state as one run over the whole" {
	stream
	for win in 50 1d; do
		opts="--members good,coin,bad --metric logloss -t y --time-col time --window $win --smoothing 0.2"
		run -0 --separate-stderr ml mlensemble --adaptive --init --state whole.mlm $opts -o whole.csv stream.csv
		[ "$output" = "" ] && [ "$stderr" = "" ]
		head -151 stream.csv >h1.csv
		{ head -1 stream.csv; tail -n +152 stream.csv; } >h2.csv
		ml mlensemble --adaptive --init --state part.mlm $opts h1.csv >p1.csv
		# a later run needs no settings but the state; those it repeats must agree
		ml mlensemble --adaptive --state part.mlm h2.csv >p2.csv
		{ cat p1.csv; tail -n +2 p2.csv; } >parts.csv
		same whole.csv parts.csv
		same whole.mlm part.mlm
		[ "$(head -1 whole.csv)" = "time,y,pred,p_no,p_yes" ] && [ $(wc -l <whole.csv) -eq 301 ]
		# and in three parts, the last one from standard input
		head -101 stream.csv >t1.csv
		{ head -1 stream.csv; sed -n 102,201p stream.csv; } >t2.csv
		{ head -1 stream.csv; tail -n +202 stream.csv; } >t3.csv
		ml mlensemble --adaptive --init --state three.mlm $opts t1.csv >o1.csv
		ml mlensemble --adaptive --state three.mlm $opts t2.csv >o2.csv
		ml mlensemble --adaptive --state three.mlm -f stream <t3.csv | ml mlcat >o3.csv
		{ cat o1.csv; tail -n +2 o2.csv; tail -n +2 o3.csv; } | cmp - whole.csv
		same whole.mlm three.mlm
	done
}

@test "adaptive: each row's answer uses the weights learned before it, never its own truth" {
	# member one always says 1, member zero 0, and the truth alternates: with a window of
	# one row and no smoothing, each answer is the truth of the row before
	awk 'BEGIN { print "y,one_pred,zero_pred"; for (i = 1; i <= 20; i++) print i % 2 ",1,0" }' >alt.csv
	ml mlensemble --adaptive --init --state s.mlm --members one,zero --metric mae -t y --window 1 \
		--smoothing 1 -o out.csv alt.csv
	[ "$(sed -n 2p out.csv)" = "1,0.5" ]
	tail -n +3 out.csv | awk -F, '{ if (($2 > 0.5) == ($1 == 1)) { print NR ": " $0; exit 1 } }'
	# the documented rule, by awk: w = (1 - A) w + A target, target_k = r_k / sum r,
	# r_k = 1 / (L_k + 1e-9), L_k the mean absolute error over the last 3 rows
	awk 'BEGIN { srand(3); print "y,a_pred,b_pred,c_pred"; for (i = 1; i <= 40; i++) {
		y = rand() * 10; printf "%.4f,%.4f,%.4f,%.4f\n", y, y + rand() - 0.5, y + 3 * (rand() - 0.5), 5 } }' >reg.csv
	ml mlensemble --adaptive --init --state r.mlm --members a,b,c --metric mae -t y --window 3 \
		--smoothing 0.3 -o reg_out.csv reg.csv
	paste -d, reg.csv reg_out.csv | tail -n +2 | awk -F, '
		BEGIN { for (k = 1; k <= 3; k++) w[k] = 1 / 3 }
		{ p = 0; for (k = 1; k <= 3; k++) p += w[k] * $(k + 1)
		  d = p - $6; if (d < 0) d = -d; if (d > 1e-9) { print NR ": " p " " $6; exit 1 }
		  n++; for (k = 1; k <= 3; k++) { e = $(k + 1) - $1; L[n, k] = e < 0 ? -e : e }
		  lo = n > 3 ? n - 2 : 1; R = 0
		  for (k = 1; k <= 3; k++) { s = 0; for (j = lo; j <= n; j++) s += L[j, k]
		                             r[k] = 1 / (s / (n - lo + 1) + 1e-9); R += r[k] }
		  t = 0; for (k = 1; k <= 3; k++) { w[k] = 0.7 * w[k] + 0.3 * r[k] / R; t += w[k] }
		  for (k = 1; k <= 3; k++) w[k] /= t }'
}

@test "adaptive: a member that is always right gets the weight; mlinfo shows weights and history" {
	stream
	# 'good' made always right
	awk -F, -v OFS=, 'NR > 1 { $3 = $2 == "yes" ? 0.1 : 0.9; $4 = 1 - $3 } 1' stream.csv >right.csv
	for metric in accuracy logloss; do
		ml mlensemble --adaptive --init --state s.mlm --members good,coin,bad --metric $metric \
			-t y --window 20 --smoothing 0.5 -o out.csv right.csv
		run -0 ml mlinfo --table weights s.mlm
		[ "${lines[0]}" = "member,weight,window_loss,window_rows" ]
		[[ "${lines[1]}" == good,0.99* ]] && [[ "${lines[1]}" == *,20 ]]
		# from row 20 on, the answers are the good member's
		tail -n +22 out.csv | awk -F, '$3 != $2 { print NR ": " $0; exit 1 }'
	done
	run -0 ml mlinfo s.mlm
	[[ "$output" == *'"kind": "adaptive"'* ]] && [[ "$output" == *'"members": ["good", "coin", "bad"]'* ]]
	[[ "$output" == *'"metric": "logloss"'* ]] && [[ "$output" == *'"updates": 300'* ]]
	[[ "$output" == *'"weights": {'* ]]
	run -0 ml mlinfo --table history s.mlm
	[ "${lines[0]}" = "update,row,time,w_good,w_coin,w_bad" ]
	[ "${#lines[@]}" -eq 301 ]
	[[ "${lines[1]}" == 1,1,,* ]]
	run -65 --separate-stderr ml mlpredict -m s.mlm right.csv
	[ "$stderr" = "mlpredict: s.mlm: cannot apply a 'adaptive' artefact (mlpredict applies feature pipelines and models)" ]
	# rows without a truth get an answer and teach nothing
	awk -F, -v OFS=, 'NR > 1 { $2 = "" } 1' right.csv >blind.csv
	cp s.mlm before.mlm
	ml mlensemble --adaptive --state s.mlm -o blind_out.csv blind.csv
	[ $(wc -l <blind_out.csv) -eq 301 ]
	ml mlinfo --table weights before.mlm >w1.csv
	ml mlinfo --table weights s.mlm >w2.csv
	same w1.csv w2.csv
}

@test "adaptive: a member that gives a label alone counts as probability 1 for it" {
	stream
	# good's label (P_pred) instead of its probabilities, and the same as one-hot probabilities
	awk -F, -v OFS=, 'NR == 1 { print "time,y,coin_p_no,coin_p_yes,good_pred,bad_p_no,bad_p_yes"; next }
		{ print $1, $2, $5, $6, ($4 > 0.5 ? "yes" : "no"), $7, $8 }' stream.csv >hard.csv
	awk -F, -v OFS=, 'NR == 1 { print "time,y,coin_p_no,coin_p_yes,good_p_no,good_p_yes,bad_p_no,bad_p_yes"; next }
		{ print $1, $2, $5, $6, ($4 > 0.5 ? "0,1" : "1,0"), $7, $8 }' stream.csv >onehot.csv
	for metric in accuracy logloss; do
		# the first member gives no probabilities: the classes come from the next one
		ml mlensemble --adaptive --init --state h.mlm --members good,coin,bad --metric $metric \
			-t y --window 30 -o h.csv hard.csv
		ml mlensemble --adaptive --init --state o.mlm --members good,coin,bad --metric $metric \
			-t y --window 30 -o o.csv onehot.csv
		same o.csv h.csv
		same o.mlm h.mlm
		[ "$(head -1 h.csv)" = "time,y,pred,p_no,p_yes" ]
	done
	# a label that is none of the classes
	awk -F, -v OFS=, 'NR == 9 { $5 = "maybe" } 1' hard.csv >odd.csv
	run -65 --separate-stderr ml mlensemble --adaptive --init --state x.mlm --members good,coin,bad \
		--metric accuracy -t y -o x.csv odd.csv
	[ "$stderr" = "mlensemble: odd.csv:9: member 'good' answers 'maybe' in column 'good_pred', none of the classes" ]
	[ ! -e x.csv ] && [ ! -e x.mlm ]
	# no member with probabilities: nothing says the classes
	awk -F, -v OFS=, '{ print $1, $2, $5, $5 }' hard.csv | sed '1s/good_pred$/also_pred/' >alone.csv
	run -65 --separate-stderr ml mlensemble --adaptive --init --state x.mlm --members good,also \
		--metric accuracy -t y -o x.csv alone.csv
	[ "$stderr" = "mlensemble: alone.csv: no columns 'good_p_LABEL' of two classes at least (member 'good' of --members): accuracy takes the classes from the first member that gives its class probabilities" ]
}

@test "adaptive: missing, damaged or foreign state, missing columns, bad truth and times" {
	stream
	opts="--members good,coin,bad --metric logloss -t y"
	run -66 --separate-stderr ml mlensemble --adaptive --state none.mlm $opts stream.csv
	[[ "$stderr" == "mlensemble: none.mlm: "*"(--init starts afresh)" ]]
	[ "$output" = "" ]
	ml mlensemble --adaptive --init --state s.mlm $opts --window 30 -o /dev/null stream.csv
	cp s.mlm keep.mlm
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm --members good,bad,coin stream.csv
	[ "$stderr" = "mlensemble: s.mlm: the state of another ensemble: its members (--members) differ from what the state was started with (--init starts afresh)" ]
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm --metric accuracy stream.csv
	[ "$stderr" = "mlensemble: s.mlm: the state of another ensemble: its metric (--metric) differs from what the state was started with (--init starts afresh)" ]
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm -t time stream.csv
	[[ "$stderr" == *"its target (-t) differs"* ]]
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm --window 31 stream.csv
	[[ "$stderr" == *"its window (--window) differs"* ]]
	# a damaged state
	head -c 300 keep.mlm >cut.mlm
	run -65 --separate-stderr ml mlensemble --adaptive --state cut.mlm stream.csv
	[[ "$stderr" == "mlensemble: cut.mlm: "*"(--init starts afresh)" ]]
	# another kind of artefact
	ml mltrain -q -t target -a nb -o nb.mlm "$BC"
	run -65 --separate-stderr ml mlensemble --adaptive --state nb.mlm stream.csv
	[ "$stderr" = "mlensemble: nb.mlm: a 'model' artefact, not the state of an adaptive ensemble" ]
	# a missing member column, a truth that is no class, time going back
	cut -d, -f1-7 stream.csv >short.csv
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm short.csv
	[ "$stderr" = "mlensemble: short.csv: no numeric column 'bad_p_yes' (member 'bad' of --members: its probability of class 'yes')" ]
	sed '5s/,yes,/,maybe,/; 5s/,no,/,maybe,/' stream.csv >maybe.csv
	run -65 --separate-stderr ml mlensemble --adaptive --state s.mlm -o out.csv maybe.csv
	[ "$stderr" = "mlensemble: maybe.csv:5: the truth 'maybe' in column 'y' is none of the members' classes" ]
	[ ! -e out.csv ]
	sed '10s/^[0-9]*,/1600000000,/' stream.csv >back.csv
	run -65 --separate-stderr ml mlensemble --adaptive --init --state t.mlm $opts --time-col time --window 2h back.csv
	[ "$stderr" = "mlensemble: back.csv:10: time 1600000000 in column 'time' is before the last row's (1700004800): rows must come in time order" ]
	[ ! -e t.mlm ]
	# a failed run leaves the state as it was
	same s.mlm keep.mlm
	# usage
	run -2 --separate-stderr ml mlensemble --adaptive $opts stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --adaptive needs a state file (--state FILE; --init for the first run)" ]
	run -2 --separate-stderr ml mlensemble --adaptive --init --state x.mlm --members good stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --members 'good': give two members at least" ]
	run -2 --separate-stderr ml mlensemble --adaptive --init --state x.mlm $opts --window 3x stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: invalid value '3x' for --window (a count of rows, or a duration such as 30s, 15m, 12h, 7d, 2w)" ]
	run -2 --separate-stderr ml mlensemble --adaptive --init --state x.mlm $opts --window 7d stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --window '7d' is a duration: give the rows' times (--time-col)" ]
	run -2 --separate-stderr ml mlensemble --adaptive --init --state x.mlm $opts --smoothing 0 stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: invalid value '0' for --smoothing (a number in (0, 1])" ]
	run -2 --separate-stderr ml mlensemble --adaptive --init --state x.mlm --members a,b stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --init needs --members, --metric and -t" ]
	run -2 --separate-stderr ml mlensemble --state x.mlm stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --state, --init, --members, --metric, --window, --time-col and --smoothing are for --adaptive" ]
	run -2 --separate-stderr ml mlensemble --adaptive --method mean --state x.mlm stream.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --adaptive combines prediction columns: no --method, --combine, -m, -w or stacking options" ]
	[ ! -e x.mlm ]
}

@test "stack --nonneg: the meta-learner's weights of the members are non-negative" {
	awk 'BEGIN { srand(7); print "x1,x2,x3,y"; for (i = 1; i <= 400; i++) { a = rand(); b = rand(); c = rand()
		printf "%.5f,%.5f,%.5f,%.5f\n", a, b, c, 3 * a + 2 * b - c + 0.3 * (rand() - 0.5) } }' >r.csv
	ml mlensemble -q --method stack -t y --base linear --base 'knn --k 40' --base 'tree --max-depth 2' -o free.mlm r.csv
	ml mlinfo --table meta free.mlm | tail -n +3 | cut -d, -f2 | grep -q '^-'
	ml mlensemble -q --method stack --nonneg -t y --base linear --base 'knn --k 40' --base 'tree --max-depth 2' \
		--report rep.csv -o nn.mlm r.csv
	run -0 ml mlinfo --table meta nn.mlm
	[ "${lines[0]}" = "feature,coef" ] && [ "${#lines[@]}" -ge 2 ]
	for l in "${lines[@]:2}"; do [[ "${l#*,}" != -* ]]; done
	ml mlpredict -m nn.mlm --keep y r.csv | ml mleval -t y >/dev/null
	# classification, and the same bytes for any -j
	ml mlensemble -q -j 1 --method stack --nonneg -t target --base logistic --base nb -o c1.mlm "$BC"
	ml mlensemble -q -j 2 --method stack --nonneg -t target --base logistic --base nb -o c2.mlm "$BC"
	same c1.mlm c2.mlm
	ml mlinfo --table meta c1.mlm | tail -n +3 | cut -d, -f2 | { ! grep -q '^-'; }
	run -2 --separate-stderr ml mlensemble --method stack --nonneg --meta gbdt -t y --base linear -o x.mlm r.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --nonneg is for a linear or logistic meta-learner, not --meta gbdt" ]
	run -2 --separate-stderr ml mlensemble --method weighted --optimize --nonneg -t y --base linear -o x.mlm r.csv
	[ "${stderr%%$'\n'*}" = "mlensemble: --optimize learns weights, not a meta-learner (--meta, --passthrough, --nonneg)" ]
}

@test "stack --nonneg with three classes: every class's weight of every member at or above 0, the passed-through features free" {
	P=$SAMPLES/penguins.csv
	ml mlensemble -q --method stack -t species --base nb --base 'gbdt --rounds 5' -o free.mlm "$P"
	ml mlinfo --table meta free.mlm | grep '^m[12]:' | grep -q ',-'
	ml mlensemble -q -j 1 --method stack --nonneg -t species --base nb --base 'gbdt --rounds 5' -o n1.mlm "$P"
	ml mlensemble -q -j 2 --method stack --nonneg -t species --base nb --base 'gbdt --rounds 5' -o n2.mlm "$P"
	same n1.mlm n2.mlm
	run -0 ml mlinfo --table meta n1.mlm
	[ "${lines[0]}" = "feature,coef_Adelie,coef_Chinstrap,coef_Gentoo" ] && [ "${#lines[@]}" -eq 8 ]
	for l in "${lines[@]:2}"; do [[ "$l" == m[12]:p_* && "$l" != *,-* ]]; done
	# each member's probability of a class weighs for that class
	grep -q '^m1:p_Gentoo,0,0,[1-9]' <(printf '%s\n' "${lines[@]}")
	ml mlpredict -m n1.mlm --keep species "$P" | ml mleval -t species --min accuracy=0.9 >/dev/null
	# passed-through features keep their sign
	cut -d, -f2- "$SAMPLES/seattle_weather.csv" >w.csv
	ml mlensemble -q --method stack --nonneg --passthrough -t weather --base nb --base 'tree --max-depth 3' -o pt.mlm w.csv
	run -0 ml mlinfo --table meta pt.mlm
	for l in "${lines[@]}"; do [[ "$l" != m[12]:* || "$l" != *,-* ]]; done
	printf '%s\n' "${lines[@]}" | grep -v '^m[12]:' | grep -q ',-'
}
