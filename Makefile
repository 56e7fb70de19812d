# happy — build, test, demo, bench, install.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
# One set of release flags for make release/install/test/deb/bench (scripts/release.flags): static Swift runtime, and
# no $$ORIGIN rpath (the loader would search the binary's directory for every library at each start). The linker
# flags for start-up live in Package.swift (HappyCLI's release linkerSettings).
RELEASE_FLAGS := $(shell cat scripts/release.flags)
BIN_DIR = $(DESTDIR)$(PREFIX)/bin
MAN_DIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASH_DIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_DIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_DIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

.PHONY: all deps build release test lint format deb demo bench completions man install uninstall clean

# Debian packages the build and the tests use (only missing ones are installed).
deps:
	scripts/install-deps.sh test

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build $(RELEASE_FLAGS) --product happy

# Unit, CLI and end-to-end tests (the e2e tests spawn the built binaries against the local server).
# The release binary too: DebianPackageTests packages it (a test cannot run `swift build` while `swift test` holds the
# lock on .build).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) build $(RELEASE_FLAGS) --product happy
	$(SWIFT) test --skip-build

# `swift format lint --strict` with the committed .swift-format over Sources, Tests and Package.swift; fails on any
# finding, the layout pass included, and on a stale Sources/CLazyCrypto/stubs.c (see scripts/lint.sh). CI runs it
# first on a fresh machine, so it installs what the stubs check runs.
lint:
	scripts/install-deps.sh lint
	scripts/lint.sh

# Lay the tree out as `make lint` wants it.
format:
	$(SWIFT) format format --in-place --recursive --parallel --configuration .swift-format Sources Tests Package.swift

# happy_<version>_<arch>.deb in the repository root: stripped binary, man page, completions, Depends from
# dpkg-shlibdeps (scripts/make-deb.sh).
deb:
	scripts/make-deb.sh

# A real login against the local server, approved by its built-in account.
demo:
	scripts/demo.sh

# Startup time and memory of `happy auth status` next to `node -e 0`, and approval-to-exit latency.
bench:
	python3 scripts/bench.py

# Regenerate the committed shell completions and man page from the ArgumentParser definitions.
completions: build
	.build/debug/happy --generate-completion-script bash > completions/happy.bash
	.build/debug/happy --generate-completion-script zsh > completions/_happy
	.build/debug/happy --generate-completion-script fish > completions/happy.fish

man:
	scripts/generate-man.sh

install: release
	install -d $(BIN_DIR) $(MAN_DIR) $(BASH_DIR) $(ZSH_DIR) $(FISH_DIR)
	install -m 0755 -s "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/happy" $(BIN_DIR)/happy
	install -m 0644 completions/happy.1 $(MAN_DIR)/happy.1
	install -m 0644 completions/happy.bash $(BASH_DIR)/happy
	install -m 0644 completions/_happy $(ZSH_DIR)/_happy
	install -m 0644 completions/happy.fish $(FISH_DIR)/happy.fish

uninstall:
	rm -f $(BIN_DIR)/happy $(MAN_DIR)/happy.1 $(BASH_DIR)/happy $(ZSH_DIR)/_happy $(FISH_DIR)/happy.fish

clean:
	rm -rf .build
