#!/bin/sh
# make demo: the main job on samples/, end to end, with its results on the terminal.
set -e
ML_BIN=${ML_BIN:-bin}
PATH="$(cd "$ML_BIN" && pwd):$PATH"
export PATH
out=${TMPDIR:-/tmp}/mlpipe-demo.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
have() { [ -x "$ML_BIN/$1" ]; }
if [ -t 1 ]; then b='\033[1m'; n='\033[0m'; else b=; n=; fi
step() { printf "\n${b}$ %s${n}\n" "$*"; }

step "mlcat --schema samples/penguins.csv"
mlcat --schema samples/penguins.csv
step "mlcat --describe samples/pima.csv"
mlcat --describe --precision 4 samples/pima.csv
step "mlcat -f stream samples/breast_cancer.csv > bc.mls   # CSV parsed once; the binary stream from here on"
mlcat -f stream samples/breast_cancer.csv >"$out/bc.mls"
ls -l "$out/bc.mls" | awk '{print $5 " bytes"}'

step "mlsplit --test 0.25 --stratify target --seed 7 -f stream --train-out train.mls --test-out test.mls bc.mls"
mlsplit --test 0.25 --stratify target --seed 7 -f stream \
	--train-out "$out/train.mls" --test-out "$out/test.mls" "$out/bc.mls"
echo "train $(mlcat "$out/train.mls" | tail -n +2 | wc -l) rows, test $(mlcat "$out/test.mls" | tail -n +2 | wc -l) rows"

step "mlfeat --save feat.mlm -t target --power yeo-johnson -f stream < train.mls > train_feat.mls"
mlfeat --save "$out/feat.mlm" -t target --power yeo-johnson -f stream <"$out/train.mls" >"$out/train_feat.mls"

step "mltrain -t target -a logistic --cv 5 -o logit.mlm train_feat.mls"
mltrain -t target -a logistic --cv 5 -o "$out/logit.mlm" "$out/train_feat.mls"

step "mlpredict -m feat.mlm -m logit.mlm --keep target test.mls | mleval -t target --min auc=0.95"
mlpredict -m "$out/feat.mlm" -m "$out/logit.mlm" --keep target "$out/test.mls" |
	mleval -t target --min auc=0.95

step "mltrain -t target -a gbdt --rounds 300 --valid-frac 0.15 --early-stop 20 -o gbdt.mlm train.mls"
mltrain -t target -a gbdt --rounds 300 --valid-frac 0.15 --early-stop 20 -o "$out/gbdt.mlm" "$out/train.mls"

step "mlpredict -m gbdt.mlm --keep target test.mls | mleval -t target --plot roc --plot-file roc.svg"
mlpredict -m "$out/gbdt.mlm" --keep target "$out/test.mls" |
	mleval -t target --plot roc --plot-file "$out/roc.svg"
echo "(roc.svg: $(wc -c <"$out/roc.svg") bytes of SVG)"

step "mlinfo --table importance gbdt.mlm | head -6"
mlinfo --table importance "$out/gbdt.mlm" | head -6

step "mltrain -t target -a rf --trees 200 --importance permutation -o rf.mlm train.mls"
mltrain -t target -a rf --trees 200 --importance permutation -o "$out/rf.mlm" "$out/train.mls"

step "mlpredict -j 2 -m rf.mlm --keep target test.mls | mleval -t target"
mlpredict -j 2 -m "$out/rf.mlm" --keep target "$out/test.mls" | mleval -t target

step "mlinfo --table importance rf.mlm | sort -t, -k3 -g -r | head -4"
mlinfo --table importance "$out/rf.mlm" | sort -t, -k3 -g -r | head -4

step "mltrain -t target -a tree --ccp-alpha 0.005 -o tree.mlm train.mls; mlinfo --table tree tree.mlm | cut -d, -f3-5 | head -5"
mltrain -t target -a tree --ccp-alpha 0.005 -o "$out/tree.mlm" "$out/train.mls"
mlinfo --table tree "$out/tree.mlm" | cut -d, -f3-5 | head -5

step "mltrain -t target -a mlp --hidden 64,32 --epochs 100 --batch-size 32 -o mlp.mlm train.mls"
mltrain -t target -a mlp --hidden 64,32 --epochs 100 --batch-size 32 -o "$out/mlp.mlm" "$out/train.mls"
mlpredict -m "$out/mlp.mlm" --keep target "$out/test.mls" | mleval -t target

step "mltrain -q -t target -a mlp --arch tabular-transformer --dim 16 --heads 4 --layers 2 --epochs 20 --batch-size 64 -o ftt.mlm train.mls"
mltrain -q -t target -a mlp --arch tabular-transformer --dim 16 --heads 4 --layers 2 --epochs 20 \
	--batch-size 64 -o "$out/ftt.mlm" "$out/train.mls"
mlpredict -m "$out/ftt.mlm" --keep target "$out/test.mls" | mleval -t target

step "mltrain -t y -a gp --kernel rbf+white --restarts 0 -o gp.mlm co2.csv; mlpredict -m gp.mlm --std --level 95 co2.csv | head -3"
mltrain -t y -a gp --kernel rbf+white --restarts 0 -o "$out/gp.mlm" samples/co2.csv
mlpredict -m "$out/gp.mlm" --keep t,y --std --level 95 samples/co2.csv | head -3

