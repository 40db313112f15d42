# husk top-level build. Each module keeps its rules in its own fragment
# (*/module.mk); this file holds the shared flags, pattern rules and targets.
BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= gcc
CLANG    ?= clang
PKGS     := json-c libprotobuf-c

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -Iproto/common -Iproto -I$(BUILD)/gen \
	-Ihypervisor -Ishim/lib -Iagent -Itests/unit \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2
ALL_CFLAGS   = $(BASE_CFLAGS) $(CFLAGS) -MMD -MP
SAN_FLAGS    = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS  = $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP
FUZZ_CFLAGS  = $(BASE_CFLAGS) -O1 -fsanitize=fuzzer-no-link,address,undefined -DHUSK_FUZZ -MMD -MP
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 5

COMMON_SRCS := proto/common/error.c proto/common/log.c proto/common/loop.c proto/common/cmsg.c

BINS :=
PROGRAMS :=
UNIT_TESTS :=
FUZZERS :=
GUEST :=
GEN_HEADERS :=

.PHONY: all install deps demo test unit integration fuzz check-format format clean
all:

# object trees: normal, sanitized (unit tests), fuzzing (clang)
$(BUILD)/obj/%.o: %.c | gen
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/asan/%.o: %.c | gen
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<
$(BUILD)/fuzzobj/%.o: %.c | gen
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

objs      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
asan_objs = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))
fuzz_objs = $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(1))

# proto/ (shared by host and guest) first, so every module can name its sources
# (PROTO_SRCS, TTRPC_SRCS) in its rules; the rest in name order.
PROTO_FRAGMENTS := $(wildcard proto/module.mk proto/*/module.mk)
include $(PROTO_FRAGMENTS) $(filter-out $(PROTO_FRAGMENTS),$(sort $(wildcard */module.mk */*/module.mk)))

.PHONY: gen
gen: $(GEN_HEADERS)

# host programs: PROGRAMS += path/under/build with path_SRCS and path_LIBS. The
# rules are made after every fragment is read, so SRCS may name variables that
# later fragments define.
define program_rule
$(BUILD)/$(1): $$(call objs,$$($(1)_SRCS))
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# unit tests: NAME_SRCS (without the harness) and NAME_LIBS per test
define unit_test_rule
$(BUILD)/tests/$(1): $$(call asan_objs,$$($(1)_SRCS) tests/unit/harness.c)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN_FLAGS) -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# fuzz targets: NAME_SRCS (with LLVMFuzzerTestOneInput) and NAME_LIBS
define fuzzer_rule
$(BUILD)/fuzz/$(1): $$(call fuzz_objs,$$($(1)_SRCS))
	@mkdir -p $$(@D)
	$$(CLANG) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzzer_rule,$(f))))

all: $(BINS) $(GUEST)

deps:
	scripts/install-deps

BINDIR     = $(DESTDIR)$(PREFIX)/bin
LIBEXECDIR = $(DESTDIR)$(PREFIX)/libexec/husk
GUESTDIR   = $(DESTDIR)$(PREFIX)/share/husk/guest
SYSCONFDIR ?= /etc
# what users run, and the helpers husk starts itself (test programs stay in build/)
INSTALL_BINS    := build/bin/husk build/bin/containerd-shim-husk-v2
INSTALL_LIBEXEC := build/bin/husk-vsockd build/bin/husk-agent
install: all
	install -d $(BINDIR) $(LIBEXECDIR) $(GUESTDIR) $(DESTDIR)$(SYSCONFDIR)/husk
	install -m 0755 $(INSTALL_BINS) $(BINDIR)/
	install -m 0755 $(INSTALL_LIBEXEC) $(LIBEXECDIR)/
	install -m 0644 build/guest/vmlinuz build/guest/initrd.img $(GUESTDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/husk/husk.json ] || \
		install -m 0644 configs/husk.json $(DESTDIR)$(SYSCONFDIR)/husk/husk.json

# installs dependencies, builds, and runs a busybox container in its own VM
demo:
	scripts/install-deps
	$(MAKE) all
	scripts/demo

unit: $(addprefix $(BUILD)/tests/,$(UNIT_TESTS))
	tests/unit/run $^

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	tests/fuzz/run $(FUZZ_SECONDS) $^

integration: all
	tests/integration/run

# CI runs this: sanitized unit tests, real-VM integration tests, and each fuzzer briefly
test: check-format all unit integration
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
