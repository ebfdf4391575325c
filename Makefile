# cadence: PGXS build, tests, packages and benchmarks.
#
#   make              build cadence.so and the install and upgrade scripts
#   make install      install them into the PostgreSQL that pg_config names
#   make demo         set everything up and show cadence at work (README)
#   make test         set everything up and run every test (README);
#                     PGV=17 runs them on PostgreSQL 17 (see below)
#   make test-deb     build the Debian package and test it installed (PGV too)
#   make test-citus   test on a Citus cluster of three instances (builds Citus)
#   make bench        print throughput figures
#   make chaos        the chaos test at its large size, with its figures

EXTENSION    = cadence
# Where the sources are: here, or elsewhere when pg_buildext builds in a
# directory of its own (make -f <checkout>/Makefile VPATH=<checkout>).
srcroot     := $(patsubst %/,%,$(dir $(firstword $(MAKEFILE_LIST))))
EXTVERSION  := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(srcroot)/cadence.control)

MODULE_big   = cadence
OBJS         = $(patsubst $(srcroot)/%.c,%.o,$(sort $(wildcard $(srcroot)/src/*.c $(srcroot)/src/*/*.c)))

# The install script is schema/tables/*.sql (what holds data: the schema,
# tables, indexes), then the code parts (functions, triggers, policies,
# grants, comments) in the order of their names: schema/code/internal/
# (what only the extension's owner runs), schema/code/api/ (what
# grant_access lets application roles call) and schema/code/admin/ (what a
# DBA calls); a concern's internals come before its API, under the same
# name.  The upgrade script from an
# earlier version A is schema/upgrade/A--$(EXTVERSION).sql, written by hand
# (the changes to the tables since A, and drops of code that went away or
# changed its signature), followed by the same code parts, so that no
# function is written twice.  The scripts of released versions are kept as
# they were built, in schema/released/.
TABLE_PARTS  = $(sort $(wildcard $(srcroot)/schema/tables/*.sql))
CODE_NAMES   = $(sort $(notdir $(wildcard $(srcroot)/schema/code/*/*.sql)))
CODE_PARTS   = $(foreach n,$(CODE_NAMES),$(wildcard \
                 $(foreach d,internal api admin,$(srcroot)/schema/code/$(d)/$(n))))
UPGRADES     = $(patsubst $(srcroot)/schema/upgrade/%.sql,cadence--%.sql,\
                 $(wildcard $(srcroot)/schema/upgrade/*--$(EXTVERSION).sql))
DATA         = $(patsubst $(srcroot)/%,%,$(wildcard $(srcroot)/schema/released/*.sql))
DATA_built   = cadence--$(EXTVERSION).sql $(UPGRADES)

# pg_regress, in two runs (installcheck, below): test/regress/sql/*.sql,
# and test/regress-mock/sql/*.sql, which send to the mock provider; each
# in the order of their numeric prefixes, against the expected/*.out
# beside them.
REGRESS      = $(basename $(notdir $(sort $(wildcard $(srcroot)/test/regress/sql/*.sql))))
REGRESS_MOCK = $(basename $(notdir $(sort $(wildcard $(srcroot)/test/regress-mock/sql/*.sql))))
REGRESS_OPTS = --load-extension=cadence
NO_INSTALLCHECK = 1

PG_CPPFLAGS  = -I$(srcroot)/src -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               -DCADENCE_VERSION='"$(EXTVERSION)"'
SHLIB_LINK   = -lcurl -lcrypto

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

ifdef VPATH
# Objects go to src/ and its folders in the build directory.
$(shell mkdir -p $(sort $(dir $(OBJS))))
endif

# Both regress runs, each with its results and regression.diffs in a
# folder of results/; the second with the mock provider, which
# test/mock/around starts unless one is listening already.  Fails when
# either run does.
pg_regress_run = $(top_builddir)/src/test/regress/pg_regress --bindir='$(bindir)' \
                 $(pg_regress_locale_flags) $(EXTRA_REGRESS_OPTS) $(REGRESS_OPTS)
installcheck:
	mkdir -p results/regress results/regress-mock
	status=0; \
	$(pg_regress_run) --inputdir=$(srcroot)/test/regress \
		--outputdir=results/regress $(REGRESS) || status=1; \
	$(srcroot)/test/mock/around $(pg_regress_run) \
		--inputdir=$(srcroot)/test/regress-mock --outputdir=results/regress-mock \
		$(REGRESS_MOCK) || status=1; \
	exit $$status

cadence--$(EXTVERSION).sql: $(TABLE_PARTS) $(CODE_PARTS) $(srcroot)/cadence.control
	cat $(TABLE_PARTS) $(CODE_PARTS) > $@

cadence--%.sql: $(srcroot)/schema/upgrade/%.sql $(CODE_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard $(srcroot)/src/*.h $(srcroot)/src/*/*.h)
# CADENCE_VERSION comes from cadence.control: a new version rebuilds all.
$(OBJS): $(srcroot)/cadence.control

# The PostgreSQL major that make test and make test-deb use.  Each major is
# taken from the Debian release that carries it (test/releases): on this
# system when it is that release, else in a root of that release that
# test/in-root makes with debootstrap and caches.
PGV         ?= 15
HOST_RELEASE := $(shell sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)
PGV_RELEASE  := $(shell awk '$$1 == "$(PGV)" { print $$2 }' $(srcroot)/test/releases)

.PHONY: demo test test-deb test-citus bench chaos format
demo:
	test/setup
	demo/run

test:
ifeq ($(PGV_RELEASE),)
	$(error test/releases names no Debian release for PostgreSQL $(PGV))
else ifeq ($(PGV_RELEASE),$(HOST_RELEASE))
	PGV=$(PGV) test/setup
	PGV=$(PGV) test/run
else
	test/in-root $(PGV_RELEASE) make test PGV=$(PGV)
endif

test-deb:
ifeq ($(PGV_RELEASE),)
	$(error test/releases names no Debian release for PostgreSQL $(PGV))
else
	test/in-root $(PGV_RELEASE) env PGV=$(PGV) test/deb
endif

test-citus:
	test/setup
	test/citus/run

bench:
	test/setup
	bench/run

chaos:
	test/setup
	test/chaos/cluster test/chaos/run large

format:
	clang-format -i src/*.c src/*.h src/*/*.c src/*/*.h
