# Consfig — build, demo, test, bench.
#
#   make          build the controller, the runtime (the bundle stub) for each
#                 architecture of RUNTIME_ARCHES, and the Wasm modules
#   make demo     deploy the example consfig to this machine, twice
#   make test     install what the tests need, then run every test (the
#                 standard modules' native unit tests too), and each fuzz
#                 target for a few seconds
#   make fuzz     run each fuzz target for FUZZ_SECONDS (default 60)
#   make bench    measure forms, SSH deploys (one host, a fleet, through jump hosts), bundles, modules built from source and modules in Rust, Python and JavaScript
#   make mutants  mutation-test the sandbox layer and the grant grammar (slow)
#   make docs     regenerate docs/properties.md, the standard modules' reference
#   make install  install consfig in PREFIX (default /usr/local), under DESTDIR
#   make deb      a Debian package of the same, in target/

CARGO       ?= cargo
WASM_TARGET := wasm32-wasip2
WASM_OUT    := consfig-wasm/target/$(WASM_TARGET)/release
BIN         := target/release/consfig
# The standard modules: each a library crate (its typed forms, for modules
# that compose it) and a component, installed beside the binary for `consfig
# apply`, unit-tested natively and documented in docs/properties.md.
STANDARD_MODULES := file cmd chroot user image archive consfig apt systemd group cron ssh sshd \
                    git hostname timezone locale sysctl fstab mount
# The modules installed beside the binary: the standard ones and the examples.
STD_MODULES := $(STANDARD_MODULES) example cool-web-service
DEMO_DIR    := /tmp/consfig-demo
# The modules whose unit tests run natively, on the build machine's target,
# against consfig_guest::testing's fake host.
TESTED_MODULES := $(STANDARD_MODULES) example
HOST_TARGET    := $(shell rustc -vV | sed -n 's/^host: //p')

# The fuzz targets (fuzz/fuzz_targets), each run in turn: crashes land in
# fuzz/artifacts/TARGET, the corpus grows in fuzz/corpus/TARGET from the
# seeds in fuzz/seeds/TARGET.
FUZZ_TARGETS       := protocol bundle consfig_toml form grant
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
# The fuzz build (nightly, coverage-instrumented wasmtime) is slow: kept
# outside the checkout so that every run on this machine reuses it.
FUZZ_TARGET_DIR    ?= /var/cache/consfig-build/fuzz-target

.PHONY: all build build-deps modules host stub cross-stub wasm-target test-deps test module-tests demo bench bench-deps \
	mutants clean fuzz fuzz-smoke fuzz-deps install deb docs \
	js-types js-check

all: build

build: host stub modules
	mkdir -p target/release/modules
	for m in $(STD_MODULES); do cp $(WASM_OUT)/consfig_$$(echo $$m | tr - _).wasm target/release/modules/; done

# C libraries a fresh Debian machine lacks: the ssh2 crate links OpenSSL,
# found with pkg-config.
build-deps:
	@command -v pkg-config >/dev/null && pkg-config --exists openssl || \
		{ apt-get update -q && apt-get install -y -q pkg-config libssl-dev; }

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

modules: wasm-target
	cd consfig-wasm && $(CARGO) build --release --locked

host: build-deps
	$(CARGO) build --release --locked --workspace

# What targets run — the runtime, which is also every bundle's start: no
# compiler, built for size, beside consfig. One per architecture targets
# may have: this machine's is consfig-stub, each other's consfig-stub.ARCH,
# built with rustup's target for it and linked with Debian's cross gcc
# (installed when missing). Adding an architecture: a line in each list
# below and an entry in host-runtime/src/engine/architecture.rs.
RUNTIME_ARCHES := x86_64 aarch64
HOST_ARCH      := $(shell uname -m)
CROSS_ARCHES   := $(filter-out $(HOST_ARCH),$(RUNTIME_ARCHES))
cross-gcc-x86_64      := x86_64-linux-gnu-gcc
cross-gcc-aarch64     := aarch64-linux-gnu-gcc
cross-package-x86_64  := gcc-x86-64-linux-gnu libc6-dev-amd64-cross
cross-package-aarch64 := gcc-aarch64-linux-gnu libc6-dev-arm64-cross
triple = $(1)-unknown-linux-gnu
TRIPLE_ENV = $(shell echo $(call triple,$(1)) | tr a-z- A-Z_)

stub:
	$(CARGO) build --locked --profile stub -p consfig --no-default-features --features stub --bin consfig-stub
	install -m 0755 target/stub/consfig-stub target/release/consfig-stub
	@set -e; for a in $(CROSS_ARCHES); do $(MAKE) --no-print-directory cross-stub ARCH=$$a; done

