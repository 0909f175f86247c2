from benchmarks.answers.cli import main

raise SystemExit(main())
