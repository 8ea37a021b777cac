#!/bin/sh
# Tree learners against XGBoost and scikit-learn on a generated 1M x 28 binary problem
# (bench/gen.c, seed 1): the first 800000 rows train, the other 200000 test. Prints each
# figure with the command behind it. Not a test; run by hand after make:
#   sh bench/trees.sh            (BENCH_THREADS=2 by default, BENCH_ROUNDS=100)
# Peers, each skipped when absent: Debian's xgboost command (apt-get install xgboost),
# python3-xgboost and python3-sklearn. Wall times are the best of BENCH_REPEAT runs
# (default 3); peak memory is the maximum resident set size from /usr/bin/time. The
# from-CSV ratio is also taken over BENCH_PAIRS (default 5) alternating pairs of runs.
# Run it on an otherwise idle machine: XGBoost's OpenMP threads slow down several times
# over when another process holds a core, which would flatter the ratios.
set -e
ML_BIN=${ML_BIN:-bin}
T=${BENCH_THREADS:-2}
R=${BENCH_ROUNDS:-100}
REP=${BENCH_REPEAT:-3}
D=bench/data
PY=/usr/bin/python3
mkdir -p "$D"
CC=${CC:-cc}

. bench/trees_lib.sh
trees_data
trees_fit_build
tr=$D/trees-train.csv
te=$D/trees-test.csv

echo "data: $tr (800000 rows), $te (200000 rows), 28 features; $T threads, $R rounds, depth 6, eta 0.1"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# --- mlpipe -------------------------------------------------------------------------------
ml_model=$D/trees-gbdt.mlm
set -- "$ML_BIN/mltrain" -q -t label -a gbdt -j "$T" --rounds "$R" --learning-rate 0.1 \
	--max-depth 6 -o "$ml_model" "$tr"
ml_train_cmd="$*"
best "$@"
ml_cli=$best
ml_mem=$mem
echo "mltrain from CSV:        $ml_cli s, $ml_mem MB   ($*)"
set -- "$D/trees_fit" "$tr" gbdt "$T" auto rounds "$R" learning-rate 0.1 max-depth 6
fit "$@"
ml_fit=$fit
echo "mlpipe training alone:   $ml_fit s   ($*; ml_learner_fit on rows read beforehand)"
set -- "$ML_BIN/mlpredict" -m "$ml_model" --keep label -o "$D/trees-pred.csv" "$te"
ml_pred_cmd="$*"
best "$@"
ml_pred=$best
echo "mlpredict:               $ml_pred s, $mem MB   ($*)"
ml_auc=$("$ML_BIN/mleval" -t label "$D/trees-pred.csv" | awk -F, '$1 == "auc" { print $2 }')
echo "mlpipe test AUC:         $ml_auc   ($ML_BIN/mleval -t label $D/trees-pred.csv)"
echo

# --- XGBoost command ----------------------------------------------------------------------
if command -v xgboost >/dev/null 2>&1; then
	cat >"$D/xgb-train.conf" <<EOF
booster = gbtree
objective = binary:logistic
tree_method = hist
nthread = $T
eta = 0.1
max_depth = 6
num_round = $R
data = "$D/trees-train-nh.csv?format=csv&label_column=0"
model_out = "$D/trees-xgb.model"
verbosity = 0
EOF
	cat >"$D/xgb-pred.conf" <<EOF
