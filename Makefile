# kubedrift — build, test, bench, run. Go 1.26 on PATH is all a fresh machine needs.

GO       ?= go
BIN      ?= bin/kubedrift
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
CORPUS   ?= ../shared/corpus
FUZZTIME ?= 20s
# A throwaway store so `make run` never touches the user's real one.
RUNSTORE ?= $(CURDIR)/bin/run-store.db

.PHONY: all build test vet fmt-check bench run fuzz snapshot clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubedrift

test: vet fmt-check
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Benchmarks print comparable figures; ratios against baselines are computed in
# the same run by the benchmarks themselves (see each package's bench_test.go).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# Every fuzz target, a short bounded run each (FUZZTIME per target).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; \
	done

# The main job, offline: one full cycle of the service (embedded data, the
# example fleet, advisories printed to stdout, the digest rendered to
# bin/digest-preview.html), then the pending upgrades it found. The embedded
# release schedule is upstream's from 2023, so the table is also shown as of
# mid-2023, when the fleet spans supported, maintenance and end-of-life minors.
run: build
	rm -f $(RUNSTORE) $(RUNSTORE)-wal $(RUNSTORE)-shm
	$(BIN) serve --config examples/run.yaml --once --store $(RUNSTORE) --digest-preview bin/digest-preview.html
	@echo
	$(BIN) pending --store $(RUNSTORE) --to 1.27 --as-of 2023-06-15
	@echo
	$(BIN) pending --store $(RUNSTORE) --to 1.27 --as-of 2023-06-15 --cluster prod-eu

# Rebuild the offline snapshot compiled into the binary from the upstream corpus.
snapshot:
	$(GO) run ./cmd/kubedrift data build --corpus $(CORPUS) --eol data/snapshot/eol-facts.yaml \
		-o data/snapshot/kubedrift-snapshot.json --built-at $$(date -u +%Y-%m-%d)

clean:
	rm -rf bin
