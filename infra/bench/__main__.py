"""`make bench`: see infra/bench/run.py."""

from infra.bench.run import main

raise SystemExit(main())
