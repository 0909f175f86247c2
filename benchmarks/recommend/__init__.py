"""Next-item recommendation on public sequence data: ours (SASRec) against popularity and item-kNN."""
