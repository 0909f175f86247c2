from benchmarks.nlu.cli import main

main()
