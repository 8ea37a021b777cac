#!/bin/sh
# Two more tree benchmarks, each figure printed with the command behind it. Not a test; run
# by hand after make (a full run takes a long while; BENCH_REPEAT is 1 by default here):
#   sh bench/trees_mc.sh
# Settings: BENCH_THREADS (default 2), BENCH_ROUNDS (boosting rounds, default 100),
# BENCH_REPEAT (runs per figure, best wall time kept, default 1), BENCH_MNIST_ROWS (the
# first rows of Fashion-MNIST's training set, default all 60000), BENCH_RF_ROWS (the first
# rows of the generated training set for the random forests, default 200000), BENCH_PART
# (mc, rf or all, the default: which of the two below run).
#
# 1. Multiclass gradient boosting on Fashion-MNIST (10 classes, 784 pixel features; 60000
#    training and 10000 test images) from Debian's dataset-fashion-mnist
#    (apt-get install dataset-fashion-mnist), converted to CSV by bench/idx2csv.c.
#    mltrain -a gbdt --task classify (softmax) against Debian's xgboost command
#    (multi:softmax, apt-get install xgboost) and python3-xgboost's training alone; the
#    same rounds, eta 0.1, depth 6, histogram splits on both sides. Test accuracy for each.
# 2. Random forests on the generated binary problem of bench/trees.sh (bench/gen.c, seed 1;
#    its first BENCH_RF_ROWS training rows, all 200000 test rows): mltrain -a rf against
#    scikit-learn's RandomForestClassifier (python3-sklearn) and R's ranger
#    (r-cran-ranger), 100 trees on each side. Test AUC for each.
# Peers are skipped when absent. Wall times are the best of BENCH_REPEAT runs; peak memory is
# the maximum resident set size from /usr/bin/time. As for bench/trees.sh, run it on an
# otherwise idle machine.
set -e
ML_BIN=${ML_BIN:-bin}
T=${BENCH_THREADS:-2}
R=${BENCH_ROUNDS:-100}
REP=${BENCH_REPEAT:-1}
MN=${BENCH_MNIST_ROWS:-60000}
RFN=${BENCH_RF_ROWS:-200000}
PART=${BENCH_PART:-all}
D=bench/data
FM=/usr/share/datasets/fashion-mnist
PY=/usr/bin/python3
mkdir -p "$D"
CC=${CC:-cc}

. bench/trees_lib.sh
trees_fit_build

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $T threads, best of $REP"
echo
export OMP_NUM_THREADS="$T"

# === 1. Multiclass: Fashion-MNIST ==========================================================
if [ "$PART" = rf ]; then
	:
elif [ ! -r "$FM/train-images-idx3-ubyte.gz" ] || [ ! -r "$FM/train-labels-idx1-ubyte.gz" ] ||
	[ ! -r "$FM/t10k-images-idx3-ubyte.gz" ] || [ ! -r "$FM/t10k-labels-idx1-ubyte.gz" ]; then
	echo "multiclass: skipped, no Fashion-MNIST in $FM (apt-get install dataset-fashion-mnist)"
	echo
