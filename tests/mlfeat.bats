#!/usr/bin/env bats
# mlfeat: fitted feature pipelines, exact replay, binding by name, every step against
# scikit-learn/pandas fixtures (tests/fixtures/gen_feat.py), and the bad inputs.

load helpers

P=$SAMPLES/penguins.csv
FF=$FIX/feat
PNUM=bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g
PIMA=pregnant,glucose,pressure,triceps,insulin,mass,pedigree,age

# Columns of a CSV, through mlcat.
sel() {
	ml mlcat --select "$1" "$2" >"$3"
}

# The columns a fixture has, out of an mlfeat output, compared to the fixture.
check() {
	local fixture=$1 out=$2 tol=${3:-1e-9}
	fixture "$fixture"
	sel "$(head -1 "$fixture")" "$out" "$BATS_TEST_TMPDIR/sel.csv"
	csv_close "$fixture" "$BATS_TEST_TMPDIR/sel.csv" "$tol"
}

# Like csv_close, but each column may be negated as a whole (PCA scores' signs).
close_up_to_sign() {
	fixture "$1"
	awk -F, -v tol="$3" '
		NR == FNR { a[FNR] = $0; next }
		FNR == 1 { if ($0 != a[1]) { print "headers differ"; bad = 1; exit } next }
		{
			split(a[FNR], x, ",")
			for (i = 1; i <= NF; i++) {
				if (!(i in sg)) sg[i] = (x[i] * $i < 0) ? -1 : 1
				d = x[i] - sg[i] * $i; if (d < 0) d = -d
				s = x[i] < 0 ? -x[i] : x[i]; if (s < 1) s = 1
				if (d > tol * s) { print "line " FNR " field " i ": " x[i] " vs " $i; bad = 1; exit }
			}
		}
		END { exit bad }
	' "$1" "$2" >&2
}

# A numeric array from the metadata mlinfo prints: the values of "key" in step N (1-based).
meta_array() {
	ml mlinfo "$1" | awk -v key="\"$2\": [" -v n="$3" '
		/"step": / { step++ }
		step == n && index($0, key) { sub(/.*\[/, ""); sub(/\].*/, ""); gsub(/ /, ""); print }
	' | tr ',' '\n'
}

# Two lists of numbers agree to a relative tolerance.
numbers_close() {
	paste -d' ' "$1" "$2" | awk -v tol="$3" '
		{ d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; if (s < 1) s = 1
		  if (d > tol * s) { print "line " NR ": " $1 " vs " $2; bad = 1 } n++ }
		END { if (n == 0) { print "no numbers"; bad = 1 } exit bad }' >&2
}

@test "fit then load gives the same bytes for the same input" {
	cd "$BATS_TEST_TMPDIR"
	run -0 ml mlfeat --save f.mlm -t species --keep sex --impute median --scale standard \
		--onehot island -o fit.csv "$P"
	run -0 ml mlfeat --load f.mlm -o apply.csv "$P"
	same fit.csv apply.csv
	[ "$(head -1 fit.csv)" = "species,island=Biscoe,island=Dream,island=Torgersen,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex" ]
	[ "$(wc -l <fit.csv)" -eq 345 ]
}

@test "the pipeline file is a 'features' ml-model with readable metadata" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median --scale standard "$P" >/dev/null
	ml mlinfo f.mlm >meta.json
	grep -q '"kind": "features"' meta.json
	grep -q '"target": "species"' meta.json
	grep -q '"step": "scale"' meta.json
	grep -q '"rows": 344' meta.json
	run -0 ml mlinfo --check f.mlm
}

@test "--save records the data fingerprint mltrain records for the same file" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median --scale standard "$P" >/dev/null
	ml mltrain -q -t species -a nb -o m.mlm "$P"
	ml mlinfo f.mlm | grep -A3 '"data": {' >f.txt
	ml mlinfo m.mlm | grep -A3 '"data": {' >m.txt
	[ "$(wc -l <f.txt)" -eq 4 ]
	same m.txt f.txt
	# The CRC-32 of the byte sequence ml-model(5) describes, computed independently.
	grep -q '"crc32": "156069c5"' f.txt
	grep -q '"rows": 344,' f.txt
	grep -q '"columns": 7,' f.txt
	# The same table from a stream, on three threads: the same fingerprint.
	ml mlcat -f stream "$P" >p.mls
	ml mlfeat -j 3 --save g.mlm -t species --impute median p.mls >/dev/null
	ml mlinfo g.mlm | grep -A3 '"data": {' >g.txt
	same f.txt g.txt
	# One changed value changes it, for both commands alike.
	sed '2s/39.1/39.2/' "$P" >q.csv
	ml mlfeat --save h.mlm -t species --impute median q.csv >/dev/null
	ml mltrain -q -t species -a nb -o n.mlm q.csv
	ml mlinfo h.mlm | grep -A3 '"data": {' >h.txt
	ml mlinfo n.mlm | grep -A3 '"data": {' >n.txt
	same n.txt h.txt
	run ! cmp -s f.txt h.txt
}

