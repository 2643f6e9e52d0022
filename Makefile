# Amur: two commands do all the set-up.
#   make run   - install, then start the embedded stack; the command view answers at http://127.0.0.1:8080/
#   make test  - install (Python packages, page assets, headless Chromium), then run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WEB    := command_ui/web

.PHONY: run test test-model install web browser bench clean rtsp-deps screenshot

run: install web
	$(BIN)/amur run

test: install web browser rtsp-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The shipped fire/smoke network held to its documented leave-one-source-out figures (needs
# ../shared/datasets; 10+ minutes, so not part of `make test`).
test-model: install
	$(BIN)/python -m pytest -m model $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Front-end libraries come from npm with a lockfile and are served from the package (no network at run time).
web:
	@if [ -f $(WEB)/package.json ] && [ ! -d $(WEB)/node_modules ]; then cd $(WEB) && npm ci --no-audit --no-fund; fi

# Debian's Chromium and a CJK font for the browser tests (Playwright's own download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

# Refresh the README picture from the last browser test (tests/command_ui/test_ui_browser.py).
screenshot:
	cp test-artifacts/wall-1920x1080.png docs/screenshot.png

clean:
	rm -rf $(VENV) .amur $(WEB)/node_modules

# Debian's gst-rtsp-server (system python3-gi) for the real-RTSP keyframe test; skips when installed.
RTSP_PKGS := gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 gir1.2-gstreamer-1.0 gstreamer1.0-plugins-base \
             gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly python3-gi
rtsp-deps:
	@dpkg -s $(RTSP_PKGS) >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(RTSP_PKGS) >/dev/null; }