else
	$CC -O2 -std=c11 -Wall -Wextra -o "$D/idx2csv" bench/idx2csv.c -lz
	full=$D/fmnist-train.csv
	te=$D/fmnist-test.csv
	[ -s "$full" ] || "$D/idx2csv" "$FM/train-images-idx3-ubyte.gz" \
		"$FM/train-labels-idx1-ubyte.gz" >"$full"
	[ -s "$te" ] || "$D/idx2csv" "$FM/t10k-images-idx3-ubyte.gz" \
		"$FM/t10k-labels-idx1-ubyte.gz" >"$te"
	[ -s "$D/fmnist-test-nh.csv" ] || tail -n +2 "$te" >"$D/fmnist-test-nh.csv"
	if [ "$MN" -ge 60000 ]; then
		MN=60000
		tr=$full
	else
		tr=$D/fmnist-train-$MN.csv
		[ -s "$tr" ] || head -n $((MN + 1)) "$full" >"$tr"
	fi
	trnh=${tr%.csv}-nh.csv
	[ -s "$trnh" ] || tail -n +2 "$tr" >"$trnh"
	cut -d, -f1 "$D/fmnist-test-nh.csv" >"$D/fmnist-test-labels.txt"

	echo "multiclass data: $tr ($MN rows), $te (10000 rows), 784 pixel features, 10 classes;" \
		"$R rounds, depth 6, eta 0.1"
	# The label is numeric with ten values, which mltrain would regress: --task classify
	# makes it a class target, and gbdt's objective auto is then softmax over the classes.
	ml_model=$D/fmnist-gbdt.mlm
	set -- "$ML_BIN/mltrain" -q -t label --task classify -a gbdt -j "$T" --rounds "$R" \
		--learning-rate 0.1 --max-depth 6 -o "$ml_model" "$tr"
	best "$@"
	ml_cli=$best
	ml_mem=$mem
	echo "mltrain from CSV:        $ml_cli s, $ml_mem MB   ($*)"
	set -- "$D/trees_fit" "$tr" gbdt "$T" classify rounds "$R" learning-rate 0.1 max-depth 6
	fit "$@"
	ml_fit=$fit
	echo "mlpipe training alone:   $ml_fit s   ($*; ml_learner_fit on rows read beforehand)"
	set -- "$ML_BIN/mlpredict" -j "$T" -m "$ml_model" --keep label -o "$D/fmnist-pred.csv" "$te"
	best "$@"
	ml_pred=$best
	echo "mlpredict:               $ml_pred s, $mem MB   ($*)"
	ml_acc=$("$ML_BIN/mleval" -t label "$D/fmnist-pred.csv" |
		awk -F, '$1 == "accuracy" { printf "%.4f", $2 }')
	echo "mlpipe test accuracy:    $ml_acc   ($ML_BIN/mleval -t label $D/fmnist-pred.csv)"
	echo

	if command -v xgboost >/dev/null 2>&1; then
		cat >"$D/fmnist-xgb-train.conf" <<EOF
booster = gbtree
objective = multi:softmax
num_class = 10
tree_method = hist
nthread = $T
eta = 0.1
max_depth = 6
num_round = $R
data = "$trnh?format=csv&label_column=0"
model_out = "$D/fmnist-xgb.model"
verbosity = 0
EOF
		cat >"$D/fmnist-xgb-pred.conf" <<EOF
