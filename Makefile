# segkit: two commands do all the set-up on a fresh machine.
#   make demo   installs, generates the sample data, trains four small models on the CPU
#               (one per way of shaping a kernel), evaluates, compares them (clean,
#               occluded, corrupted, receptive fields; 95 % intervals and paired tests
#               against the first, one seed each) and segments a folder
#   make test   installs with the test extras and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DIR    := work_dirs/demo
# one model per way of shaping what a convolution sees: the square kernel of a
# ResNet densified by equivalent stride, a designed (quasi-hexagonal) shape,
# learned static positions (ConvNeXt with DCLS mixers) and learned per-pixel
# positions (InternImage, DCNv3). Add more on the command line:
#   make demo DEMO_MODELS="... upernet_convnext-c16-dw_sample-128x128"
DEMO_MODELS ?= fcn_dense-r18_sample-128x128 fcn_dense-r18-qh_sample-128x128 \
               upernet_convnext-c16-dcls_sample-128x128 upernet_internimage-c16_sample-128x128
CKPT = $$(cat $(DEMO_DIR)/$(1)/last_checkpoint)

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the same pinned wheels as pip does, in a fraction of the time
# (parallel downloads, unpacking and bytecode compilation). The bytecode is
# compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set
# (this machine) Python would otherwise compile torch & co. from source in
# every process, 10 s and more each. With INSTALLER=pip, pip does the work
# (it reads pip.conf, for a local index; uv reads UV_INDEX_URL and friends).
INSTALLER ?= uv
$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt uv

ifeq ($(INSTALLER),uv)
PIP    := $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -c constraints.txt
PIPDEP := $(BIN)/uv
else
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
PIPDEP :=
endif

# Re-install whenever the requirements change; exact versions from constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python $(PIPDEP)
	$(PIP) -e '.[all]'
	touch $@

# [test] brings [all] (and [deploy]): one pip run, not [all] and then [test]
# (each run resolves and builds segkit again)
$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python $(PIPDEP)
	$(PIP) -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/segkit make-sample-data
	for m in $(DEMO_MODELS); do \
		$(BIN)/segkit train configs/sample/$$m.py --work-dir $(DEMO_DIR)/$$m || exit 1; \
	done
	$(BIN)/segkit test configs/sample/fcn_dense-r18_sample-128x128.py \
		$(call CKPT,fcn_dense-r18_sample-128x128) \
		--work-dir $(DEMO_DIR)/test --metrics-json $(DEMO_DIR)/metrics.json
	$(BIN)/segkit compare $(addprefix $(DEMO_DIR)/,$(DEMO_MODELS)) \
		--out $(DEMO_DIR)/compare --size 128 128 \
		--baseline $(firstword $(DEMO_MODELS)) --bootstrap 1000
	$(BIN)/segkit robustness $(foreach m,$(DEMO_MODELS),configs/sample/$(m).py $(call CKPT,$(m))) \
		--max-images 50 --out $(DEMO_DIR)/robustness
	$(BIN)/segkit robustness $(foreach m,$(DEMO_MODELS),configs/sample/$(m).py $(call CKPT,$(m))) \
		--corruptions gaussian_noise motion_blur fog contrast --severities 1 3 \
		--baseline fcn_dense-r18_sample-128x128 --max-images 50 --workers 1 \
		--out $(DEMO_DIR)/corruptions
	$(BIN)/segkit receptive-field $(foreach m,$(DEMO_MODELS),configs/sample/$(m).py $(call CKPT,$(m))) \
		--max-images 4 --out $(DEMO_DIR)/receptive_field
	$(BIN)/segkit infer configs/sample/upernet_convnext-c16-dcls_sample-128x128.py \
		$(call CKPT,upernet_convnext-c16-dcls_sample-128x128) \
		data/sample/ade/images/validation --out $(DEMO_DIR)/infer --batch-size 8 \
		--show-dir $(DEMO_DIR)/infer/show

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist worksteal --durations=15 tests

clean:
	rm -rf $(VENV) work_dirs data/sample
