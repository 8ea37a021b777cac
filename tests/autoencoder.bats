#!/usr/bin/env bats
# -a autoencoder: a network reconstructing its standardised input, as an anomaly detector
# (rows on a plane and off it, tests/fixtures/gen_autoencoder.py, with the error
# scikit-learn's MLPRegressor(X, X) reaches), reproducibility, --explain, ensembles,
# early stopping and misuse.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	EF=$FIX/autoencoder
	fixture "$EF/train.csv" "$EF/test.csv" "$EF/test_label.csv" "$EF/sklearn_mse.txt"
	AE="-a autoencoder --hidden 16,2,16 --epochs 300 --batch-size 50 --learning-rate 0.01"
}

@test "rows on a plane are reconstructed about as well as by scikit-learn; rows off it score high and are flagged" {
	ml mltrain -q $AE --seed 0 -o ae.mlm "$EF/train.csv"
	ml mlpredict -m ae.mlm -o train.csv "$EF/train.csv"
	ours=$(awk -F, 'NR > 1 { s += $1; n++ } END { printf "%.6f", s / n }' train.csv)
	theirs=$(tail -1 "$EF/sklearn_mse.txt")
	echo "mean squared error: ours $ours, scikit-learn's median over seeds $theirs" >&2
	[ "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print (a < 3 * b && a < 0.002) }')" = 1 ]
	ml mlpredict -m ae.mlm -o test.csv "$EF/test.csv"
	paste -d, "$EF/test_label.csv" test.csv > both.csv
	# every off-plane row scores above 100 times the worst on-plane one, and is flagged
	run -0 awk -F, 'NR > 1 && $1 == 0 && $2 > on { on = $2 } NR > 1 && $1 == 1 && (off == "" || $2 < off) { off = $2 }
		NR > 1 && $1 == 1 && $3 != 1 { bad = 1 } END { print (!bad && off > 100 * on) }' both.csv
	[ "$output" = 1 ]
	# at --contamination 0.01 the on-plane rows are not flagged (fewer than one in ten)
	ml mltrain -q $AE --seed 0 --contamination 0.01 -o c.mlm "$EF/train.csv"
	ml mlpredict -m c.mlm -o c.csv "$EF/test.csv"
	paste -d, "$EF/test_label.csv" c.csv > both.csv
	[ "$(awk -F, 'NR > 1 && $1 == 0 { n += $3 } END { print n + 0 }' both.csv)" -le 2 ]
	[ "$(awk -F, 'NR > 1 && $1 == 1 && $4 != "critical" { n++ } END { print n + 0 }' both.csv)" = 0 ]
}

@test "mlinfo shows the calibration grid of the training rows' scores and the severity bands" {
	ml mltrain -q $AE --seed 0 -o ae.mlm "$EF/train.csv"
	run -0 ml mlinfo --table calibration ae.mlm
	[ "${lines[0]}" = "quantile,score" ]
	ml mlpredict -m ae.mlm "$EF/train.csv" | tail -n +2 | cut -d, -f1 | sort -g > s.txt
	[ "$(head -1 s.txt)" = "$(echo "${lines[1]}" | cut -d, -f2)" ]
	[ "$(tail -1 s.txt)" = "$(echo "${lines[-1]}" | cut -d, -f2)" ]
	run -0 ml mlinfo --table severity ae.mlm
	[ "${#lines[@]}" = 6 ]
}

@test "the same seed gives the same model and scores whatever -j; another seed another model" {
	ml mltrain -q $AE --epochs 20 -j1 --seed 7 -o one.mlm "$EF/train.csv"
	ml mltrain -q $AE --epochs 20 -j1 --seed 7 -o again.mlm "$EF/train.csv"
	cmp one.mlm again.mlm
	ml mltrain -q $AE --epochs 20 -j2 --seed 7 -o two.mlm "$EF/train.csv"
	ml mltrain -q $AE --epochs 20 -j2 --seed 7 -o two2.mlm "$EF/train.csv"
	cmp two.mlm two2.mlm
	ml mlpredict -j1 -m one.mlm "$EF/test.csv" > p1.csv
	ml mlpredict -j3 -m one.mlm "$EF/test.csv" > p3.csv
	same p1.csv p3.csv
	ml mlpredict -m one.mlm -f stream "$EF/test.csv" | ml mlcat > ps.csv
	same p1.csv ps.csv
	ml mltrain -q $AE --epochs 20 --seed 8 -o other.mlm "$EF/train.csv"
	run ! cmp -s one.mlm other.mlm
}

