# Fintalk: `make run` starts the server on the embedded defaults, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# A local secret key, made once and kept out of git; production sets DJANGO_SECRET_KEY.
SECRET_KEY_FILE := .fintalk-secret-key
DJANGO_SECRET_KEY ?= $(shell [ -s $(SECRET_KEY_FILE) ] || $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $(SECRET_KEY_FILE); cat $(SECRET_KEY_FILE))
export HOST PORT DJANGO_SECRET_KEY

.PHONY: run mqtt test eval bench install install-dev migrate seed superuser browser screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo_bank

# A staff user for the admin: asks for the password, or takes DJANGO_SUPERUSER_PASSWORD.
SUPERUSER ?= admin
superuser: migrate
	$(BIN)/python manage.py createsuperuser --username "$(SUPERUSER)" --email "" $(if $(DJANGO_SUPERUSER_PASSWORD),--no-input)

# make run shows one access line per request (method, path, status; never a body).
run: export GUNICORN_ACCESS_LOG ?= -
run: seed
	@$(BIN)/python manage.py dev_key --host $(HOST) --port $(PORT)
	$(BIN)/gunicorn fintalk.asgi:application -c gunicorn.conf.py

# The MQTT bridge on the same defaults as `make run` (broker: MQTT_URL, 127.0.0.1:1883).
mqtt: seed
	$(BIN)/python manage.py mqtt_bridge --dev-key

test: install-dev browser
	$(BIN)/python -m pytest -q

# The shipped conversation suites on the configured provider (offline by default), on a
# fresh copy of the demo bank; EVAL_ARGS adds options, e.g. EVAL_ARGS="--provider bedrock"
# or EVAL_ARGS="--url https://fintalk.example --key ft-...". Reports in eval-results/.
EVAL_SUITES ?= evals/suites/*.yaml
eval: install
	@mkdir -p eval-results
	$(BIN)/python manage.py eval_conversations $(EVAL_SUITES) --json eval-results/report.json --junit eval-results/junit.xml $(EVAL_ARGS)

# Debian's chromium and chromedriver for the browser tests, installed when missing (as root;
# otherwise the browser tests are skipped, except in CI). No browser is downloaded by a tool.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium chromium-driver; \
		else echo "make browser: run 'apt-get install chromium chromium-driver' as root for the browser tests"; fi; \
	fi

# The screenshots in docs/, taken by the browser tests.
screenshots: install-dev browser
	FINTALK_SCREENSHOTS_DIR=docs $(BIN)/python -m pytest -q tests/web/test_browser.py

$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# LiteLLM's proxy, for comparison, in a venv of its own.
LITELLM_VENV := bench/.litellm
$(LITELLM_VENV)/.installed: bench/litellm-requirements.txt
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/pip install --quiet -r bench/litellm-requirements.txt
	touch $@

# The performance targets (docs/benchmarks.md), measured side by side on this machine (at
# most 15 minutes); the report goes to bench/results/.
bench: $(VENV)/.installed-bench $(LITELLM_VENV)/.installed
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles
