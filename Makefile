# mlpipe: libml.a, libml.so and the ml* commands.
#   make [DEVELOPER=1] [SANITIZE=1] [V=1]; make test | fault | demo | bench | install | clean
#   (make fault: every allocation-failure sweep of tests/fault/, slow; make test runs a few)
#   make fuzz [FUZZ_S=N]: the libFuzzer harnesses of tests/fuzz, built with clang, N seconds each

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc

ifeq ($(SANITIZE),1)
OUT := build-san
BIN := build-san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
else
OUT := build
BIN := bin
SANFLAGS :=
OPT := -O2 -g
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

# Dependencies are checked (and installed when root) before anything else is read, so that
# pkg-config below sees them and parallel compiles never race the installer.
ifneq ($(if $(MAKECMDGOALS),$(filter-out clean,$(MAKECMDGOALS)),all),)
DEPS_STATUS := $(shell sh scripts/deps.sh $(if $(filter fuzz%,$(MAKECMDGOALS)),fuzz) >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing dependencies (see above))
endif
endif

PKGS := libcjson zlib openblas lapacke
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPENBLAS_VERSION := $(shell pkg-config --modversion openblas 2>/dev/null)

CPPFLAGS += -Iinclude -D_GNU_SOURCE -DML_OPENBLAS_VERSION='"$(OPENBLAS_VERSION)"'
ALL_CFLAGS := -std=c11 $(OPT) $(WARN) -fvisibility=hidden -pthread $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := -pthread $(SANFLAGS) -Wl,--as-needed $(LDFLAGS)
LIBS := -lcsv $(PKG_LIBS) -lm

