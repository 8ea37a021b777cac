#!/usr/bin/env bats
# mltrain: fitting through the generic layer, cross-validation, validation rows, the model
# file, and every kind of bad input and misuse.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	MF=$FIX/mltrain
}

@test "a fit prints one summary line and writes a model" {
	run --separate-stderr ml mltrain -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[[ "$stderr" =~ ^mltrain:\ 569\ rows,\ 30\ features,\ [0-9.]+\ s\;\ train:\ accuracy\ 0\.95[0-9]*,\ auc\ 0\.99[0-9]*,\ logloss\ 0\.0[0-9]*$ ]]
	ml mlinfo --check bc.mlm
	run -0 --separate-stderr ml mltrain -q -t target -a logistic -o bc2.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "" ]
	same bc.mlm bc2.mlm
}

@test "categorical features are one-hot encoded inside the model (scikit-learn Ridge)" {
	ml mltrain -q -t temp_max -a ridge --l2 10 --ignore date,w -o w.mlm "$MF/weather.csv"
	ml mlpredict -m w.mlm "$MF/weather.csv" >p.csv
	csv_close p.csv "$MF/weather_ridge.pred.csv" 1e-9
	ml mlinfo --table coef w.mlm >coef.csv
	[ "$(cut -d, -f1 coef.csv | tr '\n' ' ')" = "feature (intercept) precipitation temp_min wind weather=drizzle weather=fog weather=rain weather=snow weather=sun " ]
}

@test "the training metrics match scikit-learn's" {
	ml mltrain -q -t temp_max -a ridge --l2 10 --ignore date,w --report r.csv -o w.mlm "$MF/weather.csv"
	grep -E '^train,(rmse|mae|r2|medae),' r.csv | cut -d, -f2- >got.csv
	tail -n +2 "$MF/weather_ridge.metrics.csv" >want.csv
	csv_close got.csv want.csv 1e-9
}

@test "--weight weighs rows (scikit-learn sample_weight)" {
	ml mltrain -q -t temp_max -a ridge --l2 10 --ignore date --weight w -o w.mlm "$MF/weather.csv"
	ml mlpredict -m w.mlm "$MF/weather.csv" >p.csv
	csv_close p.csv "$MF/weather_wridge.pred.csv" 1e-9
	ml mlinfo w.mlm >info.json
	grep -q '"weight": "w"' info.json
}

