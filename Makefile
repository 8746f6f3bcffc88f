# PGXS build of session_persist: `make`, `make install`, `make installcheck`.
# scripts/test runs everything (unit, regression, isolation, TAP) in a throwaway cluster.

EXTENSION  = session_persist
MODULE_big = session_persist
EXTVERSION = 1.1

# src/core: pure C++ (no PostgreSQL); src/boundary: the PostgreSQL boundary (headers, guards,
# SPI, catalog, settings); src/storage: how rows are written and read; src/functions: the SQL
# entry points by feature.
SRC_DIRS = src/core src/boundary src/storage src/functions
SRCS = $(sort $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.cpp)))
OBJS = $(SRCS:.cpp=.o)

# The current version's install script is assembled from one fragment per concern
# (sql/install/NN_*.sql). Released versions' scripts are frozen in sql/released/ and never
# change; each later change ships in an upgrade script, sql/upgrade/<ext>--A--B.sql, as well
# as in the fragments (test/t/005_upgrade.pl checks that both give the same extension).
INSTALL_FRAGMENTS = $(sort $(wildcard sql/install/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(sort $(wildcard sql/released/*.sql sql/upgrade/*.sql))

# Every test/sql/<feature>.sql is a regression test (test/expected/<feature>.out its output;
# test/sql/refusal.sql is their shared helper); the extension is preloaded in the test database.
REGRESS = $(filter-out refusal,$(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation --load-extension=$(EXTENSION)

# TAP tests (test/t) start their own servers, so they run apart from installcheck, as a
# non-root user: `make tapcheck` (scripts/test does that).
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -Isrc -Isrc/boundary -Isrc/storage -Isrc/functions
# One set of C++ flags for every build of the code (PGXS here, CMake's unit tests, the fuzz
# targets): ./cxxflags. -Wno-register: PostgreSQL's headers use the register keyword.
SP_CXXFLAGS := $(shell cat $(dir $(firstword $(MAKEFILE_LIST)))cxxflags)
PG_CXXFLAGS = $(SP_CXXFLAGS) -Wno-register $(SP_EXTRA_CXXFLAGS)
SHLIB_LINK  = -lstdc++ $(SP_EXTRA_LDFLAGS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The LLVM bitcode for JIT inlining is built by clang, which needs the same dialect.
override BITCODE_CXXFLAGS += -std=c++17 -Wno-register -Wno-deprecated-register

# C++ headers are not tracked by PGXS; rebuild everything when one changes.
$(OBJS): $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.hpp))

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_FRAGMENTS)
	cat $^ > $@

tapcheck:
	$(prove_installcheck)

.PHONY: tapcheck
