#!/usr/bin/env bats
# mlsplit: sizes and rules of every split and k-fold mode, reproducibility, streaming by
# key, output formats, and every kind of misuse and bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$SAMPLES/penguins.csv" "$SAMPLES/seattle_weather.csv" "$SAMPLES/airpassengers.csv" .
	# The canonical form mlsplit writes rows in.
	ml mlcat penguins.csv >penguins.all
	ml mlcat seattle_weather.csv >weather.all
}

# Data rows of a table, sorted.
body() {
	tail -n +2 "$1" | LC_ALL=C sort
}

# Data rows of a table.
nrows() {
	echo $(($(wc -l <"$1") - 1))
}

# The rows of $2 come in the order they have in $1 (whose rows are all distinct).
in_order() {
	awk 'NR == FNR { pos[$0] = FNR; next }
		FNR > 1 { if (!($0 in pos) || pos[$0] <= last) { print "out of order: " $0; exit 1 }
			last = pos[$0] }' "$1" "$2" >&2
}

# A deterministic shuffle of a table's rows, header first.
shuffled() {
	head -1 "$1"
	tail -n +2 "$1" | awk 'BEGIN { srand(7) } { print rand() "\t" $0 }' | LC_ALL=C sort |
		cut -f2-
}

# Values of field $2 of the data rows of $1 with their counts, as "count value" lines.
counts() {
	awk -F, -v f="$2" 'NR > 1 { n[$f]++ } END { for (v in n) print n[v], v }' "$1" |
		LC_ALL=C sort -k2
}

# ---- sizes ----

@test "test rows are ceil(T * n) as scikit-learn counts them, or a whole count" {
	# scikit-learn 1.2.1 train_test_split(test_size=0.2) on 344 rows: 275 train, 69 test
	ml mlsplit --test 0.2 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows tr.csv)" -eq 275 ]
	[ "$(nrows te.csv)" -eq 69 ]
	# ceil(34.4) = 35
	ml mlsplit --test 0.1 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows te.csv)" -eq 35 ]
	[ "$(nrows tr.csv)" -eq 309 ]
	# the default is 0.25, as scikit-learn's: ceil(86) = 86
	ml mlsplit --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows te.csv)" -eq 86 ]
	# ceil(292.2) = 293
	ml mlsplit --test 0.2 --train-out tr.csv --test-out te.csv seattle_weather.csv
	[ "$(nrows te.csv)" -eq 293 ]
	[ "$(nrows tr.csv)" -eq 1168 ]
	# a whole number is a row count
	ml mlsplit --test 50 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows te.csv)" -eq 50 ]
	ml mlsplit --test 1 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows te.csv)" -eq 1 ]
	ml mlsplit --test 343 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(nrows tr.csv)" -eq 1 ]
}

@test "-v reports the sizes" {
	run --separate-stderr ml mlsplit -v --test 0.2 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = "mlsplit: 344 rows: 275 train, 69 test (69 asked for)" ]
	run --separate-stderr ml mlsplit -v --test 60 --time date --gap 7 --train-out tr.csv \
		--test-out te.csv seattle_weather.csv
	[ "$stderr" = "mlsplit: 1461 rows: 1394 train, 60 test (60 asked for)
mlsplit: 7 rows dropped by the gap" ]
}

@test "train and test together are the input, each in input order, in every mode" {
	for mode in "" "--stratify species" "--group island" "--group bill_length_mm" \
		"--by-key body_mass_g"; do
		ml mlsplit --test 0.2 $mode --train-out tr.csv --test-out te.csv penguins.csv
		{ body tr.csv; body te.csv; } | LC_ALL=C sort >union.txt
		body penguins.all >all.txt
		same all.txt union.txt
		head -1 tr.csv >h1
		head -1 penguins.all >h2
		same h1 h2
		in_order penguins.all tr.csv
		in_order penguins.all te.csv
	done
	ml mlsplit --test 0.2 --time date --train-out tr.csv --test-out te.csv weather.all
	{ body tr.csv; body te.csv; } | LC_ALL=C sort >union.txt
	body weather.all >all.txt
	same all.txt union.txt
}

