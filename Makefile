# segkit: two commands do all the set-up on a fresh machine.
#   make demo   installs, generates the sample data, trains three small models on the CPU,
#               evaluates, compares them (clean and occluded) and segments a folder
#   make test   installs with the test extras and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DIR    := work_dirs/demo
# one model per operator family: a ResNet densified by equivalent stride,
# ConvNeXt with DCLS mixers, InternImage (DCNv3). Add more on the command line:
#   make demo DEMO_MODELS="... upernet_convnext-c16-dw_sample-128x128"
DEMO_MODELS ?= fcn_dense-r18_sample-128x128 upernet_convnext-c16-dcls_sample-128x128 \
               upernet_internimage-c16_sample-128x128

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

# Re-install whenever the requirements change; exact versions from constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[all]'
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(PIP) -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python tools/make_sample_data.py
	for m in $(DEMO_MODELS); do \
		$(BIN)/python tools/train.py configs/sample/$$m.py --work-dir $(DEMO_DIR)/$$m || exit 1; \
	done
	$(BIN)/python tools/test.py configs/sample/fcn_dense-r18_sample-128x128.py \
		$$(cat $(DEMO_DIR)/fcn_dense-r18_sample-128x128/last_checkpoint) \
		--work-dir $(DEMO_DIR)/test --metrics-json $(DEMO_DIR)/metrics.json
	$(BIN)/python tools/compare.py $(addprefix $(DEMO_DIR)/,$(DEMO_MODELS)) \
		--out $(DEMO_DIR)/compare --size 128 128
	$(BIN)/python tools/robustness.py $(foreach m,$(DEMO_MODELS),configs/sample/$(m).py \
		$$(cat $(DEMO_DIR)/$(m)/last_checkpoint)) --out $(DEMO_DIR)/robustness
	$(BIN)/python tools/infer.py configs/sample/upernet_convnext-c16-dcls_sample-128x128.py \
		$$(cat $(DEMO_DIR)/upernet_convnext-c16-dcls_sample-128x128/last_checkpoint) \
		data/sample/ade/images/validation --out $(DEMO_DIR)/infer --batch-size 8 \
		--show-dir $(DEMO_DIR)/infer/show

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) work_dirs data/sample
