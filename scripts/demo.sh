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

if have mlsplit; then
	step "mlsplit --test 0.25 --stratify target --seed 7 --train-out train.mls --test-out test.mls bc.mls"
	mlsplit --test 0.25 --stratify target --seed 7 -f stream \
		--train-out "$out/train.mls" --test-out "$out/test.mls" "$out/bc.mls"
	echo "train $(mlcat "$out/train.mls" | tail -n +2 | wc -l) rows, test $(mlcat "$out/test.mls" | tail -n +2 | wc -l) rows"
fi
if have mltrain && have mlpredict && have mleval && have mlsplit; then
	step "mltrain -t target -a logistic --c 0.1 -o bc.mlm train.mls"
	mltrain -t target -a logistic --c 0.1 -o "$out/bc.mlm" "$out/train.mls"
	step "mlpredict -m bc.mlm --keep target test.mls | mleval -t target --min auc=0.95"
	mlpredict -m "$out/bc.mlm" --keep target "$out/test.mls" | mleval -t target --min auc=0.95
fi
if have mlinfo && [ -f "$out/bc.mlm" ]; then
	step "mlinfo --table coef bc.mlm | head -5"
	mlinfo --table coef "$out/bc.mlm" | head -5
fi
printf '\ndemo finished\n'
