#!/bin/sh
# -a mlp against scikit-learn's MLPClassifier on Fashion-MNIST (Debian's
# dataset-fashion-mnist: 60000 training and 10000 test images, 784 pixels, 10 classes),
# converted to CSV by bench/idx2csv.c: one hidden layer of 128 ReLU units, 10 epochs,
# batches of 200, Adam at 0.001, no weight penalty, inputs standardised (inside the model
# for mltrain, by StandardScaler for scikit-learn). Prints the fit times (wall and CPU),
# the test accuracies, and the training loop's matrix work against the machine's sgemm
# peak measured by bench/sgemm_peak.c with the same threads. Not a test; after make:
#   sh bench/mlp.sh          (BENCH_THREADS=2 by default; BENCH_ROWS to use fewer rows)
# The machine is shared: CPU seconds are reported beside wall times, since load from
# other processes inflates wall times far more.
set -e
ML_BIN=${ML_BIN:-bin}
T=${BENCH_THREADS:-2}
N=${BENCH_ROWS:-60000}
D=bench/data
FM=/usr/share/datasets/fashion-mnist
PY=/usr/bin/python3
CC=${CC:-cc}
mkdir -p "$D"
if [ ! -r "$FM/train-images-idx3-ubyte.gz" ] || [ ! -r "$FM/t10k-images-idx3-ubyte.gz" ]; then
	echo "mlp: skipped, no Fashion-MNIST in $FM (apt-get install dataset-fashion-mnist)"
	exit 0
fi
$CC -O2 -std=c11 -Wall -Wextra -o "$D/idx2csv" bench/idx2csv.c -lz
$CC -O2 -std=c11 -Wall -Wextra -o "$D/sgemm_peak" bench/sgemm_peak.c \
	$(pkg-config --libs openblas)
full=$D/fmnist-train.csv
te=$D/fmnist-test.csv
[ -s "$full" ] || "$D/idx2csv" "$FM/train-images-idx3-ubyte.gz" \
	"$FM/train-labels-idx1-ubyte.gz" >"$full"
[ -s "$te" ] || "$D/idx2csv" "$FM/t10k-images-idx3-ubyte.gz" "$FM/t10k-labels-idx1-ubyte.gz" >"$te"
tr=$full
if [ "$N" -lt 60000 ]; then
	tr=$D/fmnist-train-$N.csv
	[ -s "$tr" ] || head -n $((N + 1)) "$full" >"$tr"
fi
export OPENBLAS_NUM_THREADS="$T" OMP_NUM_THREADS="$T"
echo "data: $tr ($N rows), $te (10000 rows), 784 features, 10 classes; $T threads"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "sgemm peak ($D/sgemm_peak, OPENBLAS_NUM_THREADS=$T):"
"$D/sgemm_peak" >"$D/sgemm_peak.txt"
sed 's/^/  /' "$D/sgemm_peak.txt"
peak=$(awk '/^peak/ { print $2 }' "$D/sgemm_peak.txt")
echo

# --- mlpipe -------------------------------------------------------------------------------
model=$D/fmnist-mlp.mlm
set -- "$ML_BIN/mltrain" -v -j "$T" --seed 1 -t label --task classify -a mlp --hidden 128 \
	--epochs 10 --batch-size 200 --learning-rate 0.001 --optimizer adam -o "$model" "$tr"
/usr/bin/time -f "time %e %U %S" "$@" 2>"$D/mlp.log"
loop=$(grep 'mlp: 10 epochs' "$D/mlp.log")
fit=$(awk '/times:/ { for (i = 1; i <= NF; i++) if ($i == "fit") print $(i + 1) }' "$D/mlp.log")
acc=$("$ML_BIN/mlpredict" -m "$model" --keep label --no-proba "$te" |
	awk -F, 'NR > 1 { n++; c += ($1 == $2) } END { printf "%.4f", c / n }')
echo "mltrain: fit $fit s; $(sed 's/^mltrain: //' <<EOT
$loop
EOT
); test accuracy $acc"
echo "  ($*)"
cpu_loop=$(echo "$loop" | sed 's/.*(\([0-9.]*\) CPU s).*/\1/')
gf=$(echo "$loop" | sed 's/.*, \([0-9.]*\) GFLOP per CPU second/\1/')
# the same work over the epochs alone, after the rows' one-time encoding
setup=$(grep 'mlp: of which' "$D/mlp.log" | sed 's/^mltrain: mlp: //')
gf_ep=$(echo "$setup" | sed 's/.*the epochs alone \([0-9.]*\) GFLOP per CPU second/\1/')
echo "  ($setup)"

# --- scikit-learn -------------------------------------------------------------------------
if $PY -c 'import sklearn' 2>/dev/null; then
	$PY - "$tr" "$te" <<'PYEOF' >"$D/mlp-sk.txt"
import sys, time, warnings
import numpy as np
import sklearn
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
warnings.simplefilter("ignore")
tr = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, dtype=np.float64)
te = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float64)
w0, c0 = time.time(), time.process_time()
sc = StandardScaler().fit(tr[:, 1:])
clf = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="adam", alpha=0.0,
                    batch_size=200, learning_rate_init=0.001, max_iter=10, shuffle=True,
                    random_state=1, tol=0.0, n_iter_no_change=1000)
clf.fit(sc.transform(tr[:, 1:]), tr[:, 0].astype(int))
w1, c1 = time.time(), time.process_time()
acc = clf.score(sc.transform(te[:, 1:]), te[:, 0].astype(int))
print("%.3f %.3f %.4f %s" % (w1 - w0, c1 - c0, acc, sklearn.__version__))
PYEOF
	read -r sk_wall sk_cpu sk_acc sk_ver <"$D/mlp-sk.txt"
	echo "scikit-learn $sk_ver MLPClassifier: fit $sk_wall s ($sk_cpu CPU s); test accuracy $sk_acc"
	echo "  (MLPClassifier(hidden_layer_sizes=(128,), alpha=0, batch_size=200," \
		"learning_rate_init=0.001, max_iter=10, random_state=1) on StandardScaler inputs)"
	echo
	echo "fit time ratio, scikit-learn / mltrain: wall $(awk -v a="$sk_wall" -v b="$fit" \
		'BEGIN { printf "%.1f", a / b }')x, training loop CPU $(awk -v a="$sk_cpu" -v b="$cpu_loop" \
		'BEGIN { printf "%.1f", a / b }')x"
	echo "accuracy, mltrain - scikit-learn: $(awk -v a="$acc" -v b="$sk_acc" 'BEGIN { printf "%+.4f", a - b }')"
else
	echo "scikit-learn: skipped (no python3-sklearn)"
fi
echo "training loop: $gf GFLOP per CPU second, $(awk -v a="$gf" -v p="$peak" -v t="$T" \
	'BEGIN { printf "%.0f", 100 * a * t / p }')% of the sgemm peak of $peak GFLOP/s on $T threads"
echo "epochs alone: $gf_ep GFLOP per CPU second, $(awk -v a="$gf_ep" -v p="$peak" -v t="$T" \
	'BEGIN { printf "%.0f", 100 * a * t / p }')% of that peak"
