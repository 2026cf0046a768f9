# cpd: a file copy daemon on io_uring, and its client.
#
#   make            build ./cpd and ./cpd-client
#   make run        install missing Debian packages, build, run the daemon in the foreground
#   make check      install missing Debian packages, build, run every test
#   make check SANITIZE=1   the same under ASan+UBSan (built in build-san/)
#   make install PREFIX=/usr/local DESTDIR=...

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CC	?= gcc
PKGS	:= liburing libsystemd libconfig json-c inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS_D := $(shell pkg-config --libs liburing libsystemd libconfig json-c 2>/dev/null)
PKG_LIBS_C := $(shell pkg-config --libs json-c inih 2>/dev/null)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter \
	   -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS)
LDLIBS_D := $(PKG_LIBS_D) -lpthread
LDLIBS_C := $(PKG_LIBS_C)

ifeq ($(SANITIZE),1)
B	:= build-san
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
BIN	:= $(B)
else
B	:= build
BIN	:= .
endif

DAEMON_SRCS := $(wildcard daemon/*.c)
CLIENT_SRCS := $(wildcard client/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/%.o) $(B)/daemon/interface.o
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(B)/%.o)

# Unit tests: tests/unit/test_NAME.c links the daemon's or client's objects
# (minus main.o) with cmocka.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: $(BIN)/cpd $(BIN)/cpd-client

$(BIN)/cpd: $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D)

$(BIN)/cpd-client: $(CLIENT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_C)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The interface description is served verbatim by GetInterfaceDescription.
$(B)/daemon/interface.c: include/io.cpd.Manager.varlink
	@mkdir -p $(dir $@)
	{ echo 'const char varlink_interface_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(B)/tests/test_client_%: tests/unit/test_client_%.c $(filter-out $(B)/client/main.o,$(CLIENT_OBJS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iclient $(LDFLAGS) -o $@ $^ $(LDLIBS_C) -lcmocka

$(B)/tests/test_%: tests/unit/test_%.c $(filter-out $(B)/daemon/main.o,$(DAEMON_OBJS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idaemon $(LDFLAGS) -o $@ $^ $(LDLIBS_D) -lcmocka

units: $(UNIT_BINS)

deps:
	@bash tests/deps.sh

run: deps all
	./cpd -d

check: deps all units
	CPD_BIN=$(abspath $(BIN)) CPD_UNIT_DIR=$(abspath $(B)/tests) bash tests/run.sh

clean:
	rm -rf build build-san cpd cpd-client

.PHONY: all units deps run check clean install uninstall

-include $(DAEMON_OBJS:.o=.d) $(CLIENT_OBJS:.o=.d)
