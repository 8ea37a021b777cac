#!/usr/bin/Rscript
# Forecast benchmark, R's side: exports the real series of R's datasets and forecast
# packages (yearly, quarterly and monthly ts objects of at least 2 holdouts' length plus
# a minimum), holds out the M-competition horizons (yearly 6, quarterly 8, monthly 18),
# and forecasts the holdouts with auto.arima, ets, thetaf and ets(damped = TRUE) (which
# mlforecast's damped is), and prophet where r-cran-prophet is installed, timing each
# (CPU seconds, user + system, so that a busy machine does not count).
# Usage: Rscript bench/forecast.R OUTDIR [large|short]
# With "large", the wider set: every yearly, quarterly and monthly series of the datasets,
# forecast, MASS, tseries and lmtest packages, each column of a multiple series on its own,
# the longest cut to their last 600 values (the 23 of the default set among them).
# With "short", the same series cut to the lengths of a forecasting competition's: the
# holdout plus at most 20 yearly, 40 quarterly or 72 monthly values before it.
# Writes OUTDIR/train.csv (series,t,y; t a date from 1800-01-01 at the series' step), OUTDIR/test.csv (series,h,y), OUTDIR/meta.csv
# (series,m,h), OUTDIR/r_fc.csv (series,model,h,mean,lo_95,hi_95), OUTDIR/r_time.csv.
Sys.setenv(TZ = "UTC")
suppressMessages(library(forecast))
out <- commandArgs(TRUE)[1]
large <- commandArgs(TRUE)[2] %in% c("large", "short")
short <- identical(commandArgs(TRUE)[2], "short")
keep <- c("1" = 20, "4" = 40, "12" = 72)
dir.create(out, showWarnings = FALSE, recursive = TRUE)
pkgs <- if (large) c("datasets", "forecast", "MASS", "tseries", "lmtest") else
  c("datasets", "forecast")
hor <- c("1" = 6, "4" = 8, "12" = 18)
ser <- list()
# y a series of frequency 1, 4 or 12 without missing values, long enough to hold out
# its horizon and keep max(2m, 14) values
usable <- function(y) {
  f <- frequency(y)
  f %in% c(1, 4, 12) && !any(is.na(y)) &&
    length(y) >= hor[[as.character(f)]] + max(2 * f, 14)
}
for (pkg in pkgs) {
  env <- new.env()
  nm <- data(package = pkg)$results[, "Item"]
  nm <- unique(sub(" .*", "", nm))
  for (x in nm) suppressWarnings(try(data(list = x, package = pkg, envir = env), silent = TRUE))
  for (x in sort(ls(env))) {
    y <- get(x, envir = env)
    if (!is.ts(y)) next
    cols <- if (is.null(dim(y))) list(x = y) else if (large)
      setNames(lapply(seq_len(ncol(y)), function(j) y[, j]),
               paste(x, make.names(colnames(y)), sep = ".")) else
      if (ncol(y) == 1) list(x = y[, 1]) else list()
    if (is.null(dim(y))) names(cols) <- x
    if (!is.null(dim(y)) && ncol(y) == 1) names(cols) <- x
    for (k in names(cols)) {
      z <- cols[[k]]
      if (!is.ts(z)) z <- ts(z, start = start(y), frequency = frequency(y))
      if (large && length(z) > 600) z <- ts(tail(as.numeric(z), 600), frequency = frequency(z))
      if (!usable(z) || length(z) > 600 || !is.null(ser[[k]])) next
      # not a lagged copy (lmtest's dy1..dy6), a dummy, or a series already taken
      if (grepl("[.]dy[0-9]+$", k) || length(unique(z)) < 10) next
      if (any(sapply(ser, function(u) length(u) == length(z) &&
                     all(as.numeric(u) == as.numeric(z))))) next
      ser[[k]] <- z
    }
  }
}
if (short) {
  for (k in names(ser)) {
    f <- frequency(ser[[k]]); L <- hor[[as.character(f)]] + keep[[as.character(f)]]
    if (length(ser[[k]]) > L) ser[[k]] <- ts(tail(as.numeric(ser[[k]]), L), frequency = f)
  }
}
tr <- te <- me <- fc <- list()
for (x in names(ser)) {
  y <- ser[[x]]; f <- frequency(y); h <- hor[[as.character(f)]]; n <- length(y)
  by <- switch(as.character(f), "1" = "year", "4" = "quarter", "12" = "month")
  tr[[x]] <- data.frame(series = x, t = format(seq(as.Date("1800-01-01"), by = by,
                                                   length.out = n - h)),
                        y = sprintf("%.17g", y[1:(n - h)]))
  te[[x]] <- data.frame(series = x, h = 1:h, y = sprintf("%.17g", y[(n - h + 1):n]))
  me[[x]] <- data.frame(series = x, m = f, h = h)
}
write.csv(do.call(rbind, tr), file.path(out, "train.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, te), file.path(out, "test.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, me), file.path(out, "meta.csv"), row.names = FALSE, quote = FALSE)
tm <- c(auto.arima = 0, ets = 0, thetaf = 0, ets.damped = 0)
# prophet (Debian's r-cran-prophet) where installed: its defaults, on the dates of train.csv
has_prophet <- requireNamespace("prophet", quietly = TRUE)
if (has_prophet) tm <- c(tm, prophet = 0)
prophet_fc <- function(y, f, h) {
  by <- switch(as.character(f), "1" = "year", "4" = "quarter", "12" = "month")
  df <- data.frame(ds = seq(as.Date("1800-01-01"), by = by, length.out = length(y)),
                   y = as.numeric(y))
  m <- suppressMessages(prophet::prophet(df, interval.width = 0.95))
  p <- predict(m, prophet::make_future_dataframe(m, periods = h, freq = by,
                                                 include_history = FALSE))
  list(mean = p$yhat, lower = matrix(p$yhat_lower), upper = matrix(p$yhat_upper))
}
for (x in names(ser)) {
  y <- ser[[x]]; f <- frequency(y); h <- hor[[as.character(f)]]; n <- length(y)
  yt <- ts(y[1:(n - h)], frequency = f)
  for (mdl in names(tm)) {
    p0 <- proc.time()
    r <- try(switch(mdl,
      auto.arima = forecast(auto.arima(yt), h = h, level = 95),
      ets = forecast(ets(yt), h = h, level = 95),
      ets.damped = forecast(ets(yt, damped = TRUE), h = h, level = 95),
      thetaf = thetaf(yt, h = h, level = 95),
      prophet = prophet_fc(yt, f, h)), silent = TRUE)
    p1 <- proc.time() - p0
    tm[[mdl]] <- tm[[mdl]] + p1[["user.self"]] + p1[["sys.self"]]
    if (inherits(r, "try-error")) next
    fc[[paste(x, mdl)]] <- data.frame(series = x, model = mdl, h = 1:h,
      mean = sprintf("%.17g", r$mean), lo_95 = sprintf("%.17g", r$lower[, 1]),
      hi_95 = sprintf("%.17g", r$upper[, 1]))
  }
}
write.csv(do.call(rbind, fc), file.path(out, "r_fc.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(model = names(tm), seconds = tm), file.path(out, "r_time.csv"),
          row.names = FALSE, quote = FALSE)
cat(sprintf("%d series (%s)\n", length(ser), paste(names(table(sapply(ser, frequency))),
    table(sapply(ser, frequency)), sep = ":", collapse = " ")))
