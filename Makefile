# wdt — offline forensic toolkit for memory dumps of Windows VMs.
# Plain GNU make. `make help` lists the targets.

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/wdt
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config

# Debian package that provides each pkg-config module, for error messages.
PKGS := zlib:zlib1g-dev liblz4:liblz4-dev libcurl:libcurl4-openssl-dev \
	libzstd:libzstd-dev lzo2:liblzo2-dev snappy:libsnappy-dev \
	libmspack:libmspack-dev
LIB_MODULES := $(foreach p,$(PKGS),$(firstword $(subst :, ,$(p))))

ifeq ($(SANITIZE),1)
BUILD ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
OPT ?= -O1 -g
else
BUILD ?= build/rel
SAN_FLAGS :=
OPT ?= -O2 -g
endif

# Warnings are errors only where we control the compiler: `make check` and
# CI pass WERROR=1; a plain or distribution build (newer compiler, new
# warnings) must not fail on them. `make WERROR=1` turns them on by hand.
WERROR ?= 0
WARN := -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wvla \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-format-nonliteral \
	$(if $(filter 1,$(WERROR)),-Werror)
# `override`: a CPPFLAGS given on the command line (make CPPFLAGS=-DX) is
# added to, not a replacement for, what the build needs.
override CPPFLAGS += -I. -Itests/unit/helpers -D_FILE_OFFSET_BITS=64 -D_DEFAULT_SOURCE \
	-DWDT_VERSION='"$(VERSION)"' -MMD -MP
CFLAGS ?= $(OPT)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

# Only ask pkg-config when building (not for `make help`/`clean`/`deps`).
ifeq ($(filter help clean distclean deps,$(MAKECMDGOALS)),)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIB_MODULES) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LIB_MODULES) 2>/dev/null)
PKG_MISSING := $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists \
	$(firstword $(subst :, ,$(p))) && echo y),,$(lastword $(subst :, ,$(p)))))
endif
LIBS := $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

