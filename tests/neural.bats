#!/usr/bin/env bats
# -a gp and -a mlp: scikit-learn's answers (tests/fixtures/neural, made by
# tests/fixtures/gen_neural.py), intervals, approximations, reproducibility and misuse.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	NF=$FIX/neural
	GF=$FIX/gpc
	G3=$FIX/gpc3
}

# gp_fixed TAG OPTIONS...: a fit with the given hyperparameters scores the test rows as
# scikit-learn's GaussianProcessRegressor(optimizer=None) to 1e-6.
gp_fixed() {
	local tag=$1
	shift
	fixture "$NF/gp_train.csv" "$NF/gp_test.csv" "$NF/gp_fixed_$tag.csv"
	ml mltrain -q -t y -a gp --fixed 1 "$@" -o "$tag.mlm" "$NF/gp_train.csv"
	ml mlpredict -m "$tag.mlm" --std -o "$tag.csv" "$NF/gp_test.csv"
	csv_close "$NF/gp_fixed_$tag.csv" "$tag.csv" 1e-6
}

@test "gp with fixed hyperparameters: mean and std as scikit-learn's, every kernel" {
	gp_fixed rbf --signal-variance 2 --length-scale 1.3 --alpha 1e-2
	gp_fixed matern32 --kernel matern32 --signal-variance 1.5 --length-scale 0.9 --alpha 1e-3
	gp_fixed matern52 --kernel matern52 --signal-variance 0.7 --length-scale 1.7 --alpha 0.1
	gp_fixed white --kernel rbf+white --signal-variance 1.2 --length-scale 1.1 --noise 0.05
	# one length scale per feature, all given the same, is the same model
	gp_fixed rbf --ard 1 --signal-variance 2 --length-scale 1.3 --alpha 1e-2
}

# gp_fit TAG OPTIONS...: the fitted hyperparameters reach a log marginal likelihood at
# least scikit-learn's (to rounding: 1e-9 of it).
gp_fit() {
	local tag=$1 ours ref
	shift
	fixture "$NF/gp_train.csv" "$NF/gp_fit_$tag.txt"
	ml mltrain -q -t y -a gp "$@" -o "$tag.mlm" "$NF/gp_train.csv"
	ml mlinfo --table hyper -o "$tag.hyper" "$tag.mlm"
	ours=$(awk -F, '$1 == "log_marginal_likelihood" { print $2 }' "$tag.hyper")
	ref=$(cat "$NF/gp_fit_$tag.txt")
	echo "$tag: ours $ours, scikit-learn $ref" >&2
	awk -v a="$ours" -v b="$ref" 'BEGIN { s = b < 0 ? -b : b; if (s < 1) s = 1
		exit !(a != "" && a + 0 >= b - 1e-9 * s) }'
}

@test "gp fitted by maximum likelihood reaches scikit-learn's log marginal likelihood" {
	gp_fit rbf --alpha 1e-2 --restarts 0
	gp_fit ard --ard 1 --alpha 1e-2 --restarts 0
	gp_fit matern52 --kernel matern52 --alpha 1e-2
	gp_fit white --kernel rbf+white --ard 1
}

@test "gp --tol: SciPy's stopping rule reaches scikit-learn's likelihood, the default no less" {
	fixture "$NF/gp_train.csv" "$NF/gp_fit_white.txt"
	for tol in 1e-5 1e-8; do
		ml mltrain -q -t y -a gp --kernel rbf+white --ard 1 --restarts 0 --tol $tol -o t$tol.mlm "$NF/gp_train.csv"
		ml mlinfo --table hyper t$tol.mlm | awk -F, '$1 == "log_marginal_likelihood" { print $2 }' >t$tol.lml
	done
	ref=$(cat "$NF/gp_fit_white.txt")
	echo "1e-5: $(cat t1e-5.lml), 1e-8: $(cat t1e-8.lml), scikit-learn (with restarts) $ref" >&2
	# the same path, stopped later: never a lower likelihood
	awk -v a="$(cat t1e-8.lml)" -v b="$(cat t1e-5.lml)" 'BEGIN { exit !(a + 0 >= b + 0) }'
	# within 1e-6 of scikit-learn's optimum (relative)
	awk -v a="$(cat t1e-5.lml)" -v b="$ref" 'BEGIN { d = a - b; s = b < 0 ? -b : b
		exit !(d >= -1e-6 * s) }'
	run -2 --separate-stderr ml mltrain -t y -a gp --tol 0 -o x.mlm "$NF/gp_train.csv"
}

