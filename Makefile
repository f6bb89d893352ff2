# Association Training Portal — see README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app portal

.PHONY: run test lint format serve bench translations extract install clean digest assets

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Front-end tooling from npm (package.json): the Nu HTML Checker, run by the tests with Java,
# and what `make assets` builds with. --ignore-scripts: vnu-jar's install script would
# download a Java runtime (the system's is used); esbuild finds its binary without its own.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.runtime

## Compile the translation catalogues (.po -> .mo).
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q compile -f -d translations

## Fingerprinted, gzip and brotli copies of static/ and their manifest (portal/assets.py;
## git-ignored), made again whenever a file of static/ changed.
STATIC_SOURCES := $(shell find static -type f ! -name '*.gz' ! -name '*.br' ! -name cache_manifest.json \
	-regextype posix-extended ! -regex '.*-[0-9a-f]{32}(\.[A-Za-z0-9]+)?')
static/cache_manifest.json: $(VENV)/.runtime $(STATIC_SOURCES)
	$(FLASK) digest clean >/dev/null
	$(FLASK) digest compile >/dev/null

digest: static/cache_manifest.json

## Rebuild static/vendor/ from Bootstrap's npm package (Node and npm; the output is committed).
assets: node_modules/.package-lock.json
	node scripts/build-assets.mjs

## Re-extract the messages and update the catalogues.
extract: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --add-location=file --sort-output -o translations/messages.pot .
	$(BIN)/pybabel -q update -N --no-fuzzy-matching -i translations/messages.pot -d translations
	$(BIN)/python scripts/i18n_fill_source.py

## Create the virtualenv, migrate and seed the SQLite database, serve with the email worker.
run: install translations digest
	$(FLASK) db upgrade
	$(FLASK) seed --demo
	PORT=$(PORT) FLASK="$(FLASK)" DEV_PYTHON="$(BIN)/python" bash scripts/run-dev.sh

## The whole test suite (SQLite; PostgreSQL too when PORTAL_TEST_POSTGRES_URL is set).
test: $(VENV)/.dev node_modules/.package-lock.json translations digest
	$(BIN)/pytest
	@if [ -n "$$PORTAL_TEST_POSTGRES_URL" ]; then \
		echo "== again on PostgreSQL"; \
		PORTAL_TEST_DATABASE_URL="$$PORTAL_TEST_POSTGRES_URL" PORTAL_TEST_REDIS_DB=8 $(BIN)/pytest; \
	fi

## Serve under gunicorn (gunicorn.conf.py, PORT default 8000) with the email worker, on the make run database.
serve: install translations digest
	$(FLASK) db upgrade
	@if [ "$${PORTAL_PRODUCTION:-false}" = true ]; then $(FLASK) seed; else $(FLASK) seed --demo; fi
	BIN=$(BIN) bash scripts/serve.sh

## The performance benchmark (bench/README.md): portal vs baseline under gunicorn, driven by wrk.
bench: $(VENV)/.dev translations
	@command -v wrk >/dev/null || apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache node_modules