LIB_SRC := $(sort $(wildcard lib/*/*.c lib/*/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/%.o)
# The shared library is built from position-independent objects of its own, so that the
# commands keep linking libml.a's objects as they are.
LIB_PIC := $(LIB_SRC:%.c=$(OUT)/pic/%.o)
SO_MAJOR := $(shell sed -n 's/^\#define ML_VERSION_MAJOR //p' include/ml/version.h)
SO_VERSION := $(shell sed -n 's/^\#define ML_VERSION "\(.*\)"/\1/p' include/ml/version.h)
SONAME := libml.so.$(SO_MAJOR)
CMD_SRC := $(sort $(filter-out cmd/main.c cmd/cli.c,$(wildcard cmd/ml*.c)))
CMDS := $(CMD_SRC:cmd/%.c=%)
CMD_BINS := $(CMDS:%=$(BIN)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(OUT)/unit/%)
# The fault build (tests/fault.bats): the commands relinked so that allocation N can be made to
# fail (libcsv and zlib linked in statically where their archives exist, for their allocations
# to count too), and the shims that fail writes or shorten reads, preloaded.
FAULT := $(OUT)/fault
FAULT_BINS := $(CMDS:%=$(FAULT)/%)
FAULT_SHIMS := $(patsubst tests/fault/%.c,$(FAULT)/%.so,$(filter-out tests/fault/failmalloc.c,$(wildcard tests/fault/*.c)))
FAULT_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=aligned_alloc,--wrap=posix_memalign
FAULT_STATIC := $(foreach l,csv z,$(if $(filter /%,$(shell $(CC) -print-file-name=lib$(l).a)),-l$(l)))
FAULT_LIBS := -Wl,-Bstatic $(FAULT_STATIC) -Wl,-Bdynamic $(filter-out $(FAULT_STATIC),$(LIBS))
# The fuzzing harnesses built by the ordinary compiler with a main() that replays files:
# make test runs their committed corpora and past findings through them.
REPLAY_BINS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS := $(REPLAY_BINS:tests/fuzz/fuzz_%.c=$(OUT)/fuzz/replay_%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps test unit fault fault-build demo bench install clean completions fuzz fuzz-build
.SECONDARY:
all: $(CMD_BINS) $(OUT)/libml.a $(OUT)/libml.so

deps:
	@:

# Library sources may include private headers across subsystems (lib/SUBSYSTEM/x.h); the
# commands see the public headers alone.
$(OUT)/lib/%.o $(OUT)/pic/lib/%.o: CPPFLAGS += -Ilib
# The network's, the Gaussian process's, k-means' and the ARIMA filter's elementwise loops
# are marked '#pragma omp simd' (vectorised at -O2 with no OpenMP runtime; exp through
# glibc's vector functions), and their sqrt needs no errno. A loop an optimiser leaves scalar (clang at
# the fuzzers' -O1) is still right: not a warning (GCC ignores the clang-only -Wno- option).
SIMD_FLAGS := -fopenmp-simd -fno-math-errno -Wno-pass-failed
$(OUT)/lib/learn/nn/%.o $(OUT)/pic/lib/learn/nn/%.o $(OUT)/lib/learn/gp/%.o \
$(OUT)/pic/lib/learn/gp/%.o $(OUT)/lib/learn/cluster/%.o \
$(OUT)/pic/lib/learn/cluster/%.o $(OUT)/lib/ts/arima_kalman.o \
$(OUT)/pic/lib/ts/arima_kalman.o: CPPFLAGS += $(SIMD_FLAGS)

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo '  CC      $<')
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OUT)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo '  CC -fPIC $<')
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(OUT)/libml.a: $(LIB_OBJ)
	$(if $(Q),@echo '  AR      $@')
	$(Q)rm -f $@ && ar rcs $@ $^

# Exports only what the public headers mark ML_API (scripts/check-exports.sh checks it).
$(OUT)/libml.so: $(LIB_PIC)
	$(if $(Q),@echo '  LINK    $@')
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# cli_spec.o in an archive of its own: linked only into the commands that parse learner or
# feature specifications, so that the others do not load BLAS and LAPACK at start-up.
$(OUT)/cmd/libclispec.a: $(OUT)/cmd/cli_spec.o
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/%: $(OUT)/cmd/%.o $(OUT)/cmd/main.o $(OUT)/cmd/cli.o $(OUT)/cmd/libclispec.a $(OUT)/libml.a
	@mkdir -p $(BIN)
	$(if $(Q),@echo '  LINK    $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(OUT)/cmd/$*.o $(OUT)/cmd/main.o $(OUT)/cmd/cli.o $(OUT)/cmd/libclispec.a $(OUT)/libml.a $(LIBS)

$(OUT)/unit/%: tests/unit/%.c $(OUT)/libml.a tests/unit/unit.h
	@mkdir -p $(OUT)/unit
	$(if $(Q),@echo '  CC      $@')
	$(Q)$(CC) $(CPPFLAGS) -Ilib $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(OUT)/libml.a $(LIBS)

$(OUT)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(OUT)/libml.a
	@mkdir -p $(OUT)/fuzz
	$(if $(Q),@echo '  CC      $@')
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(filter %.o,$^) \
		$(OUT)/libml.a $(LIBS)

unit: all $(UNIT_BINS)

$(FAULT)/%: $(OUT)/cmd/%.o $(OUT)/cmd/main.o $(OUT)/cmd/cli.o $(OUT)/cmd/libclispec.a $(OUT)/libml.a $(OUT)/tests/fault/failmalloc.o
	@mkdir -p $(FAULT)
	$(if $(Q),@echo '  LINK    $@')
	$(Q)$(CC) $(ALL_LDFLAGS) $(FAULT_WRAP) -o $@ $(OUT)/cmd/$*.o $(OUT)/cmd/main.o $(OUT)/cmd/cli.o $(OUT)/cmd/libclispec.a $(OUT)/libml.a $(OUT)/tests/fault/failmalloc.o $(FAULT_LIBS)

# Preloaded into any build, so never instrumented themselves.
$(FAULT)/%.so: tests/fault/%.c
	@mkdir -p $(FAULT)
	$(if $(Q),@echo '  CC      $@')
	$(Q)$(CC) -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE -shared -fPIC -o $@ $< -ldl

fault-build: all $(FAULT_BINS) $(FAULT_SHIMS)

# make test sweeps about 6 values of N per run (tests/fault.bats); this sweeps every N, with
# N failing alone and with every later allocation failing (tests/fault/RESULTS.md).
fault: fault-build
	@sh tests/fault/sweep-all.sh -a $(FAULT)

test: all $(UNIT_BINS) $(REPLAY_BINS) fault-build
	@ML_BIN=$(BIN) ML_UNIT=$(OUT)/unit ML_SO=$(OUT)/libml.so ML_FAULT=$(FAULT) ML_FUZZ=$(OUT)/fuzz sh tests/run.sh

demo: all
	@ML_BIN=$(BIN) sh scripts/demo.sh

bench: all
	@ML_BIN=$(BIN) sh bench/run.sh
	@ML_BIN=$(BIN) sh bench/linear.sh
	@ML_BIN=$(BIN) sh bench/feat.sh

completions: all
	@ML_BIN=$(BIN) sh scripts/completions.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/ml \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(CMD_BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	for c in $(CMDS); do install -m 644 completions/mlpipe.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$c; done
	install -m 644 completions/_mlpipe $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mlpipe
	install -m 644 include/ml/*.h $(DESTDIR)$(PREFIX)/include/ml/
	install -m 644 $(OUT)/libml.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(OUT)/libml.so $(DESTDIR)$(PREFIX)/lib/libml.so.$(SO_VERSION)
	ln -sf libml.so.$(SO_VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libml.so

# Fuzzing: libml compiled again by clang with libFuzzer's coverage, ASan and UBSan into
# build-fuzz/ (the gcc build is left alone), one binary per tests/fuzz/fuzz_NAME.c, each
# run FUZZ_S seconds from its committed corpus (new inputs go to build-fuzz/corpus/NAME).
FUZZ_S ?= 30
FUZZ_CC ?= clang
FUZZ_OUT := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -pthread $(FUZZ_SAN) $(PKG_CFLAGS) $(CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_OUT)/%.o)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_OUT)/%)

$(FUZZ_OUT)/lib/learn/nn/%.o $(FUZZ_OUT)/lib/learn/gp/%.o \
$(FUZZ_OUT)/lib/learn/cluster/%.o $(FUZZ_OUT)/lib/ts/arima_kalman.o: CPPFLAGS += $(SIMD_FLAGS)

$(FUZZ_OUT)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo '  FUZZCC  $<')
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -Ilib $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_OUT)/libml.a: $(FUZZ_LIB_OBJ)
	$(if $(Q),@echo '  AR      $@')
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_OUT)/cmd/%.o: cmd/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo '  FUZZCC  $<')
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# A harness of a command's arguments links the command and cli.o (fuzz_mleval).
$(FUZZ_OUT)/fuzz_mleval: $(FUZZ_OUT)/cmd/mleval.o $(FUZZ_OUT)/cmd/cli.o
$(OUT)/fuzz/replay_mleval: $(OUT)/cmd/mleval.o $(OUT)/cmd/cli.o

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libml.a
	$(if $(Q),@echo '  FUZZLD  $@')
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) \
		$(FUZZ_OUT)/libml.a -pthread $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_S) $(FUZZ_BINS:$(FUZZ_OUT)/fuzz_%=%)

clean:
	rm -rf build build-san build-fuzz bin

-include $(LIB_OBJ:.o=.d) $(LIB_PIC:.o=.d) $(wildcard $(OUT)/cmd/*.d $(OUT)/unit/*.d \
	$(OUT)/tests/fault/*.d $(FUZZ_OUT)/lib/*/*.d $(FUZZ_OUT)/lib/*/*/*.d $(FUZZ_OUT)/cmd/*.d)