@test "load binds columns by name: any input order gives the same output" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median --scale robust --onehot island,sex "$P" >fit.csv
	awk -F, 'BEGIN { OFS = "," } { print $7, $3, $1, $6, $5, $4, $2 }' "$P" >shuffled.csv
	run -0 ml mlfeat --load f.mlm -o apply.csv shuffled.csv
	same fit.csv apply.csv
}

@test "load reads the stream format and gzip, and writes the stream" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --impute median --scale minmax --onehot all "$P" >fit.csv
	ml mlcat -f stream "$P" >p.mls
	gzip -c "$P" >p.csv.gz
	ml mlfeat --load f.mlm p.mls >a.csv
	ml mlfeat --load f.mlm p.csv.gz >b.csv
	ml mlfeat --load f.mlm -f stream "$P" >c.mls
	ml mlcat c.mls >c.csv
	same fit.csv a.csv
	same fit.csv b.csv
	same fit.csv c.csv
}

@test "a missing input column is an error that lists the differences" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --impute median --scale standard "$P" >/dev/null
	cut -d, -f1-4,6,7 "$P" | sed '1s/body_mass_g/mass/' >other.csv
	run -65 --separate-stderr ml mlfeat --load f.mlm other.csv
	[ "$stderr" = "mlfeat: other.csv: the input does not match the feature pipeline: no column 'flipper_length_mm', 'body_mass_g'; columns it was not fitted on: 'mass'" ]
	[ -z "$output" ]
}

@test "a column of another type is an error naming it" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --impute median --scale standard "$P" >/dev/null
	ml mlcat -f stream --cat bill_depth_mm "$P" >p.mls
	run -65 --separate-stderr ml mlfeat --load f.mlm p.mls
	[ "$stderr" = "mlfeat: p.mls: the input does not match the feature pipeline: 'bill_depth_mm' is categorical here but numeric in the pipeline" ]
}

@test "extra columns are dropped, or passed through at the end with --extra pass" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median --scale standard "$P" >fit.csv
	awk -F, 'BEGIN { OFS = "," } { print "r" NR, $0 }' "$P" >extra.csv
	ml mlfeat --load f.mlm extra.csv >dropped.csv
	same fit.csv dropped.csv
	ml mlfeat --load f.mlm --extra pass extra.csv >passed.csv
	[ "$(head -1 passed.csv)" = "$(head -1 fit.csv),r1" ]
	[ "$(sed -n 2p passed.csv)" = "$(sed -n 2p fit.csv),r2" ]
}

@test "the target may be absent when loading: it is then absent from the output" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median --onehot island "$P" >fit.csv
	cut -d, -f2- "$P" >nolabel.csv
	ml mlfeat --load f.mlm nolabel.csv >apply.csv
	cut -d, -f2- fit.csv >want.csv
	same want.csv apply.csv
}

@test "columns no step touches pass through unchanged; --keep and -t are never transformed" {
	cd "$BATS_TEST_TMPDIR"
	printf 'id,x,y,label\n007,1,10,a\n008,2,20,b\n009,3,30,a\n' >in.csv
	ml mlfeat --keep id -t label --scale minmax in.csv >out.csv
	cat >want.csv <<-'EOF'
	id,x,y,label
	007,0,0,a
	008,0.5,0.5,b
	009,1,1,a
	EOF
	same want.csv out.csv
}