@test "gp intervals are the Gaussian bounds around pred at --level" {
	ml mltrain -q -t y -a gp -o m.mlm "$NF/gp_train.csv"
	ml mlpredict -m m.mlm --std --level 95 -o p.csv "$NF/gp_test.csv"
	[ "$(head -1 p.csv)" = "pred,pred_std,lo_95,hi_95" ]
	awk -F, 'NR > 1 { z = 1.959963984540054; d1 = $1 - z * $2 - $3; d2 = $1 + z * $2 - $4
		if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
		if (d1 > 1e-9 * (1 + $1 * $1) || d2 > 1e-9 * (1 + $1 * $1) || !($2 > 0)) bad = 1 }
		END { exit bad }' p.csv
}

@test "gp beyond --max-exact: inducing points on every row give the exact answer" {
	fixture "$NF/gp_fixed_rbf.csv"
	ml mltrain -q -t y -a gp --fixed 1 --signal-variance 2 --length-scale 1.3 --alpha 1e-2 \
		--max-exact 10 --inducing 1000 -o d.mlm "$NF/gp_train.csv"
	ml mlpredict -m d.mlm --std -o d.csv "$NF/gp_test.csv"
	csv_close "$NF/gp_fixed_rbf.csv" d.csv 1e-5
	# fewer inducing points: an approximation, fitted on a sample, still a model
	ml mltrain -q -t y -a gp --max-exact 30 --inducing 20 -o s.mlm "$NF/gp_train.csv"
	ml mlpredict -m s.mlm --std -o s.csv "$NF/gp_test.csv"
	[ "$(wc -l < s.csv)" -eq 21 ]
}

@test "gp is reproducible for a seed whatever -j, and a model file scores as its fit" {
	ml mltrain -q -j 1 --seed 3 -t y -a gp --restarts 3 --ard 1 -o a.mlm "$NF/gp_train.csv"
	ml mltrain -q -j 2 --seed 3 -t y -a gp --restarts 3 --ard 1 -o b.mlm "$NF/gp_train.csv"
	ml mlpredict -m a.mlm --std -o a.csv "$NF/gp_test.csv"
	ml mlpredict -m b.mlm --std -o b.csv "$NF/gp_test.csv"
	same a.csv b.csv
	ml mlinfo --table hyper -o a.h a.mlm
	ml mlinfo --table hyper -o b.h b.mlm
	same a.h b.h
}

@test "gp refuses weights, missing values and classes" {
	printf 'x,y,w\n1,2,1\n2,3,2\n3,5,1\n' > w.csv
	run -2 --separate-stderr ml mltrain -q -t y -a gp --weight w -o x.mlm w.csv
	[ "${stderr_lines[0]}" = "mltrain: -a gp takes no row weights (--weight)" ]
	printf 'x,y\n1,2\n,3\n3,5\n' > m.csv
	run -65 --separate-stderr ml mltrain -q -t y -a gp -o x.mlm m.csv
	[ "$stderr" = "mltrain: m.csv:3: missing value in column 'x' (-a gp takes no missing values; impute them with mlfeat --impute)" ]
	printf 'x,y\n1,a\n2,b\n3,c\n4,a\n5,b\n' > c.csv
	run -65 --separate-stderr ml mltrain -q -t y -a gp -o x.mlm c.csv
	[ "$stderr" = "mltrain: class 'c' has 1 training rows: -a gp fits each class against the rest and needs at least 2" ]
	run -2 --separate-stderr ml mltrain -q -t y -a gp --max-exact 20 -o x.mlm "$FIX/gpc3/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: -a gp classifies exactly only: 66 rows are more than --max-exact 20" ]
	run -2 --separate-stderr ml mltrain -q -t y -a gp --max-exact 2 -o x.mlm "$GF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: -a gp classifies exactly only: 70 rows are more than --max-exact 2" ]
	[ ! -e x.mlm ]
}

