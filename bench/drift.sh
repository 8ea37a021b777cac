#!/bin/sh
# mldrift against a Python script doing SciPy's ks_2samp per column on pandas frames: the
# first 80% of bench/gen.c's rows as the reference, the rest as current data, 28 numeric
# columns, from CSV, end to end. Then mldrift against a profile, the profile's memory as the
# row count grows, and profiles of a split file merged against the profile of the whole.
# Not a test. BENCH_ROWS overrides the row count (default 1000000).
set -e
ML_BIN=${ML_BIN:-bin}
ROWS=${BENCH_ROWS:-1000000}
D=bench/data
mkdir -p "$D"
CC=${CC:-cc}
$CC -O2 -std=c11 -o "$D/gen" bench/gen.c -lm
csv=$D/higgs-$ROWS.csv
[ -s "$csv" ] || "$D/gen" "$ROWS" 1 >"$csv"
nref=$((ROWS * 8 / 10))
ref=$D/drift-ref-$ROWS.csv
cur=$D/drift-cur-$ROWS.csv
[ -s "$ref" ] || head -n $((nref + 1)) "$csv" | cut -d, -f2- >"$ref"
[ -s "$cur" ] || { head -n 1 "$csv"; tail -n +$((nref + 2)) "$csv"; } | cut -d, -f2- >"$cur"
echo "reference: $ref ($nref rows x 28 columns); current: $cur ($((ROWS - nref)) rows)"

cat >"$D/drift_scipy.py" <<'EOF'
import sys
import pandas as pd
from scipy.stats import ks_2samp
ref = pd.read_csv(sys.argv[1])
cur = pd.read_csv(sys.argv[2])
print("column,statistic,p_value")
for c in ref.columns:
    r = ks_2samp(ref[c].dropna().to_numpy(), cur[c].dropna().to_numpy())
    print("%s,%r,%r" % (c, r.statistic, r.pvalue))
EOF

# the shortest wall time of three runs, in seconds (GNU time's %e)
best() {
	for i in 1 2 3; do
		/usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1
	done | sort -g | head -1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

cat "$ref" "$cur" >/dev/null
t_py=$(best /usr/bin/python3 "$D/drift_scipy.py" "$ref" "$cur")
echo "pandas + scipy ks_2samp:        $t_py s   (/usr/bin/python3 $D/drift_scipy.py $ref $cur)"
t_raw=$(best "$ML_BIN/mldrift" --ref "$ref" --tests ks --report-only "$cur")
echo "mldrift, raw reference:         $t_raw s   ($ML_BIN/mldrift --ref $ref --tests ks --report-only $cur)"
echo "ratio (exact tests, end to end): $(ratio "$t_py" "$t_raw")x"
t_prof=$(best "$ML_BIN/mldrift" --profile -o "$D/drift-ref.mlm" "$ref")
echo "mldrift --profile:              $t_prof s   ($ML_BIN/mldrift --profile -o $D/drift-ref.mlm $ref)"
echo "profile size: $(wc -c <"$D/drift-ref.mlm") bytes"
t_cmp=$(best "$ML_BIN/mldrift" --ref "$D/drift-ref.mlm" --tests ks -q --report-only "$cur")
echo "mldrift against the profile:    $t_cmp s   ($ML_BIN/mldrift --ref $D/drift-ref.mlm --tests ks -q --report-only $cur)"
echo "ratio (against a profile):      $(ratio "$t_py" "$t_cmp")x"

# The same KS statistics as SciPy's on the raw reference, and how near the sketch comes
/usr/bin/python3 "$D/drift_scipy.py" "$ref" "$cur" >"$D/drift-scipy.csv"
"$ML_BIN/mldrift" --ref "$ref" --tests ks --report-only "$cur" >"$D/drift-raw.csv"
"$ML_BIN/mldrift" --ref "$D/drift-ref.mlm" --tests ks -q --report-only "$cur" >"$D/drift-prof.csv"
awk -F, 'FILENAME ~ /scipy/ && FNR > 1 { s[$1] = $2; p[$1] = $3; next }
	FNR > 1 && $3 == "ks" { d = $4 - s[$1]; if (d < 0) d = -d; if (d > md) md = d
		d = $5 - p[$1]; if (d < 0) d = -d; if (d > mp) mp = d }
	END { printf "max |D - scipy| %.3g, max |p - scipy| %.3g\n", md, mp }' \
	"$D/drift-scipy.csv" "$D/drift-raw.csv" | sed 's/^/raw reference: /'
awk -F, 'FILENAME ~ /scipy/ && FNR > 1 { s[$1] = $2; next }
	FNR > 1 && $3 == "ks" { d = $4 - s[$1]; if (d < 0) d = -d; if (d > md) md = d }
	END { printf "max |D - scipy| %.3g\n", md }' \
	"$D/drift-scipy.csv" "$D/drift-prof.csv" | sed 's/^/profile (sketch): /'

# The per-value cost of a profile's moments: Welford's update against the exact sums
$CC -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -o "$D/moments" bench/moments.c build/libml.a \
	-lcsv $(pkg-config --libs libcjson zlib openblas lapacke) -lm -pthread
"$D/moments"

# Memory of --profile as the rows grow: a tenth of the reference, and all of it
head -n $((nref / 10 + 1)) "$ref" >"$D/drift-tenth.csv"
echo "--profile max RSS: $(rss "$ML_BIN/mldrift" --profile -o "$D/p.mlm" "$D/drift-tenth.csv") KB for $((nref / 10)) rows, $(rss "$ML_BIN/mldrift" --profile -o "$D/p.mlm" "$ref") KB for $nref rows"

# Pieces of the split file, profiled on one set of edges and merged, against the whole
split -n l/4 -d "$ref" "$D/drift-piece."
for f in "$D"/drift-piece.0[123]; do
	{ head -n 1 "$ref"; cat "$f"; } >"$f.csv"
done
mv "$D/drift-piece.00" "$D/drift-piece.00.csv"
for f in "$D"/drift-piece.0?.csv; do
	"$ML_BIN/mldrift" --profile --bins-from "$D/drift-ref.mlm" -o "${f%.csv}.mlm" "$f"
done
"$ML_BIN/mldrift" --merge -o "$D/drift-merged.mlm" "$D"/drift-piece.0?.mlm
"$ML_BIN/mldrift" --profile --bins-from "$D/drift-ref.mlm" -o "$D/drift-whole.mlm" "$ref"
for t in histograms columns; do
	"$ML_BIN/mlinfo" --table $t "$D/drift-whole.mlm" >"$D/w.csv"
	"$ML_BIN/mlinfo" --table $t "$D/drift-merged.mlm" >"$D/m.csv"
	if cmp -s "$D/w.csv" "$D/m.csv"; then echo "merged pieces, table $t: identical to the whole"
	else echo "merged pieces, table $t: $(diff "$D/w.csv" "$D/m.csv" | grep -c '^<') rows differ"; fi
done
rm -f "$D"/drift-piece.* "$D/w.csv" "$D/m.csv" "$D/p.mlm"