@test "the rows are written unchanged, whatever their types" {
	ml mlsplit --kfold 2 penguins.csv >k.csv
	cut -d, -f1-7 k.csv >cut.csv
	same penguins.all cut.csv
	ml mlsplit --kfold 2 --cat bill_length_mm penguins.csv >k2.csv
	same k.csv k2.csv
}

# ---- stratified ----

@test "a stratified split keeps the class shares, with scikit-learn's counts" {
	# scikit-learn 1.2.1 train_test_split(stratify=species) gives these test counts
	ml mlsplit --test 0.2 --stratify species --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(counts te.csv 1 | tr '\n' ' ')" = "30 Adelie 14 Chinstrap 25 Gentoo " ]
	[ "$(counts tr.csv 1 | tr '\n' ' ')" = "122 Adelie 54 Chinstrap 99 Gentoo " ]
	ml mlsplit --test 0.1 --stratify species --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(counts te.csv 1 | tr '\n' ' ')" = "15 Adelie 7 Chinstrap 13 Gentoo " ]
	ml mlsplit --test 0.33 --stratify species --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(counts te.csv 1 | tr '\n' ' ')" = "50 Adelie 23 Chinstrap 41 Gentoo " ]
	ml mlsplit --test 0.9 --stratify 1 --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(counts te.csv 1 | tr '\n' ' ')" = "137 Adelie 61 Chinstrap 112 Gentoo " ]
	# the missing values of sex are a class of their own: 11 rows, 2 tested
	ml mlsplit --test 0.2 --stratify sex --train-out tr.csv --test-out te.csv penguins.csv
	[ "$(counts te.csv 7 | tr '\n' ' ')" = "2  33 female 34 male " ]
}

# ---- grouped ----

@test "a grouped split never puts a group on both sides" {
	for col in 2 island; do
		ml mlsplit --test 0.2 --group "$col" --train-out tr.csv --test-out te.csv penguins.csv
		# only Torgersen (52 rows) fits in 69; adding Dream (124) would land further away
		[ "$(counts te.csv 2 | tr '\n' ' ')" = "52 Torgersen " ]
		[ "$(nrows tr.csv)" -eq 292 ]
	done
	# many small groups: the target is met, no value of bill_length_mm on both sides
	for seed in 1 2 3; do
		ml mlsplit --seed $seed --test 0.2 --group bill_length_mm --train-out tr.csv \
			--test-out te.csv penguins.csv
		[ "$(nrows te.csv)" -eq 69 ]
		cut -d, -f3 tr.csv | tail -n +2 | sort -u >a
		cut -d, -f3 te.csv | tail -n +2 | sort -u >b
		[ -z "$(comm -12 a b)" ]
	done
}

@test "a group larger than the target still gives a test set, never the whole input" {
	printf 'g,v\na,1\na,2\na,3\nb,4\nb,5\nb,6\nb,7\n' >g.csv
	ml mlsplit --test 1 --group g --train-out tr.csv --test-out te.csv g.csv
	[ "$(counts te.csv 1)" = "3 a" ]
	[ "$(counts tr.csv 1)" = "4 b" ]
	ml mlsplit --test 6 --group g --train-out tr.csv --test-out te.csv g.csv
	[ "$(nrows tr.csv)" -ge 3 ]
	[ "$(nrows te.csv)" -ge 3 ]
}

# ---- time ----

@test "a time split tests the latest rows and leaves the gap out of train" {
	shuffled weather.all >shuf.csv
	ml mlsplit --test 0.2 --time date --gap 7 --train-out tr.csv --test-out te.csv shuf.csv
	[ "$(nrows te.csv)" -eq 293 ]
	[ "$(nrows tr.csv)" -eq 1161 ]
	# weather.all is in date order: test = its last 293 rows, train = its first 1161
	tail -n 293 weather.all | LC_ALL=C sort >want
	body te.csv >got
	same want got
	tail -n +2 weather.all | head -n 1161 | LC_ALL=C sort >want
	body tr.csv >got
	same want got
	[ "$(tail -n +2 tr.csv | cut -d, -f1 | sort | tail -1)" = "2015/03/06" ]
	[ "$(tail -n +2 te.csv | cut -d, -f1 | sort | head -1)" = "2015/03/14" ]
	# both in input order
	in_order shuf.csv te.csv
	in_order shuf.csv tr.csv
}