# gpc_fixed TAG OPTIONS...: a classifier with the given hyperparameters gives the test rows
# scikit-learn's GaussianProcessClassifier(optimizer=None) probabilities to 1e-6.
gpc_fixed() {
	local tag=$1
	shift
	fixture "$GF/train.csv" "$GF/test.csv" "$GF/fixed_$tag.csv"
	ml mltrain -q -t y -a gp --fixed 1 "$@" -o "$tag.mlm" "$GF/train.csv"
	ml mlpredict -m "$tag.mlm" -o "$tag.full" "$GF/test.csv"
	cut -d, -f2- "$tag.full" > "$tag.csv"
	csv_close "$GF/fixed_$tag.csv" "$tag.csv" 1e-6
}

@test "gp classification with fixed hyperparameters: scikit-learn's probabilities, every kernel" {
	gpc_fixed rbf --signal-variance 2 --length-scale 1.3
	gpc_fixed matern32 --kernel matern32 --signal-variance 1.5 --length-scale 0.9
	gpc_fixed matern52 --kernel matern52 --signal-variance 0.7 --length-scale 1.7
	gpc_fixed white --kernel rbf+white --signal-variance 1.2 --length-scale 1.1 --noise 0.05
	gpc_fixed rbf --ard 1 --signal-variance 2 --length-scale 1.3
	# the label is the likelier class, and the margin its log-odds
	ml mltrain -q -t y -a gp --fixed 1 -o m.mlm "$GF/train.csv"
	ml mlpredict -m m.mlm -o p.csv "$GF/test.csv"
	ml mlpredict -m m.mlm --raw -o r.csv "$GF/test.csv"
	[ "$(head -1 p.csv)" = "pred,p_no,p_yes" ]
	[ "$(head -1 r.csv)" = "pred,margin" ]
	paste -d, p.csv r.csv | awk -F, 'NR > 1 { if (($2 > $3) != ($1 == "no") || $1 != $4) exit 1
		d = log($3 / $2) - $5; if (d < 0) d = -d; if (d > 1e-9) exit 2 }'
}

# gpc_fit TAG OPTIONS...: the fitted hyperparameters reach an approximate log marginal
# likelihood at least scikit-learn's (to 1e-6 of it), and probabilities within 0.01 of its.
gpc_fit() {
	local tag=$1 ours ref
	shift
	fixture "$GF/fit_$tag.txt" "$GF/fit_$tag.csv"
	ml mltrain -q -t y -a gp --restarts 0 "$@" -o "$tag.mlm" "$GF/train.csv"
	ml mlinfo --table hyper -o "$tag.hyper" "$tag.mlm"
	ours=$(awk -F, '$1 == "log_marginal_likelihood" { print $2 }' "$tag.hyper")
	ref=$(cat "$GF/fit_$tag.txt")
	echo "$tag: ours $ours, scikit-learn $ref" >&2
	awk -v a="$ours" -v b="$ref" 'BEGIN { s = b < 0 ? -b : b; if (s < 1) s = 1
		exit !(a != "" && a + 0 >= b - 1e-6 * s) }'
	ml mlpredict -m "$tag.mlm" -o "$tag.full" "$GF/test.csv"
	cut -d, -f2- "$tag.full" > "$tag.csv"
	csv_close "$GF/fit_$tag.csv" "$tag.csv" 1e-2
}

@test "gp classification fitted by maximum likelihood reaches scikit-learn's likelihood" {
	gpc_fit rbf
	gpc_fit ard --ard 1
	gpc_fit matern52 --kernel matern52
}

