# Entry points; the scripts hold the logic so they also work without make.
VENV ?= .venv

.PHONY: run test setup catalog train shell actions lookups benchmark-nlu benchmark-search-relevance \
        benchmark-search-latency benchmark-search-bestbuy benchmark-recommend benchmark-search-topk \
        benchmark-answers benchmark-load

run:            ## set up if needed, then run the action server and the Rasa server
	scripts/run.sh

test:           ## set up if needed, then run every test (unit, data validation, e2e stories, live smoke test)
	scripts/test.sh

setup:
	scripts/setup.sh

catalog: setup  ## (re)build the demo catalog: make catalog COUNT=1000000
	$(VENV)/bin/python -m assistant catalog build --force $(if $(COUNT),--count $(COUNT))

lookups: setup  ## regenerate data/lookups.yml from the catalog vocabulary
	$(VENV)/bin/python -m assistant lookups

train: setup
	scripts/train.sh

shell:          ## chat in the terminal with rasa shell (starts the action server if needed)
	scripts/shell.sh

actions: setup
	$(VENV)/bin/rasa run actions --actions actions

benchmark-nlu: setup  ## ours vs DIET: make benchmark-nlu DATA=project|DIR|FILE.json|FILE.csv ARGS="--oos-label oos"
	$(VENV)/bin/python -m benchmarks.nlu --data $(or $(DATA),project) $(ARGS)

benchmark-answers: setup  ## grounded answers: quoting vs SmolLM2 + guard on the written question sets (ARGS="--modes ...")
	$(VENV)/bin/python -m benchmarks.answers $(ARGS)

benchmark-search-relevance: setup  ## NDCG@10 of hybrid vs full-text vs embedding search on the demo catalog
	$(VENV)/bin/python -m benchmarks.search relevance $(ARGS)

SIZES ?= 10000,100000,1000000
benchmark-search-latency: setup  ## search p50/p95 on generated catalogs (2 torch threads): make benchmark-search-latency SIZES=10000
	$(VENV)/bin/python -m benchmarks.search latency --sizes $(SIZES) $(ARGS)

benchmark-search-bestbuy: setup  ## import, embed and search the public Best Buy catalog (../shared/datasets)
	$(VENV)/bin/python -m benchmarks.search bestbuy $(ARGS)

benchmark-recommend: setup  ## ours (SASRec) vs popularity vs item-kNN on Amazon Beauty (ARGS="--negatives 0": full softmax)
	$(VENV)/bin/python -m benchmarks.recommend --data $(or $(DATA),../shared/datasets/amazon_beauty_s3rec/Beauty.txt) \
		--negatives 1000 $(ARGS)

benchmark-search-topk: setup  ## exact top-k at 1M x 384 vs the memory-bandwidth bound (cuda when present)
	$(VENV)/bin/python -m benchmarks.search topk $(ARGS)

benchmark-load: setup  ## 50 shoppers over REST, ours vs a stock-Rasa DIET baseline, 60 s per phase (ARGS="--shoppers 10")
	$(VENV)/bin/python -m benchmarks.load $(ARGS)
