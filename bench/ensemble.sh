#!/bin/sh
# Stacking against scikit-learn's StackingClassifier on bench/gen.c's binary problem
# (seed 1, 28 features): the first 80% of the rows train, the rest test. Both stack
# gradient boosting (100 rounds, depth 6, learning rate 0.1), logistic regression and
# naive Bayes under a logistic meta-learner over the same 5 folds (scikit-learn's
# PredefinedSplit on the fold column mlensemble --oof writes), end to end: CSV in,
# test predictions out. Not a test; run by hand after make:
#   sh bench/ensemble.sh         (BENCH_ROWS=1000000, BENCH_THREADS=2 by default;
#                                 BENCH_MEMBERS=1 also scores each member alone)
# Wall and CPU seconds (user + system) are both given: on a shared machine the CPU time
# is the steadier figure.
set -e
ML_BIN=${ML_BIN:-bin}
N=${BENCH_ROWS:-1000000}
T=${BENCH_THREADS:-2}
D=bench/data
PY=/usr/bin/python3
mkdir -p "$D"
CC=${CC:-cc}
$CC -O2 -o "$D/gen" bench/gen.c -lm
csv=$D/higgs-$N.csv
[ -s "$csv" ] || "$D/gen" "$N" 1 >"$csv"
ntr=$((N * 8 / 10))
tr=$D/ens-train-$N.csv
te=$D/ens-test-$N.csv
head -n $((ntr + 1)) "$csv" >"$tr"
{ head -n 1 "$csv"; tail -n +$((ntr + 2)) "$csv"; } >"$te"
echo "data: $tr ($ntr rows), $te ($((N - ntr)) rows), 28 features; $T threads"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/time -f "%e %M %U %S" -o "$D/ens.time" sh -c "
	'$ML_BIN/mlensemble' -q -j $T --method stack -t label \
		--base 'gbdt --rounds 100 --max-depth 6 --learning-rate 0.1' --base logistic --base nb \
		--meta logistic --cv 5 --oof '$D/ens-oof.csv' -o '$D/ens-stack.mlm' '$tr' &&
	'$ML_BIN/mlpredict' -j $T -m '$D/ens-stack.mlm' --keep label -o '$D/ens-pred.csv' '$te'"
read -r ml_wall ml_mem u s <"$D/ens.time"
ml_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
ml_mem=$(awk -v k="$ml_mem" 'BEGIN { printf "%.0f", k / 1024 }')
ml_auc=$("$ML_BIN/mleval" -t label "$D/ens-pred.csv" | awk -F, '$1 == "auc" { print $2 }')
echo "mlpipe stack, CSV in, predictions out: $ml_wall s wall, $ml_cpu s CPU, $ml_mem MB, test AUC $ml_auc"
echo "  (mlensemble -j $T --method stack -t label --base 'gbdt --rounds 100 --max-depth 6 --learning-rate 0.1' --base logistic --base nb --meta logistic --cv 5 --oof OOF -o M TRAIN; mlpredict -j $T -m M --keep label -o P TEST)"
[ -n "$BENCH_MEMBERS" ] && for b in 'gbdt --rounds 100 --max-depth 6 --learning-rate 0.1' logistic nb; do
	"$ML_BIN/mltrain" -q -j "$T" -t label -a $b -o "$D/ens-m.mlm" "$tr"
	a=$("$ML_BIN/mlpredict" -j "$T" -m "$D/ens-m.mlm" --keep label "$te" | "$ML_BIN/mleval" -t label |
		awk -F, '$1 == "auc" { print $2 }')
	echo "  member alone, -a $b: test AUC $a"
done

cat >"$D/ens-sk.py" <<'PY'
import sys, time
t0 = time.time()
import numpy as np, pandas as pd
from sklearn.ensemble import StackingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.model_selection import PredefinedSplit
from sklearn.metrics import roc_auc_score
tr, te, oof, out, jobs = sys.argv[1:6]
a = pd.read_csv(tr)
b = pd.read_csv(te)
fold = pd.read_csv(oof, usecols=["fold"])["fold"].to_numpy() - 1
X, y = a.drop(columns="label").to_numpy(), a["label"].to_numpy()
m = StackingClassifier(
    estimators=[("gbdt", HistGradientBoostingClassifier(max_iter=100, max_depth=6,
                                                         learning_rate=0.1, early_stopping=False)),
                ("logistic", LogisticRegression(max_iter=1000)), ("nb", GaussianNB())],
    final_estimator=LogisticRegression(), cv=PredefinedSplit(fold), n_jobs=int(jobs))
m.fit(X, y)
p = m.predict_proba(b.drop(columns="label").to_numpy())[:, 1]
pd.DataFrame({"label": b["label"], "p_1": p}).to_csv(out, index=False)
print("%.2f %.6f" % (time.time() - t0, roc_auc_score(b["label"], p)))
PY
if $PY -c 'import sklearn' 2>/dev/null; then
	OMP_NUM_THREADS=$T /usr/bin/time -f "%e %M %U %S" -o "$D/ens.time" \
		$PY "$D/ens-sk.py" "$tr" "$te" "$D/ens-oof.csv" "$D/ens-sk-pred.csv" 1 >"$D/ens-sk.out"
	read -r sk_wall sk_mem u s <"$D/ens.time"
	sk_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	sk_mem=$(awk -v k="$sk_mem" 'BEGIN { printf "%.0f", k / 1024 }')
	sk_auc=$(awk '{ print $2 }' "$D/ens-sk.out")
	echo "scikit-learn $($PY -c 'import sklearn; print(sklearn.__version__)') StackingClassifier, CSV in, predictions out: $sk_wall s wall, $sk_cpu s CPU, $sk_mem MB, test AUC $sk_auc"
	echo "  (OMP_NUM_THREADS=$T python3 $D/ens-sk.py TRAIN TEST OOF P 1: HistGradientBoosting(max_iter=100, max_depth=6, learning_rate=0.1, early_stopping=False), LogisticRegression(max_iter=1000), GaussianNB, final LogisticRegression, PredefinedSplit on mlensemble's folds)"
	echo "speed ratio (scikit-learn / mlpipe): wall $(awk -v a="$sk_wall" -v b="$ml_wall" 'BEGIN { printf "%.2f", a / b }')x, CPU $(awk -v a="$sk_cpu" -v b="$ml_cpu" 'BEGIN { printf "%.2f", a / b }')x; AUC difference (mlpipe - scikit-learn): $(awk -v a="$ml_auc" -v b="$sk_auc" 'BEGIN { printf "%+.5f", a - b }')"
fi
