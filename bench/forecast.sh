#!/bin/sh
# Forecast accuracy and speed against R's forecast package on the same holdouts in the same
# run: the real yearly, quarterly and monthly series of R's datasets and forecast packages
# (bench/forecast.R exports them and runs auto.arima, ets and thetaf), M-competition
# horizons (yearly 6, quarterly 8, monthly 18); then mlforecast's models on the same
# training parts. Prints mean MASE, mean sMAPE, 95% coverage and CPU seconds per model, and
# the time of a half-hourly series with a weekly season (m = 336).
# Usage: sh bench/forecast.sh [MODELS [large|short]]   (default auto,combo,arima,ets,theta)
# "large": the wider set of series of bench/forecast.R (in bench/data/forecast_large), without
# the half-hourly run; "short": those series cut to a forecasting competition's lengths (the
# horizon plus at most 20 yearly, 40 quarterly or 72 monthly values; bench/data/forecast_short).
# REUSE_R=1 keeps R's side of an earlier run of the same set (its
# forecasts and seconds) and runs only mlforecast's models, to compare builds.
set -e
ML_BIN=${ML_BIN:-bin}
MODELS=${1:-auto,combo,arima,ets,theta}
SET=${2:-}
D=bench/data/forecast${SET:+_$SET}
mkdir -p "$D"
if [ "${REUSE_R:-0}" = 1 ] && [ -s "$D/r_time.csv" ]; then
	echo "R's side kept from an earlier run ($D)"
else
	Rscript bench/forecast.R "$D" $SET
fi
# CPU seconds (user + system) of a command
cpu() {
	/usr/bin/time -f "%U %S" -o "$D/time.txt" "$@"
	awk '{ printf "%.3f", $1 + $2 }' "$D/time.txt"
}
echo "model,seconds" >"$D/ml_time.csv"
echo "series,model,h,mean,lo_95,hi_95" >"$D/ml_fc.csv"
# the series of each horizon (yearly 6, quarterly 8, monthly 18) forecast together at it,
# as a competition's are, so that auto's backtest scores the horizon asked for
for h in $(awk -F, 'NR > 1 { print $3 }' "$D/meta.csv" | sort -un); do
	awk -F, -v h="$h" 'FILENAME ~ /meta/ { if (FNR > 1 && $3 == h) k[$1] = 1; next }
		FNR == 1 || ($1 in k)' "$D/meta.csv" "$D/train.csv" >"$D/train_h$h.csv"
done
for m in $(echo "$MODELS" | tr ',' ' '); do
	tot=0
	for h in $(awk -F, 'NR > 1 { print $3 }' "$D/meta.csv" | sort -un); do
		s=$(cpu "$ML_BIN/mlforecast" -q -j 1 --time t -y y --group series --model "$m" \
			--level 95 --horizon "$h" -o "$D/fc_$m.csv" "$D/train_h$h.csv")
		tot=$(echo "$tot $s" | awk '{ printf "%.3f", $1 + $2 }')
		# number the steps of each series 1..
		awk -F, 'NR > 1 { k[$1]++; print $1 "," "mlforecast:" $3 "," k[$1] "," $4 "," $5 "," $6 }' \
			"$D/fc_$m.csv" >>"$D/ml_fc.csv"
	done
	echo "mlforecast:$m,$tot" >>"$D/ml_time.csv"
done
# scores: MASE scaled by the training part's mean absolute seasonal difference
awk -F, '
	FILENAME ~ /meta/ && FNR > 1 { m[$1] = $2; H[$1] = $3; next }
	FILENAME ~ /train/ && FNR > 1 { n[$1]++; y[$1, n[$1]] = $3; next }
	FILENAME ~ /test/ && FNR > 1 { a[$1, $2] = $3; next }
	FILENAME ~ /time/ && FNR > 1 { t[$1] = $2; next }
	FNR > 1 && $3 <= H[$1] {
		s = $1; mod = $2
		if (!((s, "scale") in sc)) {
			lag = m[s]; tot = 0
			for (i = lag + 1; i <= n[s]; i++) { d = y[s, i] - y[s, i - lag]; tot += d < 0 ? -d : d }
			sc[s, "scale"] = tot / (n[s] - lag)
		}
		e = a[s, $3] - $4; if (e < 0) e = -e
		mase[mod, s] += e / sc[s, "scale"] / H[s]
		den = (a[s, $3] < 0 ? -a[s, $3] : a[s, $3]) + ($4 < 0 ? -$4 : $4)
		smape[mod, s] += (den > 0 ? 200 * e / den : 0) / H[s]
		cov[mod] += a[s, $3] >= $5 && a[s, $3] <= $6; pts[mod]++
		seen[mod, s] = 1; mods[mod] = 1; ser[s] = 1
	}
	END {
		printf "%-18s %8s %8s %8s %8s %9s\n", "model", "series", "MASE", "sMAPE", "cov95", "seconds"
		for (mod in mods) {
			k = 0; M = 0; S = 0
			for (s in ser) if ((mod, s) in seen) { k++; M += mase[mod, s]; S += smape[mod, s] }
			printf "%-18s %8d %8.4f %8.3f %8.3f %9.3f\n", mod, k, M / k, S / k, cov[mod] / pts[mod], t[mod]
		}
	}' "$D/meta.csv" "$D/train.csv" "$D/test.csv" "$D/r_time.csv" "$D/ml_time.csv" \
	"$D/r_fc.csv" "$D/ml_fc.csv" | sort
[ -z "$SET" ] || exit 0
# half-hourly data with a weekly season: forecast's taylor (12 weeks, m = 48 and 336)
Rscript -e 'suppressMessages(library(forecast)); y <- as.numeric(taylor); t <- format(seq(as.POSIXct("2000-06-05", tz = "UTC"), by = "30 min", length.out = length(y)), "%Y-%m-%d %H:%M"); write.csv(data.frame(t = t, y = y), "bench/data/forecast/taylor.csv", row.names = FALSE, quote = FALSE)'
s=$(cpu "$ML_BIN/mlforecast" -q --time t -y y --model auto --horizon 336 -o "$D/taylor_fc.csv" "$D/taylor.csv")
echo "taylor (n = $(($(wc -l <"$D/taylor.csv") - 1)), seasons 48 and 336, h = 336): mlforecast --model auto $s s CPU"