@test "gp classification: same bytes whatever -j, and the model file scores as its fit" {
	ml mltrain -q -j 1 --seed 3 -t y -a gp --restarts 2 -o a.mlm "$GF/train.csv"
	ml mltrain -q -j 2 --seed 3 -t y -a gp --restarts 2 -o b.mlm "$GF/train.csv"
	cmp a.mlm b.mlm
	ml mlpredict -m a.mlm -o a.csv "$GF/test.csv"
	ml mlpredict -j 2 -m b.mlm -o b.csv "$GF/test.csv"
	same a.csv b.csv
	run -2 --separate-stderr ml mlpredict -m a.mlm --std "$GF/test.csv"
}

# gpc3_fixed TAG OPTIONS...: three classes, one against the rest each with the given
# hyperparameters: scikit-learn's GaussianProcessClassifier(optimizer=None,
# multi_class="one_vs_rest") probabilities to 1e-6.
gpc3_fixed() {
	local tag=$1
	shift
	fixture "$G3/train.csv" "$G3/test.csv" "$G3/fixed_$tag.csv"
	ml mltrain -q -t y -a gp --fixed 1 "$@" -o "$tag.mlm" "$G3/train.csv"
	ml mlpredict -m "$tag.mlm" -o "$tag.full" "$G3/test.csv"
	cut -d, -f2- "$tag.full" > "$tag.csv"
	csv_close "$G3/fixed_$tag.csv" "$tag.csv" 1e-6
}

@test "gp with more classes, fixed hyperparameters: scikit-learn's one-vs-rest probabilities" {
	gpc3_fixed rbf --signal-variance 2 --length-scale 1.3
	gpc3_fixed matern52 --kernel matern52 --signal-variance 0.7 --length-scale 1.7
	# the label is the likeliest class, the margins the logs of the probabilities
	ml mlpredict -m rbf.mlm --raw -o r.csv "$G3/test.csv"
	[ "$(head -1 r.csv)" = "pred,margin_ash,margin_birch,margin_cedar" ]
	paste -d, rbf.full r.csv | awk -F, 'BEGIN { split("ash birch cedar", L, " ") }
		NR > 1 { k = 2; for (i = 3; i <= 4; i++) if ($i > $k) k = i; if ($1 != L[k - 1] || $1 != $5) exit 1
		for (i = 2; i <= 4; i++) { d = log($i) - $(i + 4); if (d < 0) d = -d; if (d > 1e-9) exit 2 } }'
}

# gpc3_fit TAG OPTIONS...: each class's fitted hyperparameters reach an approximate log
# marginal likelihood at least scikit-learn's (to 1e-6 of it), and the probabilities are
# within 1e-4 of its.
gpc3_fit() {
	local tag=$1
	shift
	fixture "$G3/fit_$tag.txt" "$G3/fit_$tag.csv"
	ml mltrain -q -t y -a gp --restarts 0 "$@" -o "$tag.mlm" "$G3/train.csv"
	ml mlinfo --table hyper -o "$tag.hyper" "$tag.mlm"
	awk -F, '$2 == "log_marginal_likelihood" { print $3 }' "$tag.hyper" > "$tag.lml"
	paste -d, "$tag.lml" "$G3/fit_$tag.txt" >&2
	[ "$(wc -l < "$tag.lml")" = 3 ]
	paste -d, "$tag.lml" "$G3/fit_$tag.txt" | awk -F, '{ s = $2 < 0 ? -$2 : $2; if (s < 1) s = 1
		if (!($1 != "" && $1 + 0 >= $2 - 1e-6 * s)) exit 1 }'
	ml mlpredict -m "$tag.mlm" -o "$tag.full" "$G3/test.csv"
	cut -d, -f2- "$tag.full" > "$tag.csv"
	csv_close "$G3/fit_$tag.csv" "$tag.csv" 1e-4
}

