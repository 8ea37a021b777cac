#!/bin/sh
# Anomaly ensembles on labelled outlier data (the outlier-benchmark protocol): for each
# data set of bench/anomaly_sets.py (R's mlbench and scikit-learn's bundled data, made as
# the ODDS benchmark makes its sets) and each seed, a stratified 60/40 split, features
# standardised on the training part (a column constant there dropped), detectors fitted
# on the training part without labels, ROC AUC of their scores on the test part; then the
# mean over seeds per set and the mean over sets. Compared: scikit-learn's
# IsolationForest (random_state = seed) and ours (-a iforest, lof, zscore, ecod), the
# plain average of the standardised iforest, lof and zscore scores (mlensemble -w
# 1,1,1), the agreement-weighted ensemble of the three (mlensemble --method anomaly,
# weights from the rows each detector keeps), the same with the training part given as
# FILE, and the four with ecod.
# Needs Rscript with mlbench (apt-get install r-cran-mlbench) and /usr/bin/python3 with
# scikit-learn and SciPy. Not a test.
set -e
ML_BIN=${ML_BIN:-bin}
PATH="$(cd "$ML_BIN" && pwd):$PATH"
D=bench/data/anomaly_ens
PY=/usr/bin/python3
SEEDS=${BENCH_SEEDS:-1 2 3 4 5}
mkdir -p "$D"
if [ ! -s "$D/wine.csv" ]; then
	Rscript bench/anomaly_raw.R "$D"
	$PY bench/anomaly_sets.py "$D"
fi
SETS=${BENCH_SETS:-$(cd "$D" && ls *.csv | sed 's/\.csv$//' | grep -v '^auc$')}
: >"$D/auc.csv"
for set in $SETS; do
	for seed in $SEEDS; do
		w=$D/run
		rm -rf "$w"
		mkdir -p "$w"
		# the split, the scaling and scikit-learn's isolation forest
		$PY - "$D/$set.csv" "$w" "$seed" <<'PY'
import sys
import numpy as np, pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import train_test_split
f, w, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_csv(f)
y = df.pop("outlier").values
tr, te, ytr, yte = train_test_split(df, y, test_size=0.4, random_state=seed, stratify=y)
keep = tr.columns[tr.std(ddof=0) > 0]
mu, sd = tr[keep].mean(), tr[keep].std(ddof=0)
tr = (tr[keep] - mu) / sd
te = (te[keep] - mu) / sd
tr.to_csv(w + "/tr.csv", index=False, float_format="%.17g")
te.to_csv(w + "/te.csv", index=False, float_format="%.17g")
np.savetxt(w + "/y.txt", yte, fmt="%d")
s = -IsolationForest(random_state=seed).fit(tr.values).score_samples(te.values)
np.savetxt(w + "/s_sklearn_iforest.txt", s, fmt="%.17g")
PY
		for a in iforest lof zscore ecod; do
			mltrain -q -a $a --seed "$seed" -o "$w/$a.mlm" "$w/tr.csv"
		done
		mlensemble --method anomaly -w 1,1,1 -m "$w/iforest.mlm" -m "$w/lof.mlm" -m "$w/zscore.mlm" -o "$w/average.mlm"
		mlensemble --method anomaly -m "$w/iforest.mlm" -m "$w/lof.mlm" -m "$w/zscore.mlm" -o "$w/agreement.mlm"
		mlensemble --method anomaly -m "$w/iforest.mlm" -m "$w/lof.mlm" -m "$w/zscore.mlm" -o "$w/agreement_file.mlm" "$w/tr.csv"
		mlensemble --method anomaly -m "$w/iforest.mlm" -m "$w/lof.mlm" -m "$w/zscore.mlm" -m "$w/ecod.mlm" -o "$w/agreement4.mlm"
		for m in iforest lof zscore ecod average agreement agreement_file agreement4; do
			mlpredict -m "$w/$m.mlm" "$w/te.csv" | tail -n +2 | cut -d, -f1 >"$w/s_$m.txt"
		done
		$PY - "$w" "$set" "$seed" <<'PY' >>"$D/auc.csv"
import glob, os, sys
import numpy as np
from sklearn.metrics import roc_auc_score
w, name, seed = sys.argv[1:4]
y = np.loadtxt(w + "/y.txt")
for f in sorted(glob.glob(w + "/s_*.txt")):
    print("%s,%s,%s,%.4f" % (name, seed, os.path.basename(f)[2:-4], roc_auc_score(y, np.loadtxt(f))))
PY
	done
done
# the table: per set the mean over seeds, then the mean over sets
$PY - "$D/auc.csv" <<'PY'
import sys
import pandas as pd
a = pd.read_csv(sys.argv[1], names=["set", "seed", "method", "auc"])
t = a.groupby(["set", "method"]).auc.mean().unstack()
cols = ["sklearn_iforest", "iforest", "lof", "zscore", "ecod", "average", "agreement",
        "agreement_file", "agreement4"]
t = t[cols]
t.loc["(mean)"] = t.mean()
print("| set | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for s, r in t.iterrows():
    print("| %s | " % s + " | ".join("%.3f" % v for v in r) + " |")
PY