step "mltrain -a autoencoder --ignore target -o ae.mlm train.mls; mlpredict -m ae.mlm --keep target --explain test.mls | head -4"
mltrain -a autoencoder --ignore target -o "$out/ae.mlm" "$out/train.mls"
mlpredict -m "$out/ae.mlm" --keep target --explain "$out/test.mls" | head -4

step "mltrain -a kmeans --k 2 --n-init 5 --method elkan --ignore target -o km.mlm train.mls; mlinfo --table fit km.mlm"
mltrain -a kmeans --k 2 --n-init 5 --method elkan --ignore target -o "$out/km.mlm" "$out/train.mls"
mlinfo --table fit "$out/km.mlm"

step "mlinfo --table coef logit.mlm | head -4"
mlinfo --table coef "$out/logit.mlm" | head -4

step "mldrift --profile -o ref.mlm train.mls; mldrift --ref ref.mlm --report-only test.mls | head -5"
mldrift --profile -o "$out/ref.mlm" "$out/train.mls"
mldrift --ref "$out/ref.mlm" --report-only "$out/test.mls" | head -5
step "mldrift --profile --time-col date --period 365d samples/seattle_weather.csv -o 'year-{}.mlm'   # a profile per year; years merge"
mldrift --profile --time-col date --period 365d samples/seattle_weather.csv -o "$out/year-{}.mlm"
mldrift --merge -o "$out/years.mlm" "$out"/year-*.mlm
mlinfo "$out/years.mlm" | grep -m1 '"rows"'

step "mltrain -a iforest -o days.mlm --ignore date samples/seattle_weather.csv   # an anomaly detector: no target"
mltrain -a iforest -o "$out/days.mlm" --ignore date samples/seattle_weather.csv
step "mlpredict -m days.mlm --keep date --alert-at critical samples/seattle_weather.csv | grep critical"
mlpredict -m "$out/days.mlm" --keep date --alert-at critical samples/seattle_weather.csv | grep critical ||
	echo "(exit 1: a row reached severity critical)"

step "mltrain -a baseline --time-col t --season 12 --window 24 -o co2.mlm co2 to 1988; mlpredict on the months after   # a moving baseline"
head -n 361 samples/co2.csv >"$out/co2_history.csv"
(head -n 1 samples/co2.csv; tail -n +362 samples/co2.csv) >"$out/co2_next.csv"
mltrain -q -a baseline --time-col t --season 12 --window 24 -o "$out/co2.mlm" "$out/co2_history.csv"
mlpredict -m "$out/co2.mlm" --keep t,y "$out/co2_next.csv" | sort -t, -k3,3gr | head -4

if have mlensemble; then
	step "mlensemble --method mean -m feat.mlm+logit.mlm -m gbdt.mlm -m rf.mlm -o ens.mlm"
	mlensemble --method mean -m "$out/feat.mlm+$out/logit.mlm" -m "$out/gbdt.mlm" -m "$out/rf.mlm" \
		-o "$out/ens.mlm"
	step "mlpredict -m ens.mlm --keep target test.mls | mleval -t target"
	mlpredict -m "$out/ens.mlm" --keep target "$out/test.mls" | mleval -t target
	step "mlensemble --method stack -t target --base 'gbdt --rounds 100' --base logistic --base nb --cv 5 -o stack.mlm train.mls"
	mlensemble --method stack -t target --base 'gbdt --rounds 100' --base logistic --base nb \
		--cv 5 -o "$out/stack.mlm" "$out/train.mls"
	step "mlpredict -m stack.mlm --keep target test.mls | mleval -t target"
	mlpredict -m "$out/stack.mlm" --keep target "$out/test.mls" | mleval -t target
	step "mlensemble --adaptive --init --state weights.mlm --members stack,ens --metric logloss -t target both.csv   # weights that follow the members' recent loss"
	mlpredict -m "$out/stack.mlm" --keep target "$out/test.mls" | sed '1s/,/,stack_/g' >"$out/s.csv"
	mlpredict -m "$out/ens.mlm" "$out/test.mls" | sed '1s/^/ens_/; 1s/,/,ens_/g' >"$out/e.csv"
	paste -d, "$out/s.csv" "$out/e.csv" >"$out/both.csv"
	mlensemble --adaptive --init --state "$out/weights.mlm" --members stack,ens --metric logloss \
		-t target --window 50 "$out/both.csv" | mleval -t target
	mlinfo --table weights "$out/weights.mlm"
	step "mltrain -a zscore -o z.mlm --ignore date samples/seattle_weather.csv; mlensemble --method anomaly -m days.mlm -m z.mlm -o anom.mlm"
	mltrain -q -a zscore -o "$out/z.mlm" --ignore date samples/seattle_weather.csv
	mlensemble --method anomaly -m "$out/days.mlm" -m "$out/z.mlm" -o "$out/anom.mlm"
	mlinfo --table members "$out/anom.mlm"
	step "mlpredict -m anom.mlm --keep date samples/seattle_weather.csv | grep critical   # with kind"
	mlpredict -m "$out/anom.mlm" --keep date samples/seattle_weather.csv | grep critical | head -5
fi

step "mlforecast --time date -y value --group series --model auto,ets,theta --horizon 8 --backtest 3 --report scores.csv classic_series.csv"
if have mlforecast; then
	mlforecast --time date -y value --group series --model auto,ets,theta --horizon 8 \
		--backtest 3 --report "$out/scores.csv" samples/classic_series.csv >"$out/fc.csv"
	grep '^(mean)' "$out/scores.csv" | cut -d, -f2,8-
fi

printf '\ndemo finished\n'
