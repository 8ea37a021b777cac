#!/usr/bin/Rscript
# Writes samples/classic_series.csv: classic series of R's datasets package in long format
# (series, date, value): quarterly, monthly and yearly series in one file, dates as ISO 8601 (the first day of each period).
# Run from the repository root with Debian's r-base-core: Rscript samples/gen_series.R
long <- function(name, y) {
  tt <- time(y); f <- frequency(y)
  yr <- floor(tt + 1e-9); per <- round((tt - yr) * f)
  month <- if (f == 12) per + 1 else if (f == 4) 3 * per + 1 else rep(1, length(y))
  data.frame(series = name, date = sprintf("%04d-%02d-01", yr, month), value = as.numeric(y))
}
d <- rbind(long("UKgas", UKgas), long("USAccDeaths", USAccDeaths), long("lynx", lynx),
           long("Nile", Nile), long("nottem", nottem))
write.csv(d, "samples/classic_series.csv", row.names = FALSE, quote = FALSE)
