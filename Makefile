# Every target creates or reuses .venv, so each works as the first command on a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum requirements.lock pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
DEMO_DIR ?= demo-out
PYTEST_ARGS ?=

.PHONY: venv demo test bench lint lock clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: venv
	$(BIN)/wristbme demo --out $(DEMO_DIR)

test: venv
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/run_all.py

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

lock: venv
	$(BIN)/python -m pip freeze --all --exclude pip --exclude-editable | sort -f > requirements.lock.new
	@echo "review requirements.lock.new, then move it over requirements.lock"

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build src/*.egg-info
