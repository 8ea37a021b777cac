#!/bin/sh
# Linear benchmark: logistic regression trained, scored and evaluated by mlpipe, LIBLINEAR and
# scikit-learn on one generated file; then mlpredict throughput and per-row latency. Not a test.
# Run from the top directory: sh bench/linear.sh. BENCH_ROWS overrides the row count (default
# 1000000; the first 80% train, the last 20% test). ML_BIN picks the binaries (default bin).
set -e
ML_BIN=${ML_BIN:-bin}
ROWS=${BENCH_ROWS:-1000000}
NTEST=$((ROWS / 5))
NTRAIN=$((ROWS - NTEST))
D=bench/data
CC=${CC:-cc}
PY=/usr/bin/python3
mkdir -p "$D"
for t in liblinear-train liblinear-predict /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "linear.sh: '$t' not found" >&2; exit 1; }
done
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$D/latency" bench/latency.c

# the data: one generated file, split by position; the same rows for every tool
csv=$D/higgs-$ROWS.csv
if [ ! -s "$csv" ]; then
	$CC -O2 -o "$D/gen" bench/gen.c -lm
	"$D/gen" "$ROWS" 1 >"$csv.tmp"
	mv "$csv.tmp" "$csv"
fi
train=$D/lin-train.csv
test=$D/lin-test.csv
head -n $((NTRAIN + 1)) "$csv" >"$train"
{ head -n 1 "$csv"; tail -n "$NTEST" "$csv"; } >"$test"
# LIBLINEAR's text format (label index:value ...); converting is not part of its time
# shellcheck disable=SC2016
tosvm='BEGIN { FS = "," } NR > 1 { s = $1; for (j = 2; j <= NF; j++) s = s " " (j - 1) ":" $j; print s }'
awk "$tosvm" "$train" >"$D/lin-train.svm"
awk "$tosvm" "$test" >"$D/lin-test.svm"
"$ML_BIN/mlcat" -f stream -o "$D/lin-train.mls" "$train"
echo "input: $csv, $ROWS rows x 28 features: $NTRAIN train (head), $NTEST test (tail)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d ' ' -f 1-3 /proc/loadavg)"

# measure OUT CMD...: run CMD three times with stdout to OUT; sets W (least wall s),
# C (least user+sys CPU s) and M (largest peak RSS, MB)
measure() {
	out=$1
	shift
	W='' C='' M=''
	for i in 1 2 3; do
		/usr/bin/time -f '%e %U %S %M' -o "$D/lin-time.txt" "$@" >"$out"
		r=$(tail -n 1 "$D/lin-time.txt")
		W=$(echo "$r $W" | awk '{ print ($5 == "" || $1 < $5) ? $1 : $5 }')
		C=$(echo "$r $C" | awk '{ c = $2 + $3; print ($5 == "" || c < $5) ? c : $5 }')
		M=$(echo "$r $M" | awk '{ m = $4 / 1024; print ($5 == "" || m > $5) ? m : $5 }')
	done
	W=$(printf '%.2f' "$W")
	C=$(printf '%.2f' "$C")
	M=$(printf '%.0f' "$M")
}
# metric NAME FILE: a value from mleval's CSV output
metric() { awk -F, -v n="$1" '$1 == n { printf "%.5f", $2 }' "$2"; }
rows() { printf '%-40s %7s %7s %8s %9s %8s\n' "$@"; }
table=$D/lin-table.txt
rows tool "wall s" "CPU s" "peak MB" accuracy AUC >"$table"

# LIBLINEAR: -s 0 (L2-regularised logistic regression, primal trust-region Newton), C=1
ll_train() {
	# $1: model, then liblinear-train options
	m=$1
	shift
	measure "$D/lin-ll-train.log" liblinear-train -s 0 "$@" "$D/lin-train.svm" "$m"
	liblinear-predict -b 1 "$D/lin-test.svm" "$m" "$D/lin-ll-pred.txt" >/dev/null
	# probabilities to label,pred,p_0,p_1 so mleval scores every tool alike
	awk -v lab="$test" 'BEGIN { getline <lab; print "label,pred,p_0,p_1" }
		NR == 1 { for (j = 2; j <= NF; j++) col[$j] = j; next }
		{ getline l <lab; split(l, f, ","); print f[1] "," $1 "," $col["0"] "," $col["1"] }' \
		"$D/lin-ll-pred.txt" | "$ML_BIN/mleval" -t label >"$D/lin-ll-eval.csv"
}
ll_train "$D/lin-ll.model"
ll_w=$W ll_c=$C
rows "liblinear-train -s 0" "$W" "$C" "$M" "$(metric accuracy "$D/lin-ll-eval.csv")" \
	"$(metric auc "$D/lin-ll-eval.csv")" >>"$table"
ll_train "$D/lin-ll-b.model" -B 1
llb_acc=$(metric accuracy "$D/lin-ll-eval.csv")
rows "liblinear-train -s 0 -B 1" "$W" "$C" "$M" "$llb_acc" "$(metric auc "$D/lin-ll-eval.csv")" \
	>>"$table"
