#!/usr/bin/env bats
# mlcat: conversions, concatenation, schema, describe, and every kind of bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "CSV is written back in canonical form" {
	run --separate-stderr ml mlcat "$SAMPLES/seattle_weather.csv"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "date,precipitation,temp_max,temp_min,wind,weather" ]
	[ "${lines[1]}" = "2012/01/01,0,12.8,5,4.7,drizzle" ]
	[ "${#lines[@]}" -eq 1462 ]
}

@test "CSV to stream to CSV is lossless for every sample" {
	for f in "$SAMPLES"/*.csv; do
		ml mlcat "$f" >a.csv
		ml mlcat -f stream "$f" >s.mls
		ml mlcat s.mls >b.csv
		same a.csv b.csv
		# and the canonical form is a fixed point
		ml mlcat a.csv >c.csv
		same a.csv c.csv
	done
}

@test "stream through a pipe, compressed or not, and ML_FORMAT" {
	ml mlcat "$SAMPLES/penguins.csv" >a.csv
	ml mlcat -f stream --compress 6 "$SAMPLES/penguins.csv" | ml mlcat >b.csv
	same a.csv b.csv
	ML_FORMAT=stream ml mlcat "$SAMPLES/penguins.csv" >s.mls
	ml mlcat - <s.mls >c.csv
	same a.csv c.csv
	run -2 --separate-stderr env ML_FORMAT=xml "$ML_BIN/mlcat" "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlcat: ML_FORMAT: unknown format 'xml' (csv, tsv or stream)" ]
}

@test "the stream is not written to a terminal" {
	command -v script >/dev/null
	run script -qec "'$ML_BIN/mlcat' -f stream '$SAMPLES/airpassengers.csv'" /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"mlcat: refusing to write a binary stream to a terminal"* ]]
}

@test "gzip input is detected by its magic, and concatenated members too" {
	gzip -c "$SAMPLES/airpassengers.csv" >a.gz
	ml mlcat a.gz >a.csv
	ml mlcat "$SAMPLES/airpassengers.csv" >b.csv
	same a.csv b.csv
	(gzip -c "$SAMPLES/airpassengers.csv"; tail -n +2 "$SAMPLES/airpassengers.csv" | gzip -c) >two.gz
	ml mlcat two.gz >two.csv
	[ "$(wc -l <two.csv)" -eq 289 ]
	ml mlcat -f stream "$SAMPLES/airpassengers.csv" | gzip -c >s.gz
	ml mlcat s.gz >c.csv
	same b.csv c.csv
}

@test "TSV is detected and written" {
	printf 'a\tb c\n1\tx y\n2\tz\n' >t.tsv
	run --separate-stderr ml mlcat t.tsv
	[ "$output" = "a,b c
1,x y
2,z" ]
	run --separate-stderr ml mlcat -f tsv t.tsv
	[ "$output" = "$(cat t.tsv)" ]
	printf 'a;b\n1;2\n' >semi.csv
	run --separate-stderr ml mlcat -d ';' semi.csv
	[ "$output" = "a,b
1,2" ]
}

@test "RFC 4180 quoting, CRLF and a byte order mark" {
	printf '\xef\xbb\xbfname,note\r\n"Smith, J","said ""hi""\r\nthen left"\r\nplain, spaced \r\n' >q.csv
	ml mlcat q.csv >out.csv
	printf 'name,note\n"Smith, J","said ""hi""\r\nthen left"\nplain,spaced\n' >want.csv
	same want.csv out.csv
	ml mlcat -f stream q.csv | ml mlcat >out2.csv
	same want.csv out2.csv
}

@test "blank lines are skipped and line numbers still count them" {
	printf 'a,b\n1,2\n\n3,4\n\n5\n' >b.csv
	run -65 --separate-stderr ml mlcat b.csv
	[ "$stderr" = "mlcat: b.csv:6: expected 2 fields, found 1" ]
	printf 'a,b\n"multi\nline",2\n3,4,5\n' >m.csv
	run -65 --separate-stderr ml mlcat m.csv
	[ "$stderr" = "mlcat: m.csv:4: expected 2 fields, found at least 3" ]
}

@test "missing tokens, and --na" {
	printf 'a,b\n1,NA\nNaN,x\n?,null\n,\n4,N/A\n' >na.csv
	run --separate-stderr ml mlcat na.csv
	[ "$output" = "a,b
1,
,x
,
,
4," ]
	printf 'a\n1\n-\n' >dash.csv
	run --separate-stderr ml mlcat --schema --na=- dash.csv
	[ "${lines[1]}" = "a,num," ]
}

@test "typing: numbers, leading zeros, overrides" {
	printf 'id,x,y,z\n007,1.5,1e3,a\n010,-2,inf,b\n' >t.csv
	run --separate-stderr ml mlcat --schema t.csv
	[ "$output" = "column,type,categories
id,cat,2
x,num,
y,cat,2
z,cat,2" ]
	run --separate-stderr ml mlcat --schema --num id --cat x t.csv
	[ "$output" = "column,type,categories
id,num,
x,cat,2
y,cat,2
z,cat,2" ]
	run -65 --separate-stderr ml mlcat --num z t.csv
	[ "$stderr" = "mlcat: t.csv:2: cannot parse 'a' as a number in column 'z' (--num)" ]
	run -2 --separate-stderr ml mlcat --num nope t.csv
	[ "$stderr" = "mlcat: no column 'nope'
Try 'mlcat --help' for more information." ]
}

@test "a numeric column that meets text after the typed rows names line, column and value" {
	{ echo a,b; seq 1 300000 | sed 's/$/,x/'; echo 'oops,y'; } >late.csv
	run -65 --separate-stderr ml mlcat late.csv -o out.csv
	[ "$stderr" = "mlcat: late.csv:300002: cannot parse 'oops' as a number in column 'a' (numbers in its first 100000 rows): give --na 'oops' if it marks a missing value, or --cat 'a' to read the column as text" ]
	[ ! -e out.csv ]
	ml mlcat --cat a late.csv | tail -1 >last
	[ "$(cat last)" = "oops,y" ]
}

@test "the rows read with the first 100000 are typed as later rows: new levels, line breaks, errors" {
	awk 'BEGIN { print "a,b"; for (i = 1; i <= 100010; i++)
		print i "," (i == 100002 ? "\"new\nlevel\"" : i == 100004 ? "" : "x" i % 3) }' >tail.csv
	ml mlcat -o out.csv tail.csv
	same tail.csv out.csv
	ml mlcat -f stream tail.csv | ml mlcat >back.csv
	same tail.csv back.csv
	{ head -100004 tail.csv; echo 'oops,x1'; } >bad.csv
	run -65 --separate-stderr ml mlcat bad.csv
	[ "$stderr" = "mlcat: bad.csv:100005: cannot parse 'oops' as a number in column 'a' (numbers in its first 100000 rows): give --na 'oops' if it marks a missing value, or --cat 'a' to read the column as text" ]
}

@test "--no-header names columns c1..cN" {
	printf '1,x\n2,y\n' >nh.csv
	run --separate-stderr ml mlcat -H nh.csv
	[ "$output" = "c1,c2
1,x
2,y" ]
	run --separate-stderr ml mlcat --schema -H nh.csv
	[ "${lines[1]}" = "c1,num," ]
}

@test "a column --select names must be there (65), with the nearest name" {
	run -65 --separate-stderr ml mlcat --select species,Island "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlcat: $SAMPLES/penguins.csv: no column 'Island' (--select); did you mean 'island'?" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlcat --schema --select 'bill_length_mm-body_mas_g' - <"$SAMPLES/penguins.csv"
	[ "$stderr" = "mlcat: <stdin>: no column 'body_mas_g' (--select); did you mean 'body_mass_g'?" ]
	run -65 --separate-stderr ml mlcat --select 8 "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlcat: $SAMPLES/penguins.csv: no column '8' (--select)" ]
	run -2 --separate-stderr ml mlcat --select species,, "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlcat: empty item in column list 'species,,'
Try 'mlcat --help' for more information." ]
}

@test "--select and --head" {
	run --separate-stderr ml mlcat --select 'species,bill_length_mm' --head 3 "$SAMPLES/penguins.csv"
	[ "$output" = "species,bill_length_mm
Adelie,39.1
Adelie,39.5
Adelie,40.3" ]
	run --separate-stderr ml mlcat --select '!2-6' --head 1 "$SAMPLES/penguins.csv"
	[ "$output" = "species,sex
Adelie,male" ]
	run --separate-stderr ml mlcat --head 0 "$SAMPLES/penguins.csv"
	[ "$output" = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex" ]
	run -2 --separate-stderr ml mlcat --head -1 "$SAMPLES/penguins.csv"
	[[ "$stderr" == "mlcat: invalid value '-1' for --head"* ]]
}

@test "--head stops reading an endless input" {
	# yes never ends: mlcat must stop at row 2 and exit, and yes then dies of SIGPIPE
	# (set to its default for yes, whatever the caller ignores); a reader that kept going
	# would hang, and timeout turns that into a failure
	export -f ml
	export ML_BIN ML_TEST_WRAPPER
	run -0 timeout 60 bash -c 'env --default-signal=PIPE yes | ml mlcat --head 2 >out.csv 2>err.txt
		echo "${PIPESTATUS[*]}" >status.txt'
	[ "$output" = "" ]
	printf 'y\ny\ny\n' >want.csv
	same want.csv out.csv
	[ ! -s err.txt ]
	[ "$(cat status.txt)" = "141 0" ]
}

@test "concatenation binds columns by name and merges categories" {
	printf 'a,b\n1,x\n2,y\n' >1.csv
	printf 'b,a\nz,3\nx,4\n' >2.csv
	run --separate-stderr ml mlcat 1.csv 2.csv
	[ "$output" = "a,b
1,x
2,y
3,z
4,x" ]
	ml mlcat -f stream 2.csv >2.mls
	run --separate-stderr ml mlcat 1.csv 2.mls
	[ "${lines[3]}" = "3,z" ]
	printf 'a,c\n1,x\n' >3.csv
	run -65 --separate-stderr ml mlcat 1.csv 3.csv
	[ "$stderr" = "mlcat: 3.csv: no column 'b' (the first input has it)" ]
	printf 'a,b,c\n1,x,2\n' >4.csv
	run -65 --separate-stderr ml mlcat 1.csv 4.csv
	[ "$stderr" = "mlcat: 4.csv: column 'c' is not in the first input" ]
	printf 'a,b\nq,x\n' >5.csv
	run -65 --separate-stderr ml mlcat 1.csv 5.csv
	[ "$stderr" = "mlcat: 5.csv: column 'a' is categorical here but numeric in the first input" ]
}

@test "--schema counts categories over every row" {
	run --separate-stderr ml mlcat --schema "$SAMPLES/penguins.csv"
	[ "$output" = "column,type,categories
species,cat,3
island,cat,3
bill_length_mm,num,
bill_depth_mm,num,
flipper_length_mm,num,
body_mass_g,num,
sex,cat,2" ]
}

@test "--describe matches pandas" {
	for f in penguins pima seattle_weather; do
		ml mlcat --describe "$SAMPLES/$f.csv" >d.csv
		csv_close "$FIX/describe/$f.csv" d.csv 1e-12
	done
}

@test "--precision rounds numbers" {
	printf 'x\n3.14159265358979\n1234567\n' >p.csv
	run --separate-stderr ml mlcat --precision 3 p.csv
	[ "$output" = "x
3.14
1.23e+06" ]
}

@test "a 10 MB field passes through" {
	{ echo a,b; printf '1,'; head -c 10000000 /dev/zero | tr '\0' x; echo; } >big.csv
	ml mlcat big.csv >out.csv
	same big.csv out.csv
	ml mlcat -f stream big.csv | ml mlcat >out2.csv
	same big.csv out2.csv
}

@test "ragged rows" {
	printf 'a,b\n1,2\n3,4,5\n' >r.csv
	run -65 --separate-stderr ml mlcat r.csv
	[ "$stderr" = "mlcat: r.csv:3: expected 2 fields, found at least 3" ]
	[ "$output" = "" ]
	printf 'a,b\n1,2\n3\n' >r2.csv
	run -65 --separate-stderr ml mlcat r2.csv
	[ "$stderr" = "mlcat: r2.csv:3: expected 2 fields, found 1" ]
}

@test "bad quotes" {
	printf 'a,b\n1,"2\n' >q1.csv
	run -65 --separate-stderr ml mlcat q1.csv
	[ "$stderr" = "mlcat: q1.csv:2: unterminated quoted field 2" ]
	printf 'a,b\n1,x"y\n' >q2.csv
	run -65 --separate-stderr ml mlcat q2.csv
	[ "$stderr" = "mlcat: q2.csv:2: malformed quoting in field 2 (a quote inside an unquoted field, or text after a closing quote)" ]
	printf 'a,b\n1,"x"y\n' >q3.csv
	run -65 --separate-stderr ml mlcat q3.csv
	[ "$stderr" = "mlcat: q3.csv:2: malformed quoting in field 2 (a quote inside an unquoted field, or text after a closing quote)" ]
}

@test "NUL bytes" {
	printf 'a,b\n1,x\0y\n' >n.csv
	run -65 --separate-stderr ml mlcat n.csv
	[ "$stderr" = "mlcat: n.csv:2: NUL byte in column 'b'" ]
	printf 'a,b\n1\0,2\n' >n2.csv
	run -65 --separate-stderr ml mlcat n2.csv
	[ "$stderr" = "mlcat: n2.csv:2: NUL byte in column 'a'" ]
}

@test "empty input, header only, and a directory" {
	: >e.csv
	run -65 --separate-stderr ml mlcat e.csv
	[ "$stderr" = "mlcat: e.csv: empty input: no header" ]
	run -65 --separate-stderr ml mlcat </dev/null
	[ "$stderr" = "mlcat: <stdin>: empty input: no header" ]
	printf 'a,b\n' >h.csv
	run --separate-stderr ml mlcat h.csv
	[ "$status" -eq 0 ]
	[ "$output" = "a,b" ]
	ml mlcat -f stream h.csv | ml mlcat >h2.csv
	[ "$(cat h2.csv)" = "a,b" ]
	run -66 --separate-stderr ml mlcat .
	[ "$stderr" = "mlcat: .: cannot open: Is a directory" ]
}

@test "duplicate and invalid column names" {
	printf 'a,b,a\n1,2,3\n' >d.csv
	run -65 --separate-stderr ml mlcat d.csv
	[ "$stderr" = "mlcat: d.csv:1: duplicate column name 'a' (columns 1 and 3)" ]
	printf 'a,\xff\xfe\n1,2\n' >u.csv
	run -65 --separate-stderr ml mlcat u.csv
	[ "$stderr" = "mlcat: u.csv:1: invalid UTF-8 in the name of column 2 ('??')" ]
	printf ',b\n1,2\n' >blank.csv
	run --separate-stderr ml mlcat blank.csv
	[ "${lines[0]}" = "c1,b" ]
}

@test "missing input file" {
	run -66 --separate-stderr ml mlcat nope.csv
	[ "$stderr" = "mlcat: nope.csv: cannot open: No such file or directory" ]
}

@test "gzip garbage and truncated gzip" {
	printf '\x1f\x8bgarbage' >g.csv
	run -65 --separate-stderr ml mlcat g.csv
	[[ "$stderr" == "mlcat: g.csv: corrupt gzip data: "* ]]
	gzip -c "$SAMPLES/pima.csv" >p.gz
	head -c 2000 p.gz >t.gz
	run -65 --separate-stderr ml mlcat t.gz -o out.csv
	[ "$stderr" = "mlcat: t.gz: truncated gzip data" ]
	[ ! -e out.csv ]
	{ cat p.gz; echo junk; } >j.gz
	run -65 --separate-stderr ml mlcat j.gz
	[ "$stderr" = "mlcat: j.gz: trailing garbage after gzip data" ]
}

@test "a truncated stream is an error at every length" {
	ml mlcat -f stream "$SAMPLES/airpassengers.csv" >s.mls
	size=$(wc -c <s.mls)
	for n in 0 1 7 8 12 20 40 100 $((size / 2)) $((size - 5)) $((size - 1)); do
		head -c "$n" s.mls >t.mls
		run --separate-stderr ml mlcat t.mls -o out.csv
		if [ "$n" -eq 0 ]; then
			[ "$status" -eq 65 ]
			continue
		fi
		[ "$status" -eq 65 ] || { echo "length $n: status $status"; return 1; }
		[[ "$stderr" == "mlcat: t.mls: "* ]] || { echo "length $n: $stderr"; return 1; }
		[ ! -e out.csv ]
	done
}

@test "a bit flipped anywhere in a stream is an error" {
	ml mlcat -f stream "$SAMPLES/airpassengers.csv" >s.mls
	size=$(wc -c <s.mls)
	for pos in 0 3 9 13 17 30 60 $((size / 3)) $((size / 2)) $((size - 9)) $((size - 2)); do
		cp s.mls f.mls
		b=$(od -An -tu1 -j "$pos" -N1 s.mls | tr -d ' ')
		printf "$(printf '\\%03o' $((b ^ 16)))" | dd of=f.mls bs=1 seek="$pos" conv=notrunc 2>/dev/null
		run --separate-stderr ml mlcat f.mls
		[ "$status" -eq 65 ] || { echo "byte $pos: status $status"; return 1; }
	done
}

@test "a model file is not a table" {
	printf '\x89MLM\r\n\x1a\n\001\000\000\000' >m.mlm
	run -65 --separate-stderr ml mlcat m.mlm
	[ "$stderr" = "mlcat: m.mlm: is an ml-model file, not a table" ]
}

@test "a failed run leaves no output file and an old one untouched" {
	echo old >out.csv
	printf 'a,b\n1,2\n3\n' >r.csv
	run -65 --separate-stderr ml mlcat r.csv -o out.csv
	[ "$(cat out.csv)" = "old" ]
	[ "$(ls -A | grep -c '^\.out')" -eq 0 ]
	ml mlcat "$SAMPLES/airpassengers.csv" -o out.csv
	[ "$(head -1 out.csv)" = "t,y" ]
}

@test "a large file passes through unchanged, records split across blocks included" {
	awk 'BEGIN { print "a,b,c"; for (i = 0; i < 200000; i++) printf "%d,%d.%d,k%d\n", i, i % 1000, i % 7 + 1, i % 13 }' >big.csv
	ml mlcat big.csv >out.csv
	same big.csv out.csv
	ml mlcat -f stream big.csv | ml mlcat >out2.csv
	same big.csv out2.csv
	gzip -c big.csv | ml mlcat >out3.csv
	same big.csv out3.csv
}
