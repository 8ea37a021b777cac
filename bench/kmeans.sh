#!/bin/sh
# -a kmeans against scikit-learn's KMeans on generated blobs, Lloyd's iterations and
# Elkan's on both sides
# (BENCH_ROWS rows, default 1000000, of 28 features around 8 centres; awk, seed 1): k = 8,
# one k-means++ start, at most 300 iterations, tol 1e-4 on both sides. Prints the fit
# times (wall, and CPU seconds), the iterations and inertia each reached, and the time per iteration
# (the runs start from different centres, so their iteration counts differ). Not a test;
# after make:
#   sh bench/kmeans.sh       (BENCH_THREADS=2 by default)
set -e
ML_BIN=${ML_BIN:-bin}
T=${BENCH_THREADS:-2}
N=${BENCH_ROWS:-1000000}
D=bench/data
PY=/usr/bin/python3
mkdir -p "$D"
csv=$D/blobs-$N.csv
[ -s "$csv" ] || awk -v n="$N" 'BEGIN {
	srand(1)
	for (c = 0; c < 8; c++) for (j = 1; j <= 28; j++) m[c, j] = 10 * rand() - 5
	for (j = 1; j <= 28; j++) printf "x%d%s", j, j < 28 ? "," : "\n"
	for (i = 0; i < n; i++) {
		c = int(8 * rand())
		for (j = 1; j <= 28; j++) {
			u = rand(); v = rand()
			z = sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v)
			printf "%.5f%s", m[c, j] + 1.5 * z, j < 28 ? "," : "\n"
		}
	}
}' >"$csv"
export OPENBLAS_NUM_THREADS="$T" OMP_NUM_THREADS="$T"
echo "data: $csv ($N rows, 28 features, 8 blobs); $T threads"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for method in lloyd elkan; do
echo "--- $method"
model=$D/kmeans.mlm
set -- "$ML_BIN/mltrain" -v -j "$T" -a kmeans --k 8 --method "$method" --seed 1 -o "$model" "$csv"
/usr/bin/time -f "time %e %U %S" "$@" 2>"$D/kmeans.log"
cpu=$(awk '/^time / { printf "%.2f", $3 + $4 }' "$D/kmeans.log")
fit=$(awk '/times:/ { for (i = 1; i <= NF; i++) if ($i == "fit") print $(i + 1) }' "$D/kmeans.log")
"$ML_BIN/mlinfo" --table fit "$model" >"$D/kmeans-fit.csv"
it=$(awk -F, '$1 == "iterations" { print $2 }' "$D/kmeans-fit.csv")
in=$(awk -F, '$1 == "inertia" { print $2 }' "$D/kmeans-fit.csv")
echo "mltrain: fit $fit s, $it iterations ($(awk -v a="$fit" -v b="$it" \
	'BEGIN { printf "%.3f", a / (b + 1) }') s each), inertia $in;" \
	"whole command $cpu CPU s"
echo "  ($*)"
if $PY -c 'import sklearn, pandas' 2>/dev/null; then
	$PY - "$csv" "$method" <<'PYEOF' >"$D/kmeans-sk.txt"
import sys, time
import pandas as pd
import sklearn
from sklearn.cluster import KMeans
X = pd.read_csv(sys.argv[1]).to_numpy()
t0, c0 = time.time(), time.process_time()
km = KMeans(n_clusters=8, n_init=1, algorithm=sys.argv[2], random_state=1).fit(X)
t1, c1 = time.time(), time.process_time()
print("%.3f %.3f %d %.10g %s" % (t1 - t0, c1 - c0, km.n_iter_, km.inertia_,
                                 sklearn.__version__))
PYEOF
	read -r sk_wall sk_cpu sk_it sk_in sk_ver <"$D/kmeans-sk.txt"
	echo "scikit-learn $sk_ver KMeans: fit $sk_wall s, $sk_it iterations ($(awk -v a="$sk_wall" \
		-v b="$sk_it" 'BEGIN { printf "%.3f", a / (b + 1) }') s each), inertia $sk_in;" \
		"fit $sk_cpu CPU s"
	echo "  (KMeans(n_clusters=8, n_init=1, algorithm=\"$method\", random_state=1))"
	echo "fit time ratio, scikit-learn / mltrain: $(awk -v a="$sk_wall" -v b="$fit" \
		'BEGIN { printf "%.2f", a / b }')x; per iteration: $(awk -v a="$sk_wall" -v b="$fit" \
		-v i="$it" -v j="$sk_it" 'BEGIN { printf "%.2f", (a / (j + 1)) / (b / (i + 1)) }')x;" \
		"inertia, mltrain / scikit-learn: $(awk -v a="$in" -v b="$sk_in" 'BEGIN { printf "%.6f", a / b }')"
else
	echo "scikit-learn: skipped (no python3-sklearn or pandas)"
fi
done
