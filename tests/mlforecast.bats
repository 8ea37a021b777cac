#!/usr/bin/env bats
# mlforecast: long-format input, frequency inference and time continuation, the output
# layout, threads, gaps and bad input, fallbacks, backtest reports, saved forecasters and
# plots; the methods' numbers are checked against R in tests/unit/test_forecast.c and here
# through R's fixtures.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$SAMPLES/airpassengers.csv" "$SAMPLES/classic_series.csv" "$SAMPLES/co2.csv" .
}

rows() {
	echo $(($(wc -l <"$1") - 1))
}

@test "one series: the header, one row a step, decimal years continued" {
	run --separate-stderr ml mlforecast --time t -y y --horizon 13 airpassengers.csv
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "t,model,mean,lo_80,hi_80,lo_95,hi_95" ]
	[ "${#lines[@]}" -eq 14 ]
	[ "$(echo "${lines[1]}" | cut -d, -f1,2)" = "1961,auto" ]
	[ "$(echo "${lines[2]}" | cut -d, -f1)" = "1961.08333333333" ]
	[ "$(echo "${lines[13]}" | cut -d, -f1)" = "1962" ]
	# lo_95 <= lo_80 <= mean <= hi_80 <= hi_95 on every row
	echo "$output" | awk -F, 'NR > 1 && !($6 <= $4 && $4 <= $3 && $3 <= $5 && $5 <= $7) { exit 1 }'
}

@test "groups: each its own frequency, dates continued in the input's layout" {
	ml mlforecast --time date -y value --group series --horizon 2 --model naive classic_series.csv >out.csv
	[ "$(head -1 out.csv)" = "series,date,model,mean,lo_80,hi_80,lo_95,hi_95" ]
	[ "$(grep -c '^UKgas,' out.csv)" -eq 2 ]
	grep -q '^UKgas,1987-01-01,naive,' out.csv
	grep -q '^UKgas,1987-04-01,naive,' out.csv
	grep -q '^USAccDeaths,1979-01-01,naive,' out.csv
	grep -q '^lynx,1935-01-01,naive,' out.csv
	grep -q '^Nile,1971-01-01,naive,' out.csv
	grep -q '^nottem,1940-02-01,naive,' out.csv
	# series in the order of their first row
	[ "$(cut -d, -f1 out.csv | uniq | tr '\n' ' ')" = "series UKgas USAccDeaths lynx Nile nottem " ]
}

@test "the default horizon is two seasons, or 10 without one" {
	ml mlforecast --time date -y value --group series --model naive classic_series.csv >out.csv
	[ "$(grep -c '^UKgas,' out.csv)" -eq 8 ]
	[ "$(grep -c '^nottem,' out.csv)" -eq 24 ]
	[ "$(grep -c '^Nile,' out.csv)" -eq 10 ]
}

@test "the same bytes whatever the number of threads" {
	ml mlforecast --time date -y value --group series -j 1 classic_series.csv >a.csv
	ml mlforecast --time date -y value --group series -j 2 classic_series.csv >b.csv
	ml mlforecast --time date -y value --group series -j 5 classic_series.csv >c.csv
	same a.csv b.csv
	same a.csv c.csv
}

@test "--level sets the interval columns" {
	ml mlforecast --time t -y y --model naive --level 50,99.5 --horizon 1 airpassengers.csv >out.csv
	[ "$(head -1 out.csv)" = "t,model,mean,lo_50,hi_50,lo_99.5,hi_99.5" ]
	run --separate-stderr ml mlforecast --time t -y y --level 100 airpassengers.csv
	[ "$status" -eq 2 ]
	[ "$stderr" = "mlforecast: invalid --level '100' (percentages between 0 and 100, e.g. 80,95)
Try 'mlforecast --help' for more information." ]
}

@test "benchmarks agree with R's forecast package through the CLI" {
	fixture "$FIX/forecast/airpassengers_snaive.csv"
	ml mlforecast --time t -y y --model snaive --horizon 30 airpassengers.csv | cut -d, -f3- >got.csv
	tail -n +2 "$FIX/forecast/airpassengers_snaive.csv" | cut -d, -f2- >want.csv
	tail -n +2 got.csv >got2.csv
	awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) w[FNR, i] = $i; next }
		{ for (i = 1; i <= NF; i++) { d = $i - w[FNR, i]; if (d < 0) d = -d
			if (d > 1e-9 * (1 + (w[FNR, i] < 0 ? -w[FNR, i] : w[FNR, i]))) exit 1 } }' want.csv got2.csv
}

@test "ets and theta forecasts agree with R's through the CLI" {
	for m in ets theta; do
		fixture "$FIX/forecast/airpassengers_$m.csv"
		ml mlforecast --time t -y y --model $m --horizon 30 airpassengers.csv | tail -n +2 | cut -d, -f3- >got.csv
		tail -n +2 "$FIX/forecast/airpassengers_$m.csv" | cut -d, -f2- >want.csv
		awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) w[FNR, i] = $i; next }
			{ for (i = 1; i <= NF; i++) { d = $i - w[FNR, i]; if (d < 0) d = -d
				if (d > 1e-4 * (1 + (w[FNR, i] < 0 ? -w[FNR, i] : w[FNR, i]))) { print FNR, i, $i, w[FNR, i]; exit 1 } } }' want.csv got.csv
	done
}

