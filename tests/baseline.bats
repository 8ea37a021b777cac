#!/usr/bin/env bats
# The moving-baseline detector (-a baseline): scores against pandas (tests/fixtures/
# gen_baseline.py), the state carried from mltrain to mlpredict, a spike found, the same
# bytes for any block size and -j, the temporal kind of an anomaly ensemble, bad input.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	export SOURCE_DATE_EPOCH=1700000000
	BF=$FIX/baseline
	fixture "$BF/train.csv" "$BF/next.csv" "$BF/series.csv" "$BF/spike.csv"
}

# File $1 a line at a time, with a pause before each row, so that a reader meets one row
# a block (a file read at once comes in one block whatever --line-buffered asks).
trickle() {
	local l
	head -n 1 "$1"
	tail -n +2 "$1" | while IFS= read -r l; do
		sleep 0.01
		printf '%s\n' "$l"
	done
}

# Fit on train.csv with the options given, score next.csv: the score column.
scores() {
	ml mltrain -q -a baseline --time-col ts --group-col site -o b.mlm "$@" "$BF/train.csv"
	ml mlpredict -m b.mlm "$BF/next.csv" | cut -d, -f1
}

@test "baseline: ewma and median, rows and durations, with and without a season, equal pandas to 1e-9" {
	fixture "$BF/ewma_w5.csv" "$BF/ewma_w5_s6.csv" "$BF/ewma_5h.csv" "$BF/median_w7.csv" \
		"$BF/median_w7_s6.csv" "$BF/median_5h.csv"
	scores --window 5 > o.csv
	csv_close "$BF/ewma_w5.csv" o.csv 1e-9
	scores --window 5 --season 6 > o.csv
	csv_close "$BF/ewma_w5_s6.csv" o.csv 1e-9
	scores --window 5h > o.csv
	csv_close "$BF/ewma_5h.csv" o.csv 1e-9
	scores --method median --window 7 > o.csv
	csv_close "$BF/median_w7.csv" o.csv 1e-9
	scores --method median --window 7 --season 6 > o.csv
	csv_close "$BF/median_w7_s6.csv" o.csv 1e-9
	scores --method median --window 5h > o.csv
	csv_close "$BF/median_5h.csv" o.csv 1e-9
}

@test "baseline: a group unseen in training starts cold, scoring 0 through its warm-up" {
	scores --window 5 > o.csv
	ml mlpredict -m b.mlm --keep site "$BF/next.csv" > k.csv
	[ "$(awk -F, '$1 == "c"' k.csv | head -3 | cut -d, -f2 | tr '\n' ' ')" = "0 0 0 " ]
	[ "$(awk -F, '$1 == "c"' k.csv | sed -n 4p | cut -d, -f2)" != 0 ]
}

@test "baseline: a spike injected into a series is the one flagged row" {
	ml mltrain -q -a baseline --time-col ts --window 6 -o s.mlm "$BF/series.csv"
	ml mlpredict -m s.mlm --keep ts "$BF/spike.csv" > o.csv
	[ "$(awk -F, '$3 == 1' o.csv | cut -d, -f1)" = 781200 ]
	run -1 ml mlpredict -m s.mlm --alert-at critical -o /dev/null "$BF/spike.csv"
	head -10 "$BF/spike.csv" > calm.csv
	run -0 ml mlpredict -m s.mlm --alert-at critical -o /dev/null calm.csv
}

@test "baseline: the same bytes for 1-row and big blocks, the stream format and any -j" {
	for o in "--window 5" "--method median --window 7 --season 6" "--method median --window 5h"; do
		# shellcheck disable=SC2086
		ml mltrain -q -a baseline --time-col ts --group-col site $o -o b.mlm "$BF/train.csv"
		ml mlpredict -m b.mlm "$BF/next.csv" > big.csv
		trickle "$BF/next.csv" | ml mlpredict -m b.mlm --line-buffered > one.csv
		same big.csv one.csv
		ml mlpredict -j 1 -m b.mlm "$BF/next.csv" > j1.csv
		same big.csv j1.csv
		ml mlcat -f stream "$BF/next.csv" > next.mls
		ml mlpredict -j 2 -m b.mlm next.mls > j2.csv
		same big.csv j2.csv
	done
	# numbers only: read ahead on a thread while the blocks are scored
	ml mltrain -q -a baseline --time-col ts --method median -o s.mlm "$BF/series.csv"
	trickle "$BF/spike.csv" | ml mlpredict -m s.mlm --line-buffered > one.csv
	ml mlpredict -j 2 -m s.mlm "$BF/spike.csv" > j2.csv
	same one.csv j2.csv
}