@test "naming a --keep column or the target in a step is a usage error" {
	run -2 --separate-stderr ml mlfeat --keep sex --onehot sex "$P"
	[ "$stderr" = "mlfeat: --onehot: column 'sex' is a --keep column
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat -t sex --onehot island,sex "$P"
	[ "$stderr" = "mlfeat: --onehot: column 'sex' is the target
Try 'mlfeat --help' for more information." ]
}

@test "output names and order: in place, replaced in place, appended at the end" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat -t species --impute median --impute mode --missing-indicator \
		--onehot island --interactions bill_length_mm,bill_depth_mm --pca 2:flipper_length_mm,body_mass_g \
		"$P" >out.csv
	[ "$(head -1 out.csv)" = "species,island=Biscoe,island=Dream,island=Torgersen,bill_length_mm,bill_depth_mm,pc1,pc2,sex,bill_length_mm_missing,bill_depth_mm_missing,flipper_length_mm_missing,body_mass_g_missing,sex_missing,bill_length_mm*bill_depth_mm" ]
}

@test "--scale standard, minmax, robust, maxabs agree with scikit-learn" {
	cd "$BATS_TEST_TMPDIR"
	for m in standard minmax robust maxabs; do
		ml mlfeat --scale $m "$P" >out.csv
		check "$FF/scale_$m.csv" out.csv || { echo "--scale $m"; return 1; }
	done
	ml mlfeat --impute median --scale standard "$P" >out.csv
	check "$FF/impute_median_standard.csv" out.csv
}

@test "a constant column warns and becomes 0" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a,b\n1,2\n1,3\n' >const.csv
	run -0 --separate-stderr ml mlfeat --scale standard const.csv
	[ "$stderr" = "mlfeat: warning: --scale standard: column 'a' is constant; it becomes 0" ]
	[ "$output" = "a,b
0,-1
0,1" ]
	run -0 --separate-stderr ml mlfeat -q --scale standard const.csv
	[ -z "$stderr" ]
}

@test "--impute mean, median, mode, ffill and interpolate agree with scikit-learn and pandas" {
	cd "$BATS_TEST_TMPDIR"
	for m in mean median mode ffill interpolate; do
		ml mlfeat --impute $m:$PIMA "$SAMPLES/pima.csv" >out.csv
		check "$FF/impute_$m.csv" out.csv || { echo "--impute $m"; return 1; }
	done
	ml mlfeat --group-col diabetes --impute interpolate "$SAMPLES/pima.csv" >out.csv
	check "$FF/impute_interpolate_group.csv" out.csv
}

@test "--impute constant and mode fill categories; --missing-indicator marks gaps" {
	cd "$BATS_TEST_TMPDIR"
	printf 'x,c\n1,a\n,\n3,b\n,b\n' >in.csv
	ml mlfeat --missing-indicator --impute constant=0:x --impute constant=none:c in.csv >out.csv
	cat >want.csv <<-'EOF'
	x,c,x_missing,c_missing
	1,a,0,0
	0,none,1,1
	3,b,0,0
	0,b,1,0
	EOF
	same want.csv out.csv
	ml mlfeat --impute mode in.csv >out.csv
	[ "$(sed -n 3p out.csv)" = ",b" ]
}

@test "interpolation holds rows across blocks and replays exactly on a long input" {
	cd "$BATS_TEST_TMPDIR"
	for i in $(seq 1 15); do tail -n +2 "$SAMPLES/pima.csv"; done >body.csv
	{ head -1 "$SAMPLES/pima.csv"; cat body.csv; } >long.csv
	ml mlfeat --save f.mlm --group-col diabetes --impute interpolate:insulin,triceps \
		--missing-indicator --impute ffill --lag glucose:1,3 --rolling mass:5:mean,trend long.csv >fit.csv
	ml mlfeat --load f.mlm long.csv >apply.csv
	same fit.csv apply.csv
	ml mlcat -f stream long.csv | ml mlfeat --load f.mlm >apply2.csv
	same fit.csv apply2.csv
	[ "$(wc -l <apply.csv)" -eq 11521 ]
}

@test "a saved interpolation applied to a header alone writes the header (it crashed)" {
	cd "$BATS_TEST_TMPDIR"
	printf 'x,y\n1,5\n,6\n3,7\n' >fit.csv
	ml mlfeat -q --save f.mlm --impute interpolate:x fit.csv >/dev/null
	printf 'x,y\n' >empty.csv
	run -0 --separate-stderr ml mlfeat --load f.mlm empty.csv
	[ "$output" = "x,y" ]
	run -0 --separate-stderr ml mlfeat --load f.mlm <empty.csv
	[ "$output" = "x,y" ]
	ml mlfeat -q --save g.mlm --impute interpolate:x --missing-indicator fit.csv >/dev/null
	run -0 --separate-stderr ml mlfeat --load g.mlm empty.csv
	[ "$output" = "x,y,x_missing" ]
}

@test "--power yeo-johnson and box-cox: lambdas within 1e-4 of scikit-learn's" {
	cd "$BATS_TEST_TMPDIR"
	for m in yeo-johnson box-cox; do
		ml mlfeat --save f.mlm --power $m "$P" >out.csv
		meta_array f.mlm lambda 1 >ours.txt
		fixture "$FF/power_lambdas.csv"
		grep "^$m," "$FF/power_lambdas.csv" | cut -d, -f3 >want.txt
		numbers_close ours.txt want.txt 1e-4 || { echo "$m lambdas"; return 1; }
		# values follow the lambdas: a flat likelihood makes the last digits differ
		check "$FF/power_$m.csv" out.csv 1e-4 || { echo "$m values"; return 1; }
	done
}

@test "--power box-cox on values <= 0 is an error suggesting yeo-johnson" {
	cd "$BATS_TEST_TMPDIR"
	printf 'x\n2\n-1\n3\n' >neg.csv
	run -65 --separate-stderr ml mlfeat --power box-cox neg.csv
	[ "$stderr" = "mlfeat: neg.csv:3: --power box-cox: column 'x' has the value -1; box-cox needs values above 0 (use --power yeo-johnson)" ]
	[ -z "$output" ]
}

@test "--log is log1p; values <= -1 become missing with a warning" {
	cd "$BATS_TEST_TMPDIR"
	printf 'x\n-2\n0\n3\n' >in.csv
	run -0 --separate-stderr ml mlfeat --log x in.csv
	[ "$output" = "x

0
1.3862943611198906" ]
	[ "$stderr" = "mlfeat: warning: --log: column 'x' has 1 value <= -1, made missing" ]
}

@test "--clip clips to the fitted quantiles" {
	cd "$BATS_TEST_TMPDIR"
	seq 0 100 | sed '1i x' >in.csv
	ml mlfeat --save f.mlm --clip 0.1,0.9 in.csv >out.csv
	[ "$(sed -n 2p out.csv)" = "10" ]
	[ "$(sed -n 52p out.csv)" = "50" ]
	[ "$(tail -1 out.csv)" = "90" ]
	printf 'x\n-5\n500\n' >new.csv
	run -0 ml mlfeat --load f.mlm new.csv
	[ "$output" = "x
10
90" ]
}

@test "--onehot agrees with scikit-learn; a missing value is all zeros" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --onehot island,sex "$P" >out.csv
	check "$FF/onehot.csv" out.csv
	ml mlfeat --max-categories 2 --onehot island "$P" >out.csv
	check "$FF/onehot_max2.csv" out.csv
	# handle_unknown='infrequent_if_exist': never more than N columns, a new value in
	# 'other' when there is one, else all zeros; island has 3 values
	sed 's/Torgersen/Atlantis/' "$P" >new.csv
	for m in 2 3; do
		ml mlfeat --save f$m.mlm --max-categories $m --unseen other --onehot island "$P" >/dev/null
		ml mlfeat --load f$m.mlm new.csv >out.csv
		[ "$(head -1 out.csv | tr ',' '\n' | grep -c island=)" -eq "$m" ]
	done
	ml mlfeat --load f2.mlm new.csv >o2.csv
	ml mlfeat --load f3.mlm new.csv >o3.csv
	check "$FF/onehot_max2_unseen.csv" o2.csv
	check "$FF/onehot_max3_unseen.csv" o3.csv
}

@test "unseen categories: ignore (default), other, error" {
	cd "$BATS_TEST_TMPDIR"
	sed 's/Torgersen/Atlantis/' "$P" >new.csv
	ml mlfeat --save f.mlm --onehot island "$P" >/dev/null
	ml mlfeat --load f.mlm new.csv >out.csv
	[ "$(sed -n 2p out.csv | cut -d, -f2-4)" = "0,0,0" ]
	ml mlfeat --save f.mlm --unseen other --onehot island --ordinal sex "$P" >/dev/null
	ml mlfeat --load f.mlm new.csv >out.csv
	[ "$(head -1 out.csv | cut -d, -f2-5)" = "island=Biscoe,island=Dream,island=Torgersen,island=other" ]
	[ "$(sed -n 2p out.csv | cut -d, -f2-5)" = "0,0,0,1" ]
	ml mlfeat --save f.mlm --unseen error --onehot island "$P" >/dev/null
	run -65 --separate-stderr ml mlfeat --load f.mlm new.csv
	[ "$stderr" = "mlfeat: new.csv:2: --onehot: column 'island' has the value 'Atlantis', which it was not fitted with (--unseen error)" ]
}

@test "--ordinal ranks values in byte order; --frequency gives their share" {
	cd "$BATS_TEST_TMPDIR"
	printf 'c,i\nb,1\na,2\nb,3\n,4\nc,5\n' >in.csv
	ml mlfeat --ordinal c in.csv >o.csv
	ml mlfeat --frequency c in.csv >f.csv
	[ "$(cut -d, -f1 o.csv | tr '\n' ' ')" = "c 1 0 1  2 " ]
	[ "$(cut -d, -f1 f.csv | tr '\n' ' ')" = "c 0.5 0.25 0.5  0.25 " ]
}

@test "one-hot of an identifier, or of too many values, is refused" {
	cd "$BATS_TEST_TMPDIR"
	run -65 --separate-stderr ml mlfeat --onehot date "$SAMPLES/seattle_weather.csv"
	[ "$stderr" = "mlfeat: $SAMPLES/seattle_weather.csv: --onehot: column 'date' looks like an identifier (each of its 1461 values is different); one-hot would make a column per row" ]
	awk 'BEGIN { print "k"; for (i = 0; i < 400; i++) print "v" (i % 150) }' >many.csv
	run -65 --separate-stderr ml mlfeat --onehot k many.csv
	[ "$stderr" = "mlfeat: many.csv: --onehot: column 'k' has 150 distinct values, more than 100 (fold the rare ones with --max-categories N, or use --frequency, --target-encode or --hash)" ]
	run -0 ml mlfeat --max-categories 10 --onehot k many.csv
	[ "$(echo "$output" | head -1 | tr ',' '\n' | wc -l)" -eq 10 ]
}

@test "--target-encode agrees with the TargetEncoder semantics, cross-fitted during the fit" {
	cd "$BATS_TEST_TMPDIR"
	for t in ybin ynum ymulti; do
		for sm in auto m10; do
			opt=
			[ $sm = m10 ] && opt="--smoothing 10"
			ml mlfeat --save f.mlm -t $t $opt --target-encode c1,c2 "$FF/te.csv" >fit.csv
			ml mlfeat --load f.mlm "$FF/te.csv" >apply.csv
			check "$FF/te_${t}_${sm}_fit.csv" fit.csv || { echo "$t $sm fit"; return 1; }
			check "$FF/te_${t}_${sm}_apply.csv" apply.csv || { echo "$t $sm apply"; return 1; }
		done
	done
}

@test "target encoding: folds follow --seed and --folds" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat -t ybin --target-encode c1 "$FF/te.csv" >a.csv
	ml mlfeat -t ybin --seed 42 -j 1 --target-encode c1 "$FF/te.csv" >b.csv
	ml mlfeat -t ybin --seed 7 --target-encode c1 "$FF/te.csv" >c.csv
	ml mlfeat -t ybin --folds 3 --target-encode c1 "$FF/te.csv" >d.csv
	same a.csv b.csv
	run -1 cmp -s a.csv c.csv
	run -1 cmp -s a.csv d.csv
}

@test "a supervised step without a target, or with a missing label, is an error" {
	run -2 --separate-stderr ml mlfeat --target-encode island "$P"
	[ "$stderr" = "mlfeat: --target-encode needs the target (-t COL)
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --select kbest:2:f "$P"
	[ "$stderr" = "mlfeat: --select kbest f needs the target (-t COL)
Try 'mlfeat --help' for more information." ]
	run -65 --separate-stderr ml mlfeat -t sex --target-encode island "$P"
	[ "$stderr" = "mlfeat: $P:5: --target-encode: the target 'sex' is missing" ]
}

@test "--hash makes 2^BITS indicator columns and replays" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --hash island,sex:2 "$P" >fit.csv
	[ "$(head -1 fit.csv)" = "species,island_hash0,island_hash1,island_hash2,island_hash3,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex_hash0,sex_hash1,sex_hash2,sex_hash3" ]
	awk -F, 'NR > 1 { s = $2 + $3 + $4 + $5; if (s != 1) exit 1 }' fit.csv
	ml mlfeat --load f.mlm "$P" >apply.csv
	same fit.csv apply.csv
}

@test "--datetime parts and --cyclical agree with pandas" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --cyclical --datetime date "$SAMPLES/seattle_weather.csv" >out.csv
	check "$FF/datetime.csv" out.csv
	ml mlfeat --datetime date:month,dow,is_weekend "$SAMPLES/seattle_weather.csv" >out.csv
	[ "$(head -2 out.csv)" = "date_month,date_dow,date_is_weekend,precipitation,temp_max,temp_min,wind,weather
1,6,1,0,12.8,5,4.7,drizzle" ]
}

@test "--datetime reads ISO 8601 with zones, YYYY/MM/DD and epoch seconds" {
	cd "$BATS_TEST_TMPDIR"
	cat >in.csv <<-'EOF'
	t
	2024-02-29T23:30:00Z
	2024-03-01 01:15
	2024-03-01T01:15:00+02:00
	2024/12/30
	1700000000
	EOF
	ml mlfeat --datetime t:year,month,day,hour,minute,dow,week in.csv >out.csv
	cat >want.csv <<-'EOF'
	t_year,t_month,t_day,t_hour,t_minute,t_dow,t_week
	2024,2,29,23,30,3,9
	2024,3,1,1,15,4,9
	2024,2,29,23,15,3,9
	2024,12,30,0,0,0,1
	2023,11,14,22,13,1,46
	EOF
	same want.csv out.csv
}

@test "an unparseable date names file, line, column and value" {
	cd "$BATS_TEST_TMPDIR"
	printf 'd,v\n2012-01-01,1\n2012-13-01,2\n' >bad.csv
	run -65 --separate-stderr ml mlfeat --datetime d bad.csv
	[ "$stderr" = "mlfeat: bad.csv:3: cannot parse '2012-13-01' as a date or time in column 'd'" ]
	printf 'd,v\n2012-01-01,1\n2012-01-02,2\n' >good.csv
	ml mlfeat --save f.mlm --datetime d good.csv >/dev/null
	run -65 --separate-stderr ml mlfeat --load f.mlm bad.csv
	[ "$stderr" = "mlfeat: bad.csv:3: cannot parse '2012-13-01' as a date or time in column 'd'" ]
}

@test "--interactions and --squares agree with PolynomialFeatures" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --impute median --interactions bill_length_mm,bill_depth_mm,body_mass_g "$P" >out.csv
	check "$FF/poly_inter.csv" out.csv
	ml mlfeat --impute median --squares --interactions bill_length_mm,bill_depth_mm,body_mass_g "$P" >out.csv
	check "$FF/poly_sq.csv" out.csv
}

@test "--lag and --rolling over rows agree with pandas shift and rolling" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --rolling y:12:mean,std,min,max,sum,count,trend --lag y:1,12 \
		"$SAMPLES/airpassengers.csv" >out.csv
	check "$FF/lagroll.csv" out.csv
	ml mlfeat --load f.mlm "$SAMPLES/airpassengers.csv" >apply.csv
	same out.csv apply.csv
}

