# Falconet: one GNU Makefile, pkg-config for every library, objects in build/.
#   make            build the daemon           make run    build and serve
#   make test       every test suite           make fuzz   libFuzzer targets
#   make deps       install build dependencies (apt-get, as root)
#   make image      the container image, with docker or podman
# Switches: WERROR=1, SANITIZE=address,undefined, V=1 (show commands).

# GnuTLS, which libmicrohttpd's HTTPS runs on, is called directly for the
# certificates (server/http/tls.c): reading and checking them, client
# certificates of devices.
# nettle (hashes) is the library libmicrohttpd's TLS stack and libarchive
# load anyway; OpenSSL's libcrypto checks CMS signatures (RAUC bundles),
# libsquashfs reads the manifest inside a plain RAUC bundle.  libcurl,
# which fetches external artifacts once to check them, is loaded with
# dlopen on first use (server/lib/fetch.c): only its header is built on.
# So is libarchive, with libxml2, ICU and libstdc++ behind it, on the first
# .swu read (server/formats/swu.c); the unit tests that build images link it.
PKGS      = libmicrohttpd jansson sqlite3 libargon2 yaml-0.1 \
	    nettle libconfig libcrypto libsquashfs1 gnutls
DLOPEN_PKGS = libarchive libcurl
DEB_BUILD = build-essential pkg-config libmicrohttpd-dev libjansson-dev \
	    libsqlite3-dev libarchive-dev libargon2-dev libyaml-dev nettle-dev \
	    libconfig-dev libssl-dev libsquashfs-dev libcurl4-openssl-dev \
	    libgnutls28-dev
# rauc and squashfs-tools build the test bundles; rauc-service, dbus-daemon
# and e2fsprogs run a real RAUC install in a sandbox.
DEB_TEST  = $(DEB_BUILD) libcmocka-dev clang libclang-rt-14-dev \
	    curl jq sqlite3 swupdate openssl procps python3 python3-aiohttp \
	    chromium nodejs rauc rauc-service squashfs-tools e2fsprogs \
	    dbus-daemon dbus-bin cryptsetup-bin
# The container image and its test: docker where its daemon answers, else
# Debian's podman (runc: crun refuses some hosts' mixed cgroups) and
# mmdebstrap, which makes the Debian base where no registry is reachable.
DEB_IMAGE = podman runc conmon containernetworking-plugins iptables uidmap \
	    slirp4netns fuse-overlayfs mmdebstrap
IMAGE    ?= falconet

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	    -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes \
	    -Wmissing-declarations -Wpointer-arith -Wcast-qual -fno-common \
	    -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP $(INCLUDES) \
	    $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null) \
	    $(if $(WERROR),-Werror) \
	    $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)
LDFLAGS  += $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

