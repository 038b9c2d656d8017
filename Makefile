# Learners: `make lab`. Maintainers: `make test`. Instructors: see README.md, "Teaching with nbgrader".
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8888
WORK ?= work
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)
ASSIGNMENTS := $(notdir $(patsubst %/,%,$(wildcard source/*/)))
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# --- Python: 3.11, 3.12 or 3.13 (requires-python in pyproject.toml) -----------------------------
SUPPORTED_PYTHONS := 3.11 3.12 3.13
py_version = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# PYTHON defaults to python3 when that is a supported version, else the first of python3.11..3.13 found.
ifeq ($(origin PYTHON),undefined)
  PYTHON := $(firstword $(foreach p,python3 python3.11 python3.12 python3.13,\
              $(if $(filter $(SUPPORTED_PYTHONS),$(call py_version,$(p))),$(p))) python3)
endif
PY_VERSION := $(call py_version,$(PYTHON))
RUNTIME_STAMP := $(VENV)/.runtime-$(PY_VERSION)
DEV_STAMP := $(VENV)/.dev-$(PY_VERSION)
INSTRUCTOR_STAMP := $(VENV)/.instructor-$(PY_VERSION)

# --- PyTorch: the CPU-only wheels on Linux (PyPI's Linux wheel pulls in several GB of CUDA) -------
# The index is the one PyTorch's install guide names for CPU. `make lab TORCH_INDEX=` uses PyPI's.
TORCH_VERSION := $(shell sed -n 's/^ *"torch==\([^"]*\)".*/\1/p' pyproject.toml)
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu,)

# nbgrader runs helper commands (alembic, the kernel) from PATH: put the venv first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: check progress lab test release autograde feedback grades report similarity bench help formgrader venv work python-check

help:
	@echo "make lab        set up .venv (first time only) and open the course in JupyterLab"
	@echo "make test       run the test suite (pytest)"
	@echo "make check      grade your own notebooks in work/ as your instructor would (NOTEBOOK=03c for one notebook,"
	@echo "                ASSIGNMENT=01_generative_ai for one module)"
	@echo "make progress   your points in every notebook, from your last checks"
	@echo "make formgrader open JupyterLab on the course folder with nbgrader's instructor tools"
	@echo "make release    regenerate release/ from source/ (instructors, maintainers)"
	@echo "make autograde ASSIGNMENT=00_orientation   grade every submission of an assignment"
	@echo "make feedback ASSIGNMENT=00_orientation    write feedback HTML for every graded submission"
	@echo "make grades     export all grades to grades.csv (FORMAT=canvas, moodle or csv: grades-FORMAT.csv for the LMS)"
	@echo "make report ASSIGNMENT=00_orientation      what the class understood: reports/<assignment>/analysis.html"
	@echo "make similarity ASSIGNMENT=00_orientation  near-identical submissions: reports/<assignment>/similarity.html"
	@echo "make bench      measure run and grading times and model quality into docs/benchmarks.md"

# The interpreter is checked before anything else is done.
python-check:
	@if [ -z "$(filter $(SUPPORTED_PYTHONS),$(PY_VERSION))" ]; then \
	  echo "The course needs Python 3.11, 3.12 or 3.13, but '$(PYTHON)' is $(if $(PY_VERSION),Python $(PY_VERSION),not a working Python)."; \
	  echo "Install one (python.org; Homebrew: brew install python@3.12; Ubuntu/Debian: sudo apt install python3.12-venv),"; \
	  echo "then point make at it, for example:  make lab PYTHON=python3.12"; \
	  exit 1; \
	fi

# The learner's environment: the course and its runtime packages (no test tools). A .venv made by
# another Python is removed and made anew. The stamp records the install time, for `make bench`.
$(RUNTIME_STAMP): pyproject.toml constraints.txt | python-check
	@start=$$(date +%s); \
	if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PY_VERSION)" ]; then \
	  echo "$(VENV) was made by another Python: making it anew with $(PYTHON) ($(PY_VERSION))."; rm -rf $(VENV); \
	fi; \
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || exit 1; \
	echo "Installing the course into $(VENV) (the first time takes a few minutes)."; \
	$(BIN)/python -m pip install --quiet --upgrade pip || exit 1; \
	$(BIN)/python -m pip install --quiet -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) \
	  "torch==$(TORCH_VERSION)" || exit 1; \
	$(BIN)/python -m pip install --quiet -c constraints.txt -e . || exit 1; \
	echo "install_seconds=$$(( $$(date +%s) - start ))" > $(RUNTIME_STAMP)

# Instructors' extra tools (the similarity check's detector), for `make similarity`.
$(INSTRUCTOR_STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[instructor]'
	@touch $(INSTRUCTOR_STAMP)

# Maintainers add the test tools (pytest, JupyterHub and Playwright for the end-to-end tests).
$(DEV_STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(DEV_STAMP)

venv: $(RUNTIME_STAMP)

# Learners work on copies in $(WORK)/ so that release/ stays as published and `git pull` brings new
# modules without touching answers: a notebook already in $(WORK)/ is never overwritten.
work: $(RUNTIME_STAMP)
	@$(BIN)/python -m course.workspace release "$(WORK)"

# The learner's JupyterLab hides nbgrader's instructor tools and the news pop-up
# (jupyter_config/learner: page config and server extensions).
lab: work
	@echo "Starting JupyterLab on the course notebooks (your copies in $(WORK)/)."
	@echo "Open the URL printed below (with its token) in your browser; stop with Ctrl-C."
	JUPYTER_CONFIG_PATH="$(abspath jupyter_config/learner)" \
	  $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir="$(WORK)" $(ROOT_FLAG) $(LAB_ARGS)

# Self-paced learners: the course's real grader on your own copies (points per question, never the answers).
# NOTEBOOK=<name, start of a name, or path> grades that one notebook; ASSIGNMENT=<module> one module.
check: $(RUNTIME_STAMP)
	@$(BIN)/python -m course.grading.selfcheck $(ASSIGNMENT) $(if $(NOTEBOOK),--notebook "$(NOTEBOOK)") --work "$(WORK)"

# Where you stand: every notebook of the course with the points of its last check.
progress: $(RUNTIME_STAMP)
	@$(BIN)/python -m course.progress --work "$(WORK)"

# Instructors: the whole course folder, with the Create Assignment toolbar and the formgrader.
formgrader: $(RUNTIME_STAMP)
	@echo "Starting JupyterLab on the course folder with nbgrader's instructor tools (Nbgrader menu > Formgrader)."
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=. $(ROOT_FLAG) $(LAB_ARGS)

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --durations=10 $(PYTEST_ARGS)

release: $(RUNTIME_STAMP)
	@for a in $(ASSIGNMENTS); do \
	  echo "== $$a"; $(BIN)/nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; \
	done
	cp source/START_HERE.ipynb release/START_HERE.ipynb
	cp docs/glossary.md release/glossary.md

# Grading: every submission of ASSIGNMENT, JOBS at a time, each kernel in a sandbox (docs/grading.md).
# FORCE=1 regrades what was graded before; ALLOW_UNISOLATED=1 grades even where no sandbox can be had.
autograde: $(RUNTIME_STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make autograde ASSIGNMENT=<one of: $(ASSIGNMENTS)> [JOBS=n] [FORCE=1]"; exit 2; }
	$(BIN)/python -m course.grading "$(ASSIGNMENT)" --jobs $(JOBS) $(if $(filter 1,$(FORCE)),--force) \
	  $(if $(filter 1,$(ALLOW_UNISOLATED)),--allow-unisolated) $(GRADING_ARGS)

feedback: $(RUNTIME_STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback ASSIGNMENT=<one of: $(ASSIGNMENTS)>"; exit 2; }
	$(BIN)/nbgrader generate_feedback "$(ASSIGNMENT)" --force

# FORMAT=canvas|moodle|csv: the course's export plugins (course/grading/lmsexport.py), the same as
# `nbgrader export --exporter=...`; with FORMAT, ASSIGNMENT=... exports one assignment. No FORMAT: nbgrader's
# grades.csv, as before. EXPORT_ARGS passes more options to nbgrader export (--student=..., --db=...).
EXPORTER_canvas := course.grading.lmsexport.CanvasExport
EXPORTER_moodle := course.grading.lmsexport.MoodleExport
EXPORTER_csv := course.grading.lmsexport.QuestionsExport
GRADES_FILE ?= $(if $(FORMAT),grades-$(FORMAT).csv,grades.csv)
grades: $(RUNTIME_STAMP)
	@test -z "$(FORMAT)" -o -n "$(EXPORTER_$(FORMAT))" || { echo "usage: make grades [FORMAT=canvas|moodle|csv] [ASSIGNMENT=...]"; exit 2; }
	$(BIN)/nbgrader export $(if $(FORMAT),--exporter=$(EXPORTER_$(FORMAT)) $(if $(ASSIGNMENT),--assignment="$(ASSIGNMENT)")) \
	  --to $(GRADES_FILE) $(EXPORT_ARGS)
	@echo "Grades written to $(GRADES_FILE)"

# After autograde: item analysis and the similarity check, in reports/<assignment>/ (docs/grading.md).
# REPORT_ARGS="--root <course folder>" reads another course folder.
report: $(RUNTIME_STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make report ASSIGNMENT=<one of: $(ASSIGNMENTS)>"; exit 2; }
	@$(BIN)/python -m course.grading.analysis "$(ASSIGNMENT)" $(REPORT_ARGS)

similarity: $(INSTRUCTOR_STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make similarity ASSIGNMENT=<one of: $(ASSIGNMENTS)>"; exit 2; }
	@$(BIN)/python -m course.grading.similarity "$(ASSIGNMENT)" $(REPORT_ARGS)

# Measurements for docs/benchmarks.md and docs/benchmarks.json: notebook times (median of 3),
# autograding times, toy-model quality against the tests' thresholds, the learner environment's size.
# BENCH_ARGS="--only grading" (or --only notebooks --notebooks '02_*/*') re-measures one part, keeps the rest.
bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