task = pred
nthread = $T
model_in = "$D/trees-xgb.model"
test:data = "$D/trees-test-nh.csv?format=csv&label_column=0"
name_pred = "$D/trees-xgb-pred.txt"
EOF
	best xgboost "$D/xgb-train.conf"
	xgb_cli=$best
	xgb_mem=$mem
	echo "xgboost CLI train:       $xgb_cli s, $xgb_mem MB   (xgboost $D/xgb-train.conf: tree_method=hist nthread=$T eta=0.1 max_depth=6 num_round=$R)"
	best xgboost "$D/xgb-pred.conf"
	xgb_pred=$best
	echo "xgboost CLI predict:     $xgb_pred s, $mem MB   (xgboost $D/xgb-pred.conf)"
	if $PY -c 'import sklearn' 2>/dev/null; then
		xgb_auc=$($PY -c "
import numpy as np
from sklearn.metrics import roc_auc_score
y = np.loadtxt('$D/trees-test-nh.csv', delimiter=',', usecols=0)
p = np.loadtxt('$D/trees-xgb-pred.txt')
print('%.6f' % roc_auc_score(y, p))")
		echo "xgboost test AUC:        $xgb_auc"
	fi
	echo
	echo "ratios (goal): mltrain from CSV / xgboost CLI = $(ratio "$ml_cli" "$xgb_cli") (<= 0.5)," \
		"peak memory $ml_mem / $xgb_mem MB (<=), mlpredict / xgboost predict =" \
		"$(ratio "$ml_pred" "$xgb_pred") (<= 1)"
	[ -n "$xgb_auc" ] && echo "AUC mlpipe - xgboost = $(diff4 "$ml_auc" "$xgb_auc") (>= -0.001)"
	# The time goals again in pairs, mlpipe then the XGBoost command, so that both of a
	# pair meet the same state of a shared machine; the median of the pairs' ratios.
	# shellcheck disable=SC2086
	pairs "$ml_train_cmd" "xgboost $D/xgb-train.conf" &&
		echo "paired train runs: mltrain$pa s; xgboost CLI$pb s; ratios$pr;" \
			"median $(median $pr) (<= 0.5)"
	# shellcheck disable=SC2086
	pairs "$ml_pred_cmd" "xgboost $D/xgb-pred.conf" &&
		echo "paired predict runs: mlpredict$pa s; xgboost CLI$pb s; ratios$pr;" \
			"median $(median $pr) (<= 1)"
	echo
fi

# --- Python peers: training alone -----------------------------------------------------------
export OMP_NUM_THREADS="$T"
if $PY -c 'import xgboost' 2>/dev/null; then
	xgb_fit=$($PY -c "
import time, numpy as np, xgboost as xgb
a = np.loadtxt('$D/trees-train-nh.csv', delimiter=',', dtype=np.float32)
d = xgb.DMatrix(a[:, 1:], label=a[:, 0], nthread=$T)
best = None
for i in range($REP):
    t = time.perf_counter()
    xgb.train({'objective': 'binary:logistic', 'tree_method': 'hist', 'nthread': $T,
               'eta': 0.1, 'max_depth': 6}, d, $R)
    t = time.perf_counter() - t
    best = t if best is None or t < best else best
print('%.3f' % best)")
	echo "python3-xgboost $($PY -c 'import xgboost; print(xgboost.__version__)') training alone: $xgb_fit s   (xgb.train on a DMatrix built beforehand, same parameters)"
	echo "ratio: mlpipe training alone / xgboost training alone = $(ratio "$ml_fit" "$xgb_fit") (<= 0.8)"
fi
if $PY -c 'import sklearn' 2>/dev/null; then
	hgb_fit=$($PY -c "
import os, time, numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
a = np.loadtxt('$D/trees-train-nh.csv', delimiter=',')
best = None
for i in range($REP):
    m = HistGradientBoostingClassifier(max_iter=$R, learning_rate=0.1, max_depth=6,
                                       max_leaf_nodes=None, early_stopping=False)
    t = time.perf_counter()
    m.fit(a[:, 1:], a[:, 0])
    t = time.perf_counter() - t
    best = t if best is None or t < best else best
print('%.3f' % best)")
	echo "sklearn $($PY -c 'import sklearn; print(sklearn.__version__)') HistGradientBoosting training alone: $hgb_fit s   (max_iter=$R, max_depth=6, no leaf limit, OMP_NUM_THREADS=$T)"
fi
trees_clean