task = pred
nthread = $T
model_in = "$D/fmnist-xgb.model"
test:data = "$D/fmnist-test-nh.csv?format=csv&label_column=0"
name_pred = "$D/fmnist-xgb-pred.txt"
EOF
		best xgboost "$D/fmnist-xgb-train.conf"
		xgb_cli=$best
		xgb_mem=$mem
		echo "xgboost CLI train:       $xgb_cli s, $xgb_mem MB   (xgboost $D/fmnist-xgb-train.conf:" \
			"multi:softmax num_class=10 tree_method=hist nthread=$T eta=0.1 max_depth=6 num_round=$R)"
		best xgboost "$D/fmnist-xgb-pred.conf"
		xgb_pred=$best
		echo "xgboost CLI predict:     $xgb_pred s, $mem MB   (xgboost $D/fmnist-xgb-pred.conf)"
		# multi:softmax predicts the class index itself, one per line
		xgb_acc=$(awk 'NR == FNR { y[FNR] = $1; next }
			{ n++; if ($1 + 0 == y[FNR] + 0) c++ }
			END { printf "%.4f", c / n }' "$D/fmnist-test-labels.txt" "$D/fmnist-xgb-pred.txt")
		echo "xgboost test accuracy:   $xgb_acc   (awk: $D/fmnist-xgb-pred.txt against the labels)"
		echo "ratios: mltrain from CSV / xgboost CLI = $(ratio "$ml_cli" "$xgb_cli")," \
			"peak memory $ml_mem / $xgb_mem MB, mlpredict / xgboost predict =" \
			"$(ratio "$ml_pred" "$xgb_pred"); accuracy mlpipe - xgboost =" \
			"$(diff4 "$ml_acc" "$xgb_acc")"
		echo
	fi

	if $PY -c 'import xgboost, pandas' 2>/dev/null; then
		xgb_fit=$($PY -c "
import time, numpy as np, pandas as pd, xgboost as xgb
a = pd.read_csv('$trnh', header=None, dtype=np.float32).values
d = xgb.DMatrix(a[:, 1:], label=a[:, 0], nthread=$T)
best = None
for i in range($REP):
    t = time.perf_counter()
    xgb.train({'objective': 'multi:softmax', 'num_class': 10, 'tree_method': 'hist',
               'nthread': $T, 'eta': 0.1, 'max_depth': 6}, d, $R)
    t = time.perf_counter() - t
    best = t if best is None or t < best else best
print('%.3f' % best)")
		echo "python3-xgboost $($PY -c 'import xgboost; print(xgboost.__version__)') training alone:" \
			"$xgb_fit s   (xgb.train on a DMatrix built beforehand from pandas.read_csv, same parameters)"
		echo "ratio: mlpipe training alone / xgboost training alone = $(ratio "$ml_fit" "$xgb_fit")"
		echo
	fi
fi

# === 2. Random forests: the generated binary problem =========================================
[ "$PART" = mc ] && exit 0
trees_data
full=$D/trees-train.csv
te=$D/trees-test.csv
if [ "$RFN" -ge 800000 ]; then
	RFN=800000
	tr=$full
else
	tr=$D/rf-train-$RFN.csv
	[ -s "$tr" ] || head -n $((RFN + 1)) "$full" >"$tr"
fi
P=$(head -n 1 "$tr" | awk -F, '{ print NF - 1 }')
MTRY=$(awk -v p="$P" 'BEGIN { print int(sqrt(p)) }')
NT=100

# rf_ratios PEER FIT PREDICT MB AUC: mlpipe's figures against a peer's.
rf_ratios() {
	echo "ratios: mlpipe training alone / $1 fit = $(ratio "$ml_fit" "$2")," \
		"mlpredict / $1 predict = $(ratio "$ml_pred" "$3"), peak memory" \
		"mltrain $ml_mem / $1 process $4 MB; AUC mlpipe - $1 = $(diff4 "$ml_auc" "$5")"
}

# The same forest on each side, as far as the options correspond: NT trees on bootstrap
# samples as large as the training set, MTRY = floor(sqrt(P)) features tried per split, gini
# impurity, unlimited depth, any node of two rows or more may split, leaves of one row or more,
# leaf class proportions averaged over the trees. mlpipe: --mtry 0 (sqrt(p)),
# --max-depth 0, --min-samples-split 2, --min-samples-leaf 1, the defaults; it splits on at
# most 255 quantile bins per feature (--max-bin), where the peers try every distinct value.
# sklearn: RandomForestClassifier defaults with max_features='sqrt' (min_samples_split=2,
# min_samples_leaf=1, max_depth=None, bootstrap=True). ranger: probability=TRUE (averages
# per-tree class proportions, like the others) with min.node.size=1 (nodes of two rows or
# more split; the default for probability forests would be 10) and mtry=MTRY (its default).
echo "random forest data: $tr ($RFN rows), $te (200000 rows), $P features; $NT trees," \
	"mtry $MTRY (floor(sqrt($P))), no depth limit, min leaf 1"
ml_model=$D/rf.mlm
set -- "$ML_BIN/mltrain" -q -t label -a rf -j "$T" --trees "$NT" -o "$ml_model" "$tr"
best "$@"
ml_cli=$best
ml_mem=$mem
echo "mltrain from CSV:        $ml_cli s, $ml_mem MB   ($*; defaults: mtry sqrt(p), no depth limit," \
	"min leaf 1, gini, 255 bins)"
set -- "$D/trees_fit" "$tr" rf "$T" auto trees "$NT"
fit "$@"
ml_fit=$fit
echo "mlpipe training alone:   $ml_fit s   ($*; ml_learner_fit on rows read beforehand)"
set -- "$ML_BIN/mlpredict" -j "$T" -m "$ml_model" --keep label -o "$D/rf-pred.csv" "$te"
best "$@"
ml_pred=$best
echo "mlpredict:               $ml_pred s, $mem MB   ($*)"
ml_auc=$("$ML_BIN/mleval" -t label "$D/rf-pred.csv" | awk -F, '$1 == "auc" { printf "%.6f", $2 }')
echo "mlpipe test AUC:         $ml_auc   ($ML_BIN/mleval -t label $D/rf-pred.csv)"
echo

# Each peer prints its fit and predict times (data read beforehand) and the test AUC; the
# wall time and peak memory are those of the whole process (reading, fitting, predicting).
if $PY -c 'import sklearn, pandas' 2>/dev/null; then
	cat >"$D/rf-sklearn.py" <<EOF
import time, numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
tr = pd.read_csv('$tr', dtype=np.float32).values
te = pd.read_csv('$te', dtype=np.float32).values
m = RandomForestClassifier(n_estimators=$NT, n_jobs=$T, max_features='sqrt', max_depth=None,
                           min_samples_split=2, min_samples_leaf=1, random_state=42)
t = time.perf_counter()
m.fit(tr[:, 1:], tr[:, 0])
fit = time.perf_counter() - t
t = time.perf_counter()
p = m.predict_proba(te[:, 1:])[:, 1]
pred = time.perf_counter() - t
print('%.3f %.3f %.6f' % (fit, pred, roc_auc_score(te[:, 0], p)))
EOF
	best $PY "$D/rf-sklearn.py"
	read -r sk_fit sk_pred sk_auc <"$D/trees.out"
	sk_cli=$best
	sk_mem=$mem
	echo "sklearn $($PY -c 'import sklearn; print(sklearn.__version__)') RandomForest:" \
		"fit $sk_fit s, predict $sk_pred s; process $sk_cli s, $sk_mem MB   ($PY $D/rf-sklearn.py:" \
		"n_estimators=$NT n_jobs=$T max_features='sqrt' max_depth=None min_samples_leaf=1)"
	echo "sklearn test AUC:        $sk_auc"
	rf_ratios sklearn "$sk_fit" "$sk_pred" "$sk_mem" "$sk_auc"
	echo
fi

if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(ranger)' >/dev/null 2>&1; then
	cat >"$D/rf-ranger.R" <<EOF
suppressMessages(library(ranger))
tr <- as.matrix(read.csv("$tr", colClasses = "numeric"))
te <- as.matrix(read.csv("$te", colClasses = "numeric"))
y <- factor(tr[, 1])
x <- tr[, -1]
t <- system.time(m <- ranger(x = x, y = y, num.trees = $NT, mtry = $MTRY, min.node.size = 1,
                             probability = TRUE, num.threads = $T, seed = 42,
                             verbose = FALSE))[["elapsed"]]
u <- system.time(p <- predict(m, te[, -1], num.threads = $T)\$predictions[, "1"])[["elapsed"]]
# AUC by the rank (Mann-Whitney) formula, ties counted half
yt <- te[, 1] == 1
r <- rank(p)
n1 <- as.numeric(sum(yt))
n0 <- as.numeric(sum(!yt))
auc <- (sum(r[yt]) - n1 * (n1 + 1) / 2) / (n1 * n0)
cat(sprintf("%.3f %.3f %.6f\n", t, u, auc))
EOF
	best Rscript "$D/rf-ranger.R"
	read -r rg_fit rg_pred rg_auc <"$D/trees.out"
	rg_cli=$best
	rg_mem=$mem
	echo "ranger $(Rscript -e 'cat(format(packageVersion("ranger")))'):" \
		"fit $rg_fit s, predict $rg_pred s; process $rg_cli s, $rg_mem MB   (Rscript $D/rf-ranger.R:" \
		"num.trees=$NT mtry=$MTRY min.node.size=1 probability=TRUE num.threads=$T)"
	echo "ranger test AUC:         $rg_auc"
	rf_ratios ranger "$rg_fit" "$rg_pred" "$rg_mem" "$rg_auc"
	echo
fi
trees_clean
