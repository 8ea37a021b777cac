#!/bin/sh
# Makes the fuzzing seeds from samples/, tests/fixtures/ and the commands (after make and
# make fuzz-build), into OUT/seeds/NAME; with --merge, adds to tests/fuzz/corpus/NAME the
# seeds that reach code the committed corpus does not (libFuzzer -merge=1).
# Usage: seeds.sh [--merge] [OUT]   (OUT: build-fuzz)
set -eu
merge=0
if [ "${1:-}" = --merge ]; then
	merge=1
	shift
fi
out=${1:-build-fuzz}
bin=${ML_BIN:-bin}
here=$(dirname "$0")
s=$out/seeds
tmp=$out/seeds-tmp
rm -rf "$s" "$tmp"
mkdir -p "$tmp"
for n in csv stream model feat time cols num mleval params; do
	mkdir -p "$s/$n"
done
export SOURCE_DATE_EPOCH=0
${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude -o "$tmp/mkseed" "$here/mkseed.c" build/libml.a \
	-lcsv $(pkg-config --libs libcjson zlib openblas lapacke) -lm -pthread

# Small tables: the head of each sample, and a few rows from all through it.
for f in samples/*.csv; do
	b=$(basename "$f" .csv)
	head -n 6 "$f" >"$tmp/$b.head.csv"
	awk 'NR == 1 || NR % 7 == 2' "$f" >"$tmp/$b.csv"
done

# csv: option bytes (see fuzz_csv.c), then the text.
i=0
for f in "$tmp"/*.head.csv; do
	for opts in '\000\000' '\001\003' '\002\012' '\010\025' '\020\044NA,?\000' \
		'\040\377x,2\000' '\100\101!1\000' '\200\266'; do
		i=$((i + 1))
		{ printf "$opts"; cat "$f"; } >"$s/csv/$i"
	done
	i=$((i + 1))
	{ printf '\002\000'; tr ',' '\t' <"$f"; } >"$s/csv/$i"
done
# and the head of every fixture table, each with one of the option bytes
for f in tests/fixtures/*/*.csv; do
	i=$((i + 1))
	{ printf "\\$(printf %o $((i % 4 * 64 + i % 8)))\\$(printf %o $((i % 256)))"; head -n 8 "$f"; } \
		>"$s/csv/$i"
done
printf '\000\001a,b\n"x\ny",2\n"",3\r\n007,NA\n\n1e5,-0\n' >"$s/csv/quoted"
printf '\000\002\357\273\277a;b\n1;2\n' >"$s/csv/bom"

# stream: each head, plain and compressed, and one whose dictionaries grow.
for f in "$tmp"/*.head.csv; do
	b=$(basename "$f" .head.csv)
	"$bin"/mlcat -f stream --force "$f" >"$s/stream/$b"
	"$bin"/mlcat -f stream --compress 1 --force "$f" >"$s/stream/$b.z"
done
"$tmp/mkseed" stream "$s/stream/dict"
# the golden version-1 streams (every block kind, zlib, dictionary additions)
for f in tests/fixtures/golden/mls-v1/*.mls; do
	cp "$f" "$s/stream/golden-$(basename "$f" .mls)"
done

# model: every algorithm on penguins (classification and, where it can, regression), the
# feature steps on seattle_weather, forecasters, and a container of members; each as it
# is (option byte 0) and in pieces (1, with scorer options).
peng=$tmp/penguins.csv
for a in $("$bin"/mltrain --list-algorithms); do
	case $a in
	gbdt) hp='--rounds 3 --max-depth 3' ;;
	rf) hp='--trees 2 --max-depth 3' ;;
	*) hp= ;;
	esac
	"$bin"/mltrain -q -t species -a "$a" $hp -o "$tmp/$a.c.mlm" "$peng" 2>/dev/null || true
	"$bin"/mltrain -q -t body_mass_g -a "$a" $hp -o "$tmp/$a.r.mlm" "$peng" 2>/dev/null || true
done
"$bin"/mltrain -q -t sex -a logistic -o "$tmp/logistic.b.mlm" "$peng"
"$bin"/mltrain -q -t sex -a gbdt --rounds 3 -o "$tmp/gbdt.b.mlm" "$peng"
w=$tmp/seattle_weather.csv
"$bin"/mlfeat -q --save "$tmp/feat1.mlm" --impute median --scale standard \
	--onehot weather --datetime date:hour,dow,month --cyclical --interactions temp_max,wind \
	--log precipitation <"$w" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat2.mlm" -t weather --keep date --time-col date \
	--impute interpolate:wind --rolling temp_max:3:mean,std,trend --lag temp_min:1,2 \
	--power yeo-johnson:wind --clip 0.05,0.95:precipitation --scale robust:temp_min <"$w" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat3.mlm" -t species --target-encode island,sex --impute mean \
	--select kbest:2:f:bill_length_mm,bill_depth_mm,flipper_length_mm \
	--pca 2:body_mass_g,flipper_length_mm --whiten <"$peng" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat4.mlm" -t species --impute mode:sex --hash island:3 \
	--text sex:4 --select variance:0.01 --power box-cox:body_mass_g --scale minmax \
	<"$peng" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat7.mlm" -t species --ordinal island --frequency sex \
	<"$peng" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat5.mlm" -t species --onehot island,sex --max-categories 2 \
	--unseen other --impute constant=0 --missing-indicator --scale maxabs \
	--select rfe:2:bill_length_mm,bill_depth_mm,flipper_length_mm <"$peng" >/dev/null
"$bin"/mlfeat -q --save "$tmp/feat6.mlm" -t species --group-col island --impute ffill \
	--select boruta:bill_length_mm,bill_depth_mm,flipper_length_mm <"$peng" >/dev/null
for m in naive snaive drift mean; do
	"$tmp/mkseed" forecaster $m 12 "$tmp/fc.$m.mlm"
done
"$tmp/mkseed" nest "$tmp/nest.mlm" "$tmp/feat1.mlm" "$tmp/tree.c.mlm"
# the golden version-1 models: every algorithm, task and feature step
for f in tests/fixtures/golden/mlm-v1/*.mlm; do
	cp "$f" "$tmp/golden-$(basename "$f")"
done
k=0
for f in "$tmp"/*.mlm; do
	b=$(basename "$f" .mlm)
	k=$((k + 1))
	{ printf '\000'; cat "$f"; } >"$s/model/$b"
	"$tmp/mkseed" pieces $((1 + 2 * (k % 64))) "$f" "$s/model/$b.p"
done

# feat: one step of each kind and the options, as fuzz_feat.c reads them.
i=0
while IFS= read -r l; do
	i=$((i + 1))
	printf '%b' "$l" >"$s/feat/$i"
done <<'EOF'
--impute=median:x\n--scale=standard
--target=label\n--target-encode=c\n--onehot=g\n--folds=3\n--smoothing=2
--impute=interpolate:x\n--time-col=ts
--rolling=x:3:mean,std,min,max,sum,count,trend\n--lag=z:1,2\n--group-col=g\n--time-col=date
--rolling=y:1h:mean\n--time-col=ts
--datetime=date:hour,minute,dow,day,week,month,quarter,year,doy,is_weekend\n--cyclical
--power=box-cox:y\n--clip=0.05,0.95:z\n--log=y\n--power=yeo-johnson:z
--onehot=c\n--max-categories=2\n--unseen=other\n--keep=ts
--ordinal=c,g\n--frequency=txt\n--unseen=error
--hash=c:3\n--text=txt:4
--interactions=x,y,z\n--squares\n--impute=mean
--pca=2:y,z,target\n--whiten\n--pca=0.9:y,z
--target=target\n--select=kbest:2:f:y,z,ts\n--select=kbest:1:mi:y,z
--target=label\n--select=variance:0.1:y,z\n--select=kbest:1:chi2:y,ts
--target=label\n--select=rfe:2:y,z,ts\n--algorithm=logistic
--target=label\n--select=boruta:y,z,ts
--impute=ffill:x\n--group-col=g\n--missing-indicator
--impute=constant=3:x\n--scale=robust:x,y\n--scale=maxabs:z\n--scale=minmax:y
--impute=mode:c
EOF

# time, cols and num: a few of each.
i=0
for t in 2020-01-02 2020-02-29T12:30:45.25Z '1999/12/31 23:59:60+05:30' 1700000000 \
	' 2024-03-01T00:00-0800 ' 0000-01-01T24:00:00 2021-06-15t08:05:06,5z 1e9 -3.5; do
	i=$((i + 1))
	printf '%s' "$t" >"$s/time/$i"
done
printf 'a\nb\nc,d\n2\nx-y\n!z\nage\nAge2\000a,2-4,!b\000agee' >"$s/cols/1"
printf 'id\nname\nincome\nchurn\000!id,churn\000Income' >"$s/cols/2"
printf 'c1\nc2\nc3\000c\\,1-c3,3-1\000c4' >"$s/cols/3"
i=0
for t in 1.5 -0 0.1 1e308 1e-320 nan inf -Infinity 123456789012345678901234567890 0.000001 \
	2.2250738585072014e-308 4.9e-324 17 +3 .5 5. 1e+05 007 -1 9223372036854775808 \
	18446744073709551615 0x1p3 ' 1'; do
	i=$((i + 1))
	printf '%s' "$t" >"$s/num/$i"
done

# mleval: an option byte (which input), then the arguments, each ending with a NUL
# (\0000 in printf's %b).
i=0
while IFS= read -r l; do
	i=$((i + 1))
	printf '%b' "$l" >"$s/mleval/$i"
done <<'EOF'
\0000-t\0000y\0000--min\0000auc=0.5\0000--max\0000logloss=2\0000--min\0000f1_macro=0.9\0000
\0000-t\0000y\0000--plot\0000roc:r.svg\0000--plot\0000pr:p.svg\0000--plot\0000calibration\0000--plot-file\0000c.svg\0000
\001-t\0000y\0000--ci\0000--bootstrap\000020\0000-j\00002\0000--seed\00007\0000
\0000-t\0000y\0000--confusion\0000--calibration\00005\0000--json\0000--pos\0000b\0000
\001-t\0000y\0000-w\0000w\0000--by\0000g\0000--rows\00007\0000--max\0000rmse=1\0000--precision\00003\0000
\0000-t\0000y\0000-p\0000pred\0000--task\0000classify\0000-o\0000m.csv\0000-f\0000tsv\0000--na\0000a\0000
\001-t\0000y\0000--task\0000regress\0000--ci\0000--by\0000g\0000--json\0000--min\0000r2=-1e3\0000
\002-t\0000y\0000
\003-t\0000y\0000--help\0000
\0000-t\0000y\0000--cat\0000w\0000--num\0000g\0000--plot\0000roc\0000
EOF

# params: a table (an algorithm's or a forecasting method's), then names (or '#' and an
# index) and values, each ending with a NUL.
i=0
for v in 5 0.1 distance 128,64 -1 1e9 x 0,1,2.5 '' 3.0 1e-3 ' 2' 99999999999999999999; do
	for k in 0 1 2 3 4 5 6; do
		i=$((i + 1))
		printf "\\$(printf %o $((i % 32)))#\\$(printf %o $k)\000%s\000#\\$(printf %o $((k + 3)))\000%s\000" \
			"$v" "$v" >"$s/params/$i"
	done
done
printf '\000k\0007\000weights\000distance\000p\0001.5\000' >"$s/params/knn"
printf '\001l1\0000.5\000l2\000-2\000bogus\0001\000' >"$s/params/lin"

# Merging keeps the committed corpus small: seeds of at most 4 KiB (2 KiB for models,
# larger ones add little coverage for their size), and of those only the ones that reach
# something new.
if [ $merge = 1 ]; then
	for n in csv stream model feat time cols num mleval params; do
		mkdir -p "$here/corpus/$n" "$tmp/$n"
		max=4097
		[ $n = model ] && max=2049
		find "$s/$n" -type f -size -${max}c -exec cp {} "$tmp/$n/" \;
		OPENBLAS_NUM_THREADS=1 "$out/fuzz_$n" -merge=1 "$here/corpus/$n" "$tmp/$n" \
			>"$out/merge-$n.log" 2>&1 || { echo "merge $n failed: $out/merge-$n.log"; exit 1; }
	done
fi
rm -rf "$tmp"