@test "--explain names the features with the largest squared reconstruction errors" {
	ml mltrain -q $AE --seed 0 -o ae.mlm "$EF/train.csv"
	# an on-plane row with feature c moved 20 units off
	head -2 "$EF/test.csv" > wild.csv
	sed -n 2p "$EF/test.csv" | awk -F, -v OFS=, '{ $3 += 20; print }' >> wild.csv
	run -0 ml mlpredict -m ae.mlm --explain wild.csv
	[ "${lines[0]}" = "score,anomaly,severity,explain" ]
	[ "${lines[2]##*,}" != "" ]
	[[ "${lines[2]}" == *",1,critical,c;"* ]]
	run -2 --separate-stderr ml mlpredict -m ae.mlm --contrib wild.csv
	[ "${stderr_lines[0]}" = "mlpredict: --contrib: -a autoencoder models have no margin (--explain names the features behind a detector's score)" ]
}

@test "an autoencoder joins mlensemble --method anomaly like the other detectors" {
	ml mltrain -q $AE --seed 0 -o ae.mlm "$EF/train.csv"
	ml mltrain -q -a zscore -o z.mlm "$EF/train.csv"
	ml mltrain -q -a iforest -o if.mlm "$EF/train.csv"
	ml mlensemble --method anomaly -m ae.mlm -m z.mlm -m if.mlm -o ens.mlm
	run -0 ml mlinfo --table members ens.mlm
	[[ "$output" == *",autoencoder"* ]]
	ml mlpredict -m ens.mlm -o e.csv "$EF/test.csv"
	[ "$(head -1 e.csv | cut -d, -f1-3)" = score,anomaly,severity ]
	[ "$(wc -l < e.csv)" = 26 ]
}

@test "early stopping on --valid-frac keeps the best epoch; --early-stop needs validation rows" {
	run -0 --separate-stderr ml mltrain -v $AE --epochs 2000 --valid-frac 0.2 --early-stop 5 --seed 1 -o v.mlm "$EF/train.csv"
	[[ "$stderr" == *"autoencoder: best validation loss "*" at epoch "* ]]
	[[ "$stderr" == *"mltrain: 320 rows, 6 features, "*" s" ]]
	[[ "$stderr" != *"valid ("* ]]
	run -2 --separate-stderr ml mltrain $AE --early-stop 5 -o x.mlm "$EF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --early-stop needs validation rows (--valid or --valid-frac)" ]
	[ ! -e x.mlm ]
}

@test "bad input: a target, a bottleneck wider than the input, missing values, text; categories one-hot" {
	run -2 --separate-stderr ml mltrain -a autoencoder -t a -o x.mlm "$EF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: -a autoencoder takes no target (drop -t a)" ]
	run -2 --separate-stderr ml mltrain -a autoencoder --hidden 16,8,16 -o x.mlm "$EF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --hidden: the bottleneck of 8 units is wider than the 6 inputs, so the network could copy them" ]
	run -0 --separate-stderr ml mltrain -a autoencoder --epochs 2 --hidden 6 -o x.mlm "$EF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: warning: autoencoder: the bottleneck of 6 units is as wide as the inputs; the network may learn to copy them" ]
	rm x.mlm
	printf 'a,b\n1,2\n3,\n5,6\n' > miss.csv
	run -65 --separate-stderr ml mltrain -a autoencoder -o x.mlm miss.csv
	[[ "$stderr" == *"miss.csv:3:"*"'b'"* ]]
	printf 'a,b\n1,2\n3,4\nn/a,6\n' > text.csv
	run -65 --separate-stderr ml mltrain -a autoencoder -o x.mlm text.csv
	[[ "$stderr" == *"text.csv:4"*"'n/a'"* ]]
	head -2 "$EF/train.csv" > one.csv
	run -65 --separate-stderr ml mltrain -a autoencoder -o x.mlm one.csv
	[ "$stderr" = "mltrain: -a autoencoder needs at least 2 training rows, not 1" ]
	[ ! -e x.mlm ]
	# a categorical column is one-hot encoded inside the model, as for every detector
	awk -F, -v OFS=, 'NR == 1 { print $0, "kind"; next } { print $0, (NR % 3 ? "x" : "y") }' "$EF/train.csv" > cat.csv
	ml mltrain -q -a autoencoder --epochs 5 -o c.mlm cat.csv
	run -0 ml mlinfo c.mlm
	[[ "$output" == *'"levels": ["x", "y"]'* ]]
	printf 'a,b,c,d,e,f,kind\n0,0,1,0,0,0,z\n' > unseen.csv
	run -0 ml mlpredict -m c.mlm unseen.csv
	[ "${#lines[@]}" = 2 ]
}