@test "a time split sorts ISO 8601 text and numbers, and keeps ties in input order" {
	printf 't,v\n2021-03-01T10:00:00,a\n2021-02-28T23:59:59,b\n2021-03-01T10:00:00,c\n2020-12-31T00:00:00,d\n2021-03-01T09:00:00,e\n' >iso.csv
	ml mlsplit --test 1 --time t --train-out tr.csv --test-out te.csv iso.csv
	[ "$(tail -n +2 te.csv)" = "2021-03-01T10:00:00,c" ]
	[ "$(tail -n +2 tr.csv | cut -d, -f2 | tr -d '\n')" = "abde" ]
	ml mlsplit --test 2 --time t --gap 2 --train-out tr.csv --test-out te.csv iso.csv
	[ "$(tail -n +2 te.csv | cut -d, -f2 | tr -d '\n')" = "ac" ]
	[ "$(tail -n +2 tr.csv | cut -d, -f2 | tr -d '\n')" = "d" ]
	# a numeric time column, out of order
	shuffled airpassengers.csv >air.csv
	ml mlsplit --test 12 --time t --train-out tr.csv --test-out te.csv air.csv
	[ "$(tail -n +2 te.csv | cut -d, -f1 | sort -n | head -1)" = "1960" ]
	[ "$(tail -n +2 tr.csv | cut -d, -f1 | sort -n | tail -1)" = "1959.91666666667" ]
}

# ---- by key ----

@test "--by-key: a row's side depends only on its key, in any file and any order" {
	shuffled weather.all >shuf.csv
	ml mlsplit --by-key date --test 0.3 --train-out tr1.csv --test-out te1.csv weather.all
	ml mlsplit --by-key date --test 0.3 --train-out tr2.csv --test-out te2.csv shuf.csv
	body tr1.csv >a
	body tr2.csv >b
	same a b
	body te1.csv >a
	body te2.csv >b
	same a b
	# each half on its own agrees with the whole
	head -n 700 weather.all >h1.csv
	{ head -1 weather.all; tail -n +701 weather.all; } >h2.csv
	ml mlsplit --by-key date --test 0.3 --train-out t1.csv --test-out s1.csv h1.csv
	ml mlsplit --by-key date --test 0.3 --train-out t2.csv --test-out s2.csv h2.csv
	{ body s1.csv; body s2.csv; } | LC_ALL=C sort >a
	body te1.csv >b
	same a b
	# the same run again gives the same bytes; the fraction holds roughly
	ml mlsplit --by-key date --test 0.3 --train-out tr3.csv --test-out te3.csv weather.all
	same te1.csv te3.csv
	n=$(nrows te1.csv)
	[ "$n" -gt 380 ]
	[ "$n" -lt 500 ]
	# every row of a key goes the same way
	ml mlsplit --by-key island --test 0.5 --seed 3 --train-out tr.csv --test-out te.csv penguins.csv
	cut -d, -f2 tr.csv | tail -n +2 | sort -u >a
	cut -d, -f2 te.csv | tail -n +2 | sort -u >b
	[ -z "$(comm -12 a b)" ]
}

@test "--by-key streams from a pipe and from gzip, and k-folds by key" {
	ml mlsplit --by-key date --test 0.3 --train-out tr1.csv --test-out te1.csv seattle_weather.csv
	gzip -c seattle_weather.csv >w.csv.gz
	ml mlsplit --by-key date --test 0.3 --train-out tr2.csv --test-out te2.csv - <w.csv.gz
	same tr1.csv tr2.csv
	same te1.csv te2.csv
	ml mlsplit --kfold 4 --by-key date seattle_weather.csv >k1.csv
	ml mlsplit --kfold 4 --by-key date <w.csv.gz >k2.csv
	same k1.csv k2.csv
	[ "$(awk -F, 'NR > 1 && ($NF < 1 || $NF > 4)' k1.csv | wc -l)" -eq 0 ]
	[ "$(cut -d, -f7 k1.csv | tail -n +2 | sort -u | tr '\n' ' ')" = "1 2 3 4 " ]
	# a key's fold is the same in a shuffled copy
	shuffled weather.all >shuf.csv
	ml mlsplit --kfold 4 --by-key date shuf.csv >k3.csv
	body k1.csv >a
	body k3.csv >b
	same a b
}