@test "--class-weight balanced (scikit-learn class_weight=balanced)" {
	ml mltrain -q -t target -a logistic --class-weight balanced -o b.mlm "$MF/bc_std.csv"
	ml mlpredict -m b.mlm "$MF/bc_std.csv" | cut -d, -f2- >p.csv
	csv_close p.csv "$MF/bc_balanced.pred.csv" 1e-7
	run -2 --separate-stderr ml mltrain -t temp_max -a ridge --class-weight balanced -o x.mlm "$MF/weather.csv"
	[ "$stderr" = "mltrain: --class-weight balanced needs a classification target ('temp_max' is regressed)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --class-weight heavy -o x.mlm "$MF/bc_std.csv"
	[ "$stderr" = "mltrain: invalid value 'heavy' for --class-weight (balanced or none)
Try 'mltrain --help' for more information." ]
	[ ! -e x.mlm ]
}

@test "--task auto: two numbers classify, more regress, text classifies" {
	ml mltrain -q -t target -a knn -o a.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo a.mlm | grep -q '"task": "classify"'
	ml mlinfo a.mlm | grep -q '"classes": \["0", "1"\]'
	ml mltrain -q -t target -a knn --task regress -o b.mlm "$SAMPLES/breast_cancer.csv"
	ml mlinfo b.mlm | grep -q '"task": "regress"'
	ml mltrain -q -t y -a knn -o c.mlm "$SAMPLES/co2.csv"
	ml mlinfo c.mlm | grep -q '"task": "regress"'
	ml mltrain -q -t species -a nb -o d.mlm "$SAMPLES/penguins.csv"
	ml mlinfo d.mlm | grep -q '"classes": \["Adelie", "Chinstrap", "Gentoo"\]'
	run -2 --separate-stderr ml mltrain -t target -a ridge -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: -a ridge does not classify (target 'target'; --task regress fits its values)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t y -a logistic -o x.mlm "$SAMPLES/co2.csv"
	[ "$stderr" = "mltrain: -a logistic does not regress (target 'y')
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t y -a logistic --task guess -o x.mlm "$SAMPLES/co2.csv"
	[ "$stderr" = "mltrain: invalid value 'guess' for --task (auto, classify or regress)
Try 'mltrain --help' for more information." ]
}

@test "bad training data: exact status and message" {
	run -65 --separate-stderr ml mltrain -t label -a logistic -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: $SAMPLES/breast_cancer.csv: no column 'label' (-t)" ]
	run -65 --separate-stderr ml mltrain -t Target -a logistic -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: $SAMPLES/breast_cancer.csv: no column 'Target' (-t); did you mean 'target'?" ]
	printf 'a,b,y\n1,2,x\n2,3,x\n' >one.csv
	run -65 --separate-stderr ml mltrain -t y -a logistic -o x.mlm one.csv
	[ "$stderr" = "mltrain: one.csv: target column 'y' has only one class ('x'): nothing to learn" ]
	run -65 --separate-stderr ml mltrain -t species -a ridge --task regress -o x.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mltrain: $SAMPLES/penguins.csv: target column 'species' is categorical: it cannot be regressed (use --task classify, or --num species if it holds numbers)" ]
	run -65 --separate-stderr ml mltrain -t species -a logistic -o x.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mltrain: $SAMPLES/penguins.csv:5: missing value in column 'bill_length_mm' (-a logistic takes no missing values; impute them with mlfeat --impute)" ]
	printf 'a,b,y\n' >empty.csv
	run -65 --separate-stderr ml mltrain -t y -a logistic -o x.mlm empty.csv
	[ "$stderr" = "mltrain: empty.csv: no rows to train on" ]
	printf 'a,y\n1,2\n2,\n3,4\n' >ty.csv
	run -65 --separate-stderr ml mltrain -t y -a ridge -o x.mlm ty.csv
	[ "$stderr" = "mltrain: ty.csv:3: missing value in target column 'y'" ]
	printf 'a,w,y\n1,1,2\n2,-1,3\n3,1,4\n' >w.csv
	run -65 --separate-stderr ml mltrain -t y -a ridge --weight w -o x.mlm w.csv
	[ "$stderr" = "mltrain: w.csv:3: weight in column 'w' must be a finite number >= 0" ]
	run -65 --separate-stderr ml mltrain -t y -a ridge --weight nope -o x.mlm w.csv
	[ "$stderr" = "mltrain: w.csv: no column 'nope' (--weight)" ]
	run -65 --separate-stderr ml mltrain -t y -a ridge --weight W -o x.mlm - <w.csv
	[ "$stderr" = "mltrain: <stdin>: no column 'W' (--weight); did you mean 'w'?" ]
	run -66 --separate-stderr ml mltrain -t y -a ridge -o x.mlm missing.csv
	[ "$stderr" = "mltrain: missing.csv: cannot open: No such file or directory" ]
	[ ! -e x.mlm ]
}

@test "usage errors: algorithm, options that do not apply, required options" {
	run -2 --separate-stderr ml mltrain -t target -a forest -o x.mlm "$SAMPLES/breast_cancer.csv"
	[[ "${stderr_lines[0]}" == "mltrain: unknown algorithm 'forest' (one of linear, ridge, lasso, elasticnet, logistic, nb, knn"* ]]
	[ "${stderr_lines[1]}" = "Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a ridge --task regress --l1 3 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: --l1 does not apply to -a ridge
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --early-stop 5 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: --early-stop does not apply to -a logistic
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a knn --k 0 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: invalid value '0' for --k (a whole number from 1 to 1000000)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a knn --weights far -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: invalid value 'far' for --weights (one of uniform,distance)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a logistic "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: no model file given (-o MODEL)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -a logistic -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: no target given (-t COLUMN)
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -o x.mlm "$SAMPLES/breast_cancer.csv"
	[[ "${stderr_lines[0]}" == "mltrain: no algorithm given (-a ALGO: linear, ridge, "* ]]
	run -65 --separate-stderr ml mltrain -t target -a logistic --ignore nope -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: $SAMPLES/breast_cancer.csv: no column 'nope' (--ignore)" ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --ignore 'mean radius,,' -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mltrain: --ignore: empty item in column list 'mean radius,,'
Try 'mltrain --help' for more information." ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --cv-time t -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mltrain: --cv-time needs --cv" ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --oof o.csv -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mltrain: --oof needs --cv" ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --cv 1 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '1' for --cv (a whole number from 2 to 1000000)" ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --valid v.csv --valid-frac 0.2 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mltrain: --valid and --valid-frac cannot be combined" ]
	run -2 --separate-stderr ml mltrain -t target -a logistic --valid-frac 1 -o x.mlm "$SAMPLES/breast_cancer.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '1' for --valid-frac (a fraction between 0 and 1)" ]
	[ ! -e x.mlm ]
}

@test "--help lists every algorithm with its hyperparameters" {
	run -0 --separate-stderr ml mltrain --help
	for a in linear ridge lasso elasticnet logistic nb knn; do
		[[ "$output" == *"  -a $a:"* ]] || { echo "no group for $a"; return 1; }
	done
	[[ "$output" == *"      --l2=X "*"      --l1=X "*"      --k=N "* ]]
	flat=$(echo "$output" | tr -s ' \n' '  ')
	[[ "$flat" == *"(one of uniform, distance; default uniform)"* ]]
}

@test "--list-algorithms prints the algorithms of --help and the man page, one a line" {
	run -0 --separate-stderr ml mltrain --list-algorithms
	[ "$stderr" = "" ]
	[ "$output" = "linear
ridge
lasso
elasticnet
logistic
nb
knn
gbdt
rf
tree
iforest
zscore
lof
hbos
ecod
baseline
gp
mlp
kmeans
autoencoder" ]
	ml mltrain --list-algorithms >listed
	ml mltrain --help | sed -n '/^Algorithms (-a):$/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p' >help
	same listed help
	# the -a entry of OPTIONS names them in order
	sed -n '/^\.BI \\-a ", " \\-\\-algorithm= ALGO$/,/^(see ALGORITHMS;$/s/^\.BR\{0,1\} \([a-z]\{1,\}\).*/\1/p' \
		"$TOP/man/mltrain.1" >man
	same listed man
	# it stops at once, like --help, whatever else is given
	run -0 --separate-stderr ml mltrain --list-algorithms -t y -a nosuch
	[ "${lines[0]}" = "linear" ]
	[ "$stderr" = "" ]
}

@test "the same seed gives the same model bytes whatever -j" {
	ml mltrain -q -j 1 --seed 7 -t target -a logistic --cv 5 -o a.mlm "$SAMPLES/breast_cancer.csv"
	ml mltrain -q -j 2 --seed 7 -t target -a logistic --cv 5 -o b.mlm "$SAMPLES/breast_cancer.csv"
	same a.mlm b.mlm
	ml mltrain -q -j 1 --seed 7 -t species -a nb --cv 3 --valid-frac 0.2 -o c.mlm "$SAMPLES/penguins.csv"
	ml mltrain -q -j 2 --seed 7 -t species -a nb --cv 3 --valid-frac 0.2 -o d.mlm "$SAMPLES/penguins.csv"
	same c.mlm d.mlm
	ml mltrain -q -j 1 --seed 7 -t temp_max -a knn --ignore date --cv 3 -o e.mlm "$SAMPLES/seattle_weather.csv"
	ml mltrain -q -j 2 --seed 7 -t temp_max -a knn --ignore date --cv 3 -o f.mlm "$SAMPLES/seattle_weather.csv"
	same e.mlm f.mlm
	ml mltrain -q -j 1 --seed 8 -t target -a logistic --cv 5 -o g.mlm "$SAMPLES/breast_cancer.csv"
	run -1 cmp -s a.mlm g.mlm
}

@test "the model records schema, parameters, seed, fingerprint and metrics" {
	ml mltrain -q --seed 9 -t species -a nb --alpha 2 --cv 3 -o m.mlm "$SAMPLES/penguins.csv"
	ml mlinfo m.mlm >m.json
	head -12 m.json >head.json
	cat >want.json <<-'EOF'
	{
	  "format": "ml-model",
	  "version": 1,
	  "kind": "model",
	  "algorithm": "nb",
	  "tool": "mlpipe 0.1.0",
	  "created": "2023-11-14T22:13:20Z",
	  "task": "classify",
	  "target": "species",
	  "target_type": "cat",
	  "classes": ["Adelie", "Chinstrap", "Gentoo"],
	  "features": [
	EOF
	same want.json head.json
	grep -q '"levels": \["Biscoe", "Dream", "Torgersen"\]' m.json
	grep -q '"var-smoothing": 1e-09,' m.json
	grep -q '"alpha": 2$' m.json
	grep -q '"seed": 9,' m.json
	grep -q '"crc32": "[0-9a-f]\{8\}"' m.json
	grep -q '"folds": 3,' m.json
	grep -q '"split": "stratified",' m.json
	grep -q '"tables": \["classes", "theta", "var"\]' m.json
}

@test "the data fingerprint depends on the data, not its format" {
	ml mlcat -f stream "$SAMPLES/penguins.csv" >p.mls
	ml mltrain -q -t species -a nb -o a.mlm "$SAMPLES/penguins.csv"
	ml mltrain -q -t species -a nb -o b.mlm p.mls
	same a.mlm b.mlm
	sed '2s/39.1/39.2/' "$SAMPLES/penguins.csv" >q.csv
	ml mltrain -q -t species -a nb -o c.mlm q.csv
	a=$(ml mlinfo a.mlm | grep crc32)
	c=$(ml mlinfo c.mlm | grep crc32)
	[ "$a" != "$c" ]
	# The CRC-32 of the byte sequence mltrain(1) describes, computed independently.
	[[ "$a" == *'"156069c5"'* ]]
	ml mltrain -q -t species -a nb -j 3 -o d.mlm "$SAMPLES/penguins.csv"
	[ "$(ml mlinfo d.mlm | grep crc32)" = "$a" ]
}

@test "--cv prints folds and mean +- sd, writes --report and --oof" {
	run -0 --separate-stderr ml mltrain -t target -a logistic --cv 5 --report r.csv --oof o.csv -o m.mlm "$SAMPLES/breast_cancer.csv"
	[ "${#stderr_lines[@]}" -eq 7 ]
	[[ "${stderr_lines[0]}" =~ ^mltrain:\ fold\ 1/5\ \(114\ rows\):\ accuracy\ [0-9.]+,\ auc\ [0-9.]+,\ logloss\ [0-9.]+$ ]]
	[[ "${stderr_lines[4]}" == "mltrain: fold 5/5 (113 rows): "* ]]
	[[ "${stderr_lines[5]}" =~ ^mltrain:\ cross-validation\ \(5\ folds,\ stratified\):\ accuracy\ 0\.9[0-9]*\ ±\ [0-9.e-]+, ]]
	[ "$(head -1 r.csv)" = "fold,metric,value" ]
	[ "$(cut -d, -f1 r.csv | uniq | tr '\n' ' ')" = "fold 1 2 3 4 5 mean sd train " ]
	grep -q '^mean,auc,0\.9' r.csv
	[ "$(head -1 o.csv)" = "target,pred,p_0,p_1,fold" ]
	[ "$(wc -l <o.csv)" -eq 570 ]
	[ "$(tail -n +2 o.csv | cut -d, -f5 | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "114 114 114 114 113 " ]
	# the out-of-fold accuracy is the row-weighted mean of the folds' accuracies
	acc=$(awk -F, 'NR > 1 { n++; if ($1 == $2) k++ } END { printf "%.6f", k / n }' o.csv)
	mean=$(awk -F, '$2 == "accuracy" && $1 ~ /^[0-9]+$/ { s += $3 * ($1 == 5 ? 113 : 114) } END { printf "%.6f", s / 569 }' r.csv)
	[ "$acc" = "$mean" ]
}

@test "--cv-time trains only on the past; --cv-group keeps groups together" {
	ml mltrain -q -t y -a ridge --cv 4 --cv-time t --oof o.csv -o m.mlm "$SAMPLES/airpassengers.csv"
	# 144 rows in 5 chunks of 28 (the first 32): the first chunk is never tested
	[ "$(wc -l <o.csv)" -eq 113 ]
	[ "$(head -1 o.csv)" = "y,pred,fold" ]
	[ "$(sed -n 2p o.csv | cut -d, -f1)" = "$(sed -n 34p "$SAMPLES/airpassengers.csv" | cut -d, -f2)" ]
	ml mlinfo m.mlm | grep -q '"split": "time",'
	ml mltrain -q -t species -a nb --cv 3 --cv-group island --oof g.csv -o g.mlm "$SAMPLES/penguins.csv"
	tail -n +2 "$SAMPLES/penguins.csv" | cut -d, -f2 >islands.txt
	tail -n +2 g.csv | awk -F, '{print $NF}' >folds.txt
	[ "$(paste -d, islands.txt folds.txt | sort -u | wc -l)" -eq 3 ]
	run -65 --separate-stderr ml mltrain -t species -a nb --cv 4 --cv-group island -o x.mlm "$SAMPLES/penguins.csv"
	[[ "$stderr" == "mltrain: $SAMPLES/penguins.csv: "* ]]
}

@test "a column --cv-time or --cv-group names must be there, checked before the fit" {
	run -65 --separate-stderr ml mltrain -t species -a nb --cv 3 --cv-group islnd -o x.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mltrain: $SAMPLES/penguins.csv: no column 'islnd' (--cv-group); did you mean 'island'?" ]
	[ ! -e x.mlm ]
	run -65 --separate-stderr ml mltrain -t y -a ridge --cv 3 --cv-time time -o x.mlm "$SAMPLES/airpassengers.csv"
	[ "$stderr" = "mltrain: $SAMPLES/airpassengers.csv: no column 'time' (--cv-time)" ]
	[ ! -e x.mlm ]
	run -2 --separate-stderr ml mltrain -t species -a nb --cv 3 --cv-group island,sex -o x.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mltrain: --cv-group takes one column, not 2
Try 'mltrain --help' for more information." ]
	[ ! -e x.mlm ]
}

@test "--valid-frac and --valid report validation metrics" {
	run -0 --separate-stderr ml mltrain -t target -a logistic --valid-frac 0.2 --report r.csv -o m.mlm "$SAMPLES/breast_cancer.csv"
	[[ "$stderr" =~ ^mltrain:\ 455\ rows,\ 30\ features,\ [0-9.]+\ s\;\ train:\ .*\;\ valid\ \(114\ rows\):\ accuracy\ [0-9.]+, ]]
	grep -q '^valid,accuracy,' r.csv
	ml mlinfo m.mlm | grep -q '"valid_rows": 114,'
	head -400 "$SAMPLES/breast_cancer.csv" >train.csv
	(head -1 "$SAMPLES/breast_cancer.csv"; tail -n +401 "$SAMPLES/breast_cancer.csv") >valid.csv
	run -0 --separate-stderr ml mltrain -t target -a logistic --valid valid.csv -o v.mlm train.csv
	[[ "$stderr" == *"; valid (170 rows): accuracy "* ]]
	cut -d, -f2- valid.csv >nofirst.csv
	run -65 --separate-stderr ml mltrain -t target -a logistic --valid nofirst.csv -o x.mlm train.csv
	[ "$stderr" = "mltrain: nofirst.csv: no column 'mean radius' (a feature)" ]
	printf 'a,y\n1,p\n2,q\n3,p\n4,q\n' >t.csv
	printf 'a,y\n1,p\n2,r\n' >v.csv
	run -65 --separate-stderr ml mltrain -t y -a logistic --valid v.csv -o x.mlm t.csv
	[ "$stderr" = "mltrain: v.csv:3: validation row of class 'r', which the training rows lack" ]
	[ ! -e x.mlm ]
}

@test "-o - writes the model to standard output" {
	ml mltrain -q -t species -a nb -o - "$SAMPLES/penguins.csv" >m.mlm
	ml mltrain -q -t species -a nb -o n.mlm "$SAMPLES/penguins.csv"
	same m.mlm n.mlm
	ml mltrain -q -t species -a nb -o - <"$SAMPLES/penguins.csv" | ml mlinfo - >info.json
	grep -q '"algorithm": "nb"' info.json
}

@test "training reads standard input and gzip" {
	gzip -c "$SAMPLES/penguins.csv" >p.csv.gz
	ml mltrain -q -t species -a nb -o a.mlm p.csv.gz
	ml mltrain -q -t species -a nb -o b.mlm - <"$SAMPLES/penguins.csv"
	same a.mlm b.mlm
}

@test "a failed run leaves no file behind, and a bad output path fails before the work" {
	mkdir d
	cd d
	run -65 --separate-stderr ml mltrain -t species -a logistic --cv 3 --report r.csv --oof o.csv -o m.mlm "$SAMPLES/penguins.csv"
	[ "$(ls -A)" = "" ]
	run -74 --separate-stderr ml mltrain -t species -a nb -o no/such/m.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mltrain: no/such/m.mlm: cannot create: No such file or directory" ]
	[ "$(ls -A)" = "" ]
}

@test "--cv --feat fits the pipeline inside each fold: a target encoder's leak does not show" {
	# coin-flip labels and a shop of about three rows each: an encoder fitted on the rows
	# it scores reads their own labels back
	awk 'BEGIN { srand(5); print "shop,x,y"; for (i = 1; i <= 600; i++)
		printf "s%d,%.5f,%d\n", int(rand() * 200), rand(), rand() < 0.5 }' >leak.csv
	ml mltrain -q -t y -a logistic --cv 5 --feat '--target-encode shop' --feat-out f.mlm \
		--report honest.csv --oof oof.csv -o m.mlm leak.csv
	auc=$(awk -F, '$1 == "mean" && $2 == "auc" { print $3 }' honest.csv)
	awk -v a="$auc" 'BEGIN { exit !(a < 0.6) }'
	[ "$(head -1 oof.csv)" = "y,pred,p_0,p_1,fold" ] && [ $(wc -l <oof.csv) -eq 601 ]
	# the same pipeline fitted on every row beforehand leaks: the test can fail
	ml mlfeat --save all.mlm -t y --target-encode shop <leak.csv >/dev/null
	ml mlfeat --load all.mlm <leak.csv >leaky.csv
	ml mltrain -q -t y -a logistic --cv 5 --report leaky_rep.csv -o l.mlm leaky.csv
	auc=$(awk -F, '$1 == "mean" && $2 == "auc" { print $3 }' leaky_rep.csv)
	awk -v a="$auc" 'BEGIN { exit !(a > 0.7) }'
	# the model reads what the pipeline fitted on every row writes; the same bytes for any -j
	ml mlpredict -m f.mlm -m m.mlm --keep y leak.csv | head -1 | grep -qx 'y,pred,p_0,p_1'
	run -0 ml mlinfo f.mlm
	[[ "$output" == *'"kind": "features"'* ]]
	ml mltrain -q -j 2 -t y -a logistic --cv 5 --feat '--target-encode shop' --feat-out f2.mlm \
		--oof oof2.csv -o m2.mlm leak.csv
	same oof.csv oof2.csv
	# usage
	run -2 --separate-stderr ml mltrain -t y -a logistic --cv 5 --feat '--target-encode shop' -o x.mlm leak.csv
	[ "${stderr_lines[0]}" = "mltrain: --feat needs --feat-out FILE: the model reads what the pipeline writes" ]
	run -2 --separate-stderr ml mltrain -t y -a logistic --feat-out f.mlm -o x.mlm leak.csv
	[ "${stderr_lines[0]}" = "mltrain: --feat-out needs --feat" ]
	run -2 --separate-stderr ml mltrain -t y -a logistic --feat '--scale standard' --feat-out f.mlm --valid-frac 0.2 -o x.mlm leak.csv
	[ "${stderr_lines[0]}" = "mltrain: --feat takes no validation rows (--valid, --valid-frac)" ]
	run -2 --separate-stderr ml mltrain -t y -a logistic --feat '--bogus 1' --feat-out f.mlm -o x.mlm leak.csv
	[ "${stderr_lines[0]}" = "mltrain: --feat '--bogus 1': --bogus is not an option of a feature pipeline" ]
	[ ! -e x.mlm ]
}

@test "-a logistic --positive: coefficients bounded below by 0 in every class, as L-BFGS-B (SciPy)" {
	E=$FIX/ensemble
	fixture "$E/nonneg_mc.csv" "$E/nonneg_mc_coef.csv" "$E/nonneg_cls.csv" "$E/nonneg_cls_coef.csv"
	ml mltrain -q -a logistic -t y --positive a,b,c -o mc.mlm "$E/nonneg_mc.csv"
	ml mlinfo --table coef mc.mlm >mc.csv
	csv_close "$E/nonneg_mc_coef.csv" mc.csv 1e-6
	# by indices and a range, the same model
	ml mltrain -q -a logistic -t y --positive 1-3 -o mc2.mlm "$E/nonneg_mc.csv"
	ml mlinfo --table coef mc2.mlm | same mc.csv -
	# two classes
	ml mltrain -q -a logistic -t y --positive a,b,c -o cls.mlm "$E/nonneg_cls.csv"
	ml mlinfo --table coef cls.mlm >cls.csv
	csv_close "$E/nonneg_cls_coef.csv" cls.csv 1e-6
	# without the bound some of these are negative
	ml mltrain -q -a logistic -t y -o free.mlm "$E/nonneg_mc.csv"
	ml mlinfo --table coef free.mlm | grep '^[abc],' | grep -q ',-'
	run -2 --separate-stderr ml mltrain -a logistic -t y --positive a,zz -o x.mlm "$E/nonneg_mc.csv"
	[ "${stderr%%$'\n'*}" = "mltrain: --positive: no column 'zz' (the features are the rows of the coef table)" ]
	[ ! -e x.mlm ]
}
