# Two commands matter on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test report lab lint format benchmark clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "transitmile needs Python 3.11+, found " + sys.version'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,notebook]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

report: $(STAMP)
	mkdir -p reports
	$(VENV)/bin/transitmile feed-summary --dataset porto_alegre --date 2019-05-13 --window 14:00-16:00 > reports/porto_alegre_feed_summary.txt
	$(VENV)/bin/transitmile ttm --dataset porto_alegre --departure 2019-05-13T14:00 --window 60 --breakdown -o reports/porto_alegre_ttm.parquet
	$(VENV)/bin/transitmile run data/studies/porto_alegre.yml --out reports
	@echo "open reports/porto_alegre/index.html (the study's reports, with how they were made)"

# JupyterLab on the notebooks, with this project's kernel (installed into the venv).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

lint: $(STAMP)
	$(VENV)/bin/ruff check transitmile tests benchmarks
	$(VENV)/bin/ruff format --check transitmile tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format transitmile tests benchmarks
	$(VENV)/bin/ruff check --fix transitmile tests benchmarks

benchmark: $(STAMP)
	$(PY) benchmarks/ttm.py

clean:
	rm -rf $(VENV) reports .pytest_cache