@test "--rolling over a duration uses only earlier times, as pandas closed='left'" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --time-col date --rolling temp_max:7d:mean,max,trend "$SAMPLES/seattle_weather.csv" >out.csv
	check "$FF/lagroll_7d.csv" out.csv
}

@test "lags run per --group-col, and time going backwards is an error" {
	cd "$BATS_TEST_TMPDIR"
	printf 'g,t,v\na,1,10\nb,1,20\na,2,11\nb,2,21\na,3,12\n' >in.csv
	ml mlfeat --group-col g --time-col t --lag v:1 in.csv >out.csv
	[ "$(cut -d, -f4 out.csv | tr '\n' ' ')" = "v_lag1   10 20 11 " ]
	printf 't,v\n2020-01-02,1\n2020-01-01,2\n' >back.csv
	run -65 --separate-stderr ml mlfeat --time-col t --lag v:1 back.csv
	[ "$stderr" = "mlfeat: back.csv:3: --lag: time goes backwards in column 't' ('2020-01-01' comes after a later time); sort the rows by time" ]
}

@test "--pca agrees with scikit-learn (scores up to sign, explained variance)" {
	cd "$BATS_TEST_TMPDIR"
	B=$SAMPLES/breast_cancer.csv
	ml mlfeat --save f.mlm -t target --pca 3 "$B" >out.csv
	sel pc1,pc2,pc3 out.csv pc.csv
	close_up_to_sign "$FF/pca.csv" pc.csv 1e-9
	meta_array f.mlm explained_variance 1 >ours.txt
	fixture "$FF/pca_variance.csv" "$FF/pca_fraction.csv"
	cut -d, -f1 "$FF/pca_variance.csv" | tail -n +2 >want.txt
	numbers_close ours.txt want.txt 1e-9
	ml mlfeat -t target --whiten --pca 3 "$B" >out.csv
	sel pc1,pc2,pc3 out.csv pc.csv
	close_up_to_sign "$FF/pca_whiten.csv" pc.csv 1e-9
	ml mlfeat -t target --pca 0.999 "$B" >out.csv
	[ "$(head -1 out.csv | tr ',' '\n' | grep -c '^pc')" -eq "$(tail -1 "$FF/pca_fraction.csv")" ]
}

