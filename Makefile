# Jetmon Mesh. `make run` starts the whole system; `make test` runs the suite.
SHELL   := /bin/bash
GO      ?= go
BIN     ?= bin
CONFIG  ?= config/config-sample.json
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
LINT    := $(GO) tool -modfile=tools/go.mod golangci-lint
# The suite's MySQL: the one at JETMON_TEST_DSN (default root@127.0.0.1:3306),
# else a project-local MariaDB that scripts/ensure-mysql.sh starts.
TEST_FLAGS ?= -race -shuffle=on -timeout 15m

.PHONY: all run test build lint bench fmt clean db db-stop

all: build

## build: compile bin/jetmon and bin/jetmon-agent
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/jetmon ./cmd/jetmon
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/jetmon-agent ./cmd/jetmon-agent

## run: find or start MySQL, create and migrate the database, run `jetmon all`
run: build
	@scripts/run.sh "$(BIN)/jetmon" "$(CONFIG)"

## test: the whole suite against real MySQL and in-process NATS
test:
	@dsn="$$(scripts/ensure-mysql.sh)" && export JETMON_TEST_DSN="$$dsn" && \
		echo "make test: MySQL at $$dsn" && $(GO) test $(TEST_FLAGS) ./...

## lint: golangci-lint (pinned in tools/go.mod) and gofmt
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(LINT) run ./...

## bench: benchmarks, printed with their figures
bench:
	@dsn="$$(scripts/ensure-mysql.sh)" && export JETMON_TEST_DSN="$$dsn" && \
		$(GO) test -run '^$$' -bench . -benchmem ./...

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go')
	$(LINT) fmt ./...

## db: start (or find) the MySQL the tests and `make run` use
db:
	@scripts/ensure-mysql.sh

## db-stop: stop the project-local MariaDB, if one was started
db-stop:
	@scripts/ensure-mysql.sh stop

## clean: remove build output and local state (NATS store, local MariaDB)
clean: db-stop
	rm -rf $(BIN) .local