@test "gaps in the time index and missing values are interpolated, with a warning" {
	printf 'd,v\n2020-01-01,1\n2020-02-01,2\n2020-04-01,4\n2020-05-01,\n2020-06-01,6\n2020-07-01,7\n' >gap.csv
	run --separate-stderr ml mlforecast --time d -y v --model naive --horizon 1 gap.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: warning: gap.csv: 2 missing values (1 step absent from the time index) filled by linear interpolation" ]
	[ "${lines[1]}" = "2020-08-01,naive,7,5.718448434455399,8.2815515655446,5.040036015459947,8.959963984540053" ]
}

@test "a --season not shorter than the series is left out with a warning, and sets no horizon" {
	run --separate-stderr ml mlforecast --time t -y y --season 100000 --model snaive airpassengers.csv
	[ "$status" -eq 0 ]
	[ "${stderr_lines[0]}" = "mlforecast: warning: airpassengers.csv: --season 100000 is not shorter than the series (144 values): left out" ]
	[ "${stderr_lines[1]}" = "mlforecast: warning: no seasonal period for --model snaive; forecast with naive" ]
	[ "${#lines[@]}" -eq 11 ]
	run --separate-stderr ml mlforecast --time t -y y --season 144 --season 12 --model snaive airpassengers.csv
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "${#lines[@]}" -eq 25 ]
}

@test "a series with every value missing is an error naming it and the column" {
	printf 't,y\n1,NA\n2,NA\n3,\n' >na.csv
	run --separate-stderr ml mlforecast --time t -y y -o out.csv na.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: na.csv: the series has no values (every y is missing)" ]
	[ ! -e out.csv ]
	printf 'g,t,y\na,1,1\na,2,2\na,3,3\nb,1,NA\nb,2,NA\n' >gna.csv
	run --separate-stderr ml mlforecast --time t -y y --group g gna.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: gna.csv: series 'b' has no values (every y is missing)" ]
}

@test "duplicate and irregular timestamps are errors naming the line" {
	printf 'd,v\n2020-01-01,1\n2020-02-01,2\n2020-02-01,3\n' >dup.csv
	run --separate-stderr ml mlforecast --time d -y v dup.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: dup.csv:4: duplicate time '2020-02-01' (also on line 3)" ]
	printf 'd,v\n2020-01-01,1\n2020-01-03,2\n2020-01-06,3\n' >irr.csv
	run --separate-stderr ml mlforecast --time d -y v irr.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: irr.csv:4: time '2020-01-06' is not on the series' regular grid (irregular timestamps)" ]
	printf 'g,d,v\na,2020-01-01,1\na,2020-01-01,3\n' >dupg.csv
	run --separate-stderr ml mlforecast --time d -y v --group g dupg.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: dupg.csv:3: duplicate time '2020-01-01' in series 'a' (also on line 2)" ]
}

@test "a series too short for the model falls back with a warning naming both" {
	printf 't,y\n1,5\n2,6\n3,8\n' >short.csv
	run --separate-stderr ml mlforecast --time t -y y --model theta --horizon 2 short.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: warning: 3 values are too few for --model theta (it needs 4); forecast with naive" ]
	[ "$(echo "${lines[1]}" | cut -d, -f1-3)" = "4,naive,8" ]
	printf 't,y\n1,5\n' >one.csv
	run --separate-stderr ml mlforecast --time t -y y one.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: one.csv has 1 value: too few for --model auto or any simpler one" ]
	run --separate-stderr ml mlforecast --time date -y value --group series --model snaive --horizon 1 classic_series.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: warning: series 'lynx': no seasonal period for --model snaive; forecast with naive
mlforecast: warning: series 'Nile': no seasonal period for --model snaive; forecast with naive" ]
}

@test "a constant series gives its value with zero-width intervals" {
	printf 't,y\n' >const.csv
	for i in $(seq 1 30); do echo "$i,4.5" >>const.csv; done
	for m in auto ets theta naive; do
		ml mlforecast --time t -y y --model $m --horizon 3 const.csv >out.csv
		awk -F, 'NR > 1 && ($3 != 4.5 || $4 != 4.5 || $7 != 4.5) { exit 1 }' out.csv
	done
}

@test "non-positive values with a multiplicative model are an error" {
	printf 't,y\n' >neg.csv
	for i in $(seq 1 30); do echo "$i,$((i % 5 - 1))" >>neg.csv; done
	run --separate-stderr ml mlforecast --time t -y y --model ets -p spec=MNN neg.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: neg.csv: --model ets with spec 'MNN' (multiplicative) needs positive values; value 1 is 0" ]
	# the automatic choice leaves multiplicative models out
	ml mlforecast --time t -y y --model ets neg.csv >out.csv
}

@test "misuse: horizon 0, unknown model or parameter, missing columns" {
	run --separate-stderr ml mlforecast --time t -y y --horizon 0 airpassengers.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --time t -y y --model bogus airpassengers.csv
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "mlforecast: unknown --model 'bogus' (see --list-models)" ]
	run --separate-stderr ml mlforecast --time t -y y --model naive -p spec=AAN airpassengers.csv
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "mlforecast: --param 'spec=AAN': no model of --model has it" ]
	run --separate-stderr ml mlforecast --time t -y y --model ets -p spec=QQQ airpassengers.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --time T -y y airpassengers.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: airpassengers.csv: no column 'T' (--time); did you mean 't'?" ]
	run --separate-stderr ml mlforecast -y y airpassengers.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --time t -y y --backtest 2 airpassengers.csv
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "mlforecast: --backtest needs --report=FILE" ]
	printf 't,y\n2020-01-01,1\n2020-13-01,2\n' >bad.csv
	run --separate-stderr ml mlforecast --time t -y y bad.csv
	[ "$status" -eq 65 ]
	[ "$stderr" = "mlforecast: bad.csv:3: cannot read '2020-13-01' in column 't' as a date or time (YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or a number)" ]
	[ ! -e out.csv ]
}

