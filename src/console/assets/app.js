// the console's entry module (filled in by the views)