@test "baseline: each mlpredict run carries on from the fitted state, not from the last run" {
	ml mltrain -q -a baseline --time-col ts --group-col site -o b.mlm "$BF/train.csv"
	ml mlpredict -m b.mlm "$BF/next.csv" > a.csv
	ml mlpredict -m b.mlm "$BF/next.csv" > b.csv
	same a.csv b.csv
	# refitting on the history is how the next run learns this one's rows
	cat "$BF/train.csv" <(tail -n +2 "$BF/next.csv") > history.csv
	ml mltrain -q -a baseline --time-col ts --group-col site -o h.mlm history.csv
	run -0 ml mlinfo --table severity h.mlm
	[ "${lines[0]}" = "level,quantile,score" ]
}

@test "baseline: an anomaly ensemble names the rows its baseline member flags temporal" {
	ml mltrain -q -a baseline --time-col ts --window 6 -o b.mlm "$BF/series.csv"
	ml mltrain -q -a zscore -o z.mlm "$BF/series.csv"
	ml mltrain -q -a hbos -o h.mlm "$BF/series.csv"
	ml mlensemble --method anomaly --contamination 0.02 -m b.mlm -m z.mlm -m h.mlm -o e.mlm
	ml mlpredict -m e.mlm --keep ts "$BF/spike.csv" > o.csv
	[ "$(head -1 o.csv)" = "ts,score,anomaly,severity,kind" ]
	[ "$(awk -F, '$1 == 781200' o.csv | cut -d, -f3,5)" = "1,temporal" ]
	# --explain: the baseline's deviation of load leads (zscore and hbos read ts too)
	ml mlpredict -m e.mlm --keep ts --explain "$BF/spike.csv" > x.csv
	same <(cut -d, -f1-5 x.csv) o.csv
	[ "$(awk -F, '$1 == 781200' x.csv | cut -d, -f6)" = "load;ts" ]
	# the detector alone keeps the output of the others: no kind column
	run -0 ml mlpredict -m b.mlm "$BF/spike.csv"
	[ "${lines[0]}" = "score,anomaly,severity" ]
}

@test "baseline: --explain names the value columns by their robust deviations, as computed by hand" {
	# median and MAD of the window (v: 10,12,14; w: 100,104,108; u: 1,2,3), then row 4:
	# v |18-12|/(1.4826*2) = 2.02, w |132-104|/(1.4826*4) = 4.72 (the score), u 0 or 2.02
	printf 't,v,w,u\n1,10,100,1\n2,12,104,2\n3,14,108,3\n' > tr.csv
	printf 't,v,w,u\n4,18,132,2\n5,14,108,2\n' > te.csv
	printf 't,v,w,u\n4,18,132,5\n' > tie.csv
	ml mltrain -q -a baseline --time-col t --method median --window 3 --warmup 3 -o b.mlm tr.csv
	run -0 ml mlpredict -m b.mlm --explain te.csv
	[ "${lines[0]}" = "score,anomaly,severity,explain" ]
	[ "$(echo "${lines[1]}" | cut -d, -f1)" = "$(awk 'BEGIN { printf "%.16g", 28 / (1.482602218505602 * 4) }')" ]
	[ "$(echo "${lines[1]}" | cut -d, -f2,4)" = "1,w;v" ]
	[ "$(echo "${lines[2]}" | cut -d, -f1,2,4)" = "0,0," ]
	# equal deviations keep the column order; the stream format and one-row blocks agree
	run -0 ml mlpredict -m b.mlm --explain tie.csv
	[ "$(echo "${lines[1]}" | cut -d, -f4)" = "w;v;u" ]
	ml mltrain -q -a baseline --time-col ts --group-col site --window 5 --contamination 0.1 \
		-o g.mlm "$BF/train.csv"
	ml mlpredict -m g.mlm --explain "$BF/next.csv" > big.csv
	[ "$(head -1 big.csv)" = "score,anomaly,severity,explain" ]
	[ "$(awk -F, '$2 == 1 && $4 != ""' big.csv | wc -l)" = 7 ]
	[ "$(awk -F, '$2 == 1' big.csv | wc -l)" = 7 ]
	trickle "$BF/next.csv" | ml mlpredict -m g.mlm --explain --line-buffered > one.csv
	same big.csv one.csv
	ml mlpredict -m g.mlm --explain -f stream "$BF/next.csv" | ml mlcat > s.csv
	same big.csv s.csv
	# the scores are those without --explain
	ml mlpredict -m g.mlm "$BF/next.csv" > plain.csv
	same <(cut -d, -f1-3 big.csv) plain.csv
}

