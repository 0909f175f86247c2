"""NLU benchmark: trains Rasa pipelines side by side on the same data and scores them (`python -m benchmarks.nlu`)."""