# The runtime for ARCH, as target/release/consfig-stub.ARCH.
cross-stub:
	@rustup target list --installed | grep -qx $(call triple,$(ARCH)) || rustup target add $(call triple,$(ARCH))
	@command -v $(cross-gcc-$(ARCH)) >/dev/null || \
		{ apt-get update -q && apt-get install -y -q $(cross-package-$(ARCH)); }
	CARGO_TARGET_$(call TRIPLE_ENV,$(ARCH))_LINKER=$(cross-gcc-$(ARCH)) \
	CC_$(subst -,_,$(call triple,$(ARCH)))=$(cross-gcc-$(ARCH)) \
		$(CARGO) build --locked --profile stub -p consfig --no-default-features --features stub \
		--bin consfig-stub --target $(call triple,$(ARCH))
	install -m 0755 target/$(call triple,$(ARCH))/stub/consfig-stub target/release/consfig-stub.$(ARCH)

# Tools the end-to-end tests use, on a fresh Debian machine: busybox-static
# to populate test chroots, useradd & co. to make test users, OpenSSH's server
# and client, sudo and doas (OpenDoas) for the SSH tests, nftables to let the
# jump-host tests' targets be reached only through their bastions, curl to fetch pages from bundles,
# pass and gnupg for a password store a host's data is read from,
# systemd-nspawn to boot containers, locales and git for the standard
# modules' tests, qemu-user-static (with binfmt-support to register it) to
# run aarch64 programs and an aarch64 C toolchain to build for them, python3
# with pip and node with npm (consfig installs the tools that build Python
# and JavaScript modules with them, into target/consfig-toolchains), and
# three Debian 12 roots made once with debootstrap and cached in /var/cache:
# a plain one for chroots, one with systemd and sshd to boot, and an arm64
# one with sshd, emulated.
test-deps: wasm-target
	@test -x /bin/busybox || { apt-get update -q && apt-get install -y -q busybox-static; }
	@command -v useradd >/dev/null || { apt-get update -q && apt-get install -y -q passwd; }
	@command -v curl >/dev/null || { apt-get update -q && apt-get install -y -q curl; }
	@test -x /usr/sbin/sshd && command -v ssh >/dev/null && command -v sudo >/dev/null || \
		{ apt-get update -q && apt-get install -y -q openssh-server openssh-client sudo; }
	@command -v doas >/dev/null || { apt-get update -q && apt-get install -y -q doas; }
	@command -v pass >/dev/null && command -v gpg >/dev/null && command -v gpgconf >/dev/null || \
		{ apt-get update -q && apt-get install -y -q pass gnupg; }
	@command -v systemd-nspawn >/dev/null || { apt-get update -q && apt-get install -y -q systemd-container; }
	@command -v nft >/dev/null || { apt-get update -q && apt-get install -y -q nftables; }
	@test -f /usr/share/i18n/SUPPORTED && command -v git >/dev/null || \
		{ apt-get update -q && apt-get install -y -q locales git; }
	@test -x /usr/bin/qemu-aarch64-static && command -v update-binfmts >/dev/null || \
		{ apt-get update -q && apt-get install -y -q qemu-user-static binfmt-support; }
	@command -v aarch64-linux-gnu-gcc >/dev/null && test -d /usr/aarch64-linux-gnu/include || \
		{ apt-get update -q && apt-get install -y -q gcc-aarch64-linux-gnu libc6-dev-arm64-cross; }
	@command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || \
		{ apt-get update -q && apt-get install -y -q python3 python3-pip; }
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ apt-get update -q && apt-get install -y -q nodejs npm; }
	@bash tests/fixtures/debian-root.sh >/dev/null
	@bash tests/fixtures/debian-booted.sh >/dev/null
	@bash tests/fixtures/debian-arm64-root.sh >/dev/null

test: test-deps build fuzz-deps
	$(CARGO) test --release --locked --workspace
	$(MAKE) module-tests
	$(MAKE) fuzz-smoke

# The modules' own workspace builds for wasm32-wasip2 by default: their unit
# tests are built for this machine instead.
module-tests:
	cd consfig-wasm && $(CARGO) test --locked --target $(HOST_TARGET) \
		$(foreach m,$(TESTED_MODULES),-p consfig-$(m))

# The JavaScript SDK's tools: JS_TOOLS holds jco (the toolchain consfig
# installs to build JavaScript modules, as the tests install it) and, for
# js-check, tsc (npm: typescript).
JS_TOOLS ?= target/consfig-toolchains/jco-1.35.0/node_modules/.bin
JS_SDK   := guest-sdk/js

