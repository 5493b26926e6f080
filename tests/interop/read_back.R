# Read SAS transport, SPSS and Stata files back with haven and print what R sees as JSON:
# for each file, each column's values (dates as YYYY-MM-DD, date-times as
# YYYY-MM-DDTHH:MM:SS in UTC, labelled numbers as their codes), its label and its value labels.
# Used by tests/interop/test_statfiles.py:  Rscript read_back.R FILE...
suppressPackageStartupMessages({
  library(haven)
  library(jsonlite)
})

read_any <- function(path) {
  switch(tools::file_ext(path),
    xpt = read_xpt(path),
    sav = read_sav(path),
    dta = read_dta(path),
    stop("unknown file type: ", path)
  )
}

files <- list()
for (path in commandArgs(trailingOnly = TRUE)) {
  data <- read_any(path)
  columns <- list()
  for (name in names(data)) {
    column <- data[[name]]
    labels <- attr(column, "labels", exact = TRUE)
    values <- if (inherits(column, "POSIXct")) {
      format(column, "%Y-%m-%dT%H:%M:%S", tz = "UTC")
    } else if (inherits(column, "Date")) {
      format(column, "%Y-%m-%d")
    } else {
      as.vector(zap_labels(column))
    }
    columns[[name]] <- list(
      values = I(values),
      label = attr(column, "label", exact = TRUE),
      labels = if (is.null(labels)) NULL else as.list(setNames(names(labels), as.character(labels)))
    )
  }
  files[[basename(path)]] <- columns
}
cat(toJSON(files, auto_unbox = TRUE, na = "null", digits = NA, null = "null"))
