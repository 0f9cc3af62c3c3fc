# Two commands for a fresh machine:
#   make run   set up, train on the data if there is no bundle yet or the data changed, launch the app
#   make test  set up and run the linters and the tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(or $(MOVIEREC_DATA_DIR),data)
ARTIFACTS_DIR ?= artifacts
PORT ?= 8501

.PHONY: setup setup-dev system-deps run train test lint evaluate benchmark screenshot clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-spark.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-spark.txt
	touch $@

# Debian packages the tests need: chromium (the browser test) and Java 17+ (the Spark engine).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

$(ARTIFACTS_DIR)/CURRENT: | $(VENV)/.installed
	$(PY) train_and_save_model.py --data-dir $(DATA_DIR) --artifacts-dir $(ARTIFACTS_DIR) --download

train: $(VENV)/.installed
	$(PY) train_and_save_model.py --data-dir $(DATA_DIR) --artifacts-dir $(ARTIFACTS_DIR) --download

# Trains first when there is no bundle yet or the CSVs (or the parameters) changed since it was
# trained; keeps it when they did not, and offline when the data folder has no CSVs.
run: $(VENV)/.installed
	$(PY) train_and_save_model.py --data-dir $(DATA_DIR) --artifacts-dir $(ARTIFACTS_DIR) \
		--download --if-changed
	MOVIEREC_ARTIFACTS_DIR=$(ARTIFACTS_DIR) $(VENV)/bin/streamlit run main.py --server.port $(PORT) \
		--browser.serverAddress localhost

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-deps lint
	$(PY) -m pytest

# The README's picture: the browser test's page with a fan's six-film profile, as docs/screenshot.png.
screenshot: system-deps $(VENV)/.installed-dev
	MOVIEREC_SCREENSHOT=$(CURDIR)/docs/screenshot.png $(PY) -m pytest tests/test_browser.py

# The offline evaluation (README "Evaluation"); writes its figures into the bundle's manifest.
evaluate: $(VENV)/.installed $(ARTIFACTS_DIR)/CURRENT
	$(PY) -m recommender.evaluation --data-dir $(DATA_DIR) --profile-size 1 3 5 10 \
		--artifacts-dir $(ARTIFACTS_DIR) --out evaluation

# Training time, memory, bundle size and latency on one data set (README "Scale").
benchmark: $(VENV)/.installed
	$(PY) benchmarks/benchmark.py $(DATA_DIR)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