@test "several models give their own rows" {
	ml mlforecast --time t -y y --model ets,theta,naive --horizon 2 airpassengers.csv >out.csv
	[ "$(rows out.csv)" -eq 6 ]
	[ "$(cut -d, -f2 out.csv | tail -n +2 | uniq | tr '\n' ' ')" = "ets theta naive " ]
}

# The mean of auto's four members (ets, arima searching approximately, theta, damped) on
# one series FILE at horizon H, as auto's rows.
members_mean() {
	ml mlforecast --time t -y y --model ets,arima,theta,damped -p approximation=on \
		--horizon "$2" "$1" | awk -F, 'NR > 1 {
		if (!($1 in seen)) { seen[$1] = 1; ord[++n] = $1 }
		k[$1]++; for (j = 3; j <= 7; j++) v[$1, j] += $j
	} END {
		print "t,model,mean,lo_80,hi_80,lo_95,hi_95"
		for (i = 1; i <= n; i++) {
			if (k[ord[i]] != 4) exit 1
			printf "%s,auto", ord[i]
			for (j = 3; j <= 7; j++) printf ",%.17g", v[ord[i], j] / 4
			print ""
		}
	}'
}

@test "auto widens its members' mean intervals by one factor where its backtest says they are narrow" {
	# with -p margin=0 auto keeps the mean of all four members; on airpassengers the
	# backtest's errors are wider than their intervals: every interval is that mean's
	# widened about the mean by the same factor, above 1 and at most 3, at both levels
	ml mlforecast --time t -y y --model auto -p margin=0 --horizon 12 airpassengers.csv >auto.csv
	members_mean airpassengers.csv 12 >mean4.csv
	paste -d, auto.csv mean4.csv | awk -F, 'NR > 1 {
		if (($3 - $10) ^ 2 > 1e-24 * $10 ^ 2) exit 1
		for (k = 0; k < 2; k++) {
			r = ($(5 + 2 * k) - $(4 + 2 * k)) / ($(12 + 2 * k) - $(11 + 2 * k))
			if (NR == 2 && k == 0) f = r
			d = r - f; if (d < 0) d = -d
			if (d > 1e-9 * f) exit 2
			# about the mean: as far below it as above it, as the mean of the members is
			if ((($3 - $(4 + 2 * k)) - ($(5 + 2 * k) - $3)) ^ 2 > 1e-12 * ($(5 + 2 * k) - $(4 + 2 * k)) ^ 2) exit 3
		}
	} END { if (!(f > 1.05 && f <= 3)) exit 4 }'
	# a 3-step backtest on airpassengers asks for no widening: the members' mean bounds
	ml mlforecast --time t -y y --model auto -p margin=0 -p horizon=3 --horizon 12 airpassengers.csv >few.csv
	csv_close few.csv mean4.csv 1e-12
	# a trend whose last values jump: one-step backtests miss by far more than the
	# intervals allow; 5 points (5 origins) widen them, 4 points are too few to widen by
	awk 'BEGIN { print "t,y"; for (i = 1; i <= 40; i++) {
		v = 100 + 0.5 * i + 0.3 * sin(1.7 * i); if (i > 35) v += i % 2 ? 6 : -6
		printf "%d,%.3f\n", i, v } }' >jump.csv
	ml mlforecast --time t -y y --model auto -p margin=0 -p horizon=1 -p backtest=4 --horizon 3 jump.csv >b4.csv
	ml mlforecast --time t -y y --model auto -p margin=0 -p horizon=1 -p backtest=5 --horizon 3 jump.csv >b5.csv
	paste -d, b4.csv b5.csv | awk -F, 'NR > 1 {
		if ($3 != $10) exit 1
		r = ($14 - $13) / ($7 - $6)
		if (NR == 2) f = r
		d = r - f; if (d < 0) d = -d
		if (d > 1e-9 * f || ($12 - $11) / ($5 - $4) - f > 1e-9 * f) exit 2
	} END { if (!(f > 1.05 && f <= 3 + 1e-9)) exit 3 }'
}

@test "auto picks fewer members only from a backtest of two origins or more" {
	# 12 yearly values and a 3-step horizon leave one origin of at least 8 values: the
	# mean of all four members
	awk 'BEGIN { print "t,y"; for (i = 1; i <= 12; i++) printf "%d,%.3f\n", 1990 + i, 50 + 3 * i + 4 * sin(2.1 * i) }' >short.csv
	ml mlforecast --time t -y y --model auto --horizon 3 short.csv >auto.csv
	members_mean short.csv 3 >mean4.csv
	csv_close auto.csv mean4.csv 1e-12
}

