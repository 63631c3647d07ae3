# Thin wrapper around CMake. `make run` and `make test` install missing Debian packages
# first (as root; otherwise they print the apt-get line to run).
BUILD      ?= build
ASAN_BUILD ?= build-asan
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= --output-on-failure

PREFIX     ?= /usr/local
# The one image-name scheme (manifests/base/kustomization.yaml names the same images):
# $(IMAGE_REPO)/mirrorgate-webhook:$(VERSION) and $(IMAGE_REPO)/mirrorgate-reconciler:$(VERSION).
IMAGE_REPO ?= ghcr.io/mirrorgate
VERSION    := $(shell grep '^project' CMakeLists.txt | grep -o 'VERSION [0-9.]*' | cut -d' ' -f2)

.PHONY: all deps configure build run demo test test-asan test-valgrind lint bench clean install \
	ship-deps image test-image test-manifests

all: build

deps:
	@sh deps/install.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The product running locally: the two-site lab (webhooks registered, reconcilers running)
# until Ctrl-C.
run: build
	@sh scripts/run.sh $(BUILD)

# The whole replication story on a lab of its own, non-interactively: plays
# docs/disaster-recovery.md with the real kubectl, each command and its output; exits 0 only
# when every step held.
demo: build
	@sh tests/runbook/run.sh $(BUILD) docs/disaster-recovery.md

test: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DMG_SANITIZE=ON -DMG_WERROR=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

# Unit tests under valgrind. The binaries (webhook, simulators, reconciler) have valgrind
# checks inside their integration tests; the CLI's can be added by hand:
#   make test-valgrind VALGRIND_TESTS=integration_test_cli_validate
VALGRIND_TESTS ?= $(sort $(notdir $(wildcard $(BUILD)/tests/unit_*)))
test-valgrind: build
	sh scripts/valgrind-tests.sh $(BUILD) $(VALGRIND_TESTS)

lint:
	sh scripts/lint.sh

bench: build
	@sh bench/run.sh $(BUILD)

# The three binaries (mirrorgate, mirrorgate-webhook, mirrorgate-reconciler) into $(PREFIX)/bin.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Tools for the images and the manifest tests, from Debian (mmdebstrap, umoci) and npm
# (tests/manifests/package-lock.json, installed by the test itself).
ship-deps:
	@sh deps/install.sh deps/ship-packages.txt

# OCI archives $(BUILD)/images/<name>-$(VERSION).oci.tar, with no registry and no daemon
# (scripts/build-image.sh says how and why); `podman load -i` or `skopeo copy oci-archive:`
# takes them. The Containerfile builds the same images with a container engine.
image: build ship-deps
	@mkdir -p $(BUILD)/images
	sh scripts/build-image.sh $(BUILD)/bin $(BUILD)/images mirrorgate-webhook $(VERSION) \
		$(IMAGE_REPO) mirrorgate-cert-rotator
	sh scripts/build-image.sh $(BUILD)/bin $(BUILD)/images mirrorgate-reconciler $(VERSION) \
		$(IMAGE_REPO)

# Each image's binary from its own root file system, as its user: --version and a real start.
test-image: image
	sh scripts/test-image.sh $(BUILD)/images $(VERSION) $(BUILD)/bin

# Every kustomization renders and validates; the install test against kube-sim.
test-manifests: build ship-deps
	sh scripts/test-manifests.sh $(BUILD) $(IMAGE_REPO) $(VERSION)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