@test "--by-key with another seed splits otherwise" {
	ml mlsplit --by-key date --test 0.3 --train-out tr1.csv --test-out te1.csv seattle_weather.csv
	ml mlsplit --by-key date --test 0.3 --seed 1 --train-out tr2.csv --test-out te2.csv \
		seattle_weather.csv
	run -1 cmp -s te1.csv te2.csv
}

# ---- reproducibility ----

@test "the same seed gives the same bytes, whatever -j; another seed another split" {
	for mode in "" "--stratify species" "--group bill_length_mm"; do
		ml mlsplit $mode --seed 5 --train-out a1 --test-out b1 penguins.csv
		ml mlsplit $mode --seed 5 -j 1 --train-out a2 --test-out b2 penguins.csv
		ml mlsplit $mode --seed 5 -j 4 --train-out a3 --test-out b3 penguins.csv
		same a1 a2
		same b1 b2
		same a1 a3
		same b1 b3
		ml mlsplit $mode --seed 6 --train-out a4 --test-out b4 penguins.csv
		run -1 cmp -s b1 b4
		ml mlsplit --kfold 5 $mode --seed 5 penguins.csv >k1
		ml mlsplit --kfold 5 $mode --seed 5 -j 3 penguins.csv >k2
		same k1 k2
		ml mlsplit --kfold 5 $mode --seed 6 penguins.csv >k3
		run -1 cmp -s k1 k3
	done
	# the default seed is 42
	ml mlsplit --train-out a1 --test-out b1 penguins.csv
	ml mlsplit --seed 42 --train-out a2 --test-out b2 penguins.csv
	same b1 b2
}

# ---- k-fold ----