@test "--select kbest: F and chi-squared scores and choices agree with scikit-learn" {
	cd "$BATS_TEST_TMPDIR"
	B=$SAMPLES/breast_cancer.csv
	fixture "$FF/kbest_scores.csv" "$FF/kbest_selected.csv"
	for s in f chi2; do
		ml mlfeat --save f.mlm -t target --select kbest:5:$s "$B" >out.csv
		meta_array f.mlm scores 1 >ours.txt
		grep "^$s," "$FF/kbest_scores.csv" | cut -d, -f3 >want.txt
		numbers_close ours.txt want.txt 1e-9 || { echo "$s scores"; return 1; }
		want=$(grep "^$s," "$FF/kbest_selected.csv" | cut -d, -f2- | tr -d '"')
		[ "$(head -1 out.csv)" = "$want,target" ] || { echo "$s: $(head -1 out.csv)"; return 1; }
	done
	ml mlfeat --save f.mlm -t 'mean radius' --select 'kbest:5:f:!target' "$B" >out.csv
	meta_array f.mlm scores 1 >ours.txt
	grep "^f_regression," "$FF/kbest_scores.csv" | cut -d, -f3 >want.txt
	numbers_close ours.txt want.txt 1e-9
}

@test "--select kbest mi picks the columns mutual_info_classif ranks highest" {
	cd "$BATS_TEST_TMPDIR"
	fixture "$FF/kbest_selected.csv"
	ml mlfeat -t target --select kbest:5:mi "$SAMPLES/breast_cancer.csv" >out.csv
	want=$(grep "^mi," "$FF/kbest_selected.csv" | cut -d, -f2- | tr -d '"')
	[ "$(head -1 out.csv)" = "$want,target" ]
}

