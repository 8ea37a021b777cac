#!/usr/bin/env bats
# mlpredict: output columns, binding by name, unseen categories, line-buffered scoring,
# and every kind of bad input and damaged artefact.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	MF=$FIX/mltrain
}

# A naive Bayes model of the penguins and a ridge model of the weather.
models() {
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	ml mltrain -q -t temp_max -a ridge --ignore date -o wx.mlm "$SAMPLES/seattle_weather.csv"
}

@test "classification: pred and p_LABEL per class; --keep first, with its type" {
	models
	run -0 --separate-stderr ml mlpredict -m pg.mlm --keep species,body_mass_g "$SAMPLES/penguins.csv"
	[ "$stderr" = "" ]
	[ "${lines[0]}" = "species,body_mass_g,pred,p_Adelie,p_Chinstrap,p_Gentoo" ]
	[ "${#lines[@]}" -eq 345 ]
	[[ "${lines[1]}" == "Adelie,3750,Adelie,0.99"* ]]
	# probabilities sum to one, and pred is the most probable class
	printf '%s\n' "${lines[@]:1}" | awk -F, '{
		s = $4 + $5 + $6; if (s < 0.999999 || s > 1.000001) { print "sum " s; exit 1 }
		b = 4; for (i = 5; i <= 6; i++) if ($i > $b) b = i
		split("x x x Adelie Chinstrap Gentoo", n, " ")
		if ($3 != n[b]) { print NR ": " $0; exit 1 } }'
}

@test "regression: pred; --no-proba and --raw" {
	models
	ml mlpredict -m wx.mlm "$SAMPLES/seattle_weather.csv" >p.csv
	[ "$(head -1 p.csv)" = "pred" ]
	[ "$(wc -l <p.csv)" -eq 1462 ]
	ml mlpredict -m wx.mlm --raw "$SAMPLES/seattle_weather.csv" >r.csv
	[ "$(head -1 r.csv)" = "margin" ]
	[ "$(tail -n +2 r.csv)" = "$(tail -n +2 p.csv)" ]
	ml mlpredict -m pg.mlm --no-proba --keep species "$SAMPLES/penguins.csv" >n.csv
	[ "$(head -1 n.csv)" = "species,pred" ]
	ml mlpredict -m pg.mlm --raw "$SAMPLES/penguins.csv" >m.csv
	[ "$(head -1 m.csv)" = "pred,margin_Adelie,margin_Chinstrap,margin_Gentoo" ]
	ml mltrain -q -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	ml mlpredict -m bc.mlm --raw "$SAMPLES/breast_cancer.csv" >b.csv
	[ "$(head -1 b.csv)" = "pred,margin" ]
	# the label of a binary margin is the second class when the margin is positive
	tail -n +2 b.csv | awk -F, '($2 > 0) != ($1 == 1) { print; exit 1 }'
	ml mlpredict -m bc.mlm "$SAMPLES/breast_cancer.csv" | cut -d, -f1 >lab.csv
	[ "$(cut -d, -f1 b.csv)" = "$(cat lab.csv)" ]
}

@test "columns bind by name: reordered and extra columns give the same output" {
	models
	ml mlpredict -m pg.mlm "$SAMPLES/penguins.csv" >a.csv
	ml mlcat --select sex,body_mass_g,island,flipper_length_mm,bill_depth_mm,bill_length_mm "$SAMPLES/penguins.csv" >r.csv
	ml mlpredict -m pg.mlm r.csv >b.csv
	same a.csv b.csv
	ml mlsplit --kfold 3 "$SAMPLES/penguins.csv" >extra.csv
	ml mlpredict -m pg.mlm extra.csv >c.csv
	same a.csv c.csv
	ml mlcat -f stream r.csv | ml mlpredict -m pg.mlm - >d.csv
	same a.csv d.csv
}

@test "stream output holds the same rows as CSV output" {
	models
	ml mlpredict -m pg.mlm --keep island "$SAMPLES/penguins.csv" >a.csv
	ml mlpredict -m pg.mlm --keep island -f stream "$SAMPLES/penguins.csv" >s.mls
	ml mlcat s.mls >b.csv
	same a.csv b.csv
}

