# NN Playground: `make run` starts the app, `make test` runs every test. Both install into .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-dev bench lint image-test clean

run: $(VENV)/.installed
	$(PY) -m streamlit run serve.py --server.port $(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/run_all.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/hadolint Dockerfile

# The image built and run for real (root, buildah, chromium; README "The image, tested"), not in `make test`.
# IMAGE_TEST_ARGS: e.g. --local-base --variant cuda --variant cpu
image-test: $(VENV)/.installed-dev
	$(PY) scripts/image_test.py $(IMAGE_TEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