# File $1 with its column ts of seconds written as ISO 8601 by date(1), format $2.
iso_times() {
	head -1 "$1"
	paste -d, <(tail -n +2 "$1" | cut -d, -f1 | sed 's/^/@/' | date -u -f - "$2") \
		<(tail -n +2 "$1" | cut -d, -f2-)
}

@test "baseline: dates and date-times as --time-col give the scores of their seconds, --window durations too" {
	iso_times "$BF/train.csv" +%Y-%m-%dT%H:%M:%SZ > train_iso.csv
	iso_times "$BF/next.csv" '+%Y-%m-%d %H:%M:%S' > next_iso.csv
	[ "$(sed -n 2p train_iso.csv | cut -d, -f1)" = 1970-01-01T00:15:41Z ]
	for o in "--window 5h" "--method median --window 5h" "--window 5 --season 6"; do
		# shellcheck disable=SC2086
		ml mltrain -q -a baseline --time-col ts --group-col site $o -o n.mlm "$BF/train.csv"
		# shellcheck disable=SC2086
		ml mltrain -q -a baseline --time-col ts --group-col site $o -o i.mlm train_iso.csv
		ml mlpredict -m n.mlm "$BF/next.csv" > n.csv
		ml mlpredict -m i.mlm next_iso.csv > i.csv
		same n.csv i.csv
		# seconds are dates too for a model fitted on dates
		ml mlpredict -m i.mlm "$BF/next.csv" > s.csv
		same n.csv s.csv
	done
	csv_close "$BF/ewma_5h.csv" <(ml mltrain -q -a baseline --time-col ts --group-col site \
		--window 5h -o - train_iso.csv | ml mlpredict -m - next_iso.csv | cut -d, -f1) 1e-9
	# days, and a zone: 2026-01-03T01:00+02:00 is 23:00 UTC the day before, within --window 2d
	# of the 1st, so the window is the 1st and 2nd (1 and 3): median 2, MAD 1
	printf 'ts,v\n2026-01-01,1\n2026-01-02,3\n' > days.csv
	ml mltrain -q -a baseline --time-col ts --method median --window 2d --warmup 2 -o d.mlm days.csv
	printf 'ts,v\n2026-01-03T01:00+02:00,8\n' > zone.csv
	run -0 ml mlpredict -m d.mlm --explain zone.csv
	[ "$(echo "${lines[1]}" | cut -d, -f1)" = "$(awk 'BEGIN { printf "%.16g", 6 / 1.482602218505602 }')" ]
	[ "$(echo "${lines[1]}" | cut -d, -f2,4)" = "1,v" ]
}

