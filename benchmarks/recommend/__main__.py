from benchmarks.recommend.cli import main

raise SystemExit(main())
