# Entry points; the scripts hold the logic so they also work without make.
VENV ?= .venv

.PHONY: run test setup catalog train shell actions lookups benchmark-nlu

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