@test "baseline: bad options and data are refused, naming the option, line and value" {
	run -2 --separate-stderr ml mltrain -a baseline -o x.mlm "$BF/series.csv"
	[ "${stderr_lines[0]}" = "mltrain: -a baseline needs --time-col COL (the time column)" ]
	run -2 --separate-stderr ml mltrain -a baseline --time-col when -o x.mlm "$BF/series.csv"
	[ "${stderr_lines[0]}" = "mltrain: --time-col: no feature column 'when' in the training rows" ]
	run -2 --separate-stderr ml mltrain -a baseline --time-col ts --window 0 -o x.mlm "$BF/series.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '0' for --window of -a baseline (a count of rows from 1 to 100000, or a duration such as 90s, 1h or 7d)" ]
	run -2 --separate-stderr ml mltrain -a baseline --time-col ts --window 2 -o x.mlm "$BF/series.csv"
	[ "${stderr_lines[0]}" = "mltrain: --warmup 3 is more than the --window of 2 rows: no row would be scored" ]
	run -2 --separate-stderr ml mltrain -a baseline --time-col ts --season 100001 -o x.mlm "$BF/series.csv"
	[ "${stderr_lines[0]}" = "mltrain: invalid value '100001' for --season (a whole number from 0 to 100000)" ]
	run -65 --separate-stderr ml mltrain -a baseline --time-col ts -o x.mlm "$BF/train.csv"
	[ "${stderr_lines[0]}" = "mltrain: value column 'site' is not numeric (-a baseline scores numeric columns: leave it out with --ignore)" ]
	# a date that does not parse: in training and in scoring, naming line, column and value
	printf 'ts,v\n2026-01-01,1\n2026-01-02,2\n2026-02-30,3\n' > dates.csv
	run -65 --separate-stderr ml mltrain -a baseline --time-col ts -o x.mlm dates.csv
	[ "${stderr_lines[0]}" = "mltrain: dates.csv:4: cannot parse '2026-02-30' as a date or time in column 'ts' (ISO 8601 as 2026-01-31 or 2026-01-31T08:00:00Z, or seconds since 1970-01-01 UTC)" ]
	head -3 dates.csv > good.csv
	ml mltrain -q -a baseline --time-col ts --warmup 2 -o d.mlm good.csv
	printf 'ts,v\n2026-01-03,1\n2026-01-04T25:00,2\n' > later.csv
	run -65 --separate-stderr ml mlpredict -m d.mlm -o out.csv later.csv
	[ "${stderr_lines[0]}" = "mlpredict: later.csv:3: cannot parse '2026-01-04T25:00' as a date or time in column 'ts' (ISO 8601 as 2026-01-31 or 2026-01-31T08:00:00Z, or seconds since 1970-01-01 UTC)" ]
	[ ! -e out.csv ]
	printf 'ts,v\n2026-01-03,1\n,2\n' > hole.csv
	run -65 --separate-stderr ml mlpredict -m d.mlm hole.csv
	[[ "${stderr_lines[0]}" == "mlpredict: hole.csv:3: missing "*"'ts'"* ]]
	# unsorted time: in training and in scoring, naming the line
	{ head -5 "$BF/series.csv"; echo 100,20; tail -n +6 "$BF/series.csv"; } > unsorted.csv
	run -65 --separate-stderr ml mltrain -a baseline --time-col ts -o x.mlm unsorted.csv
	[ "${stderr_lines[0]}" = "mltrain: unsorted.csv:6: time 100 in column 'ts' is before 10800, the time of the previous row of its group (rows must be in time order)" ]
	[ ! -e x.mlm ]
	ml mltrain -q -a baseline --time-col ts -o s.mlm "$BF/series.csv"
	{ head -3 "$BF/spike.csv"; echo 720000,20; } > late.csv
	run -65 --separate-stderr ml mlpredict -m s.mlm -o out.csv late.csv
	[ "${stderr_lines[0]}" = "mlpredict: late.csv:4: time 720000 in column 'ts' is before 723600, the time of the previous row of its group (rows must be in time order)" ]
	[ ! -e out.csv ]
	# a time that is not a number: the line and the value
	{ head -3 "$BF/spike.csv"; echo 2026-01-01T00:00,20; } > text.csv
	run -65 --separate-stderr ml mlpredict -m s.mlm text.csv
	[ "${stderr_lines[0]}" = "mlpredict: text.csv:4: cannot parse '2026-01-01T00:00' as a number in column 'ts'" ]
	# a damaged model
	cp s.mlm d.mlm
	printf '\377' | dd of=d.mlm bs=1 seek=700 conv=notrunc 2>/dev/null
	run -65 --separate-stderr ml mlpredict -m d.mlm "$BF/spike.csv"
	[ -n "$stderr" ]
}
