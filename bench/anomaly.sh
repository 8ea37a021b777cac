#!/bin/sh
# Anomaly detectors against scikit-learn: ROC AUC on labelled outliers (Shuttle from
# Debian's r-cran-mlbench: Rad.Flow normal, the other classes outliers but High, which is
# left out as ODDS leaves out its class 4; 60/40 split, features standardised on the training part, the
# detectors fitted on the training rows without labels, AUC on the test part, averaged
# over seeds), then isolation forest fit and score CPU times on generated data.
# Needs Rscript with mlbench (apt-get install r-cran-mlbench) and /usr/bin/python3 with
# scikit-learn. Not a test.
set -e
ML_BIN=${ML_BIN:-bin}
PATH="$(cd "$ML_BIN" && pwd):$PATH"
D=bench/data/anomaly
mkdir -p "$D"
PY=/usr/bin/python3
SEEDS=${BENCH_SEEDS:-1 2 3}
ROWS=${BENCH_ROWS:-1000000}

# --- Accuracy -------------------------------------------------------------------------------
if [ "${BENCH_PART:-all}" != speed ]; then
if [ ! -s "$D/shuttle.csv" ]; then
	Rscript -e 'suppressMessages(library(mlbench)); data(Shuttle); s <- Shuttle[Shuttle$Class != "High", ]; s$outlier <- as.integer(s$Class != "Rad.Flow"); s$Class <- NULL; write.csv(s, "'"$D"'/shuttle.csv", row.names = FALSE, quote = FALSE)'
fi
echo "shuttle: $(($(wc -l <"$D/shuttle.csv") - 1)) rows, $(awk -F, 'NR > 1 { n += $NF } END { print n }' "$D/shuttle.csv") outliers"

auc() { # truth file (one 0/1 a line), scores file
	$PY -c 'import sys; from sklearn.metrics import roc_auc_score as a
t = [int(x) for x in open(sys.argv[1])]; s = [float(x) for x in open(sys.argv[2])]
print("%.4f" % a(t, s))' "$1" "$2"
}

for seed in $SEEDS; do
	mlsplit --test 0.4 --stratify outlier --seed "$seed" --train-out "$D/tr.csv" --test-out "$D/te.csv" "$D/shuttle.csv"
	mlfeat --save "$D/scale.mlm" -t outlier --scale standard <"$D/tr.csv" | mlcat --select '!outlier' >"$D/trs.csv"
	mlfeat --load "$D/scale.mlm" <"$D/te.csv" >"$D/tes.csv"
	mlcat --select outlier "$D/tes.csv" | tail -n +2 >"$D/truth.txt"
	for a in "iforest" "iforest --extended yes" "lof" "zscore" "zscore --method mahalanobis" "hbos"; do
		mltrain -q -a $a --seed "$seed" -o "$D/m.mlm" "$D/trs.csv"
		mlpredict -m "$D/m.mlm" "$D/tes.csv" | cut -d, -f1 | tail -n +2 >"$D/s.txt"
		echo "$seed,ours,$a,$(auc "$D/truth.txt" "$D/s.txt")"
	done
	$PY - "$D/trs.csv" "$D/tes.csv" "$seed" <<'PY'
import sys
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
tr = pd.read_csv(sys.argv[1]); te = pd.read_csv(sys.argv[2]); seed = int(sys.argv[3])
y = te.pop("outlier")
X = tr[te.columns].values
s = -IsolationForest(random_state=seed).fit(X).score_samples(te.values)
print("%d,scikit-learn,iforest,%.4f" % (seed, roc_auc_score(y, s)))
s = -LocalOutlierFactor(n_neighbors=20, novelty=True).fit(X).score_samples(te.values)
print("%d,scikit-learn,lof,%.4f" % (seed, roc_auc_score(y, s)))
PY
done | tee "$D/auc.csv"
echo "mean ROC AUC over seeds $SEEDS:"
awk -F, '{ k = $2 " " $3; s[k] += $4; n[k]++ } END { for (k in s) printf "  %-40s %.4f\n", k, s[k] / n[k] }' "$D/auc.csv" | sort
fi

# --- Speed ----------------------------------------------------------------------------------
# CPU seconds (user + sys) of a command, the least of three runs: the machine is shared, and
# load inflates CPU time much less than wall time
cpu() {
	b=
	for i in 1 2 3; do
		/usr/bin/time -f "%U %S" -o "$D/cpu.txt" "$@" >/dev/null 2>&1
		t=$(awk '{ print $1 + $2 }' "$D/cpu.txt")
		b=$(awk -v b="$b" -v t="$t" 'BEGIN { printf "%.2f", (b == "" || t < b) ? t : b }')
	done
	echo "$b"
}
$PY -c "
import numpy as np
rng = np.random.default_rng(1)
X = rng.normal(size=($ROWS, 8))
np.savetxt('$D/speed.csv', X, delimiter=',', header=','.join('x%d' % i for i in range(8)), comments='', fmt='%.6g')
"
mlcat -f stream "$D/speed.csv" >"$D/speed.mls"
echo "isolation forest, $ROWS rows x 8 features, 100 trees, 1 thread, CPU seconds (least of 3):"
c_fit=$(cpu mltrain -q -j 1 -a iforest -o "$D/if.mlm" "$D/speed.mls")
c_score=$(cpu mlpredict -j 1 -f stream -m "$D/if.mlm" "$D/speed.mls")
c_read=$(cpu mlcat -f stream "$D/speed.mls")
echo "  ours: fit $c_fit s (mltrain -q -j 1 -a iforest -o if.mlm speed.mls: read, fit, score the training rows to calibrate)"
echo "  ours: score $c_score s (mlpredict -j 1 -f stream -m if.mlm speed.mls, reading and writing included), $(awk -v n="$ROWS" -v t="$c_score" 'BEGIN { printf "%.0f", n / t }') rows/s per core; mlcat -f stream of the same input alone $c_read s"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $PY - "$D/speed.csv" <<'PY'
import sys, time
import pandas as pd
from sklearn.ensemble import IsolationForest
X = pd.read_csv(sys.argv[1]).values
best_fit = best_score = 1e9
for i in range(3):
    t = time.process_time(); m = IsolationForest(random_state=i, n_jobs=1).fit(X); best_fit = min(best_fit, time.process_time() - t)
    t = time.process_time(); m.score_samples(X); best_score = min(best_score, time.process_time() - t)
print("  scikit-learn: fit %.2f s, score_samples %.2f s, fit + score_samples %.2f s (data in memory: reading not counted)" % (best_fit, best_score, best_fit + best_score))
PY
