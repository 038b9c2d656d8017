# Learners: `make lab`. Maintainers: `make test`. Instructors: see README.md, "Teaching with nbgrader".
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ASSIGNMENTS := $(notdir $(patsubst %/,%,$(wildcard source/*/)))
# nbgrader runs helper commands (alembic, the kernel) from PATH: put the venv first.
export PATH := $(abspath $(BIN)):$(PATH)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test release autograde feedback grades bench help

help:
	@echo "make lab        set up .venv (first time only) and open the course in JupyterLab"
	@echo "make test       run the test suite (pytest)"
	@echo "make release    regenerate release/ from source/ (instructors, maintainers)"
	@echo "make autograde ASSIGNMENT=00_orientation   grade every submission of an assignment"
	@echo "make feedback ASSIGNMENT=00_orientation    write feedback HTML for every graded submission"
	@echo "make grades     export all grades to grades.csv"
	@echo "make bench      measure run and grading times and model quality into docs/benchmarks.md"

# The stamp records how long the install took (seconds), for the benchmark report.
$(STAMP): pyproject.toml
	@start=$$(date +%s); \
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || exit 1; \
	$(BIN)/python -m pip install --quiet --upgrade pip || exit 1; \
	$(BIN)/python -m pip install --quiet -e '.[dev]' || exit 1; \
	echo "install_seconds=$$(( $$(date +%s) - start ))" > $(STAMP)

# Learners work on copies in work/ so that release/ stays as published and `git pull`
# brings new modules without touching answers: a notebook already in work/ is never overwritten.
lab: $(STAMP)
	@mkdir -p work && cp -rn release/. work/
	@echo "Starting JupyterLab on the course notebooks (your copies in work/)."
	@echo "Open the URL printed below (with its token) in your browser; stop with Ctrl-C."
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=work $(ROOT_FLAG)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --durations=10 $(PYTEST_ARGS)

release: $(STAMP)
	@for a in $(ASSIGNMENTS); do \
	  echo "== $$a"; $(BIN)/nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; \
	done
	cp source/START_HERE.ipynb release/START_HERE.ipynb
	cp docs/glossary.md release/glossary.md

# Grading: every submission of ASSIGNMENT, JOBS at a time, each kernel in a sandbox (docs/grading.md).
# FORCE=1 regrades what was graded before; ALLOW_UNISOLATED=1 grades even where no sandbox can be had.
autograde: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make autograde ASSIGNMENT=<one of: $(ASSIGNMENTS)> [JOBS=n] [FORCE=1]"; exit 2; }
	$(BIN)/python -m course.grading "$(ASSIGNMENT)" --jobs $(JOBS) $(if $(filter 1,$(FORCE)),--force) \
	  $(if $(filter 1,$(ALLOW_UNISOLATED)),--allow-unisolated) $(GRADING_ARGS)

feedback: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback ASSIGNMENT=<one of: $(ASSIGNMENTS)>"; exit 2; }
	$(BIN)/nbgrader generate_feedback "$(ASSIGNMENT)" --force

grades: $(STAMP)
	$(BIN)/nbgrader export --to grades.csv
	@echo "Grades written to grades.csv"

# Measurements for docs/benchmarks.md and docs/benchmarks.json: notebook times (median of 3),
# autograding times, toy-model quality against the tests' thresholds, the environment's size.
bench: $(STAMP)
	$(BIN)/python bench/run.py