@test "gp with more classes fitted by maximum likelihood: each class reaches scikit-learn's likelihood" {
	gpc3_fit rbf
	gpc3_fit ard --ard 1
	run -0 ml mlinfo --table hyper rbf.mlm
	[ "${lines[0]}" = "class,name,value" ]
	[[ "${lines[1]}" == "ash,signal_variance,"* ]]
	[[ "$output" == *$'\ncedar,length_scale,'* ]]
}

@test "gp with more classes: same bytes whatever -j, the model file scores as its fit, a damaged one is refused" {
	ml mltrain -q -j 1 --seed 3 -t y -a gp --restarts 1 -o a.mlm "$G3/train.csv"
	ml mltrain -q -j 2 --seed 3 -t y -a gp --restarts 1 -o b.mlm "$G3/train.csv"
	cmp a.mlm b.mlm
	ml mlpredict -m a.mlm -o a.csv "$G3/test.csv"
	ml mlpredict -j 2 -m b.mlm -o b.csv "$G3/test.csv"
	same a.csv b.csv
	# the probabilities of a row sum to one
	awk -F, 'NR > 1 { d = $2 + $3 + $4 - 1; if (d < 0) d = -d; if (d > 1e-12) exit 1 }' a.csv
	run -2 --separate-stderr ml mlpredict -m a.mlm --std "$G3/test.csv"
	cp a.mlm c.mlm
	printf '\377\377\377\377' | dd of=c.mlm bs=1 seek=900 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m c.mlm "$G3/test.csv"
	[ -n "$stderr" ]
}

# near_sklearn_mlp N OPTIONS...: fits with seeds 1 .. N and OPTIONS on the split fixture
# reach, over their test predictions together, scikit-learn's MLPClassifier accuracy
# within 0.02.
near_sklearn_mlp() {
	local n=$1 s ours ref
	shift
	fixture "$NF/mlp_train.csv" "$NF/mlp_test.csv" "$NF/mlp_acc.txt"
	for s in $(seq "$n"); do
		ml mltrain -q --seed $s -t label -a mlp "$@" -o m$s.mlm "$NF/mlp_train.csv"
		ml mlpredict -m m$s.mlm --keep label --no-proba -o p$s.csv "$NF/mlp_test.csv"
	done
	ours=$(awk -F, 'FNR > 1 { n++; c += ($1 == $2) } END { print c / n }' p?.csv)
	ref=$(cat "$NF/mlp_acc.txt")
	echo "accuracy: ours $ours, scikit-learn's MLP $ref" >&2
	awk -v a="$ours" -v b="$ref" 'BEGIN { exit !(a >= b - 0.02) }'
}

@test "mlp reaches scikit-learn's MLPClassifier accuracy on the same split (within 0.02)" {
	near_sklearn_mlp 5 --hidden 32 --batch-size 100 --epochs 100
}

@test "mlp is reproducible for a seed whatever -j; embeddings are a table" {
	ml mlfeat -t species --impute median --impute mode:sex -o pen.csv "$SAMPLES/penguins.csv"
	for j in 1 2; do
		ml mltrain -q -j $j --seed 2 -t species -a mlp --embed island:2 --hidden 16,8 \
			--batch-norm 1 --dropout 0.1 --activation gelu --epochs 60 --batch-size 32 \
			--learning-rate 0.01 --schedule cosine --valid-frac 0.2 --early-stop 5 \
			-o p$j.mlm pen.csv
	done
	same p1.mlm p2.mlm
	ml mlinfo --table embedding -o emb.csv p1.mlm
	[ "$(head -1 emb.csv)" = "feature,level,dim_1,dim_2" ]
	[ "$(cut -d, -f1,2 emb.csv | tail -n +2 | tr '\n' ' ')" = "island,Biscoe island,Dream island,Torgersen " ]
	ml mlpredict -m p1.mlm --keep species --no-proba -o p.csv pen.csv
	awk -F, 'NR > 1 { n++; c += ($1 == $2) } END { exit !(c / n > 0.95) }' p.csv
}

