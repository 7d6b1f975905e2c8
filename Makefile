# The two commands a new user needs:
#   make run    set up (first time) and run the whole course headlessly on the synthetic dataset
#   make test   set up (first time) and run the tests (unit with a coverage report, papermill smoke runs, nbval on
#               stored outputs)
#   make lab    set up (first time, plus JupyterLab) and open the notebooks in JupyterLab from the project's .venv
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= course

.PHONY: run test test-unit lab notebooks clean-outputs

# Training notebooks checked with nbval-lax (only `# NBVAL_CHECK_OUTPUT` cells are compared).
NBVAL_LAX_NOTEBOOKS := $(wildcard notebooks/0[3-9]_*.ipynb)

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# JupyterLab only for `make lab` (the tests and headless runs do not need it); its own stamp so it installs once.
$(VENV)/.lab-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet "jupyterlab>=4.0"
	touch $@

run: $(VENV)/.installed
	$(PY) -m asd_utils run --profile $(PROFILE)

# The nbval runs below execute every notebook on the synthetic course data with its stored parameters, so `make test`
# leaves out the tiny synthetic-layout smoke runs that repeat them (plain `pytest` keeps them); the smoke runs on the
# real data's layout and for another machine type stay.
SMOKE_RUNS_NBVAL_REPEATS := -k "not test_notebook_runs_on_tiny_profile"

test: $(VENV)/.installed
	TQDM_DISABLE=1 $(PY) -m pytest --cov=asd_utils --cov-report=term $(SMOKE_RUNS_NBVAL_REPEATS)
	$(if $(wildcard notebooks/0[0-2]_*.ipynb),TQDM_DISABLE=1 $(PY) -m pytest --nbval $(wildcard notebooks/0[0-2]_*.ipynb) --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env -p no:cacheprovider,@echo "nbval (strict): no notebooks/0[0-2]_*.ipynb yet - skipped")
	$(if $(NBVAL_LAX_NOTEBOOKS),TQDM_DISABLE=1 $(PY) -m pytest --nbval-lax $(NBVAL_LAX_NOTEBOOKS) --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env -p no:cacheprovider,@echo "nbval (lax): no notebooks/0[3-9]_*.ipynb yet - skipped")

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests -m "not notebooks"

# Open the notebooks in JupyterLab with the project's own environment (its kernel "python3" is .venv's Python).
lab: $(VENV)/.lab-installed
	$(VENV)/bin/jupyter lab notebooks/

# Regenerate the stored outputs of every notebook (course profile); the only way notebooks get committed outputs.
notebooks: $(VENV)/.installed
	TQDM_DISABLE=1 $(PY) -m asd_utils regenerate $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

clean-outputs:
	rm -rf outputs