@test "damped is ets with its trend damped (R's ets(damped = TRUE)), error and season chosen" {
	# R's ets chooses ETS(M,A,M) for UKgas, and ETS(M,Ad,M) with damped = TRUE (the
	# parameters against R: tests/unit/test_forecast.c)
	ml mlforecast --time date -y value --group series --model damped --horizon 6 classic_series.csv >d.csv
	ml mlforecast --time date -y value --group series --model ets -p spec=ZAdZ --horizon 6 classic_series.csv >e.csv
	same d.csv <(sed 's/,ets,/,damped,/' e.csv)
	ml mlforecast --time date -y value --group series --model ets --horizon 6 classic_series.csv >z.csv
	run ! cmp -s <(grep '^UKgas,' d.csv | cut -d, -f4) <(grep '^UKgas,' z.csv | cut -d, -f4)
	# inside a combination damped is taken from the ets member's candidates: the same
	# model as damped fitted alone, on every series where auto averages all four members
	# (seasonal, yearly), and with a long season
	ml mlforecast -v --time date -y value --group series --model damped,combo,ensemble \
		classic_series.csv -o /dev/null 2>d.txt
	ml mlforecast -v --time date -y value --group series classic_series.csv -o /dev/null 2>a.txt
	grep -o "'[^']*': damped: .*" d.txt | sed "s/: damped: /: /" | sort >alone.txt
	[ "$(wc -l <alone.txt)" -eq 5 ]
	sed -n "s/.*series \('[^']*'\): auto: .* | \(ETS([^)]*)\)[^|]* (4 of 4 .*/\1: \2/p" a.txt | sort >member.txt
	[ "$(wc -l <member.txt)" -ge 3 ]
	same <(grep -F -f <(cut -d: -f1 member.txt) alone.txt) member.txt
	cp "$SAMPLES/seatbelts.csv" .
	ml mlforecast -v --time month -y drivers --model damped --season 36 seatbelts.csv -o /dev/null 2>d36.txt
	ml mlforecast -v --time month -y drivers --season 36 seatbelts.csv -o /dev/null 2>a36.txt
	grep -q "decomposition" d36.txt
	[[ "$(cat a36.txt)" == *" | $(sed 's/^mlforecast: damped: //' d36.txt) ("* ]]
}

@test "combinations search arima's orders on conditional sums of squares (approximation=on)" {
	# airpassengers has 144 values: arima alone searches by likelihood, the combinations
	# approximately, which chooses another model here
	ml mlforecast --time t -y y --model arima --horizon 6 airpassengers.csv >exact.csv
	ml mlforecast --time t -y y --model arima -p approximation=on --horizon 6 airpassengers.csv >approx.csv
	ml mlforecast --time t -y y --model ets,theta,combo --horizon 6 airpassengers.csv >rest.csv
	run ! cmp -s <(cut -d, -f3 exact.csv) <(cut -d, -f3 approx.csv)
	# combo's mean and bounds are the means of ets's, the approximate arima's and theta's
	cat approx.csv rest.csv | awk -F, '$1 != "t" { v[$2, $1] = $0; t[$1] = 1 }
		END {
			for (k in t) {
				split(v["arima", k], a, ","); split(v["ets", k], e, ",")
				split(v["theta", k], h, ","); split(v["combo", k], c, ",")
				for (j = 3; j <= 7; j++) {
					m = (a[j] + e[j] + h[j]) / 3; d = m - c[j]
					if (d * d > 1e-20 * m * m) exit 1
				}
				n++
			}
			if (n != 6) exit 2
		}'
	run ml mlforecast --time t -y y --model arima -p approximation=sometimes airpassengers.csv
	[ "$status" -eq 2 ]
}

@test "screen=on passes over the refits that hold a seasonal MA gone to the unit circle; combinations screen" {
	cp "$SAMPLES/seatbelts.csv" .
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on seatbelts.csv -o off.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: arima: ARIMA(1,1,2)(0,1,1)[12]; approximate search, 4 refits by likelihood" ]
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on -p screen=on seatbelts.csv -o on.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: arima: ARIMA(1,1,0)(0,1,1)[12]; approximate search, 2 refits by likelihood, 6 screened out" ]
	# on its first 150 values the same model with or without, 4 refits instead of 10, and
	# the combinations screen
	head -n 151 seatbelts.csv >sb150.csv
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on sb150.csv -o off.csv
	[ "$stderr" = "mlforecast: arima: ARIMA(0,1,1)(1,1,0)[12]; approximate search, 10 refits by likelihood" ]
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on -p screen=on sb150.csv -o on.csv
	[ "$stderr" = "mlforecast: arima: ARIMA(0,1,1)(1,1,0)[12]; approximate search, 4 refits by likelihood, 6 screened out" ]
	cmp off.csv on.csv
	run --separate-stderr ml mlforecast -v --time month -y drivers --model auto sb150.csv -o auto.csv
	[ "$status" -eq 0 ]
	[[ "$stderr" == *" | ARIMA(0,1,1)(1,1,0)[12]; approximate search, 4 refits by likelihood, 6 screened out | "* ]]
	# nothing is screened without seasonal differencing or when every refit passes
	run --separate-stderr ml mlforecast -v --time t -y y --model arima -p approximation=on \
		-p screen=on airpassengers.csv -o ap.csv
	[[ "$stderr" != *screened* ]]
	run ml mlforecast --time t -y y --model arima -p screen=perhaps airpassengers.csv
	[ "$status" -eq 2 ]
}

