#!/bin/sh
# ARIMA benchmark: our automatic ARIMA (the arima forecasting method, driven through
# bench/fc_fit.c) against R's forecast::auto.arima on classic series of R's datasets
# package, in the same run: the least of REPS fit times of each, the orders chosen and their
# AICc. Not a test. Run from the top directory after make: sh bench/arima.sh. BENCH_REPS
# overrides the repetitions (default 3).
set -e
REPS=${BENCH_REPS:-3}
D=bench/data/arima
CC=${CC:-cc}
mkdir -p "$D"
command -v Rscript >/dev/null || { echo "arima.sh: 'Rscript' not found" >&2; exit 1; }
# shellcheck disable=SC2046
$CC -O2 -std=c11 -D_GNU_SOURCE -Iinclude -o "$D/fc_fit" bench/fc_fit.c build/libml.a \
	-lcsv $(pkg-config --libs libcjson zlib openblas lapacke) -lm -pthread
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d ' ' -f 1-3 /proc/loadavg)"

# the series, and R's fits: name period seconds p d q P D Q aicc
cat >"$D/r.R" <<'REOF'
suppressMessages(library(forecast))
S <- list(airpassengers_log = log(AirPassengers), nile = Nile, lynx = lynx,
          usaccdeaths = USAccDeaths, co2 = co2, ukgas = UKgas, wwwusage = WWWusage,
          lakehuron = LakeHuron, austres = austres, nottem = nottem, ldeaths = ldeaths,
          bjsales = BJsales, sunspot_year = sunspot.year, jj_log = log(JohnsonJohnson))
reps <- as.integer(commandArgs(TRUE)[1])
dir <- commandArgs(TRUE)[2]
invisible(auto.arima(WWWusage))
for (nm in names(S)) {
  write.csv(data.frame(y = sprintf("%.17g", as.numeric(S[[nm]]))),
            file.path(dir, paste0(nm, ".csv")), row.names = FALSE, quote = FALSE)
  t <- min(sapply(seq_len(reps), function(i) system.time(a <<- auto.arima(S[[nm]]))[["elapsed"]]))
  o <- arimaorder(a)
  if (length(o) == 3) o <- c(o, 0, 0, 0)
  cat(nm, frequency(S[[nm]]), t, o[1:6], sprintf("%.4f", a$aicc), "\n")
}
REOF
Rscript "$D/r.R" "$REPS" "$D" >"$D/r.txt"
printf '%-18s %4s %9s %9s %6s  %-20s %-20s %11s %11s\n' series n R_s ours_s ratio R_order our_order R_aicc our_aicc
tr=0
to=0
while read -r name m t p d q sP sD sQ aicc; do
	line=$("$D/fc_fit" -r "$REPS" arima "$m" "$D/$name.csv")
	ours=$(printf '%s\n' "$line" | cut -f 2)
	js=$(printf '%s\n' "$line" | cut -f 3)
	oo=$(printf '%s\n' "$js" | sed -n 's/.*"order":"\([^"]*\)","seasonal_order":"\([^"]*\)".*/(\1)(\2)/p')
	oa=$(printf '%s\n' "$js" | sed -n 's/.*"aicc":\([^,}]*\).*/\1/p')
	n=$(($(wc -l <"$D/$name.csv") - 1))
	printf '%-18s %4d %9.3f %9.4f %6.3f  %-20s %-20s %11.4f %11.4f\n' "$name" "$n" "$t" "$ours" \
		"$(echo "$ours / $t" | bc -l)" "($p,$d,$q)($sP,$sD,$sQ)" "$oo" "$aicc" "$oa"
	tr=$(echo "$tr + $t" | bc -l)
	to=$(echo "$to + $ours" | bc -l)
done <"$D/r.txt"
printf 'total: R %.3f s, ours %.3f s, ratio %.3f\n' "$tr" "$to" "$(echo "$to / $tr" | bc -l)"
