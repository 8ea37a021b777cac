#!/usr/bin/Rscript
# Writes samples/seatbelts.csv and samples/seatbelts_future.csv from R's datasets::Seatbelts
# (UK car drivers killed or seriously injured per month, 1969-1984, with the petrol price
# and the seat belt law of 31 January 1983 as 0/1): the history to December 1983, and the
# regressors of 1984 as the future values a forecast of drivers reads (mlforecast --xreg
# PetrolPrice,law --future samples/seatbelts_future.csv).
# Run from the repository root with Debian's r-base-core: Rscript samples/gen_seatbelts.R
s <- Seatbelts
tt <- time(s)
yr <- floor(tt + 1e-9)
month <- round((tt - yr) * 12) + 1
d <- data.frame(month = sprintf("%04d-%02d-01", yr, month), drivers = as.numeric(s[, "drivers"]),
                PetrolPrice = sprintf("%.17g", as.numeric(s[, "PetrolPrice"])),
                law = as.numeric(s[, "law"]))
hist <- yr < 1984
write.csv(d[hist, ], "samples/seatbelts.csv", row.names = FALSE, quote = FALSE)
write.csv(d[!hist, c("month", "PetrolPrice", "law")], "samples/seatbelts_future.csv",
          row.names = FALSE, quote = FALSE)
