"""Grounded answers benchmark (`python -m benchmarks.answers`)."""
