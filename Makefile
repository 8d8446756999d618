# segkit: two commands do all the set-up on a fresh machine.
#   make demo   installs, generates the sample data, trains a small model on the CPU and evaluates it
#   make test   installs with the test extras and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_CONFIG := configs/sample/fcn_r18_sample-128x128.py
DEMO_DIR    := work_dirs/demo

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python tools/make_sample_data.py
	$(BIN)/python tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(BIN)/python tools/test.py $(DEMO_CONFIG) $$(cat $(DEMO_DIR)/last_checkpoint) \
		--work-dir $(DEMO_DIR) --metrics-json $(DEMO_DIR)/metrics.json

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) work_dirs data/sample