@test "--select variance keeps the columns VarianceThreshold keeps" {
	cd "$BATS_TEST_TMPDIR"
	fixture "$FF/variance.csv"
	ml mlfeat --save f.mlm -t target --select variance:1 "$SAMPLES/breast_cancer.csv" >out.csv
	want=$(awk -F, 'NR > 1 && $3 == 1 { printf "%s,", $1 }' "$FF/variance.csv")
	[ "$(head -1 out.csv)" = "${want}target" ]
	meta_array f.mlm scores 1 >ours.txt
	cut -d, -f2 "$FF/variance.csv" | tail -n +2 >want.txt
	numbers_close ours.txt want.txt 1e-9
	run -65 --separate-stderr ml mlfeat --select variance:1e9 "$SAMPLES/breast_cancer.csv"
	[ "$stderr" = "mlfeat: $SAMPLES/breast_cancer.csv: --select variance:1e9: no column is left (every variance is at most 1e+09)" ]
}

@test "--select rfe eliminates with a linear learner and replays by name" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t diabetes --impute median --scale standard --select rfe:3 \
		"$SAMPLES/pima.csv" >fit.csv
	[ "$(head -1 fit.csv | tr ',' '\n' | wc -l)" -eq 4 ]
	ml mlfeat --load f.mlm "$SAMPLES/pima.csv" >apply.csv
	same fit.csv apply.csv
	run -2 --separate-stderr ml mlfeat -t diabetes -a bogus --select rfe:3 "$SAMPLES/pima.csv"
	[ "$stderr" = "mlfeat: --select rfe: unknown or not yet available algorithm 'bogus'
Try 'mlfeat --help' for more information." ]
}

