"""Grounded generative answers: backends (which model), guard (is it supported), answer (the pipeline)."""
