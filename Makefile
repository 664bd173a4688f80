# Quick start: `make demo` and `make test`. Each bootstraps a fresh Debian machine (as root)
# idempotently: Debian packages, .venv with the project installed editable, host build of the
# C frontend. Nothing is reinstalled when it is already there.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
DEMO_OUT ?= build/demo

DEBIAN_PACKAGES := build-essential python3 python3-venv python3-dev \
	gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi \
	espeak-ng sox libsox-fmt-all \
	flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts

.PHONY: demo test setup debian venv frontend lint clean

demo: setup
	$(VENV)/bin/kws pipeline --out $(DEMO_OUT)

test: setup
	$(VENV)/bin/tox

setup: debian venv frontend

debian:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		if [ "$$(id -u)" -ne 0 ]; then echo "make: need root to apt-get install $$missing" >&2; exit 2; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python requirements.txt pyproject.toml
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt tox==4.67.15
	$(VPY) -m pip install -q --no-deps -e .
	touch $@

frontend: venv
	$(MAKE) -s -C firmware host-frontend

lint: setup
	$(VENV)/bin/tox -e lint

clean:
	rm -rf build .tox .pytest_cache .coverage htmlcov
