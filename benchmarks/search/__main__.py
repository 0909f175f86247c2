from benchmarks.search.cli import main

main()
