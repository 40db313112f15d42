# husk top-level build. Each module keeps its rules in its own fragment
# (*/module.mk); this file holds the shared flags, pattern rules and targets.
BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= gcc
CLANG    ?= clang
PKGS     := json-c libprotobuf-c

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2
ALL_CFLAGS   = $(BASE_CFLAGS) $(MODULE_CFLAGS) $(CFLAGS) -MMD -MP
SAN_FLAGS    = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS  = $(BASE_CFLAGS) $(MODULE_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP
FUZZ_CFLAGS  = $(BASE_CFLAGS) $(MODULE_CFLAGS) -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -DHUSK_FUZZ -MMD -MP
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 5

# The module graph, bottom up: what each module's sources may include besides their own
# folder (whose headers they name bare). Other modules' headers are named from the repository
# root ("lib/error.h", "proto/agent.pb-c.h"), and a module's include path holds only the
# modules listed here (build/inc/<module>/, links made from this table), so a header from
# anywhere else does not compile. docs/architecture.md draws the same graph.
MODULES := lib proto ttrpc oci netlink hypervisor/qemu hypervisor/vsock agent shim/lib shim shim/v2
USES_lib :=
USES_proto :=
USES_ttrpc := lib proto
USES_oci := lib
USES_netlink := lib
USES_hypervisor/qemu := lib
USES_hypervisor/vsock := lib
USES_agent := lib proto ttrpc oci netlink
USES_shim/lib := lib proto ttrpc oci netlink hypervisor/qemu hypervisor/vsock
USES_shim := shim/lib $(USES_shim/lib)
USES_shim/v2 := $(USES_shim)
# test code: each test folder sees what it tests and what that module sees
TEST_HARNESS := tests/unit/harness
USES_tests/unit/lib := $(TEST_HARNESS) lib
USES_tests/unit/ttrpc := $(TEST_HARNESS) ttrpc $(USES_ttrpc)
# the contract test also drives both sides of it: the agent's decode and the host's bundle check
USES_tests/unit/netlink := $(TEST_HARNESS) netlink $(USES_netlink)
USES_tests/unit/oci := $(TEST_HARNESS) oci $(USES_oci) agent proto shim/lib
USES_tests/unit/agent := $(TEST_HARNESS) agent $(USES_agent)
USES_tests/unit/hypervisor/qemu := $(TEST_HARNESS) hypervisor/qemu $(USES_hypervisor/qemu)
USES_tests/unit/hypervisor/vsock := $(TEST_HARNESS) tests/guest hypervisor/vsock \
	$(USES_hypervisor/vsock)
USES_tests/unit/shim/lib := $(TEST_HARNESS) shim/lib $(USES_shim/lib) agent
USES_tests/unit/shim/v2 := $(TEST_HARNESS) shim/v2 $(USES_shim/v2)
USES_tests/guest := $(TEST_HARNESS) lib agent ttrpc proto
USES_tests/integration/helpers := tests/guest lib proto ttrpc hypervisor/vsock
USES_tests/fuzz := tests/guest shim/v2 $(USES_shim/v2) agent netlink
USES_bench/helpers := shim/lib $(USES_shim/lib)
TEST_MODULES := tests/guest tests/unit/lib tests/unit/ttrpc tests/unit/oci tests/unit/netlink tests/unit/agent \
	tests/unit/hypervisor/qemu tests/unit/hypervisor/vsock tests/unit/shim/lib tests/unit/shim/v2 \
	tests/integration/helpers tests/fuzz bench/helpers

# build/inc/<module, / as ->/<used module> links to the used module's folder (proto: its generated code)
inc_target = $(if $(filter proto,$(1)),$(abspath $(BUILD)/gen/proto),$(CURDIR)/$(1))
define module_includes
$(BUILD)/inc/$(subst /,-,$(1))/.made: Makefile
	@rm -rf $(BUILD)/inc/$(subst /,-,$(1)) && mkdir -p $(BUILD)/inc/$(subst /,-,$(1))
	@$$(foreach u,$(sort $(USES_$(1))),mkdir -p $$(dir $(BUILD)/inc/$(subst /,-,$(1))/$$(u)) && \
		ln -s $$(call inc_target,$$(u)) $(BUILD)/inc/$(subst /,-,$(1))/$$(u) &&) touch $$@
$(BUILD)/obj/$(1)/%.o $(BUILD)/asan/$(1)/%.o $(BUILD)/fuzzobj/$(1)/%.o: \
	MODULE_CFLAGS := -I$(BUILD)/inc/$(subst /,-,$(1))
INCLUDE_TREES += $(BUILD)/inc/$(subst /,-,$(1))/.made
endef
$(foreach m,$(MODULES) $(TEST_MODULES),$(eval $(call module_includes,$(m))))

BINS :=
PROGRAMS :=
UNIT_TESTS :=
FUZZERS :=
GUEST :=
GEN_HEADERS :=

.PHONY: all install deps demo test unit integration conformance fuzz check-format check-layout format clean
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

# (each source once: source lists of several modules may name the same file)
objs      = $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(1)))
asan_objs = $(patsubst %.c,$(BUILD)/asan/%.o,$(sort $(1)))
fuzz_objs = $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(sort $(1)))

# module fragments bottom up (a fragment may use the source lists of those before it), then
# the tests' fragments
include $(addsuffix /module.mk,$(MODULES) guest-image bench)
include $(sort $(shell find tests -name module.mk))

.PHONY: gen
gen: $(GEN_HEADERS) $(INCLUDE_TREES)

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
$(BUILD)/tests/$(1): $$(call asan_objs,$$($(1)_SRCS) tests/unit/harness/harness.c)
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
	tests/unit/harness/run $^

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	tests/fuzz/run $(FUZZ_SECONDS) $^

integration: all
	tests/integration/run

# the OCI runtime validation suite against husk and runc (tests/conformance/run): fails when a
# file tests/conformance/expected says husk passes does not
conformance: all
	tests/conformance/run

# CI runs this: sanitized unit tests, real-VM integration tests, the OCI validation suite, and
# each fuzzer briefly
test: check-format check-layout all unit integration conformance
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

# header names, include spelling and include cycles (tests/layout/check)
check-layout:
	tests/layout/check

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
