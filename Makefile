# Perimeter: the two commands a newcomer needs are `make demo` and `make test`.
# Both install missing Debian packages first, then build with CMake + Ninja.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
MATRIX_BUILD ?= build-matrix
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo sanitize tsan fuzz builds format clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	bash scripts/ctest.sh $(BUILD) $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)/perimeter

# AddressSanitizer + UBSan build of the library, binary and tests, then every test (heavy ones too).
sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPM_SANITIZE=ON \
	  -DCMAKE_C_FLAGS="-O1"
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	bash scripts/ctest.sh $(ASAN_BUILD) $(JOBS)

# ThreadSanitizer build, then the tests labelled `threads` (concurrent
# gallery inserts, deletes and searches).
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -L threads

# libFuzzer targets (clang). Run all for N s each: bash scripts/fuzz.sh N
# Run one: build-fuzz/fuzz/fuzz_wsq fuzz/corpus/wsq -max_total_time=600
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPM_FUZZ=ON -DPM_WERROR=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Compile-only matrix for CI: gcc and clang, Debug and Release, every target
# (library, CLI, tests, benchmarks) with -Werror. Fails on the first warning.
builds: deps
	@set -e; mkdir -p $(MATRIX_BUILD); for cc in gcc clang; do for bt in Debug Release; do \
	  d=$(MATRIX_BUILD)/$$cc-$$bt; echo "== builds: $$cc $$bt ($$d)"; \
	  CC=$$cc cmake -S . -B $$d -G Ninja -DCMAKE_BUILD_TYPE=$$bt -DPM_WERROR=ON >$$d.cmake.log 2>&1 \
	    || { cat $$d.cmake.log; exit 1; }; \
	  cmake --build $$d -j $(JOBS); \
	done; done; echo "== builds: gcc and clang, Debug and Release, -Werror: ok"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD) $(MATRIX_BUILD)
