"""Product search benchmarks: relevance (NDCG@10) on the demo catalog, latency at 10k-1M products, and a run on
the public Best Buy catalog. See benchmarks/README.md."""
