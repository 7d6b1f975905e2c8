# The two commands a new user needs:
#   make run    set up (first time) and run the whole course headlessly on the synthetic dataset
#   make test   set up (first time) and run the tests (unit with a coverage report, papermill smoke runs, nbval on
#               stored outputs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= course

.PHONY: run test test-unit notebooks clean-outputs

# Training notebooks checked with nbval-lax (only `# NBVAL_CHECK_OUTPUT` cells are compared).
NBVAL_LAX_NOTEBOOKS := $(wildcard notebooks/0[3-9]_*.ipynb)

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: $(VENV)/.installed
	$(PY) -m asd_utils run --profile $(PROFILE)

test: $(VENV)/.installed
	TQDM_DISABLE=1 $(PY) -m pytest --cov=asd_utils --cov-report=term
	$(if $(wildcard notebooks/0[0-2]_*.ipynb),TQDM_DISABLE=1 $(PY) -m pytest --nbval $(wildcard notebooks/0[0-2]_*.ipynb) --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env -p no:cacheprovider,@echo "nbval (strict): no notebooks/0[0-2]_*.ipynb yet - skipped")
	$(if $(NBVAL_LAX_NOTEBOOKS),TQDM_DISABLE=1 $(PY) -m pytest --nbval-lax $(NBVAL_LAX_NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env -p no:cacheprovider,@echo "nbval (lax): no notebooks/0[3-9]_*.ipynb yet - skipped")

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests -m "not notebooks"

# Regenerate the stored outputs of every notebook (course profile); the only way notebooks get committed outputs.
notebooks: $(VENV)/.installed
	TQDM_DISABLE=1 $(PY) -m asd_utils regenerate $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

clean-outputs:
	rm -rf outputs