LIB_SRCS := $(sort $(wildcard core/*.c formats/*.c symbols/*.c))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
LIBWDT := $(BUILD)/libwdt.a
WDT := $(BUILD)/wdt

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
UNIT_HELPER_SRCS := $(sort $(wildcard tests/unit/helpers/*.c))
UNIT_HELPER_OBJS := $(UNIT_HELPER_SRCS:%.c=$(BUILD)/%.o)

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)

# Commands that have a `wdt-<cmd>` argv[0] link; cmd/wdt.c is the truth,
# `wdt --list-commands` prints them.
.PHONY: all help check unit integration check-can-fail fuzz-replay fuzz demo \
	bench install uninstall clean distclean deps lint-man readme-samples \
	style style-check

all: deps-check $(WDT)

help:
	@echo 'make            build $(WDT)'
	@echo 'make check      install missing Debian packages, run every test'
	@echo 'make check SANITIZE=1   the same under ASan+UBSan'
	@echo 'make check-can-fail     every integration script fails against a broken wdt'
	@echo 'make demo       make a sample QEMU dump and run wdt on it'
	@echo 'make fuzz       run libFuzzer on every parser (FUZZ_SECONDS=60)'
	@echo 'make bench      benchmarks; results in BENCHMARKS.md'
	@echo 'make readme-samples   rewrite README samples from current output'
	@echo 'make style      format the C sources (.clang-format); make check runs'
	@echo '                make style-check'
	@echo 'make install    PREFIX=$(PREFIX) DESTDIR=… (binary, links, man pages,'
	@echo '                docs, bash and zsh completion)'
	@echo 'WERROR=1        warnings are errors (the default in make check only)'
	@echo 'make clean      remove build products (keeps the fixture cache)'
	@echo 'make distclean  remove all of build/, fixtures included'
	@echo 'V=1             show commands'

deps:
	@tools/deps.sh

.PHONY: deps-check
deps-check:
ifneq ($(strip $(PKG_MISSING)),)
	@echo "wdt: missing libraries; install: apt-get install $(PKG_MISSING)" >&2
	@echo "     (or run: make deps)" >&2
	@exit 1
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBWDT): $(LIB_OBJS)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(WDT): $(CMD_OBJS) $(LIBWDT)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(LIBWDT) $(LIBS)

# ---- unit tests (cmocka), one program per module ----
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

$(BUILD)/tests/unit/%: tests/unit/%.c $(UNIT_HELPER_OBJS) $(LIBWDT)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) \
		-Wno-missing-prototypes $(ALL_LDFLAGS) -o $@ $< \
		$(UNIT_HELPER_OBJS) $(LIBWDT) $(CMOCKA_LIBS) $(LIBS)

unit: deps-check $(UNIT_BINS)
	@tools/run-unit.sh $(UNIT_BINS)

# ---- fuzz targets: replayed over their corpus in every check ----
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBWDT)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes \
		$(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(LIBWDT) $(LIBS)

fuzz-replay: deps-check $(FUZZ_REPLAY)
	@tools/run-fuzz-replay.sh $(BUILD) $(FUZZ_NAMES)

FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/libfuzzer
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)clang -I. -D_FILE_OFFSET_BITS=64 -D_DEFAULT_SOURCE \
		-DWDT_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(FUZZ_FLAGS) -o $@ $< \
		$(LIB_SRCS) $(LIBS)

fuzz: deps
	@$(MAKE) --no-print-directory deps-check $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
	@tools/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ---- integration tests: numbered shell scripts, TAP ----
integration: deps-check $(WDT)
	@WDT=$(abspath $(WDT)) BUILD=$(abspath $(BUILD)) \
		tools/run-integration.sh tests/integration/t[0-9]*.sh

# Every integration script can fail: each is run against broken subjects (a
# wdt and test tools that fail or succeed saying nothing) and must notice.
# Nothing to build: the stubs replace every program the scripts test.
check-can-fail: deps-check
	@BUILD=$(abspath $(BUILD)) tools/run-can-fail.sh tests/integration/t[0-9]*.sh

# make check builds with -Werror (WERROR=1) unless told otherwise.
CHECK_WERROR ?= 1
check: deps
	@$(MAKE) --no-print-directory style-check
	@$(MAKE) --no-print-directory WERROR=$(CHECK_WERROR) all
	@$(MAKE) --no-print-directory WERROR=$(CHECK_WERROR) unit
	@$(MAKE) --no-print-directory WERROR=$(CHECK_WERROR) fuzz-replay
	@$(MAKE) --no-print-directory WERROR=$(CHECK_WERROR) integration
	@# stubs replace wdt there, so the sanitized pass need not repeat it
	@[ -n "$(SANITIZE)" ] || $(MAKE) --no-print-directory check-can-fail

demo: deps
	@$(MAKE) --no-print-directory all
	@WDT=$(abspath $(WDT)) tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@WDT=$(abspath $(WDT)) tools/bench.sh
	@WDT=$(abspath $(WDT)) tools/bench-convert.sh

# README's sample blocks (<!-- sample: FIXTURE -->) rewritten from the
# output of the fixtures make demo uses; make check fails while they differ
# (tests/integration/t0008-readme-samples.sh).
readme-samples: deps
	@$(MAKE) --no-print-directory all
	@WDT=$(abspath $(WDT)) tools/readme-samples --update

# C sources formatted by the committed .clang-format: `make style` rewrites
# them, `make style-check` (part of make check) lists the files that differ.
# (not the fake kernel's sources: they are hashed into the fixture keys,
# and README shows the PDB GUID they build to)
STYLE_SRCS = $(filter-out tools/fake-kernel/%,$(shell git ls-files '*.c' '*.h' 2>/dev/null))
style:
	@command -v clang-format >/dev/null || { echo "wdt: clang-format not installed (make deps)" >&2; exit 1; }
	@clang-format -i $(STYLE_SRCS)

style-check:
	@command -v clang-format >/dev/null || { echo "wdt: clang-format not installed (make deps)" >&2; exit 1; }
	@bad=; for f in $(STYLE_SRCS); do clang-format "$$f" | cmp -s - "$$f" || bad="$$bad $$f"; done; \
	if [ -n "$$bad" ]; then echo "wdt: not formatted as .clang-format says (run make style):$$bad" >&2; exit 1; fi

lint-man:
	@for m in docs/*.1; do mandoc -T lint -W warning $$m || exit 1; done

# Man pages name docs/X.md as in the source tree; installed, they point
# where the docs are installed (DOCDIR).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(WDT) $(DESTDIR)$(BINDIR)/wdt
	for c in $$($(WDT) --list-commands); do \
		ln -sf wdt $(DESTDIR)$(BINDIR)/wdt-$$c; done
	for m in docs/*.1; do \
		sed 's|docs/\([A-Za-z0-9_-]*\.md\)|$(DOCDIR)/\1|g' $$m \
			>$(DESTDIR)$(MANDIR)/man1/$${m#docs/} && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man1/$${m#docs/} || exit 1; done
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 completion/wdt.bash $(DESTDIR)$(BASHCOMPDIR)/wdt
	for c in $$($(WDT) --list-commands); do \
		ln -sf wdt $(DESTDIR)$(BASHCOMPDIR)/wdt-$$c; done
	install -m 0644 completion/_wdt $(DESTDIR)$(ZSHCOMPDIR)/_wdt

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wdt $(DESTDIR)$(BINDIR)/wdt-*
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard docs/*.1)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(wildcard docs/*.md)))
	-rmdir $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(BASHCOMPDIR)/wdt $(DESTDIR)$(BASHCOMPDIR)/wdt-*
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_wdt

clean:
	rm -rf build/rel build/san build/libfuzzer build/demo build/bench

distclean:
	rm -rf build

# Build fragments of the fixture factory and other tools.
include $(sort $(wildcard tools/*.mk))

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
