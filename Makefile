# Socket Lab. `make run` starts the GUI, `make test` runs the whole suite; both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Programs we did not write, used as peers by the interoperability tests.
TEST_PEERS := socat nc nft chronyd xinetd tshark
# Libraries the release check builds with: GTK 3 (a desktop's; the executable must not take it in) and
# those Qt's xcb plugin links to (the executable carries them).
TEST_LIBS := libgtk-3-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0
# Translations: the .ts sources are committed, the compiled .qm catalogues are built here.
TS := resources/i18n/socketlab_zh_CN.ts
QM := $(TS:.ts=.qm)

.PHONY: run test lint bench system-deps clean dist dist-test dist-folder package translations translations-update screenshots reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dist]'  # dist: tests/packaging run build.spec's hooks
	touch $@

run: $(STAMP) $(QM)
	$(BIN)/python -m app

translations: $(QM)

%.qm: %.ts | $(STAMP)
	$(BIN)/pyside6-lrelease -silent $< -qm $@

# After changing GUI texts: merge new source texts into the .ts, then translate them.
translations-update: $(STAMP)
	$(BIN)/python resources/i18n/update_ts.py

# Installs the test peers and libraries with apt-get when they are missing (CI runs as root on Debian).
system-deps:
	@missing=""; for p in $(TEST_PEERS); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	for p in $(TEST_LIBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing test peers:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat netcat-openbsd nftables chrony xinetd tshark $(TEST_LIBS) >/dev/null; \
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

# CI's packaging step: the executables archived in dist/packages/ for download.
package: dist-test
	$(BIN)/python -m tools.build package

bench: $(STAMP)
	$(BIN)/python bench/echo_rtt.py
	$(BIN)/python bench/udp_echo.py
	$(BIN)/python bench/file_fetch.py
	$(BIN)/python bench/load.py

# docs/RELIABILITY.md, rebuilt from the reliability tests and the load benchmarks as they run here.
reliability: $(STAMP) system-deps
	$(BIN)/python bench/reliability.py

# The double-click executable with PyInstaller (build.spec); the same steps as CI's and as
# `python -m tools.build dist` / `dist-test` on Windows and macOS. dist-test runs the executable's
# --version and --self-test and compares its contents with tools/allowlist/linux.txt.
dist: $(STAMP) $(QM)
	$(BIN)/python -m tools.build dist

dist-test: dist
	$(BIN)/python -m tools.build dist-test

dist-folder: $(STAMP) $(QM)
	$(BIN)/python -m tools.build dist --folder
	$(BIN)/python -m tools.build dist-test --folder

clean:
	rm -rf $(VENV) build dist $(QM) .mypy_cache .ruff_cache .pytest_cache .hypothesis