@test "a category not seen in training scores as an all-zero one-hot group" {
	models
	printf 'precipitation,temp_min,wind,weather\n1.5,8,3,hail\n1.5,8,3,sun\n' >new.csv
	ml mlpredict -m wx.mlm new.csv >p.csv
	ml mlinfo --table coef wx.mlm >coef.csv
	want=$(awk -F, '$1 == "(intercept)" { s += $2 } $1 == "precipitation" { s += 1.5 * $2 }
		$1 == "temp_min" { s += 8 * $2 } $1 == "wind" { s += 3 * $2 } END { printf "%.9g", s }' coef.csv)
	[ "$(sed -n 2p p.csv | awk '{ printf "%.9g", $1 }')" = "$want" ]
	[ "$(sed -n 2p p.csv)" != "$(sed -n 3p p.csv)" ]
}

@test "a missing feature column, a wrong type, a missing value: 65 naming them" {
	models
	cut -d, -f1-6 "$SAMPLES/penguins.csv" >nosex.csv
	run -65 --separate-stderr ml mlpredict -m pg.mlm nosex.csv
	[ "$stderr" = "mlpredict: nosex.csv: no column 'sex' (a feature of the model)" ]
	[ "$output" = "" ]
	sed '3s/,186,/,tall,/' "$SAMPLES/penguins.csv" >text.csv
	run -65 --separate-stderr ml mlpredict -m pg.mlm text.csv
	[ "$stderr" = "mlpredict: text.csv:3: cannot parse 'tall' as a number in column 'flipper_length_mm'" ]
	ml mlcat -f stream --cat flipper_length_mm "$SAMPLES/penguins.csv" >cat.mls
	run -65 --separate-stderr ml mlpredict -m pg.mlm cat.mls
	[ "$stderr" = "mlpredict: cat.mls: column 'flipper_length_mm' is categorical here but was numeric in training (see --num)" ]
	ml mltrain -q -t target -a logistic -o bc.mlm "$SAMPLES/breast_cancer.csv"
	sed '4s/^[^,]*,/NA,/' "$SAMPLES/breast_cancer.csv" >nan.csv
	run -65 --separate-stderr ml mlpredict -m bc.mlm -o out.csv nan.csv
	[ "$stderr" = "mlpredict: nan.csv:4: missing value in column 'mean radius' (-a logistic takes no missing values; impute them with mlfeat --impute)" ]
	[ ! -e out.csv ]
}

@test "the model's types win over what the rows look like" {
	printf 'code,x,y\nA1,1,p\nB2,2,q\nA1,3,p\nB2,4,q\nA1,1.5,q\nB2,2.5,p\n' >t.csv
	ml mltrain -q -t y -a nb -o m.mlm t.csv
	printf 'code,x\n7,1\n' >num.csv
	run -0 --separate-stderr ml mlpredict -m m.mlm num.csv
	[ "${lines[0]}" = "pred,p_p,p_q" ]
}

@test "a damaged or truncated model is 65 with the loader's message" {
	models
	cp pg.mlm bad.mlm
	printf '\x41' | dd of=bad.mlm bs=1 seek=300 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m bad.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: bad.mlm: corrupted (checksum mismatch)" ]
	[ "$output" = "" ]
	head -c 200 pg.mlm >short.mlm
	run -65 --separate-stderr ml mlpredict -m short.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: short.mlm: truncated (in the metadata)" ]
	run -65 --separate-stderr ml mlpredict -m "$MF/hollow.mlm" "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: $MF/hollow.mlm: the model has no section named 'logistic.coef'" ]
	run -66 --separate-stderr ml mlpredict -m nope.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: nope.mlm: cannot open: No such file or directory" ]
	run -65 --separate-stderr ml mlpredict -m "$SAMPLES/penguins.csv" "$SAMPLES/penguins.csv"
	[[ "$stderr" == "mlpredict: $SAMPLES/penguins.csv: not an ml-model file"* ]]
}

@test "artefacts that cannot be applied are refused; the model comes last" {
	models
	run -65 --separate-stderr ml mlpredict -m "$MF/features.mlm" -m pg.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: $MF/features.mlm: the model has no section named 'feat.pipeline'" ]
	run -2 --separate-stderr ml mlpredict -m pg.mlm -m "$MF/features.mlm" "$SAMPLES/penguins.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -m pg.mlm: a model must be the last artefact" ]
	run -65 --separate-stderr ml mlpredict -m "$MF/profile.mlm" "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: $MF/profile.mlm: cannot apply a 'profile' artefact (mlpredict applies feature pipelines and models)" ]
	run -2 --separate-stderr ml mlpredict -m pg.mlm -m wx.mlm "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: -m pg.mlm: a model must be the last artefact
Try 'mlpredict --help' for more information." ]
	run -2 --separate-stderr ml mlpredict "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: no artefact given (-m MODEL)
Try 'mlpredict --help' for more information." ]
	run -65 --separate-stderr ml mlpredict -m pg.mlm --keep nope "$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: $SAMPLES/penguins.csv: no column 'nope' (--keep)" ]
	[ "$output" = "" ]
	run -65 --separate-stderr ml mlpredict -m pg.mlm --keep island,Sex - <"$SAMPLES/penguins.csv"
	[ "$stderr" = "mlpredict: <stdin>: no column 'Sex' (--keep); did you mean 'sex'?" ]
}

@test "--keep may not take an output column's name" {
	models
	printf 'pred,precipitation,temp_min,wind,weather\n1,0,5,3,sun\n' >p.csv
	run -2 --separate-stderr ml mlpredict -m wx.mlm --keep pred p.csv
	[ "${stderr_lines[0]}" = "mlpredict: --keep column 'pred' has the name of an output column" ]
}