@test "-v names the model each method fitted, as R prints it, for each series; -q silences it" {
	# R: auto.arima(AirPassengers) is ARIMA(2,1,1)(0,1,0)[12], ets(AirPassengers) ETS(M,Ad,M)
	run --separate-stderr ml mlforecast -v --time t -y y --model arima,ets,theta,auto \
		-o out.csv airpassengers.csv
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 4 ]
	[ "${stderr_lines[0]}" = "mlforecast: arima: ARIMA(2,1,1)(0,1,0)[12]" ]
	[ "${stderr_lines[1]}" = "mlforecast: ets: ETS(M,Ad,M)" ]
	[ "${stderr_lines[2]}" = "mlforecast: theta: theta, seasonally adjusted (period 12)" ]
	[[ "${stderr_lines[3]}" == "mlforecast: auto: mean of ETS(M,Ad,M) | ARIMA("*"theta"*"by backtest MASE over 3 origins)"* ]]
	run --separate-stderr ml mlforecast -v --time date -y value --group series \
		--model arima classic_series.csv -o out.csv
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"series 'lynx': arima: ARIMA(2,0,2) with non-zero mean"* ]]
	[[ "$stderr" == *"series 'Nile': arima: ARIMA(1,1,1)"* ]]
	# a kept forecaster says the same when it is loaded
	ml mlforecast -q --time t -y y --model ets --save ets.mlm -o out.csv airpassengers.csv
	run --separate-stderr ml mlforecast -v --load ets.mlm -o out.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: ets: ETS(M,Ad,M)" ]
	run --separate-stderr ml mlforecast -v -q --time t -y y --model arima -o out.csv airpassengers.csv
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "refit=off forecasts from the approximate search's best fit; combinations refit only up to 150 values" {
	cp "$SAMPLES/seatbelts.csv" .
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on -p refit=off seatbelts.csv -o css.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: arima: ARIMA(0,1,1)(0,1,1)[12]; approximate search, fitted by conditional sums of squares" ]
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on -p refit=auto -p screen=on seatbelts.csv -o auto.csv
	[ "$stderr" = "mlforecast: arima: ARIMA(0,1,1)(0,1,1)[12]; approximate search, fitted by conditional sums of squares" ]
	cmp css.csv auto.csv
	# 192 values: auto's arima member is that fit; on 150 it is refitted
	run --separate-stderr ml mlforecast -v --time month -y drivers seatbelts.csv -o a.csv
	[[ "$stderr" == *" | ARIMA(0,1,1)(0,1,1)[12]; approximate search, fitted by conditional sums of squares | "* ]]
	head -n 151 seatbelts.csv >sb150.csv
	run --separate-stderr ml mlforecast -v --time month -y drivers --model arima \
		-p approximation=on -p refit=auto sb150.csv -o b.csv
	[[ "$stderr" == *"refits by likelihood" ]]
	# the CSS fit's intervals hold its mean
	awk -F, 'NR > 1 && !($6 <= $4 && $4 <= $3 && $3 <= $5 && $5 <= $7) { exit 1 }' css.csv
	run ml mlforecast --time month -y drivers --model arima -p refit=sometimes seatbelts.csv
	[ "$status" -eq 2 ]
}

@test "--backtest writes per series and model scores and their means" {
	ml mlforecast --time date -y value --group series --model ets,naive --horizon 4 --backtest 3 --report rep.csv classic_series.csv >out.csv
	[ "$(head -1 rep.csv)" = "series,model,origins,points,mae,rmse,mape,smape,mase,coverage_80,coverage_95" ]
	[ "$(grep -c '^UKgas,' rep.csv)" -eq 2 ]
	grep -q '^(mean),ets,15,60,' rep.csv
	grep -q '^(mean),naive,15,60,' rep.csv
	# naive on Nile (100 values) trained on 92, 94 and 96 (h = 4, origins 2 apart): 12 points
	grep -q '^Nile,naive,3,12,' rep.csv
}

@test "--save and --load forecast again from the kept models" {
	ml mlforecast --time date -y value --group series --model theta --horizon 3 --save m.mlm classic_series.csv >a.csv
	ml mlforecast --load m.mlm --horizon 3 >b.csv
	same a.csv b.csv
	# -o puts the forecasts in place with --load too
	ml mlforecast --load m.mlm --horizon 3 -o c.csv >out.txt
	same a.csv c.csv
	[ ! -s out.txt ]
	# --plot draws the history, which the model does not keep
	run --separate-stderr ml mlforecast --load m.mlm --plot p.svg
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--plot"*"--load"* ]]
	[ ! -e p.svg ]
	ml mlinfo m.mlm >info.json
	grep -q '"kind": "forecaster"' info.json
	run --separate-stderr ml mlforecast --load m.mlm --time date
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --load airpassengers.csv
	[ "$status" -eq 65 ]
}

@test "--load refuses --report, which scores a backtest on the history, instead of ignoring it" {
	ml mlforecast --time t -y y --model theta --horizon 3 --save m.mlm airpassengers.csv >/dev/null
	run -2 --separate-stderr ml mlforecast --load m.mlm --report r.csv -o f.csv
	[ "$stderr" = "mlforecast: --report (it scores a backtest, which needs the history) cannot be combined with --load
Try 'mlforecast --help' for more information." ]
	[ ! -e r.csv ] && [ ! -e f.csv ]
}

@test "--save under SOURCE_DATE_EPOCH gives the same bytes a second later, the kept forecasters' times too" {
	export SOURCE_DATE_EPOCH=1700000000
	ml mlforecast --time date -y value --group series --model ets --horizon 3 --save a.mlm classic_series.csv >/dev/null
	sleep 1.1
	ml mlforecast --time date -y value --group series --model ets --horizon 3 --save b.mlm classic_series.csv >/dev/null
	same a.mlm b.mlm
}

@test "outputs go into place together: a --save that cannot be written leaves no forecasts, report or plot" {
	run --separate-stderr ml mlforecast --time t -y y --model theta --backtest 2 --report r.csv \
		--plot p.svg --save nodir/m.mlm -o f.csv airpassengers.csv
	[ "$status" -eq 74 ]
	[[ "$stderr" == *"nodir/m.mlm"* ]]
	[ ! -e f.csv ] && [ ! -e r.csv ] && [ ! -e p.svg ]
}

@test "--plot draws an SVG" {
	ml mlforecast --time t -y y --model theta --plot p.svg airpassengers.csv >out.csv
	grep -q '<svg' p.svg
	grep -q 'forecast' p.svg
}

@test "--list-models names the methods and the members combo found" {
	run --separate-stderr ml mlforecast --list-models
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^ets '
	echo "$output" | grep -q '^theta '
	echo "$output" | grep -q '^auto '
	echo "$output" | grep -q '^combo members here: ets, '
}

@test "hourly data takes seasons 24 and 168; date-times keep their layout" {
	awk 'BEGIN { print "ts,load"; for (i = 0; i < 24 * 21; i++) {
		d = int(i / 24); h = i % 24
		printf "2024-03-%02dT%02d:00:00,%.3f\n", 1 + d, h, 100 + 10 * sin(2 * 3.14159265 * h / 24) + (d % 7 == 5 ? 5 : 0) }
	}' >hourly.csv
	ml mlforecast --time ts -y load --model snaive --horizon 2 hourly.csv >out.csv
	[ "$(sed -n 2p out.csv | cut -d, -f1-3)" = "2024-03-22T00:00:00,snaive,100" ]
	[ "$(sed -n 3p out.csv | cut -d, -f1)" = "2024-03-22T01:00:00" ]
}

