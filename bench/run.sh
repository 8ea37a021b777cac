#!/bin/sh
# make bench: generates the inputs, builds the peers, and prints every figure with the
# command behind it. Not a test. BENCH_ROWS overrides the row count (default 1000000).
set -e
ML_BIN=${ML_BIN:-bin}
ROWS=${BENCH_ROWS:-1000000}
D=bench/data
mkdir -p "$D"
CC=${CC:-cc}
CFLAGS="-O2 -std=c11 -D_GNU_SOURCE -Iinclude"
LIBS="-lcsv $(pkg-config --libs libcjson zlib openblas lapacke) -lm -pthread"
$CC $CFLAGS -o "$D/gen" bench/gen.c -lm
$CC $CFLAGS -o "$D/csv_strtod" bench/csv_strtod.c -lcsv
$CC $CFLAGS -o "$D/parse" bench/parse.c build/libml.a $LIBS

csv=$D/higgs-$ROWS.csv
[ -s "$csv" ] || "$D/gen" "$ROWS" 1 >"$csv"
mb=$(awk -v b="$(wc -c <"$csv")" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "input: $csv, $ROWS rows x 29 columns, $mb MB"

# best of three wall times of a command, in seconds
best() {
	b=
	for i in 1 2 3; do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
		b=$(awk -v b="$b" -v t="$t" 'BEGIN { print (b == "" || t < b) ? t : b }')
	done
	echo "$b"
}
rate() { awk -v mb="$1" -v t="$2" 'BEGIN { printf "%.0f", mb / t }'; }

cat "$csv" >/dev/null
t_peer=$(best "$D/csv_strtod" "$csv")
echo "libcsv + strtod:       $t_peer s  $(rate "$mb" "$t_peer") MB/s   ($D/csv_strtod $csv)"
t_ml=$(best "$D/parse" csv "$csv")
echo "libml CSV -> columns:  $t_ml s  $(rate "$mb" "$t_ml") MB/s   ($D/parse csv $csv)"
echo "ratio vs libcsv+strtod: $(awk -v a="$t_peer" -v b="$t_ml" 'BEGIN { printf "%.2f", a / b }')x"
# CPU time per core, which load from other processes inflates less than wall time
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.2f", $1 + $2 }'; }
c_peer=$(cpu "$D/csv_strtod" "$csv")
c_ml=$(cpu "$D/parse" csv "$csv")
echo "CPU seconds: libcsv+strtod $c_peer, libml $c_ml: $(rate "$mb" "$c_ml") MB/s per core, $(awk -v a="$c_peer" -v b="$c_ml" 'BEGIN { printf "%.2f", a / b }')x"
for th in 1 2; do
	t_fr=$(best "$D/parse" frame "$csv" "$th")
	echo "libml frame read, $th thread(s): $t_fr s  $(rate "$mb" "$t_fr") MB/s   ($D/parse frame $csv $th)"
done
if /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
	t_pd=$(best /usr/bin/python3 -c "import pandas; pandas.read_csv('$csv', engine='c')")
	echo "pandas read_csv:       $t_pd s  $(rate "$mb" "$t_pd") MB/s   (python3 -c \"pandas.read_csv('$csv')\", includes interpreter start)"
fi

mls=$D/higgs-$ROWS.mls
"$D/parse" write "$csv" "$mls" | sed 's/^/libml /'
smb=$(awk -v b="$(wc -c <"$mls")" 'BEGIN { printf "%.1f", b / 1e6 }')
t_sw=$("$D/parse" write "$csv" "$mls" | awk '{ print $(NF-1) }')
echo "stream write:          $t_sw s  $(rate "$smb" "$t_sw") MB/s of stream ($smb MB)"
cat "$mls" >/dev/null
t_sr=$(best "$D/parse" stream "$mls")
echo "stream read:           $t_sr s  $(rate "$smb" "$t_sr") MB/s   ($D/parse stream $mls)"

t_cat=$(best sh -c "'$ML_BIN/mlcat' -f stream '$csv' | '$ML_BIN/mlcat' > '$D/roundtrip.csv'")
echo "mlcat CSV -> stream -> CSV: $t_cat s   (mlcat -f stream $csv | mlcat > out.csv)"
cmp -s "$D/roundtrip.csv" "$csv" && echo "  (round trip reproduces the input byte for byte)"
t_c2s=$(best "$ML_BIN/mlcat" -f stream "$csv")
echo "mlcat CSV -> stream:   $t_c2s s"
t_s2c=$(best "$ML_BIN/mlcat" "$mls")
echo "mlcat stream -> CSV:   $t_s2c s  $(rate "$mb" "$t_s2c") MB/s of CSV written"

# start-up: 200 runs of a trivial command
s=$(date +%s.%N)
i=0
while [ $i -lt 200 ]; do "$ML_BIN/mlcat" --version >/dev/null; i=$((i + 1)); done
e=$(date +%s.%N)
echo "start-up (mlcat --version, mean of 200): $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", (e - s) / 200 * 1000 }') ms"
