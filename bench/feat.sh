#!/bin/sh
# mlfeat against a scikit-learn ColumnTransformer on the same CSV: fit and apply of
# median/mode imputation + standard scaling + one-hot, end to end (read the CSV, transform,
# write the CSV; pandas read_csv and to_csv included). Not a test.
# BENCH_ROWS overrides the row count (default 1000000).
set -e
ML_BIN=${ML_BIN:-bin}
ROWS=${BENCH_ROWS:-1000000}
D=bench/data
mkdir -p "$D"
csv=$D/mixed-$ROWS.csv
# id, six numeric columns with 5% missing, three categorical ones (5, 12, 30 values)
[ -s "$csv" ] || awk -v n="$ROWS" 'BEGIN {
	srand(7); print "id,x1,x2,x3,x4,x5,x6,c1,c2,c3"; split("a b c d e", A, " ")
	for (i = 1; i <= n; i++) {
		printf "%d", i
		for (j = 1; j <= 6; j++)
			if (rand() < 0.05) printf ","; else printf ",%.6g", (rand() - 0.5) * 10 ^ j
		printf ",%s", rand() < 0.03 ? "" : A[int(rand() * 5) + 1]
		printf ",g%d", int(rand() * 12)
		printf ",%s\n", rand() < 0.02 ? "" : "k" int(rand() * 30)
	} }' >"$csv"
mb=$(awk -v b="$(wc -c <"$csv")" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "input: $csv, $ROWS rows x 10 columns, $mb MB"

cat >"$D/feat_sklearn.py" <<'EOF'
import pickle, sys
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
mode, data, spec, out = sys.argv[1:5]
df = pd.read_csv(data)
if mode == "fit":
    ct = ColumnTransformer([
        ("id", "passthrough", ["id"]),
        ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]),
         [f"x{i}" for i in range(1, 7)]),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
         ["c1", "c2", "c3"])])
    X = ct.fit_transform(df)
    with open(spec, "wb") as f:
        pickle.dump(ct, f)
else:
    with open(spec, "rb") as f:
        ct = pickle.load(f)
    X = ct.transform(df)
pd.DataFrame(X, columns=ct.get_feature_names_out()).to_csv(out, index=False)
EOF

# wall time (best of three) and peak memory of a command
measure() {
	b=
	m=
	for i in 1 2 3; do
		/usr/bin/time -f "%e %M" -o "$D/time.txt" "$@" >/dev/null
		t=$(cut -d' ' -f1 "$D/time.txt")
		k=$(cut -d' ' -f2 "$D/time.txt")
		b=$(awk -v b="$b" -v t="$t" 'BEGIN { print (b == "" || t < b) ? t : b }')
		m=$k
	done
	echo "$b $m"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

steps="--keep id --impute median --impute mode --scale standard --onehot all"
set -- $(measure "$ML_BIN/mlfeat" --save "$D/feat.mlm" $steps -o "$D/feat_fit.csv" "$csv")
t_fit=$1 m_fit=$2
echo "mlfeat fit:    $t_fit s, peak $((m_fit / 1024)) MB   (mlfeat --save feat.mlm $steps $csv)"
set -- $(measure "$ML_BIN/mlfeat" --load "$D/feat.mlm" -o "$D/feat_apply.csv" "$csv")
t_app=$1 m_app=$2
echo "mlfeat apply:  $t_app s, peak $((m_app / 1024)) MB   (mlfeat --load feat.mlm $csv)"
cmp -s "$D/feat_fit.csv" "$D/feat_apply.csv" && echo "  (apply reproduces the fit's output byte for byte)"

if /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null; then
	set -- $(measure /usr/bin/python3 "$D/feat_sklearn.py" fit "$csv" "$D/ct.pkl" "$D/sk_fit.csv")
	s_fit=$1 sm_fit=$2
	echo "sklearn fit:   $s_fit s, peak $((sm_fit / 1024)) MB   (ColumnTransformer, read_csv + fit_transform + to_csv)"
	set -- $(measure /usr/bin/python3 "$D/feat_sklearn.py" apply "$csv" "$D/ct.pkl" "$D/sk_apply.csv")
	s_app=$1 sm_app=$2
	echo "sklearn apply: $s_app s, peak $((sm_app / 1024)) MB   (read_csv + transform + to_csv)"
	echo "ratio fit:   $(ratio "$s_fit" "$t_fit")x   ratio apply: $(ratio "$s_app" "$t_app")x"
	echo "ratio end to end (fit + apply): $(ratio "$(awk -v a="$s_fit" -v b="$s_app" 'BEGIN { print a + b }')" "$(awk -v a="$t_fit" -v b="$t_app" 'BEGIN { print a + b }')")x"
fi
# apply in constant memory: the peak with a tenth of the rows is about the same
small=$D/mixed-small.csv
head -n $((ROWS / 10 + 1)) "$csv" >"$small"
set -- $(measure "$ML_BIN/mlfeat" --load "$D/feat.mlm" -o "$D/feat_small.csv" "$small")
echo "mlfeat apply on $((ROWS / 10)) rows: peak $(($2 / 1024)) MB (constant memory: vs $((m_app / 1024)) MB on $ROWS)"
