# Socket Lab. `make run` starts the GUI, `make test` runs the whole suite; both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Programs we did not write, used as peers by the interoperability tests.
TEST_PEERS := socat nc nft chronyd xinetd tshark
# Translations: the .ts sources are committed, the compiled .qm catalogues are built here.
TS := resources/i18n/socketlab_zh_CN.ts
QM := $(TS:.ts=.qm)

.PHONY: run test lint bench system-deps clean dist dist-test dist-folder translations translations-update screenshots reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP) $(QM)
	$(BIN)/python -m app

translations: $(QM)

%.qm: %.ts | $(STAMP)
	$(BIN)/pyside6-lrelease -silent $< -qm $@

# After changing GUI texts: merge new source texts into the .ts, then translate them.
translations-update: $(STAMP)
	$(BIN)/python resources/i18n/update_ts.py

# Installs the test peers with apt-get when they are missing (CI runs as root on Debian).
system-deps:
	@missing=""; for p in $(TEST_PEERS); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing test peers:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat netcat-openbsd nftables chrony xinetd tshark >/dev/null; \
	  else echo "warning: missing$$missing and cannot apt-get them; their tests will be skipped"; fi; \
	fi

test: $(STAMP) $(QM) system-deps
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app --self-test
	$(MAKE) dist-test

# The X server, the libraries Qt's xcb platform plugin loads and a font with Chinese glyphs
# (a headless machine lacks some of them).
XCB_DEPS := xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 fonts-noto-cjk

# README screenshots of every tab, taken from the real window under Xvfb.
screenshots: $(STAMP) $(QM)
	@dpkg -s $(XCB_DEPS) >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(XCB_DEPS) >/dev/null
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m app.screenshots resources/screenshots

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --platform win32
	$(BIN)/mypy --platform darwin

bench: $(STAMP)
	$(BIN)/python bench/echo_rtt.py
	$(BIN)/python bench/udp_echo.py
	$(BIN)/python bench/file_fetch.py
	$(BIN)/python bench/load.py

# docs/RELIABILITY.md, rebuilt from the reliability tests and the load benchmarks as they run here.
reliability: $(STAMP) system-deps
	$(BIN)/python bench/reliability.py

# The double-click executable (one file) with PyInstaller, and its self-test.
dist: $(STAMP) $(QM)
	$(BIN)/python -m pip install --quiet -e '.[dist]'
	$(BIN)/pyinstaller --noconfirm --clean build.spec

dist-test: dist
	QT_QPA_PLATFORM=offscreen dist/socketlab --self-test

dist-folder: $(STAMP) $(QM)
	$(BIN)/python -m pip install --quiet -e '.[dist]'
	SOCKETLAB_ONEDIR=1 $(BIN)/pyinstaller --noconfirm --clean build.spec
	QT_QPA_PLATFORM=offscreen dist/socketlab-folder/socketlab --self-test

clean:
	rm -rf $(VENV) build dist $(QM) .mypy_cache .ruff_cache .pytest_cache .hypothesis
