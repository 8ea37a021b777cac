# The raw mlbench tables that bench/anomaly_sets.py turns into outlier data sets.
# Usage: Rscript anomaly_raw.R DIR (writes DIR/raw/NAME.csv)
suppressMessages(library(mlbench))
d <- file.path(commandArgs(TRUE)[1], "raw")
dir.create(d, showWarnings = FALSE, recursive = TRUE)
for (n in c("Shuttle", "Glass", "Ionosphere", "Satellite", "LetterRecognition",
            "BreastCancer", "PimaIndiansDiabetes", "Vowel", "Vehicle", "Sonar")) {
	data(list = n)
	x <- get(n)
	for (j in seq_along(x)) if (is.factor(x[[j]]) && j != ncol(x) && n != "LetterRecognition")
		x[[j]] <- suppressWarnings(as.numeric(as.character(x[[j]])))
	write.csv(x, file.path(d, paste0(n, ".csv")), row.names = FALSE)
}
