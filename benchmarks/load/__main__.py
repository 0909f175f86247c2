from benchmarks.load.cli import main

main()