ll_acc=$(sed -n 2p "$table" | awk '{ print $(NF-1) }')

# scikit-learn: LogisticRegression() (lbfgs, C=1), max_iter raised until it converges
cat >"$D/lin-sk-train.py" <<'EOF'
import pickle, sys, time
import pandas as pd
from sklearn.linear_model import LogisticRegression
t0, c0 = time.perf_counter(), time.process_time()
d = pd.read_csv(sys.argv[1])
y = d.pop("label").to_numpy()
t1, c1 = time.perf_counter(), time.process_time()
m = LogisticRegression(C=1.0, max_iter=10000).fit(d.to_numpy(), y)
t2, c2 = time.perf_counter(), time.process_time()
with open(sys.argv[2], "wb") as f:
    pickle.dump(m, f)
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {c2 - c1:.3f} {m.n_iter_[0]}", file=sys.stderr)
EOF
cat >"$D/lin-sk-eval.py" <<'EOF'
import pickle, sys
import pandas as pd
with open(sys.argv[1], "rb") as f:
    m = pickle.load(f)
d = pd.read_csv(sys.argv[2])
y = d.pop("label")
p = m.predict_proba(d.to_numpy())
out = pd.DataFrame({"label": y, "pred": m.classes_[p.argmax(axis=1)]})
for k, c in enumerate(m.classes_):
    out[f"p_{c}"] = p[:, k]
out.to_csv(sys.stdout, index=False, float_format="%.17g")
EOF
openblas_env=$(env | grep '^OPENBLAS' || true)
[ -z "$openblas_env" ] || echo "unset for numpy:" "$openblas_env"
pyrun() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$@"; }
if pyrun -c 'import sklearn, pandas' 2>/dev/null; then
	rm -f "$D/lin-sk-fit.txt"
	measure /dev/null sh -c "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE '$PY' '$D/lin-sk-train.py' '$train' '$D/lin-sk.pkl' 2>>'$D/lin-sk-fit.txt'"
	sk_w=$W
	pyrun "$D/lin-sk-eval.py" "$D/lin-sk.pkl" "$test" | "$ML_BIN/mleval" -t label >"$D/lin-sk-eval.csv"
	rows "sklearn LogisticRegression" "$W" "$C" "$M" "$(metric accuracy "$D/lin-sk-eval.csv")" \
		"$(metric auc "$D/lin-sk-eval.csv")" >>"$table"
	# the fit alone, timed inside Python (least of the three runs)
	fit=$(awk 'NF == 4 && $4 ~ /^[0-9]+$/ && (w == "" || $2 < w) { w = $2; c = $3; it = $4 } END { printf "%.2f %.2f %d", w, c, it }' \
		"$D/lin-sk-fit.txt")
	rows "  (fit alone, $(echo "$fit" | cut -d ' ' -f 3) lbfgs iterations)" \
		"$(echo "$fit" | cut -d ' ' -f 1)" "$(echo "$fit" | cut -d ' ' -f 2)" - - - >>"$table"
	pyver=$(pyrun -c 'import sklearn, pandas, numpy; print("scikit-learn", sklearn.__version__, "pandas", pandas.__version__, "numpy", numpy.__version__)')
else
	pyver="scikit-learn not available: skipped"
fi

# mlpipe: mltrain from CSV and from the stream, then mlpredict | mleval on the CSV test set
measure /dev/null "$ML_BIN/mltrain" -q -t label -a logistic -o "$D/lin.mlm" "$train"
ml_w=$W ml_c=$C
"$ML_BIN/mlpredict" -m "$D/lin.mlm" --keep label "$test" | "$ML_BIN/mleval" -t label >"$D/lin-ml-eval.csv"
ml_acc=$(metric accuracy "$D/lin-ml-eval.csv")
rows "mltrain -a logistic (CSV)" "$W" "$C" "$M" "$ml_acc" "$(metric auc "$D/lin-ml-eval.csv")" \
	>>"$table"
measure /dev/null "$ML_BIN/mltrain" -q -t label -a logistic -o "$D/lin-s.mlm" "$D/lin-train.mls"
mls_w=$W
"$ML_BIN/mlinfo" --table=coef "$D/lin.mlm" >"$D/lin-coef.csv"
"$ML_BIN/mlinfo" --table=coef "$D/lin-s.mlm" | cmp -s - "$D/lin-coef.csv" ||
	echo "note: the model trained from the stream has other coefficients than from CSV"
rows "mltrain -a logistic (ml-stream)" "$W" "$C" "$M" "$ml_acc" "$(metric auc "$D/lin-ml-eval.csv")" \
	>>"$table"
measure /dev/null sh -c "'$ML_BIN/mlpredict' -m '$D/lin.mlm' --keep label '$test' | '$ML_BIN/mleval' -t label"
rows "mlpredict | mleval ($NTEST test rows)" "$W" "$C" "$M" - - >>"$table"