@test "mlp cuts batches into shards: one model and one score whatever -j and OPENBLAS_NUM_THREADS" {
	# 200 rows a batch: 4 shards of 50, each shard's products on one BLAS thread (layers
	# wide enough for OpenBLAS to share a product among its threads)
	for j in 1 2 3; do
		OPENBLAS_NUM_THREADS=1 ml mltrain -q -j $j --seed 4 -t label -a mlp --hidden 256,128 \
			--dropout 0.2 --weight-decay 1e-3 --epochs 5 --batch-size 200 \
			-o s$j.mlm "$NF/mlp_train.csv"
	done
	same s1.mlm s2.mlm
	same s1.mlm s3.mlm
	OPENBLAS_NUM_THREADS=2 ml mltrain -q -j 2 --seed 4 -t label -a mlp --hidden 256,128 \
		--dropout 0.2 --weight-decay 1e-3 --epochs 5 --batch-size 200 -o t.mlm "$NF/mlp_train.csv"
	OPENBLAS_NUM_THREADS=1 ml mlpredict -m s1.mlm -o a.csv "$NF/mlp_test.csv"
	OPENBLAS_NUM_THREADS=1 ml mlpredict -m t.mlm -o b.csv "$NF/mlp_test.csv"
	same a.csv b.csv
	# scoring: pieces of rows on the threads, each on one BLAS thread
	OPENBLAS_NUM_THREADS=2 ml mlpredict -j 2 -m t.mlm -o c.csv "$NF/mlp_test.csv"
	OPENBLAS_NUM_THREADS=2 ml mlpredict -j 1 -m t.mlm -o d.csv "$NF/mlp_test.csv"
	same a.csv c.csv
	same a.csv d.csv
}

@test "mlp --optimizer adamw: Adam with the weight decay taken out of the gradient" {
	for o in "adam 0" "adamw 0" "adam 0.1" "adamw 0.1"; do
		set -- $o
		ml mltrain -q --seed 2 -t label -a mlp --hidden 16 --epochs 5 --optimizer $1 \
			--weight-decay $2 -o m.mlm "$NF/mlp_train.csv"
		ml mlpredict -m m.mlm -o "$1-$2.csv" "$NF/mlp_test.csv"
	done
	# no decay: the same updates; with it, another model than both
	same adam-0.csv adamw-0.csv
	run ! cmp -s adam-0.1.csv adamw-0.1.csv
	run ! cmp -s adamw-0.csv adamw-0.1.csv
}

@test "mlp regression and sgd: the target is standardised inside the model" {
	ml mltrain -q --seed 1 -t y -a mlp --optimizer sgd --learning-rate 0.01 --momentum 0.9 \
		--schedule step --weight-decay 1e-4 --epochs 40 --batch-size 32 -o c.mlm "$SAMPLES/co2.csv"
	ml mlpredict -m c.mlm --keep y -o c.csv "$SAMPLES/co2.csv"
	# better than the mean: the residual spread is below the target's
	awk -F, 'NR > 1 { n++; s += $1; q += $1 * $1; r += ($1 - $2) ^ 2 }
		END { v = q / n - (s / n) ^ 2; exit !(r / n < 0.5 * v) }' c.csv
}

@test "mlp shows no progress when stderr is no terminal, and refuses bad options" {
	run -0 --separate-stderr ml mltrain --seed 1 -t label -a mlp --epochs 3 -o m.mlm "$NF/mlp_train.csv"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" != *epoch* ]]
	run -2 --separate-stderr ml mltrain -t label -a mlp --embed x9:2 -o m.mlm "$NF/mlp_train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --embed names 'x9', which is no feature" ]
	run -2 --separate-stderr ml mltrain -t label -a mlp --embed x1:2 -o m.mlm "$NF/mlp_train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --embed names 'x1', which is not categorical" ]
	run -2 --separate-stderr ml mltrain -t label -a mlp --early-stop 3 -o m.mlm "$NF/mlp_train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --early-stop needs validation rows (--valid or --valid-frac)" ]
	run -2 --separate-stderr ml mltrain -t label -a mlp --hidden 64,0 -o h.mlm "$NF/mlp_train.csv"
	[ ! -e h.mlm ]
}