@test "--select boruta keeps what beats the shuffled shadows and drops noise" {
	cd "$BATS_TEST_TMPDIR"
	awk -F, 'BEGIN { srand(5) } NR == 1 { print $0 ",noise"; next } { print $0 "," rand() }' "$P" >pn.csv
	ml mlfeat --save f.mlm -t species --impute median --select boruta pn.csv >fit.csv
	[ "$(head -1 fit.csv)" = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex" ]
	ml mlfeat --load f.mlm pn.csv >apply.csv
	same fit.csv apply.csv
	ml mlfeat -t species --impute median --select boruta --seed 9 -j 1 pn.csv >other.csv
	same fit.csv other.csv
}

@test "--select rfe ranks by a forest's importance with -a rf" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm -t species --impute median -a rf --select rfe:2 "$P" >fit.csv
	[ "$(head -1 fit.csv | tr ',' '\n' | wc -l)" -eq 5 ]
	ml mlfeat --load f.mlm "$P" >apply.csv
	same fit.csv apply.csv
}

@test "--text makes hashed TF-IDF columns of unit length" {
	cd "$BATS_TEST_TMPDIR"
	printf 'doc,y\nthe cat sat,1\nthe dog sat down,2\n,3\ncat cat dog,4\n' >in.csv
	ml mlfeat --save f.mlm --text doc:4 in.csv >fit.csv
	[ "$(head -1 fit.csv | tr ',' '\n' | grep -c '^doc_t')" -eq 16 ]
	awk -F, 'NR > 1 { s = 0; for (i = 1; i <= 16; i++) s += $i * $i
		if (NR == 4 ? s != 0 : (s < 0.999999 || s > 1.000001)) exit 1 }' fit.csv
	ml mlfeat --load f.mlm in.csv >apply.csv
	same fit.csv apply.csv
}

