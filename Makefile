# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates or reuses .venv and installs only when pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-calendar test-calendar-quick lint bench sandbox sample browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser test opens the report in Debian's Chromium, and the PDF test renders the
# printed pages with poppler's pdftoppm; install both once.
browser:
	@test -x $(CHROMIUM) && command -v pdftoppm >/dev/null || { \
	  echo "Installing Debian's chromium and poppler-utils for the browser tests (apt-get)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    poppler-utils >/dev/null) \
	  || { echo "Could not install them: run 'apt-get install chromium poppler-utils' as root" >&2; \
	       exit 1; }; }

demo: $(STAMP)
	$(BIN)/auditlab demo

test: $(STAMP) browser
	$(BIN)/ruff check .
	# loadfile: a file's tests share one worker, so its session fixtures (a notebook run,
	# a report) run once. (loadgroup's xdist_group marks are ignored under pytest 9.2.)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The whole suite again with every Python process's wall clock moved and TZ set
# (tests/calendar/run.py): a Sunday's rollover minute, UTC+14, a Sunday, New Year,
# 29 February 2028 and two daylight-saving switches. The quick form is CI's.
test-calendar: $(STAMP) browser
	$(BIN)/python tests/calendar/run.py

test-calendar-quick: $(STAMP) browser
	$(BIN)/python tests/calendar/run.py --quick

bench: $(STAMP)
	$(BIN)/python -m benchmarks

sandbox: $(STAMP)
	$(BIN)/auditlab sandbox --port 8787

# Regenerates data/sample/ (the same bytes every time); commit the result.
sample: $(STAMP)
	$(BIN)/python -m tools.sample

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
