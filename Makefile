# cadence: PGXS build, tests and benchmarks.
#
#   make              build cadence.so and the install script
#   make install      install them into the PostgreSQL that pg_config names
#   make demo         set everything up and show cadence at work (README)
#   make test         set everything up and run every test (README)
#   make bench        print throughput figures
#   make chaos        the chaos test at its large size, with its figures

EXTENSION    = cadence
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" cadence.control)

MODULE_big   = cadence
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

# The install script is assembled from the numbered parts in schema/.
SCHEMA_PARTS = $(sort $(wildcard schema/*.sql))
DATA_built   = cadence--$(EXTVERSION).sql

# pg_regress: every sql/*.sql, in the order of their numeric prefixes.
REGRESS      = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=cadence

PG_CPPFLAGS  = -Isrc -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               -DCADENCE_VERSION='"$(EXTVERSION)"'
SHLIB_LINK   = -lcurl -lcrypto

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

cadence--$(EXTVERSION).sql: $(SCHEMA_PARTS) cadence.control
	cat $(SCHEMA_PARTS) > $@

$(OBJS): $(wildcard src/*.h src/*/*.h)

.PHONY: demo test bench chaos format
demo:
	test/setup
	demo/run

test:
	test/setup
	test/run

bench:
	test/setup
	bench/run

chaos:
	test/setup
	test/chaos/cluster test/chaos/run large

format:
	clang-format -i src/*.c src/*.h src/*/*.c src/*/*.h
