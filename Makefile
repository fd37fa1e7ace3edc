# Thin wrappers over go commands. The README's two commands are `make run`
# and `make test`.

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
export TEST_DATABASE_URL TEST_REDIS_URL

GO ?= go

.PHONY: run test lint bench generate migrate tidy build fuzz

## run: start the server on the embedded default (SQLite, no other service)
run:
	$(GO) run ./cmd/wagate serve

## test: every test, with the race detector, against local PostgreSQL and Redis
test:
	$(GO) test -race -count=1 -timeout 45m ./...

## lint: go vet, staticcheck and the dependency-direction check
lint:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -count=1 -run TestDependencyDirection ./test/arch/

## fuzz: each fuzz target for FUZZTIME (the seed corpus in testdata/fuzz
## also runs in `make test`); new failing inputs land in testdata/fuzz
FUZZTIME ?= 60s
FUZZ_TARGETS := ./adapters/httpgin:FuzzRequests ./adapters/httpgin:FuzzMultipart
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done

## bench: Go benchmarks, the HTTP load generator (API latency, then sends
## accepted next to an INSERT + enqueue baseline, messages delivered across 50
## instances and webhook deliveries, on SQLite and on PostgreSQL + Redis; a
## text to a group of 256 phones and the memory of 100 such groups), then
## the cost of N connected simulated instances and their restore at start,
## then the takeover time of a killed node's instances (PostgreSQL + Redis)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./adapters/... ./core/...
	$(GO) run ./test/bench
	$(GO) run ./test/bench/sessions -n 1000
	$(GO) run ./test/bench/takeover -n 100

## generate: regenerate ent code and a new versioned migration NAME=… (needs PostgreSQL)
generate:
	$(GO) generate ./ent
	$(GO) run ./ent/migrate/gen -name $(or $(NAME),change)

## migrate: apply pending migrations to the configured database
migrate:
	$(GO) run ./cmd/wagate migrate

## build: a static binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -o bin/wagate ./cmd/wagate

tidy:
	$(GO) mod tidy
