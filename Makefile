# Entry points: `make` builds into build/, `make test` runs every test, `make check` is what CI
# runs (tests, tests under ASan+UBSan, fuzz smoke, format). Dependencies come from scripts/deps.sh.
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test asan asan-test fuzz fuzz-smoke format format-check gen-check check run bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B build $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

test: build
	cd build && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B build-asan -DJP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

asan-test: asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Real libFuzzer binaries (clang); the corpora are also replayed by plain ctest.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DJP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

FUZZ_SECONDS ?= 20
fuzz-smoke: fuzz
	bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@bash scripts/format-check.sh

# The generated schema must match its generator (needs node and npm's registry).
gen-check:
	@if command -v node >/dev/null && command -v npm >/dev/null; then tools/gen-schema/run.sh --check; \
	else echo "gen-check: SKIPPED, node/npm not installed"; fi

check: format-check gen-check test asan-test fuzz-smoke

# The main job: the chapter's one-shot Job (kuard generating 10 RSA keys in one pod).
run: build
	./build/jobplane run examples/chapter/job-oneshot.yaml

bench:
	@bash scripts/deps.sh --bench
	bash bench/memq/run.sh

clean:
	rm -rf build build-asan build-fuzz