@test "mlp --arch tabular-transformer learns the split as well as scikit-learn's MLPClassifier" {
	near_sklearn_mlp 3 --arch tabular-transformer --dim 32 --heads 4 --layers 2 \
		--batch-size 100 --epochs 30
}

@test "mlp --arch tabular-transformer: categorical tokens, one model and one score whatever -j and OPENBLAS_NUM_THREADS" {
	ml mlfeat -t species --impute median --impute mode:sex -o pen.csv "$SAMPLES/penguins.csv"
	for j in 1 2 3; do
		OPENBLAS_NUM_THREADS=$((j % 2 + 1)) ml mltrain -q -j $j --seed 5 -t species -a mlp \
			--arch tabular-transformer --dim 16 --heads 2 --layers 2 --dropout 0.1 \
			--attention-dropout 0.2 --optimizer adamw --weight-decay 1e-4 \
			--activation gelu --epochs 20 --batch-size 200 --learning-rate 0.003 \
			-o t$j.mlm pen.csv
	done
	same t1.mlm t2.mlm
	same t1.mlm t3.mlm
	ml mlpredict -j 1 -m t1.mlm --keep species -o a.csv pen.csv
	OPENBLAS_NUM_THREADS=2 ml mlpredict -j 2 -m t1.mlm --keep species -o b.csv pen.csv
	same a.csv b.csv
	awk -F, 'NR > 1 { n++; c += ($1 == $2) } END { exit !(c / n > 0.95) }' a.csv
	# a regression through the same tokens
	ml mltrain -q --seed 1 -t body_mass_g -a mlp --arch tabular-transformer --dim 16 \
		--heads 4 --layers 1 --epochs 60 --batch-size 32 -o r.mlm pen.csv
	ml mlpredict -m r.mlm --keep body_mass_g -o r.csv pen.csv
	awk -F, 'NR > 1 { n++; s += $1; q += $1 * $1; r += ($1 - $2) ^ 2 }
		END { v = q / n - (s / n) ^ 2; exit !(r / n < 0.3 * v) }' r.csv
}

@test "mlp --arch tabular-transformer refuses what does not apply, and a damaged model" {
	run -2 --separate-stderr ml mltrain -t label -a mlp --arch tabular-transformer --hidden 8 \
		-o m.mlm "$NF/mlp_train.csv"
	[[ "${stderr_lines[0]}" == "mltrain: --hidden does not apply to --arch tabular-transformer"* ]]
	run -2 --separate-stderr ml mltrain -t label -a mlp --arch tabular-transformer --dim 30 \
		--heads 8 -o m.mlm "$NF/mlp_train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --dim 30 is not a multiple of --heads 8" ]
	run -2 --separate-stderr ml mltrain -t label -a mlp --arch tabular-transformer \
		--batch-norm 1 -o m.mlm "$NF/mlp_train.csv"
	[[ "${stderr_lines[0]}" == "mltrain: --batch-norm does not apply"* ]]
	run -2 --separate-stderr ml mltrain -t label -a mlp --heads 4 -o m.mlm "$NF/mlp_train.csv"
	[ "${stderr_lines[0]}" = "mltrain: --heads applies to --arch tabular-transformer only" ]
	[ ! -e m.mlm ]
	ml mltrain -q --seed 1 -t label -a mlp --arch tabular-transformer --dim 8 --heads 2 \
		--layers 1 --epochs 1 -o m.mlm "$NF/mlp_train.csv"
	cp m.mlm c.mlm
	printf '\377\377\377\377' | dd of=c.mlm bs=1 seek=900 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m c.mlm "$NF/mlp_test.csv"
	[ -n "$stderr" ]
}