# The contract's types for TypeScript, which consfig.d.ts builds on,
# regenerated from the WIT (the output is committed). jco writes a
# non-exported function without `declare`, which tsc refuses in a .d.ts.
js-types:
	rm -rf $(JS_SDK)/types
	$(JS_TOOLS)/jco types wit --world-name module -o $(JS_SDK)/types
	sed -i 's/^function /declare function /' $(JS_SDK)/types/interfaces/*.d.ts

# Type-check the JavaScript modules against the SDK's declarations, and
# run the SDK's own tests (Node, the contract's interfaces faked in memory).
js-check:
	$(JS_TOOLS)/tsc -p $(JS_SDK)/tsconfig.json
	cd $(JS_SDK) && node --import ./test/register.js --test test/

# What fuzzing needs on a fresh Debian machine: the nightly toolchain,
# cargo-fuzz, and a C++ compiler for libFuzzer.
fuzz-deps:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@command -v c++ >/dev/null || { apt-get update -q && apt-get install -y -q g++; }

# Run every target for $(1) seconds. The code fuzzed is safe Rust, so no
# sanitizer; cargo-fuzz's build keeps debug assertions and overflow checks.
# An input taking over 10 s counts as a hang.
fuzz-run = cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && \
		$(CARGO) +nightly fuzz run --sanitizer none --target-dir $(FUZZ_TARGET_DIR) \
			$$t corpus/$$t seeds/$$t -- \
			-max_total_time=$(1) -timeout=10 || exit 1; \
	done

fuzz: fuzz-deps
	$(call fuzz-run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-deps
	$(call fuzz-run,$(FUZZ_SMOKE_SECONDS))

demo: build
	rm -rf $(DEMO_DIR)
	@echo "== first deploy: the example consfig, into $(DEMO_DIR)"
	$(BIN) deploy --consfig consfig-wasm/example/Consfig.toml laptop; test $$? -eq 23
	@echo "== second deploy: nothing left to change"
	$(BIN) deploy --consfig consfig-wasm/example/Consfig.toml laptop
	@echo "== what it made:"; ls -l $(DEMO_DIR)

# Ansible, the baseline of the web server bench, from Debian's packages.
bench-deps:
	@command -v ansible-playbook >/dev/null || \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends ansible; }

bench: test-deps bench-deps build
	$(CARGO) bench --locked -p consfig --bench fork_per_form
	$(CARGO) bench --locked -p consfig --bench code_features
	$(CARGO) bench --locked -p consfig-tests --bench ssh_deploy
	$(CARGO) bench --locked -p consfig-tests --bench bundle
	$(CARGO) bench --locked -p consfig-tests --bench source_modules
	$(CARGO) bench --locked -p consfig-tests --bench web_server
	$(CARGO) bench --locked -p consfig-tests --bench fleet
	$(CARGO) bench --locked -p consfig-tests --bench jump_hosts
	$(CARGO) bench --locked -p consfig-tests --bench languages

# The property reference of the standard modules, as `consfig describe
# --markdown` writes it; tests/docs.rs fails when it is out of date.
docs: build
	mkdir -p docs
	$(BIN) describe --markdown $(foreach m,$(STANDARD_MODULES),target/release/modules/consfig_$(m).wasm) > docs/properties.md.new
	mv docs/properties.md.new docs/properties.md

# Mutation testing with cargo-mutants: the sandbox layer against its own
# unit tests (sandbox::), the grant grammar against the contract's. A mutant
# that survives is a change to a decision that no test notices; the lists
# are in target/mutants/*/mutants.out/missed.txt. Every mutant is a rebuild:
# one job, niced, debug info off, in a build directory of its own kept
# between runs (only the workspace's crates rebuild).
MUTANTS_DIR := $(CURDIR)/target/mutants
MUTANTS     := CARGO_TARGET_DIR=$(MUTANTS_DIR) CARGO_PROFILE_DEV_DEBUG=0 \
	nice $(CARGO) mutants --jobs 1 --no-shuffle -C=--lib

mutants:
	@command -v cargo-mutants >/dev/null || $(CARGO) install cargo-mutants --locked
	-$(MUTANTS) -p consfig --file 'host-runtime/src/sandbox/*.rs' \
		--output $(MUTANTS_DIR)/sandbox -- sandbox::
	-$(MUTANTS) -p consfig-contract --file guest-sdk/contract/src/grant.rs \
		--output $(MUTANTS_DIR)/grant
	@for d in sandbox grant; do \
		echo "== $$d: $$(wc -l < $(MUTANTS_DIR)/$$d/mutants.out/caught.txt) caught," \
			"$$(wc -l < $(MUTANTS_DIR)/$$d/mutants.out/missed.txt) missed," \
			"$$(wc -l < $(MUTANTS_DIR)/$$d/mutants.out/timeout.txt) timeout," \
			"$$(wc -l < $(MUTANTS_DIR)/$$d/mutants.out/unviable.txt) unviable"; \
		cat $(MUTANTS_DIR)/$$d/mutants.out/missed.txt; \
	done

