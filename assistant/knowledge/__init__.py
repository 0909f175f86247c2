"""The store's own knowledge (policies, FAQ) and how answers are found in it."""
