#!/usr/bin/env bats
# End-to-end chains: split -> train -> predict -> eval, through files, pipes and streams.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
}

@test "split, train, predict and evaluate a classifier with a gate" {
	ml mlsplit --test 0.25 --stratify target --train-out train.csv --test-out test.csv "$SAMPLES/breast_cancer.csv"
	ml mltrain -q -t target -a logistic -o bc.mlm train.csv
	ml mlpredict -m bc.mlm --keep target test.csv >scored.csv
	[ "$(wc -l <scored.csv)" -eq 144 ]
	run -0 --separate-stderr ml mleval -t target --min auc=0.95 scored.csv
	[[ "${lines[0]}" = "metric,value" ]]
	run -1 --separate-stderr ml mleval -t target --min accuracy=0.9999 scored.csv
}

@test "a regression chain through binary streams" {
	ml mlsplit --test 0.2 --train-out train.csv --test-out test.csv "$SAMPLES/seattle_weather.csv"
	ml mltrain -q -t temp_max -a ridge --ignore date -o wx.mlm train.csv
	ml mlcat -f stream test.csv | ml mlpredict -m wx.mlm --keep temp_max -f stream | ml mleval -t temp_max >s.csv
	ml mlpredict -m wx.mlm --keep temp_max test.csv | ml mleval -t temp_max >c.csv
	same s.csv c.csv
	grep -q '^r2,0\.[5-9]' c.csv
}

@test "mleval on the training predictions agrees with mltrain's training metrics" {
	ml mltrain -q -t species -a nb --report r.csv -o pg.mlm "$SAMPLES/penguins.csv"
	ml mlpredict -m pg.mlm --keep species "$SAMPLES/penguins.csv" | ml mleval -t species >e.csv
	grep '^train,' r.csv | cut -d, -f2- | sort >a.csv
	tail -n +2 e.csv | sort >b.csv
	same a.csv b.csv
}

@test "mltrain --cv folds are mlsplit --kfold's, and the out-of-fold rows evaluate" {
	ml mlsplit --kfold 5 --stratify target --seed 3 "$SAMPLES/breast_cancer.csv" >folds.csv
	ml mltrain -q --seed 3 -t target -a logistic --cv 5 --oof oof.csv -o bc.mlm "$SAMPLES/breast_cancer.csv"
	[ "$(tail -n +2 folds.csv | awk -F, '{print $NF}')" = "$(tail -n +2 oof.csv | awk -F, '{print $NF}')" ]
	run -0 --separate-stderr ml mleval -t target --min auc=0.95 oof.csv
}

@test "a model trained on CSV scores a reordered stream the same" {
	ml mltrain -q -t species -a nb -o pg.mlm "$SAMPLES/penguins.csv"
	ml mlpredict -m pg.mlm --keep species "$SAMPLES/penguins.csv" >a.csv
	ml mlcat --select sex,species,island,body_mass_g,flipper_length_mm,bill_depth_mm,bill_length_mm -f stream "$SAMPLES/penguins.csv" |
		ml mlpredict -m pg.mlm --keep species >b.csv
	same a.csv b.csv
}

@test "a feature pipeline from mlfeat, then a model: raw rows score as mlfeat's rows" {
	ml mlsplit --test 0.25 --stratify species --train-out train.csv --test-out test.csv "$SAMPLES/penguins.csv"
	ml mlfeat --save feat.mlm -t species --impute median --scale standard --onehot island,sex <train.csv >ftrain.csv
	ml mltrain -q -t species -a logistic -o model.mlm ftrain.csv
	ml mlpredict -m feat.mlm -m model.mlm --keep species,island test.csv >a.csv
	ml mlfeat --load feat.mlm test.csv >ftest.csv
	ml mlpredict -m model.mlm --keep species ftest.csv >b.csv
	[ "$(cut -d, -f1,3- a.csv)" = "$(cat b.csv)" ]
	[ "$(cut -d, -f2 a.csv | sed -n 2p)" = "$(sed -n 2p test.csv | cut -d, -f2 | tr -d '"')" ]
	run -0 --separate-stderr ml mleval -t species --min accuracy=0.9 a.csv
	# columns in another order, through a stream, without the target
	ml mlcat --select sex,body_mass_g,island,flipper_length_mm,bill_depth_mm,bill_length_mm,species -f stream test.csv |
		ml mlpredict -m feat.mlm -m model.mlm --keep species,island >c.csv
	same a.csv c.csv
	cut -d, -f2- test.csv | ml mlpredict -m feat.mlm -m model.mlm >d.csv
	[ "$(cut -d, -f3- a.csv)" = "$(cat d.csv)" ]
	ml mlinfo --check feat.mlm
}

@test "rows a pipeline holds back keep their --keep columns" {
	printf 't,x,y,id\n1,1,2,a\n2,,4,b\n3,,6,c\n4,4,8,d\n5,5,10,e\n6,,12,f\n7,7,14,g\n8,8,16,h\n' >h.csv
	ml mlfeat --save f.mlm -t y --keep id,t --impute interpolate:x <h.csv >fh.csv
	ml mltrain -q -t y -a linear --ignore id -o m.mlm fh.csv
	ml mlpredict -m f.mlm -m m.mlm --keep id,t h.csv >a.csv
	[ "$(cut -d, -f1,2 a.csv | tr '\n' ' ')" = "id,t a,1 b,2 c,3 d,4 e,5 f,6 g,7 h,8 " ]
	tail -n +2 a.csv | awk -F, '{ d = $3 - 2 * $2; if (d < -1e-9 || d > 1e-9) { print; exit 1 } }'
	ml mlpredict -m f.mlm -m m.mlm --keep id,t --line-buffered <h.csv >b.csv
	same a.csv b.csv
}

@test "a feature pipeline and a model must come in that order" {
	ml mlfeat --save f.mlm -t species --impute median --onehot island,sex <"$SAMPLES/penguins.csv" >f.csv
	ml mltrain -q -t species -a logistic -o m.mlm f.csv
	run -2 --separate-stderr ml mlpredict -m m.mlm -m f.mlm "$SAMPLES/penguins.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -m m.mlm: a model must be the last artefact" ]
	run -2 --separate-stderr ml mlpredict -m f.mlm "$SAMPLES/penguins.csv"
	[ "${stderr_lines[0]}" = "mlpredict: -m f.mlm: a feature pipeline needs a model after it" ]
	cut -d, -f1-4 "$SAMPLES/penguins.csv" >short.csv
	run -65 --separate-stderr ml mlpredict -m f.mlm -m m.mlm short.csv
	[ "$stderr" = "mlpredict: short.csv: the input does not match the feature pipeline: no column 'flipper_length_mm', 'body_mass_g', 'sex'" ]
}