BUILD    ?= build
# server/ is grouped by layer: http/ (daemon, routes, SSE, static files),
# api/ (DDI, the JSON API), model/ (devices, actions, rollouts, software),
# formats/ (swu, raucb, versions, signatures), store/ (database,
# migrations, last-seen, uploads), lib/ (settings, log, util).
LAYERS    = http api model formats store lib
INCLUDES  = -Iserver $(LAYERS:%=-Iserver/%)
SRCS      = $(wildcard server/*.c $(LAYERS:%=server/%/*.c))
HDRS      = $(wildcard server/*.h $(LAYERS:%=server/%/*.h))
MIGRATIONS = $(sort $(wildcard migrations/*.sql))
OBJS      = $(SRCS:server/%.c=$(BUILD)/%.o) $(BUILD)/migrations_data.o \
	    $(BUILD)/openapi_data.o
LIB_OBJS  = $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS = $(wildcard tests/tools/*.c)
TOOL_BINS = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)

# Test builds: warnings are errors and the sanitizers are on.
TEST_FLAGS = WERROR=1 SANITIZE=address,undefined BUILD=build/test

Q = $(if $(V),,@)

.PHONY: web-gz all run deps deps-test deps-image test unit http e2e reliability browser fuzz \
	fuzz-replay tools clean format format-check check bench soak demo image image-test

all: $(BUILD)/falconet web-gz

# The dashboard's text files, each with a gzip copy beside it
# (web/js/app.js.gz) that server/http/ui.c sends to browsers taking gzip.
# -n leaves the name and time out, so a copy depends only on its file.
WEB_GZ = $(addsuffix .gz,$(shell find web -type f \( -name '*.js' -o \
	    -name '*.css' -o -name '*.html' -o -name '*.svg' \) 2>/dev/null))

web-gz: $(WEB_GZ)

web/%.gz: web/%
	@echo "  GZIP    $@"
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

# The daemon's MHD_create_response_from_buffer takes the place of the
# library's, to turn its HTML error pages into JSON (server/http/mhd_errors.c).
$(BUILD)/falconet: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) \
	    -Wl,--export-dynamic-symbol=MHD_create_response_from_buffer \
	    -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: server/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Generated sources, in whichever build directory asks for them: the SQL
# files of migrations/ and the OpenAPI document are compiled into the binary.
%/migrations_data.c: $(MIGRATIONS) server/store/embed-migrations.sh
	@mkdir -p $(@D)
	$(Q)server/store/embed-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

%/openapi_data.c: server/api/openapi.json server/lib/embed-text.sh
	@mkdir -p $(@D)
	$(Q)server/lib/embed-text.sh openapi_json server/api/openapi.json > $@.tmp && \
	    mv $@.tmp $@

$(BUILD)/%_data.o: $(BUILD)/%_data.c
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libfalconet.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# Unit tests link the static library, so each pulls in only the objects it
# references (the module under test and its leaves).
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfalconet.a
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfalconet.a \
	    $(LDLIBS) $(shell pkg-config --libs libarchive 2>/dev/null) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libfalconet.a
	@mkdir -p $(@D)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfalconet.a $(LDLIBS) \
	    $(shell pkg-config --libs libcrypto 2>/dev/null)

tools: $(TOOL_BINS)

# Install build dependencies when pkg-config cannot find them.
deps:
	@if pkg-config --exists $(PKGS) $(DLOPEN_PKGS) 2>/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $(DEB_BUILD); \
	else \
		echo "Missing libraries. As root, run:"; \
		echo "  apt-get install -y $(DEB_BUILD)"; exit 1; \
	fi

deps-test:
	@missing=; for p in $(DEB_TEST); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $$missing; \
	else \
		echo "Missing packages. As root, run:"; \
		echo "  apt-get install -y$$missing"; exit 1; \
	fi

deps-image:
	@if docker info >/dev/null 2>&1; then exit 0; fi; \
	missing=; for p in $(DEB_IMAGE); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "No container engine. As root, run:"; \
		echo "  apt-get install -y --no-install-recommends$$missing"; exit 1; \
	fi

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/falconet -c settings.yaml

# The container image, tagged $(IMAGE) (see Dockerfile and tests/image/).
image: deps-image
	$(Q)tests/image/build.sh $(IMAGE)

# Every suite; the last line sums them as "N passed, N failed".
test: deps-test deps-image
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)tests/run-all.sh build/test

test-build: $(BUILD)/falconet $(UNIT_BINS) $(TOOL_BINS) fuzz web-gz

check: test

unit: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=unit tests/run-all.sh build/test

http: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=http tests/run-all.sh build/test

e2e: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=e2e tests/run-all.sh build/test

reliability: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=reliability tests/run-all.sh build/test

browser: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=browser tests/run-all.sh build/test

image-test: deps-test deps-image
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SUITES=image tests/run-all.sh build/test

# libFuzzer targets: clang, one binary per parser, linked with the objects
# built for fuzzing in build/fuzz.
FUZZ_CFLAGS = -g -O1 -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -MMD -MP $(INCLUDES) \
	      $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null) \
	      -fsanitize=fuzzer-no-link,address,undefined
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

build/fuzz/obj/%_data.o: build/fuzz/%_data.c
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/obj/%.o: server/%.c
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/libfuzz.a: $(LIB_OBJS:$(BUILD)/%.o=build/fuzz/obj/%.o)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libfuzz.a
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    build/fuzz/libfuzz.a $(LDLIBS)

fuzz: $(FUZZ_BINS)

# Replay the committed corpus once through every target (run by make test).
fuzz-replay: $(FUZZ_BINS)
	$(Q)tests/fuzz/replay.sh

# Benchmarks and long runs: they print figures, they do not fail on a slow
# machine.  Each installs what it needs (wrk, nginx, ...) with apt-get.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/run.sh $(BUILD)

soak: deps-test
	$(Q)$(MAKE) --no-print-directory $(TEST_FLAGS) test-build
	$(Q)SOAK=long tests/sim/soak.sh build/test
	$(Q)SOAK=long FALCONET=build/test/falconet MKSWU=build/test/tools/mkswu \
	    tests/http/t0210-action-history-bounds.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)tests/sim/demo.sh $(BUILD)

format:
	clang-format -i $(SRCS) $(HDRS) tests/unit/*.c tests/tools/*.c \
	    tests/fuzz/*.c

format-check:
	clang-format --dry-run -Werror $(SRCS) $(HDRS)

clean:
	rm -rf build
	rm -f $(WEB_GZ)

-include $(OBJS:.o=.d) $(wildcard build/test/*.d build/test/*/*.d \
    build/fuzz/obj/*.d build/fuzz/obj/*/*.d)