@test "gbm: the same bytes for any -j, and it beats snaive in a backtest on a seasonal series" {
	ml mlforecast --time date -y value --group series --model gbm -j 1 classic_series.csv >a.csv
	ml mlforecast --time date -y value --group series --model gbm -j 3 classic_series.csv >b.csv
	same a.csv b.csv
	ml mlforecast --time date -y value --group series --model gbm -p strategy=direct classic_series.csv >c.csv
	[ "$(rows c.csv)" -eq "$(rows a.csv)" ]
	awk -F, 'NR > 1 && !($7 <= $5 && $5 <= $4 && $4 <= $6 && $6 <= $8) { exit 1 }' a.csv
	ml mlforecast --time t -y y --model gbm,snaive --horizon 12 --backtest 4 --report rep.csv airpassengers.csv >out.csv
	gbm=$(awk -F, '$1 == "gbm" { print $8 }' rep.csv)
	snaive=$(awk -F, '$1 == "snaive" { print $8 }' rep.csv)
	awk -v a="$gbm" -v b="$snaive" 'BEGIN { exit !(a < b) }'
	# the conformal 95% intervals cover most of the backtest's points
	awk -F, '$1 == "gbm" { exit !($10 >= 0.8) }' rep.csv
}

@test "gbm: a series too short falls back, --save and --load give the same forecasts" {
	printf 't,y\n' >short.csv
	for i in 1 2 3 4 5 6 7 8; do echo "$i,$((i * 3 % 7))" >>short.csv; done
	run --separate-stderr ml mlforecast --time t -y y --model gbm --horizon 2 short.csv
	[ "$status" -eq 0 ]
	[ "$stderr" = "mlforecast: warning: 8 values are too few for --model gbm (it needs 14); forecast with theta" ]
	ml mlforecast --time t -y y --model gbm --horizon 6 --save m.mlm airpassengers.csv >a.csv
	ml mlforecast --load m.mlm --horizon 6 >b.csv
	same a.csv b.csv
	run --separate-stderr ml mlforecast --time t -y y --model gbm -p lags=40 airpassengers.csv
	[ "$status" -eq 2 ]
}

# Regressors: samples/seatbelts.csv (drivers, PetrolPrice, law to 1983) and the
# regressors of 1984 (samples/seatbelts_future.csv); the numbers are checked against R in
# tests/unit/test_xreg.c.
xreg_setup() {
	cp "$SAMPLES/seatbelts.csv" "$SAMPLES/seatbelts_future.csv" .
}

belts() {
	ml mlforecast --time month -y drivers --xreg PetrolPrice,law --future "$@"
}

@test "--xreg: linear agrees with R's tslm through the CLI, and the horizon is the future file's" {
	xreg_setup
	belts seatbelts_future.csv --model linear seatbelts.csv >out.csv
	[ "$(head -1 out.csv)" = "month,model,mean,lo_80,hi_80,lo_95,hi_95" ]
	[ "$(rows out.csv)" -eq 12 ]
	grep -q '^1984-01-01,linear,' out.csv
	grep -q '^1984-12-01,linear,' out.csv
	# R: forecast(tslm(drivers ~ trend + season + PetrolPrice + law), newdata = 1984)
	paste -d, <(tail -n +2 out.csv) <(tail -n +2 "$TOP/tests/fixtures/xreg/linear_fc.csv") |
		awk -F, '{ for (i = 3; i <= 7; i++) if ((d = $i - $(i + 6)) > 1e-6 || d < -1e-6) exit 1 }'
	# a shorter horizon reads the first rows only
	belts seatbelts_future.csv --model linear --horizon 3 seatbelts.csv >short.csv
	[ "$(rows short.csv)" -eq 3 ]
	[ "$(sed -n 2,4p short.csv)" = "$(sed -n 2,4p out.csv)" ]
}

@test "--xreg: a what-if scenario moves the forecast; every xreg model, -j any, backtests" {
	xreg_setup
	sed 's/,1$/,0/' seatbelts_future.csv >nolaw.csv
	for m in arima linear prophet gbm auto ensemble; do
		belts seatbelts_future.csv --model $m seatbelts.csv >law.csv
		belts nolaw.csv --model $m seatbelts.csv >nolaw_$m.csv
		# the law lowered the casualties: without it, more
		paste -d, law.csv nolaw_$m.csv | awk -F, -v m=$m 'NR > 1 { s += $10 - $3 } END { if (!(s > 0)) { print m, s; exit 1 } }'
	done
	belts seatbelts_future.csv --model arima,linear -j 1 seatbelts.csv >j1.csv
	belts seatbelts_future.csv --model arima,linear -j 3 seatbelts.csv >j3.csv
	cmp j1.csv j3.csv
	belts seatbelts_future.csv --model arima,linear,gbm --backtest 3 --report rep.csv seatbelts.csv >/dev/null
	[ "$(rows rep.csv)" -eq 3 ]
	grep -q '^linear,3,36,' rep.csv
}

