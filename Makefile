# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake: the README's two commands, plus a few shortcuts.
#   make run    install what is missing, build, make dev certificates, serve
#   make test   install what is missing, build, run every test (ctest), then
#               again under ASan+UBSan
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
BUILD   ?= build
ASAN    ?= build-asan
LISTEN  ?= 127.0.0.1:8443
BIN     ?= $(BUILD)/osstream-webhook
CERTS   ?= certs

.PHONY: all deps build run test test-fast test-asan certs certs-refresh bench fuzz format format-check lint clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target osstream-webhook -- --no-print-directory

certs: build
	@$(MAKE) --no-print-directory certs-refresh

# All three files are made again, together, when any is missing or the
# serving certificate has expired (openssl, when installed, tells): a lone
# new key would not match the old certificate, and the CA's key is never kept.
certs-refresh:
	@if [ ! -f $(CERTS)/ca.crt ] || [ ! -f $(CERTS)/tls.crt ] || [ ! -f $(CERTS)/tls.key ] || \
	   { command -v openssl >/dev/null && \
	     ! openssl x509 -checkend 0 -noout -in $(CERTS)/tls.crt >/dev/null 2>&1; }; then \
	  echo "$(CERTS)/: making a new local CA and serving certificate (missing or expired)"; \
	  $(BIN) gen-certs --dir $(CERTS) --dns-name localhost --force; \
	fi

run: build certs
	@echo
	@echo "Serving on https://$(LISTEN) with examples/osimagestream.yaml. Try, in another shell:"
	@echo
	@echo "  curl -sS --cacert certs/ca.crt -H 'Content-Type: application/json' \\"
	@echo "       --data-binary @examples/admissionreview.json https://$(LISTEN)/mutate"
	@echo
	exec $(BIN) serve --listen $(LISTEN) --tls-cert-file certs/tls.crt \
	  --tls-private-key-file certs/tls.key --osimagestream-file examples/osimagestream.yaml \
	  --log-format text

test:
	@scripts/install-deps.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DOSW_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -LE deploy

fuzz:
	@scripts/install-deps.sh test
	@CC=clang cmake -S . -B build-fuzz -DOSW_FUZZ=ON -DOSW_INTEGRATION=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@echo "fuzzers in build-fuzz/: run e.g. build-fuzz/fuzz_review tests/fuzz/corpus/fuzz_review -max_total_time=60"

bench:
	@scripts/install-deps.sh bench
	@bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

lint: build
	scripts/lint.sh format && scripts/lint.sh banned && scripts/lint.sh cppcheck && \
	  scripts/lint.sh tidy $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) build-fuzz