@test "a damaged autoencoder model is refused" {
	ml mltrain -q -a autoencoder --epochs 2 -o f.mlm "$EF/train.csv"
	cp f.mlm g.mlm
	printf '\377\377\377' | dd of=g.mlm bs=1 seek=700 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m g.mlm "$EF/test.csv"
	[ -n "$stderr" ]
}

@test "mlfeat --embed appends the bottleneck as emb_1..emb_K, saved inside the pipeline and replayed" {
	ml mltrain -q -a autoencoder --hidden 12,3,12 --activation tanh --epochs 50 --seed 2 -o ae.mlm "$EF/train.csv"
	ml mlfeat --embed ae.mlm --save p.mlm -o a.csv "$EF/test.csv"
	[ "$(head -1 a.csv)" = "a,b,c,d,e,f,emb_1,emb_2,emb_3" ]
	[ "$(wc -l < a.csv)" = 26 ]
	# the input columns pass through; tanh activations lie in (-1, 1)
	[ "$(cut -d, -f1-6 a.csv)" = "$(cat "$EF/test.csv")" ]
	awk -F, 'NR > 1 { for (i = 7; i <= 9; i++) if ($i <= -1 || $i >= 1 || $i == "") exit 1 }' a.csv
	# the pipeline holds the model: it replays without the model file, in any column order
	mv ae.mlm gone.mlm
	ml mlfeat --load p.mlm -o b.csv "$EF/test.csv"
	same a.csv b.csv
	awk -F, -v OFS=, '{ print $6, $5, $4, $3, $2, $1 }' "$EF/test.csv" > rev.csv
	ml mlfeat --load p.mlm -o c.csv rev.csv
	same a.csv c.csv
	ml mlfeat --load p.mlm -f stream "$EF/test.csv" | ml mlcat > s.csv
	same a.csv s.csv
	run -0 ml mlinfo p.mlm
	[[ "$output" == *'"width": 3'* ]]
	# the target passes through beside the embedding
	paste -d, "$EF/test.csv" "$EF/test_label.csv" > lab.csv
	ml mlfeat --embed gone.mlm -t outlier -o l.csv lab.csv
	[ "$(head -1 l.csv)" = "a,b,c,d,e,f,outlier,emb_1,emb_2,emb_3" ]
}

@test "mlfeat --embed refuses a model that is no autoencoder, a missing file and rows without its columns" {
	ml mltrain -q -a zscore -o z.mlm "$EF/train.csv"
	run -2 --separate-stderr ml mlfeat --embed z.mlm "$EF/test.csv"
	[ "${stderr_lines[0]}" = "mlfeat: --embed: 'z.mlm' is an -a zscore model, which embeds no rows (an -a autoencoder model does)" ]
	run -66 --separate-stderr ml mlfeat --embed nope.mlm "$EF/test.csv"
	[ "$stderr" = "mlfeat: nope.mlm: cannot open: No such file or directory" ]
	ml mltrain -q -a autoencoder --epochs 2 -o ae.mlm "$EF/train.csv"
	cut -d, -f1-3 "$EF/test.csv" > narrow.csv
	run -65 --separate-stderr ml mlfeat --embed ae.mlm -o x.csv narrow.csv
	[ "$stderr" = "mlfeat: --embed: no column 'd' (a feature of the model)" ]
	[ ! -e x.csv ]
	printf 'a,b,c,d,e,f\n1,2,3,,5,6\n' > miss.csv
	run -65 --separate-stderr ml mlfeat --embed ae.mlm miss.csv
	[[ "$stderr" == *"miss.csv:2"*"'d'"* ]]
}