@test "--line-buffered answers each row before the next arrives" {
	models
	mkfifo in out
	# (fd 3 is bats' own: the pipes use 5 and 6, and the scorer gets neither)
	ml mlpredict --line-buffered -m pg.mlm --keep sex <in >out 2>err.txt 3>&- &
	pid=$!
	exec 5>in 6<out
	echo 'species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex' >&5
	echo 'Adelie,Torgersen,39.1,18.7,181,3750,male' >&5
	read -r -t 10 -u 6 header || { kill "$pid"; false; }
	read -r -t 10 -u 6 first || { kill "$pid"; false; }
	[ "$header" = "sex,pred,p_Adelie,p_Chinstrap,p_Gentoo" ]
	[[ "$first" == "male,Adelie,0.99"* ]]
	echo 'Gentoo,Biscoe,46.1,13.2,211,4500,female' >&5
	read -r -t 10 -u 6 second || { kill "$pid"; false; }
	[[ "$second" == "female,Gentoo,"* ]]
	echo 'Chinstrap,Dream,NA,NA,NA,NA,' >&5
	read -r -t 10 -u 6 third || { kill "$pid"; false; }
	[[ "$third" =~ ^,(Adelie|Chinstrap|Gentoo),[0-9.e-]+,[0-9.e-]+,[0-9.e-]+$ ]]
	exec 5>&-
	run -1 read -r -t 10 -u 6 more
	exec 6<&-
	wait "$pid"
	[ ! -s err.txt ]
}

@test "scoring is fast: one model call per block of rows" {
	models
	for i in 1 2 3 4 5 6 7 8; do tail -n +2 "$SAMPLES/seattle_weather.csv"; done >body.csv
	(head -1 "$SAMPLES/seattle_weather.csv"; cat body.csv body.csv body.csv body.csv) >big.csv
	ml mlcat -f stream big.csv >big.mls
	ml mlpredict -m wx.mlm big.mls >a.csv
	ml mlpredict -m wx.mlm big.csv >b.csv
	same a.csv b.csv
	[ "$(wc -l <a.csv)" -eq 46753 ]
}

@test "wide numbers read ahead in shorter blocks: the same bytes and failure as one thread" {
	# 300 columns: blocks of 3495 rows, so this input takes three of them
	awk 'BEGIN { srand(3); printf "y"; for (j = 1; j <= 300; j++) printf ",x%d", j; print "";
		for (i = 0; i < 9000; i++) { s = 0; line = "";
			for (j = 1; j <= 300; j++) { v = int(rand() * 1000) / 100; s += (j <= 3) * v;
				line = line "," v }
			print (s > 15 ? 1 : 0) line } }' >wide.csv
	ml mltrain -q -t y -a gbdt --rounds 5 -o w.mlm wide.csv
	ml mlpredict -j 1 -m w.mlm --keep y wide.csv >w1.csv
	ml mlpredict -j 2 -m w.mlm --keep y wide.csv >w2.csv
	cmp w1.csv w2.csv
	[ "$(wc -l <w2.csv)" -eq 9001 ]
	{ head -n 8000 wide.csv; echo "0,x$(sed -n 2p wide.csv | cut -d, -f3-)"; } >wbad.csv
	run -65 --separate-stderr ml mlpredict -j 1 -m w.mlm --keep y wbad.csv
	printf '%s\n' "$stderr" "${lines[@]}" >we1.txt
	run -65 --separate-stderr ml mlpredict -j 2 -m w.mlm --keep y wbad.csv
	printf '%s\n' "$stderr" "${lines[@]}" >we2.txt
	v=$(sed -n 2p wide.csv | cut -d, -f3)
	[ "$stderr" = "mlpredict: wbad.csv:8001: cannot parse 'x$v' as a number in column 'x1'" ]
	cmp we1.txt we2.txt
}

@test "numbers read ahead of the scoring: the same bytes and the same failure as one thread" {
	ml mltrain -q -t target -a gbdt --rounds 10 -o g.mlm "$SAMPLES/breast_cancer.csv"
	{
		cat "$SAMPLES/breast_cancer.csv"
		for i in $(seq 40); do tail -n +2 "$SAMPLES/breast_cancer.csv"; done
	} >big.csv
	[ "$(wc -l <big.csv)" -gt 20000 ]
	ml mlpredict -j 1 -m g.mlm --keep target big.csv >p1.csv
	ml mlpredict -j 2 -m g.mlm --keep target big.csv >p2.csv
	cmp p1.csv p2.csv
	[ "$(wc -l <p2.csv)" -eq "$(wc -l <big.csv)" ]
	# A bad field in the third block: what was written before it, then the error.
	line=$(sed -n 2p big.csv)
	{ head -n 20000 big.csv; echo "x,${line#*,}"; tail -n +2 big.csv | head -n 100; } >bad.csv
	run -65 --separate-stderr ml mlpredict -j 1 -m g.mlm --keep target bad.csv
	printf '%s\n' "$stderr" >e1.txt
	printf '%s\n' "${lines[@]}" >o1.txt
	run -65 --separate-stderr ml mlpredict -j 2 -m g.mlm --keep target bad.csv
	printf '%s\n' "$stderr" >e2.txt
	printf '%s\n' "${lines[@]}" >o2.txt
	[ "$stderr" = "mlpredict: bad.csv:20001: cannot parse 'x' as a number in column 'mean radius'" ]
	cmp e1.txt e2.txt
	cmp o1.txt o2.txt
}
