"""Benchmarks of the assistant's models (run from the repository root; see benchmarks/README.md)."""