# Installing, as the FHS lays it out: the binary in PREFIX/bin; the bundle
# stub, the standard modules and the guest SDK's sources (which consfigs made
# by `consfig new` build their modules with: the Rust crates, the Python
# and JavaScript SDKs in guest-sdk/python and guest-sdk/js, and the WIT in
# sdk/wit beside them) in PREFIX/lib/consfig, where
# consfig looks, relative to itself. The SDK gets a workspace manifest of its
# own: its crates inherit their version and dependencies from one.
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  := $(DESTDIR)$(PREFIX)/lib/consfig
SDK_DIR := $(LIBDIR)/sdk

install:
	@test -x $(BIN) -a -x target/release/consfig-stub -a -d target/release/modules || $(MAKE) build
	install -d $(DESTDIR)$(PREFIX)/bin $(LIBDIR)/modules $(SDK_DIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/consfig
	install -m 0755 target/release/consfig-stub $(LIBDIR)/consfig-stub
	for a in $(CROSS_ARCHES); do install -m 0755 target/release/consfig-stub.$$a $(LIBDIR)/ || exit 1; done
	for m in $(STD_MODULES); do \
		install -m 0644 target/release/modules/consfig_$$(echo $$m | tr - _).wasm $(LIBDIR)/modules/ || exit 1; \
	done
	rm -rf $(SDK_DIR)/guest-sdk $(SDK_DIR)/wit
	tar -cf - --exclude=target --exclude=Cargo.lock --exclude=node_modules --exclude=__pycache__ guest-sdk wit \
		| tar -xf - -C $(SDK_DIR) --no-same-owner
	sed -e "s|^members = .*|members = [$$(grep '^members = ' Cargo.toml | grep -o '"guest-sdk[^"]*"' | paste -sd, -)]|" \
		-e '/^exclude = /d' -e '/^# The Wasm modules are built/,/^# the fuzz targets/d' Cargo.toml > $(SDK_DIR)/Cargo.toml
	rm -rf $(SDK_DIR)/consfig-wasm
	install -d $(SDK_DIR)/consfig-wasm
	tar -cf - --exclude=target --exclude=component -C consfig-wasm $(STANDARD_MODULES) \
		| tar -xf - -C $(SDK_DIR)/consfig-wasm --no-same-owner
	sed -e '/^members = \[/,/^\]/c members = [$(foreach m,$(STANDARD_MODULES),"$(m)",)]' \
		consfig-wasm/Cargo.toml > $(SDK_DIR)/consfig-wasm/Cargo.toml
	chmod -R u=rwX,go=rX $(SDK_DIR)

# The Debian package: `make install` into a staging tree with PREFIX=/usr,
# and dpkg-deb.
DEB_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_STAGE   := target/deb/consfig
DEB         := target/consfig_$(DEB_VERSION)_$(DEB_ARCH).deb

deb:
	rm -rf $(DEB_STAGE)
	$(MAKE) install DESTDIR=$(CURDIR)/$(DEB_STAGE) PREFIX=/usr
	install -d $(DEB_STAGE)/DEBIAN
	{ echo "Package: consfig"; \
	  echo "Version: $(DEB_VERSION)"; \
	  echo "Architecture: $(DEB_ARCH)"; \
	  echo "Maintainer: Consfig developers <consfig@localhost>"; \
	  echo "Depends: libc6, libgcc-s1, libssl3 | libssl3t64, zlib1g"; \
	  echo "Recommends: cargo, python3-pip, nodejs, npm"; \
	  echo "Section: admin"; \
	  echo "Priority: optional"; \
	  echo "Installed-Size: $$(du -sk $(DEB_STAGE)/usr | cut -f1)"; \
	  echo "Description: configuration management whose configuration code is WebAssembly"; \
	  echo " consfig deploys hosts as a consfig of Wasm modules describes them, with the"; \
	  echo " standard modules, the bundle stub and the guest SDK for consfig new."; \
	} > $(DEB_STAGE)/DEBIAN/control
	dpkg-deb --root-owner-group --build $(DEB_STAGE) $(DEB)

clean:
	$(CARGO) clean
	cd consfig-wasm && $(CARGO) clean
	cd fuzz && $(CARGO) clean