@test "unknown columns and methods are usage errors" {
	run -2 --separate-stderr ml mlfeat --scale standard:nope "$P"
	[ "$stderr" = "mlfeat: --scale: no column 'nope'
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --scale bogus "$P"
	[ "$stderr" = "mlfeat: --scale: unknown method 'bogus' (standard, minmax, robust or maxabs)
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --scale standard:species "$P"
	[ "$stderr" = "mlfeat: --scale: column 'species' is categorical, not numeric
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --onehot bill_length_mm "$P"
	[ "$stderr" = "mlfeat: --onehot: column 'bill_length_mm' is numeric, not categorical (read it as one with --cat bill_length_mm)
Try 'mlfeat --help' for more information." ]
}

@test "a column that -t, --keep, --time-col or --group-col names must be in the input (65)" {
	run -65 --separate-stderr ml mlfeat -t nope --scale standard "$P"
	[ "$stderr" = "mlfeat: $P: no column 'nope' (-t)" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlfeat -t specie --scale standard "$P"
	[ "$stderr" = "mlfeat: $P: no column 'specie' (-t); did you mean 'species'?" ]
	run -65 --separate-stderr ml mlfeat --keep species,Island --scale standard - <"$P"
	[ "$stderr" = "mlfeat: <stdin>: no column 'Island' (--keep); did you mean 'island'?" ]
	run -65 --separate-stderr ml mlfeat --lag temp_max:1 --time-col dates "$SAMPLES/seattle_weather.csv"
	[ "$stderr" = "mlfeat: $SAMPLES/seattle_weather.csv: no column 'dates' (--time-col); did you mean 'date'?" ]
	run -65 --separate-stderr ml mlfeat --lag temp_max:1 --group-col station "$SAMPLES/seattle_weather.csv"
	[ "$stderr" = "mlfeat: $SAMPLES/seattle_weather.csv: no column 'station' (--group-col)" ]
	# a list that is not one is still a usage error, in the fit's words
	run -2 --separate-stderr ml mlfeat --keep species,, --scale standard "$P"
	[ "$stderr" = "mlfeat: --keep: empty item in column list 'species,,'
Try 'mlfeat --help' for more information." ]
}

@test "an all-missing column cannot be learnt from" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a,b\n1,\n2,\n' >in.csv
	run -65 --separate-stderr ml mlfeat --impute mean:b in.csv
	[ "$stderr" = "mlfeat: in.csv: --impute: column 'b' has no values to learn from (every value is missing)" ]
	run -65 --separate-stderr ml mlfeat --scale standard:b in.csv
	[ "$stderr" = "mlfeat: in.csv: --scale: column 'b' has no values to learn from (every value is missing)" ]
}

@test "a corrupt pipeline file, or one of another kind, is refused" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --save f.mlm --impute median --impute mode "$P" >imputed.csv
	head -c 100 f.mlm >cut.mlm
	run -65 --separate-stderr ml mlfeat --load cut.mlm "$P"
	[[ "$stderr" == "mlfeat: cut.mlm: "* ]]
	[ -z "$output" ]
	printf 'garbage' >junk.mlm
	run -65 --separate-stderr ml mlfeat --load junk.mlm "$P"
	[[ "$stderr" == "mlfeat: junk.mlm: "* ]]
	ml mltrain -t species -a logistic -o model.mlm imputed.csv 2>/dev/null
	run -65 --separate-stderr ml mlfeat --load model.mlm "$P"
	[ "$stderr" = "mlfeat: model.mlm: is a 'model' artefact, not a 'features'" ]
	run -66 --separate-stderr ml mlfeat --load absent.mlm "$P"
	[[ "$stderr" == "mlfeat: absent.mlm: cannot open"* ]]
}

@test "usage errors: --save with --load, steps with --load, --extra without it, nothing to do" {
	run -2 --separate-stderr ml mlfeat --save a.mlm --load b.mlm "$P"
	[ "$stderr" = "mlfeat: --save and --load cannot be combined
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --load b.mlm --scale standard "$P"
	[ "$stderr" = "mlfeat: --load replays a saved pipeline; a step cannot be given with it
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --load b.mlm -t species "$P"
	[ "$stderr" = "mlfeat: --load replays a saved pipeline; --target cannot be given with it
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --extra pass --scale standard "$P"
	[ "$stderr" = "mlfeat: --extra applies to --load only
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat "$P"
	[ "$stderr" = "mlfeat: no steps (give steps such as --scale standard, or --load FILE)
Try 'mlfeat --help' for more information." ]
	run -2 --separate-stderr ml mlfeat --rolling y:1h:mean "$SAMPLES/airpassengers.csv"
	[ "$stderr" = "mlfeat: --rolling: a window of time (1h) needs --time-col
Try 'mlfeat --help' for more information." ]
}

@test "a failed fit writes neither the rows nor the pipeline file" {
	mkdir "$BATS_TEST_TMPDIR/d"
	cd "$BATS_TEST_TMPDIR/d"
	run -65 --separate-stderr ml mlfeat --save f.mlm -o out.csv --onehot date "$SAMPLES/seattle_weather.csv"
	[ -z "$(ls -A)" ]
}

@test "steps see earlier steps' output, in command-line order" {
	cd "$BATS_TEST_TMPDIR"
	ml mlfeat --impute median --scale standard --log all "$P" >a.csv
	ml mlfeat --impute median --log all --scale standard "$P" >b.csv
	run -1 cmp -s a.csv b.csv
	ml mlfeat --scale minmax --clip 0,0.5 "$P" >c.csv
	awk -F, 'NR > 1 && $3 != "" && ($3 < 0 || $3 > 0.5) { exit 1 }' c.csv
}

@test "--save is written even when the reader of the rows stops early" {
	cd "$BATS_TEST_TMPDIR"
	# 1461 rows of dates and lags fill the pipe, so mlfeat is still writing when head is
	# done: SIGPIPE ends it quietly, after the pipeline is saved.
	run --separate-stderr bash -o pipefail -c "'$ML_BIN/mlfeat' --save dates.mlm \
		--datetime date:month,dow --cyclical --lag temp_max:1,7 '$SAMPLES/seattle_weather.csv' | head -1"
	[ "$status" -eq 141 ] || [ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${output%%,*}" = "date_month" ]
	ml mlinfo --check dates.mlm
	ml mlfeat --save full.mlm --datetime date:month,dow --cyclical --lag temp_max:1,7 \
		"$SAMPLES/seattle_weather.csv" >/dev/null
	ml mlfeat --load dates.mlm "$SAMPLES/seattle_weather.csv" >a.csv
	ml mlfeat --load full.mlm "$SAMPLES/seattle_weather.csv" >b.csv
	same a.csv b.csv
}