@test "--xreg: --save keeps the regressors' names; --load needs --future and reads it" {
	xreg_setup
	belts seatbelts_future.csv --model arima --save m.mlm seatbelts.csv >now.csv
	ml mlforecast --load m.mlm --future seatbelts_future.csv >later.csv
	cmp now.csv later.csv
	run --separate-stderr ml mlforecast --load m.mlm
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"2 regressors (PetrolPrice, ...)"*"--future"* ]]
	sed 's/,1$/,0/' seatbelts_future.csv >nolaw.csv
	ml mlforecast --load m.mlm --future nolaw.csv >nolaw.csv.out
	run ! cmp -s now.csv nolaw.csv.out
	# a model without regressors takes no future
	ml mlforecast --time month -y drivers --model naive --save plain.mlm seatbelts.csv >/dev/null
	run --separate-stderr ml mlforecast --load plain.mlm --future seatbelts_future.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --load m.mlm --future seatbelts_future.csv --xreg law
	[ "$status" -eq 2 ]
}

@test "--xreg misuse: a model without regressors, no --future, a missing column" {
	xreg_setup
	for m in ets theta naive combo; do
		run --separate-stderr belts seatbelts_future.csv --model $m seatbelts.csv
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"--model $m takes no regressors"* ]]
		[ -z "$output" ]
	done
	run --separate-stderr ml mlforecast --time month -y drivers --xreg law seatbelts.csv
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--future"* ]]
	run --separate-stderr ml mlforecast --time month -y drivers --future seatbelts_future.csv seatbelts.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --time month -y drivers --xreg law,law --future seatbelts_future.csv seatbelts.csv
	[ "$status" -eq 2 ]
	run --separate-stderr ml mlforecast --time month -y drivers --xreg price --future seatbelts_future.csv seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"price"* ]]
	cut -d, -f1,2 seatbelts_future.csv >nolaw.csv
	run --separate-stderr belts nolaw.csv --model linear seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"nolaw.csv"*"law"* ]]
	run --separate-stderr belts missing.csv --model linear seatbelts.csv
	[ "$status" -eq 66 ]
}

@test "--future bad input: missing values, gaps, times off the grid or in the past, unknown groups, too few rows" {
	xreg_setup
	# a missing regressor value in the history and in the future: file, line, column
	sed '5s/,0$/,/' seatbelts.csv >hole.csv
	run --separate-stderr belts seatbelts_future.csv --model linear hole.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"hole.csv:5: missing value in column 'law'"* ]]
	sed '4s/,1$/,/' seatbelts_future.csv >f.csv
	run --separate-stderr belts f.csv --model linear seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv:4: missing value in column 'law'"* ]]
	# a gap
	sed 4d seatbelts_future.csv >f.csv
	run --separate-stderr belts f.csv --model linear seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv: no row for time 1984-03-01"*"gap"* ]]
	# too few rows for --horizon
	run --separate-stderr belts seatbelts_future.csv --model linear --horizon 13 seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no row for time 1985-01-01"*"--horizon 13"* ]]
	# a time in the past, or off the grid
	sed '3s/^1984-02-01/1983-05-01/' seatbelts_future.csv >f.csv
	run --separate-stderr belts f.csv --model linear seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv:3: time '1983-05-01' is not after the last time"* ]]
	awk -v OFS=, 'BEGIN { print "t,y,x"; for (i = 1; i <= 40; i++) print i, i % 7 + 2 * (i % 3), i % 3 }' >num.csv
	printf 't,x\n41,1\n41.5,2\n' >f.csv
	run --separate-stderr ml mlforecast --time t -y y --xreg x --future f.csv --model linear num.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv:3: time '41.5' is not on the regular grid"* ]]
	# twice the same time
	sed '3p' seatbelts_future.csv >f.csv
	run --separate-stderr belts f.csv --model linear seatbelts.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv:4: a second row for time '1984-02-01'"* ]]
	# groups: an unknown one, one without rows
	awk -F, -v OFS=, 'NR == 1 { print "g", $0; next } { print "a", $0; print "b", $0 }' seatbelts.csv >two.csv
	awk -F, -v OFS=, 'NR == 1 { print "g", $0; next } { print "a", $0; print "c", $0 }' seatbelts_future.csv >f.csv
	run --separate-stderr ml mlforecast --time month -y drivers --group g --xreg PetrolPrice,law --future f.csv --model linear two.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"f.csv:3: unknown group 'c' in column 'g'"* ]]
	awk -F, -v OFS=, 'NR == 1 { print "g", $0; next } { print "a", $0 }' seatbelts_future.csv >f.csv
	run --separate-stderr ml mlforecast --time month -y drivers --group g --xreg PetrolPrice,law --future f.csv --model linear two.csv
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"no rows after the last time of series 'b'"* ]]
	awk -F, -v OFS=, 'NR == 1 { print "g", $0; next } { print "a", $0; print "b", $0 }' seatbelts_future.csv >f.csv
	ml mlforecast --time month -y drivers --group g --xreg PetrolPrice,law --future f.csv --model linear two.csv >out.csv
	[ "$(rows out.csv)" -eq 24 ]
}