@test "k-fold: every row in exactly one fold, fold sizes within one" {
	ml mlsplit --kfold 5 penguins.csv >k.csv
	[ "$(head -1 k.csv)" = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,fold" ]
	[ "$(counts k.csv 8 | tr '\n' ' ')" = "69 1 69 2 69 3 69 4 68 5 " ]
	cut -d, -f1-7 k.csv >rows.csv
	same penguins.all rows.csv
	ml mlsplit --kfold 3 seattle_weather.csv >k.csv
	[ "$(counts k.csv 7 | tr '\n' ' ')" = "487 1 487 2 487 3 " ]
	ml mlsplit --kfold 2 -o k2.csv penguins.csv
	[ "$(counts k2.csv 8 | tr '\n' ' ')" = "172 1 172 2 " ]
}

@test "k-fold: a shell loop over the folds rebuilds the input" {
	ml mlsplit --kfold 5 --stratify species penguins.csv >folds.csv
	: >all
	for k in 1 2 3 4 5; do
		awk -F, -v k=$k 'NR == 1 || $NF != k' folds.csv >train$k.csv
		awk -F, -v k=$k 'NR == 1 || $NF == k' folds.csv >test$k.csv
		[ $(($(nrows train$k.csv) + $(nrows test$k.csv))) -eq 344 ]
		body test$k.csv >>all
	done
	LC_ALL=C sort all >a
	body folds.csv >b
	same a b
}

@test "stratified k-fold balances each class over the folds, as StratifiedKFold" {
	ml mlsplit --kfold 5 --stratify species penguins.csv >k.csv
	# per fold: Adelie, Chinstrap, Gentoo; scikit-learn 1.2.1 StratifiedKFold(5) gives
	# the same counts
	got=$(for f in 1 2 3 4 5; do
		awk -F, -v f=$f 'NR > 1 && $NF == f { n[$1]++ }
			END { printf "%d/%d/%d ", n["Adelie"], n["Chinstrap"], n["Gentoo"] }' k.csv
	done)
	[ "$got" = "31/13/25 31/14/24 30/14/25 30/14/25 30/13/25 " ]
	[ "$(counts k.csv 8 | tr '\n' ' ')" = "69 1 69 2 69 3 69 4 68 5 " ]
	# sizes and class counts within one for another K too
	ml mlsplit --kfold 7 --stratify weather seattle_weather.csv >k.csv
	awk -F, 'NR > 1 { n[$NF]++; c[$6 SUBSEP $NF]++; w[$6] = 1 }
		END { lo = 1e9; hi = 0
			for (f in n) { if (n[f] < lo) lo = n[f]; if (n[f] > hi) hi = n[f] }
			if (hi - lo > 1) exit 1
			for (v in w) { lo = 1e9; hi = 0
				for (f = 1; f <= 7; f++) { x = c[v, f] + 0; if (x < lo) lo = x; if (x > hi) hi = x }
				if (hi - lo > 1) exit 1 } }' k.csv
}

@test "grouped k-fold keeps groups whole, largest first into the emptiest fold" {
	ml mlsplit --kfold 3 --group island penguins.csv >k.csv
	# Biscoe (168) to fold 1, Dream (124) to fold 2, Torgersen (52) to fold 3
	[ "$(awk -F, 'NR > 1 { print $2 "=" $NF }' k.csv | sort -u | tr '\n' ' ')" = "Biscoe=1 Dream=2 Torgersen=3 " ]
	ml mlsplit --kfold 5 --group bill_length_mm penguins.csv >k.csv
	[ "$(awk -F, 'NR > 1 { print $3 "=" $NF }' k.csv | sort -u | cut -d= -f1 | uniq -d | wc -l)" -eq 0 ]
	[ "$(counts k.csv 8 | tr '\n' ' ')" = "69 1 69 2 69 3 69 4 68 5 " ]
}

@test "time k-fold: K+1 chunks in time order, chunk 0 never tested" {
	shuffled weather.all >shuf.csv
	ml mlsplit --kfold 4 --time date shuf.csv >k.csv
	# scikit-learn TimeSeriesSplit(4) on 1461 rows: tests of 292, first train of 293
	[ "$(counts k.csv 7 | tr '\n' ' ')" = "293 0 292 1 292 2 292 3 292 4 " ]
	# in date order the fold never goes down
	tail -n +2 k.csv | LC_ALL=C sort -t, -k1,1 | awk -F, '$NF < last { exit 1 } { last = $NF }'
	# fold 4 holds the last 292 days
	[ "$(awk -F, '$NF == 4' k.csv | cut -d, -f1 | sort | head -1)" = "2015/03/15" ]
	in_order shuf.csv <(cut -d, -f1-6 k.csv)
}

@test "-f stream output is read back by mlcat" {
	ml mlsplit --test 0.2 -f stream --train-out tr.mls --test-out te.mls penguins.csv
	ml mlsplit --test 0.2 --train-out tr.csv --test-out te.csv penguins.csv
	ml mlcat tr.mls >a.csv
	ml mlcat te.mls >b.csv
	same tr.csv a.csv
	same te.csv b.csv
	ml mlsplit --kfold 3 --stratify species -f stream -o k.mls penguins.csv
	ml mlsplit --kfold 3 --stratify species penguins.csv >k.csv
	ml mlcat k.mls >c.csv
	same k.csv c.csv
	ml mlsplit --by-key date --test 0.3 -f stream --train-out tr.mls --test-out te.mls seattle_weather.csv
	ml mlsplit --by-key date --test 0.3 --train-out tr.csv --test-out te.csv seattle_weather.csv
	ml mlcat te.mls >d.csv
	same te.csv d.csv
	# and a stream is read as input
	ml mlcat -f stream penguins.csv >p.mls
	ml mlsplit --kfold 3 --stratify species p.mls >k2.csv
	same k.csv k2.csv
	ml mlsplit --by-key species --kfold 2 p.mls >k3.csv
	[ "$(nrows k3.csv)" -eq 344 ]
}

@test "one output may be standard output; TSV output" {
	run --separate-stderr ml mlsplit --test 10 --train-out tr.csv --test-out - penguins.csv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 11 ]
	ml mlsplit --test 10 -f tsv --train-out tr.tsv --test-out te.tsv penguins.csv
	[ "$(head -1 te.tsv)" = "$(printf 'species\tisland\tbill_length_mm\tbill_depth_mm\tflipper_length_mm\tbody_mass_g\tsex')" ]
}