echo
cat "$table"
echo
echo "goal, mltrain wall <= 0.3x liblinear-train: $(awk -v a="$ml_w" -v b="$ll_w" 'BEGIN { r = a / b; printf "%.2fx (%s)", r, (r <= 0.3 ? "met" : "not met") }'); from ml-stream $(awk -v a="$mls_w" -v b="$ll_w" 'BEGIN { printf "%.2fx", a / b }'); CPU $(awk -v a="$ml_c" -v b="$ll_c" 'BEGIN { printf "%.2fx", a / b }')"
echo "goal, accuracy within 0.1 point of liblinear: mlpipe $ml_acc, liblinear $ll_acc ($(awk -v a="$ml_acc" -v b="$ll_acc" 'BEGIN { d = (a - b) * 100; printf "%+.2f points: %s", d, (d >= -0.1 ? "met, not lower" : "not met") }')), liblinear -B 1 $llb_acc"
[ -z "$sk_w" ] || echo "mltrain vs sklearn (read_csv + fit): $(awk -v a="$ml_w" -v b="$sk_w" 'BEGIN { printf "%.3fx", a / b }')"

# throughput: a linear model scoring ml-stream input, CSV and stream output
all=$D/lin-all.mls
big=$D/lin-x5.mls
reps=5
"$ML_BIN/mlcat" -f stream -o "$all" "$csv"
set --
i=0
while [ $i -lt $reps ]; do set -- "$@" "$all"; i=$((i + 1)); done
"$ML_BIN/mlcat" -f stream -o "$big" "$@"
n=$((ROWS * reps))
echo
for f in csv stream; do
	measure /dev/null "$ML_BIN/mlpredict" -m "$D/lin.mlm" -f $f "$big"
	echo "mlpredict, ml-stream in, $f out: $n rows in $W s ($C CPU s, $M MB): $(awk -v n="$n" -v t="$W" 'BEGIN { printf "%.2fM rows/s (goal >= 2M: %s)", n / t / 1e6, (n / t >= 2e6 ? "met" : "not met") }')"
done
measure /dev/null "$ML_BIN/mlpredict" -m "$D/lin.mlm" "$csv"
echo "mlpredict, CSV in, csv out: $ROWS rows in $W s ($C CPU s, $M MB): $(awk -v n="$ROWS" -v t="$W" 'BEGIN { printf "%.2fM rows/s", n / t / 1e6 }')"
rm -f "$big" "$all"

# latency: rows written one at a time to mlpredict --line-buffered through a pipe
echo
best=
for i in 1 2 3; do
	"$D/latency" "$test" 10000 1000 "$D/lin-lat-out.csv" -- "$ML_BIN/mlpredict" -m "$D/lin.mlm" \
		--line-buffered >"$D/lin-lat.txt"
	echo "  run $i: $(cat "$D/lin-lat.txt")"
	p=$(awk '{ for (j = 1; j < NF; j++) if ($j == "p99_us") print $(j + 1) }' "$D/lin-lat.txt")
	if [ -z "$best" ] || awk -v a="$p" -v b="$best" 'BEGIN { exit !(a < b) }'; then
		best=$p
		cp "$D/lin-lat.txt" "$D/lin-lat-best.txt"
	fi
done
head -n 11001 "$test" | "$ML_BIN/mlpredict" -m "$D/lin.mlm" | cmp -s - "$D/lin-lat-out.csv" ||
	echo "  line-buffered output differs from batch scoring"
echo "latency, mlpredict --line-buffered, 10000 rows after 1000 warm-up (best p99 of 3): $(cat "$D/lin-lat-best.txt"): p99 $(awk -v p="$best" 'BEGIN { printf "%.3f ms (goal < 1 ms: %s)", p / 1000, (p < 1000 ? "met" : "not met") }')"

echo
echo "versions: $("$ML_BIN/mltrain" --version); $(dpkg-query -W -f '${Package} ${Version}' liblinear-tools 2>/dev/null); $pyver"
echo "commands:"
echo "  liblinear-train -s 0 [-B 1] $D/lin-train.svm MODEL; liblinear-predict -b 1 $D/lin-test.svm MODEL OUT"
echo "  $PY $D/lin-sk-train.py $train MODEL.pkl; $PY $D/lin-sk-eval.py MODEL.pkl $test | mleval -t label"
echo "  mltrain -t label -a logistic -o $D/lin.mlm $train   (and $D/lin-train.mls, made by mlcat -f stream)"
echo "  mlpredict -m $D/lin.mlm --keep label $test | mleval -t label"
echo "  mlpredict -m $D/lin.mlm -f csv|stream $big   ($reps copies of $csv, made by mlcat -f stream)"
echo "  $D/latency $test 10000 1000 OUT -- mlpredict -m $D/lin.mlm --line-buffered"
echo "load at the end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "wall: least of 3 runs; CPU: least user+sys of 3; peak: largest RSS of 3 (/usr/bin/time)"