# prophet against R's prophet (tests/fixtures/gen_prophet.R): the log posterior that -v
# prints is at least that of R's fit run to its MAP; the forecast is within 0.2% of the
# series' scale of that MAP's and its future times are R's; the mean width of the 80%
# intervals (simulated paths on both sides) is within 15% of R's.
prophet_vs_r() {
	local name=$1 lp want
	shift
	fixture "$FIX/prophet/$name.csv" "$FIX/prophet/${name}_params.csv"
	run --separate-stderr ml mlforecast -v --model prophet --level 80 "$@"
	[ "$status" -eq 0 ]
	echo "$output" | tail -n +2 |
		awk -F, -v OFS=, '{ print $(NF - 4), $(NF - 2), $(NF - 1), $NF }' | tr / - >got.csv
	lp=$(echo "$stderr" | sed -n 's/.*log posterior \([-0-9.]*\) at the MAP$/\1/p')
	want=$(tail -1 "$FIX/prophet/${name}_params.csv" | cut -d, -f2)
	echo "$name: log posterior $lp, R's MAP $want"
	awk -v a="$lp" -v b="$want" 'BEGIN { exit !(a != "" && a + 0 >= b - 1e-6) }'
	tail -n +2 "$FIX/prophet/$name.csv" >want.csv
	[ "$(wc -l <got.csv)" -eq "$(wc -l <want.csv)" ]
	awk -F, 'NR == FNR { t[FNR] = $1; lo[FNR] = $3; hi[FNR] = $4; map[FNR] = $5
			a = $5 < 0 ? -$5 : $5; if (a > sc) sc = a; next }
		{ if ($1 != t[FNR]) { print "time", FNR, $1, t[FNR]; exit 1 }
		  d = $2 - map[FNR]; if (d < 0) d = -d; if (d > dmax) dmax = d
		  r += ($4 - $3) / (hi[FNR] - lo[FNR]); n++ }
		END { printf "max |mean - MAP| %.3g of %.3g, width ratio %.3f\n", dmax, sc, r / n
		      exit !(dmax <= 2e-3 * sc && r / n > 0.85 && r / n < 1.15) }' want.csv got.csv
}

@test "prophet: daily data with yearly and weekly seasons, as R's prophet" {
	cp "$SAMPLES/seattle_weather.csv" .
	prophet_vs_r seattle --time date -y temp_max --horizon 60 seattle_weather.csv
	[[ "$stderr" == *"prophet, 2 of 25 changepoints active; yearly season (10 pairs), weekly"* ]]
	[[ "$stderr" == *"; yearly season (10 pairs), weekly season (3 pairs); log posterior"* ]]
	# a saved forecaster keeps its calendar
	ml mlforecast --model prophet --time date -y temp_max --horizon 60 --save p.mlm \
		seattle_weather.csv >a.csv
	ml mlforecast --load p.mlm --horizon 60 >b.csv
	cmp a.csv b.csv
}

@test "prophet: monthly, quarterly and yearly dates, as R's prophet" {
	for s in nottem:nottem:24 UKgas:ukgas:8 USAccDeaths:usaccdeaths:24 Nile:nile:10; do
		IFS=: read -r g n h <<<"$s"
		awk -F, -v g="$g" 'NR == 1 || $1 == g' classic_series.csv >"$n.csv"
		prophet_vs_r "$n" --time date -y value --horizon "$h" "$n.csv"
		[[ "$stderr" == *"; yearly season (10 pairs); log posterior"* ]]
	done
}

@test "prophet: half-hourly data with daily and weekly seasons, as R's prophet" {
	cp "$FIX/prophet/taylor_input.csv" .
	prophet_vs_r taylor --time time -y demand --horizon 96 taylor_input.csv
	[[ "$stderr" == *"; weekly season (3 pairs), daily season (4 pairs);"* ]]
}

@test "prophet: regressors standardised or kept 0/1, as R's prophet's add_regressor" {
	cp "$SAMPLES/seatbelts.csv" "$SAMPLES/seatbelts_future.csv" .
	prophet_vs_r seatbelts --time month -y drivers --xreg PetrolPrice,law \
		--future seatbelts_future.csv seatbelts.csv
	[[ "$stderr" == *"; 2 regressors; log posterior"* ]]
}

@test "prophet: multiplicative seasons and regressors, as R's prophet" {
	cp "$FIX/prophet/air_input.csv" "$SAMPLES/seatbelts.csv" "$SAMPLES/seatbelts_future.csv" .
	prophet_vs_r air_mult --time month -y passengers --horizon 24 -p mode=multiplicative \
		air_input.csv
	[[ "$stderr" == *"prophet (multiplicative), "*"; yearly season (10 pairs); log posterior"* ]]
	prophet_vs_r seatbelts_mult --time month -y drivers --xreg PetrolPrice,law \
		--future seatbelts_future.csv -p mode=multiplicative seatbelts.csv
	# multiplicative seasons follow the trend: AirPassengers' swings grow with its level
	ml mlforecast --time month -y passengers --horizon 24 --model prophet air_input.csv >add.csv
	ml mlforecast --time month -y passengers --horizon 24 --model prophet \
		-p mode=multiplicative air_input.csv >mult.csv
	paste -d, add.csv mult.csv | awk -F, 'NR > 1 { if ($3 > amax) amax = $3; if (amin == "" || $3 < amin) amin = $3
			if ($10 > mmax) mmax = $10; if (mmin == "" || $10 < mmin) mmin = $10 }
		END { exit !(mmax - mmin > 1.5 * (amax - amin)) }'
}