# ---- misuse ----

@test "missing outputs are usage errors" {
	run -2 --separate-stderr ml mlsplit --test 0.2 --test-out te.csv penguins.csv
	[ "$stderr" = "mlsplit: missing --train-out=FILE (or use --kfold)
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --test 0.2 --train-out tr.csv penguins.csv
	[ "$stderr" = "mlsplit: missing --test-out=FILE (or use --kfold)
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --train-out a.csv --test-out a.csv penguins.csv
	[ "$stderr" = "mlsplit: --train-out and --test-out are the same file 'a.csv'
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit -o x.csv --train-out a.csv --test-out b.csv penguins.csv
	[ "$stderr" = "mlsplit: --output applies to --kfold; use --train-out and --test-out
Try 'mlsplit --help' for more information." ]
	[ ! -e a.csv ]
	[ ! -e b.csv ]
	[ ! -e x.csv ]
	[ ! -e te.csv ]
	[ ! -e tr.csv ]
}

@test "--test out of range is a usage error" {
	for t in 1.5 0 0.0 -0.2 1.0 abc 2.5 ""; do
		run -2 --separate-stderr ml mlsplit --test "$t" --train-out a --test-out b penguins.csv
		[ "$stderr" = "mlsplit: invalid value '$t' for --test (a fraction between 0 and 1, or a whole number of rows >= 1)
Try 'mlsplit --help' for more information." ] || { echo "--test '$t': $stderr"; return 1; }
	done
	[ ! -e a ]
	[ ! -e b ]
}

@test "a whole test count not below the rows, or an empty train set, is bad data" {
	run -65 --separate-stderr ml mlsplit --test 344 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: a test count of 344 is not smaller than the 344 rows" ]
	run -65 --separate-stderr ml mlsplit --test 1000 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: a test count of 1000 is not smaller than the 344 rows" ]
	run -65 --separate-stderr ml mlsplit --test 0.999 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: the train set would be empty: a test fraction of 0.999 takes 344 of the 344 rows" ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "a column an option names that the input lacks is bad input (65) naming it" {
	for o in --stratify --group --time --by-key; do
		run -65 --separate-stderr ml mlsplit $o nope --train-out a --test-out b penguins.csv
		[ "$stderr" = "mlsplit: penguins.csv: no column 'nope' ($o)" ] || { echo "$stderr"; return 1; }
		[ ! -e a ]
		[ ! -e b ]
	done
	run -65 --separate-stderr ml mlsplit --kfold 3 --stratify 9 penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: no column '9' (--stratify)" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlsplit --kfold 3 --group Island - <penguins.csv
	[ "$stderr" = "mlsplit: <stdin>: no column 'Island' (--group); did you mean 'island'?" ]
	run -65 --separate-stderr ml mlsplit --stratify specie --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: no column 'specie' (--stratify); did you mean 'species'?" ]
	run -2 --separate-stderr ml mlsplit --stratify species,island --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: --stratify takes one column, not 'species,island'
Try 'mlsplit --help' for more information." ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "stratifying a class of one row is bad data, as scikit-learn" {
	printf 'x,y\n1,a\n2,a\n3,b\n4,b\n5,c\n' >one.csv
	run -65 --separate-stderr ml mlsplit --stratify y --train-out a --test-out b one.csv
	[ "$stderr" = "mlsplit: one.csv: class 'c' of column 'y' has only 1 row; stratifying needs at least 2 rows in every class" ]
	printf 'x,y\n1,a\n2,a\n3,\n4,b\n5,b\n' >miss.csv
	run -65 --separate-stderr ml mlsplit --stratify y --train-out a --test-out b miss.csv
	[ "$stderr" = "mlsplit: miss.csv: the class of missing values of column 'y' has only 1 row; stratifying needs at least 2 rows in every class" ]
	run -65 --separate-stderr ml mlsplit --stratify species --test 2 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: 2 test rows cannot hold one row of each of the 3 classes of 'species'" ]
	run -65 --separate-stderr ml mlsplit --stratify species --test 342 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: 2 train rows cannot hold one row of each of the 3 classes of 'species'" ]
	[ ! -e a ]
	[ ! -e b ]
	# k-fold: a class smaller than K is a warning, as StratifiedKFold
	run --separate-stderr ml mlsplit --kfold 2 --stratify y one.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlsplit: warning: the least populated class of 'y' has only 1 row, fewer than the 2 folds" ]
	run --separate-stderr ml mlsplit -q --kfold 2 --stratify y one.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	run -65 --separate-stderr ml mlsplit --kfold 3 --stratify y one.csv
	[ "$stderr" = "mlsplit: one.csv: 3 folds are more than the rows of any class of 'y' (at most 2)" ]
}

@test "more folds than rows, groups or time chunks is bad data" {
	run -65 --separate-stderr ml mlsplit --kfold 345 penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: cannot make 345 folds from 344 rows" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlsplit --kfold 4 --group island penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv: cannot make 4 folds from the 3 groups of 'island'" ]
	run -65 --separate-stderr ml mlsplit --kfold 1461 --time date seattle_weather.csv
	[ "$stderr" = "mlsplit: seattle_weather.csv: cannot cut 1461 rows into 1462 time chunks (1461 folds)" ]
	run -65 --separate-stderr ml mlsplit --kfold 3 -o k.csv penguins.csv --stratify 1 --kfold 400
	[ "$stderr" = "mlsplit: penguins.csv: cannot make 400 folds from 344 rows" ]
	[ ! -e k.csv ]
	run -2 --separate-stderr ml mlsplit --kfold 1 penguins.csv
	[ "$stderr" = "mlsplit: invalid value '1' for --kfold (a whole number from 2 to 2147483647)
Try 'mlsplit --help' for more information." ]
}

@test "modes that cannot be combined are usage errors" {
	run -2 --separate-stderr ml mlsplit --stratify species --group island --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: --stratify and --group cannot be combined
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --time date --by-key date --train-out a --test-out b seattle_weather.csv
	[ "$stderr" = "mlsplit: --time and --by-key cannot be combined
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --gap 3 --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: --gap needs --time
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --gap 3 --stratify species --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: --gap needs --time
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --kfold 3 --time date --gap 2 seattle_weather.csv
	[ "$stderr" = "mlsplit: --gap cannot be combined with --kfold
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --kfold 3 --train-out a penguins.csv
	[ "$stderr" = "mlsplit: --train-out cannot be combined with --kfold
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --kfold 3 --test 0.2 penguins.csv
	[ "$stderr" = "mlsplit: --test cannot be combined with --kfold
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --by-key date --test 100 --train-out a --test-out b seattle_weather.csv
	[ "$stderr" = "mlsplit: --by-key needs --test as a fraction: a row count cannot be met while streaming
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --train-out a --test-out b penguins.csv seattle_weather.csv
	[ "$stderr" = "mlsplit: one input at most, not 2 ('penguins.csv' and 'seattle_weather.csv' ...)
Try 'mlsplit --help' for more information." ]
	run -2 --separate-stderr ml mlsplit --gap x --time date --train-out a --test-out b seattle_weather.csv
	[ "$stderr" = "mlsplit: invalid value 'x' for --gap (a whole number from 0 to 9223372036854775807)
Try 'mlsplit --help' for more information." ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "empty input is bad data" {
	printf 'x,y\n' >header.csv
	: >empty.csv
	run -65 --separate-stderr ml mlsplit --train-out a --test-out b header.csv
	[ "$stderr" = "mlsplit: header.csv: no rows to split" ]
	run -65 --separate-stderr ml mlsplit --train-out a --test-out b empty.csv
	[ "$stderr" = "mlsplit: empty.csv: empty input: no header" ]
	run -65 --separate-stderr ml mlsplit --kfold 3 header.csv
	[ "$stderr" = "mlsplit: header.csv: no rows to split" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlsplit --by-key x --train-out a --test-out b header.csv
	[ "$stderr" = "mlsplit: header.csv: no rows to split" ]
	run -65 --separate-stderr ml mlsplit --by-key x --train-out a --test-out b - <header.csv
	[ "$stderr" = "mlsplit: <stdin>: no rows to split" ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "a side that would be empty is bad data and nothing is written" {
	printf 'x,y\n1,a\n2,a\n3,b\n4,b\n5,c\n' >one.csv
	run -65 --separate-stderr ml mlsplit --by-key x --test 0.01 --train-out a --test-out b one.csv
	[ "$stderr" = "mlsplit: one.csv: the test set would be empty: with --by-key the test fraction holds only on average (5 rows)" ]
	run -65 --separate-stderr ml mlsplit --by-key x --test 0.99 --train-out a --test-out b one.csv
	[ "$stderr" = "mlsplit: one.csv: the train set would be empty: with --by-key the test fraction holds only on average (5 rows)" ]
	run -65 --separate-stderr ml mlsplit --by-key x --kfold 5 -o k.csv one.csv
	[[ "$stderr" == "mlsplit: one.csv: fold "?" has no rows: with --by-key fold sizes are equal only on average" ]]
	[ ! -e a ]
	[ ! -e b ]
	[ ! -e k.csv ]
	# existing outputs are left as they were
	echo old >a
	echo old >b
	run -65 --separate-stderr ml mlsplit --by-key x --test 0.01 --train-out a --test-out b one.csv
	[ "$(cat a b)" = "old
old" ]
	# and no temporary file is left behind
	[ "$(ls -A | grep -v '^separate-stderr-' | LC_ALL=C sort | tr '\n' ' ')" = "a airpassengers.csv b one.csv penguins.all penguins.csv seattle_weather.csv weather.all " ]
}

@test "groups, gaps and times the data cannot give are bad data" {
	printf 'g,v\na,1\na,2\n' >g.csv
	run -65 --separate-stderr ml mlsplit --group g --test 1 --train-out a --test-out b g.csv
	[ "$stderr" = "mlsplit: g.csv: column 'g' has a single group: it cannot be split" ]
	# ceil(0.5 * 1461) = 731 tested leaves 730 rows, all in the gap
	run -65 --separate-stderr ml mlsplit --time date --test 0.5 --gap 730 --train-out a --test-out b seattle_weather.csv
	[ "$stderr" = "mlsplit: seattle_weather.csv: no rows left to train on: 1461 rows, 731 tested and a gap of 730" ]
	ml mlsplit --time date --test 0.5 --gap 729 --train-out a --test-out b seattle_weather.csv
	[ "$(nrows a)" -eq 1 ]
	rm a b
	run -65 --separate-stderr ml mlsplit --time bill_length_mm --train-out a --test-out b penguins.csv
	[ "$stderr" = "mlsplit: penguins.csv:5: missing value in time column 'bill_length_mm'" ]
	printf 'x,fold\n1,2\n3,4\n' >fold.csv
	run -65 --separate-stderr ml mlsplit --kfold 2 fold.csv
	[ "$stderr" = "mlsplit: fold.csv: the input already has a column named 'fold'" ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "an input that cannot be opened" {
	run -66 --separate-stderr ml mlsplit --train-out a --test-out b nonexistent.csv
	[ "$stderr" = "mlsplit: nonexistent.csv: cannot open: No such file or directory" ]
	run -66 --separate-stderr ml mlsplit --by-key x --train-out a --test-out b nonexistent.csv
	[ "$stderr" = "mlsplit: nonexistent.csv: cannot open: No such file or directory" ]
	[ ! -e a ]
	[ ! -e b ]
}

@test "a full disk is a write error" {
	run -74 --separate-stderr bash -c "'$ML_BIN/mlsplit' --kfold 3 penguins.csv >/dev/full"
	[[ "$stderr" == "mlsplit: "*"write error"* ]]
}
