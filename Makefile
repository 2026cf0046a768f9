# cpd: a file copy daemon on io_uring, and its client.
#
#   make            build ./cpd and ./cpd-client
#   make run        install missing Debian packages, build, run the daemon in the foreground
#   make check      install missing Debian packages, build, run every test
#   make check SANITIZE=1   the same under ASan+UBSan (built in build-san/)
#   make install PREFIX=/usr/local DESTDIR=...   (installs missing build packages, builds)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/cpd
SYSCONFDIR ?= /etc
UNITDIR	?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
COMPLETIONDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)

CC	?= gcc
PKGS	:= liburing libsystemd libconfig json-c inih libxxhash
# pkg-config is asked when a recipe first needs the flags, once, not when
# make reads this file: `make run` and `make check` read it before their
# deps step has installed pkg-config and the -dev packages, and flags
# read then would be empty (undefined references at the link, on the
# first run only). UNITDIR and COMPLETIONDIR above are recursive (?=) for
# the same reason. A build without the packages stops with a message.
pkg_once = $(eval $1 := $$(call pkg_query,$2))$($1)
pkg_query = $(if $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo y),$(shell pkg-config $1),$(error \
	pkg-config finds no $(PKGS): Debian packages are missing. `sudo make deps` installs them; \
	`sudo make run` and `sudo make check` do it first))
PKG_CFLAGS = $(call pkg_once,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS_D = $(call pkg_once,PKG_LIBS_D,--libs liburing libsystemd libconfig json-c libxxhash)
PKG_LIBS_C = $(call pkg_once,PKG_LIBS_C,--libs json-c inih)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter \
	   -Iinclude -D_GNU_SOURCE -DCPD_SYSCONFDIR='"$(SYSCONFDIR)"' $(PKG_CFLAGS)
LDLIBS_D = $(PKG_LIBS_D) -lpthread
LDLIBS_C = $(PKG_LIBS_C)

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

# Only what building needs (make install).
build-deps:
	@bash tests/deps.sh --build

# run, check and install build in a second make, started after the
# packages are installed: that make reads this file anew, with
# pkg-config there. (Prerequisites would not do: make -j builds them
# beside deps, not after it.)
run: deps
	$(MAKE) all
	$(BIN)/cpd

check: deps
	$(MAKE) all units
	CPD_BIN=$(abspath $(BIN)) CPD_UNIT_DIR=$(abspath $(B)/tests) bash tests/run.sh

clean:
	rm -rf build build-san cpd cpd-client

# Every file make install writes, relative to DESTDIR; make uninstall
# removes exactly these (configuration files only if unmodified).
INSTALLED = $(SBINDIR)/cpd $(BINDIR)/cpd-client \
	$(UNITDIR)/cpd.service $(UNITDIR)/cpd.socket \
	$(MANDIR)/man8/cpd.8 $(MANDIR)/man1/cpd-client.1 $(MANDIR)/man5/cpd.conf.5 \
	$(MANDIR)/man7/cpd-varlink.7 $(COMPLETIONDIR)/cpd-client \
	$(DOCDIR)/examples/cpd-backup.sh $(DOCDIR)/examples/cpd-backup.service \
	$(DOCDIR)/examples/cpd-backup.timer $(DOCDIR)/io.cpd.Manager.varlink

install: build-deps
	$(MAKE) all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/cpd $(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(DOCDIR)/examples \
	    $(addprefix $(DESTDIR)$(MANDIR)/man,1 5 7 8)
	install -m 755 cpd $(DESTDIR)$(SBINDIR)/cpd
	install -m 755 cpd-client $(DESTDIR)$(BINDIR)/cpd-client
	for u in cpd.service cpd.socket; do \
	    sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	install -m 644 man/cpd.8 $(DESTDIR)$(MANDIR)/man8/cpd.8
	install -m 644 man/cpd-client.1 $(DESTDIR)$(MANDIR)/man1/cpd-client.1
	install -m 644 man/cpd.conf.5 $(DESTDIR)$(MANDIR)/man5/cpd.conf.5
	install -m 644 man/cpd-varlink.7 $(DESTDIR)$(MANDIR)/man7/cpd-varlink.7
	install -m 644 conf/bash-completion/cpd-client $(DESTDIR)$(COMPLETIONDIR)/cpd-client
	install -m 755 conf/examples/cpd-backup.sh $(DESTDIR)$(DOCDIR)/examples/cpd-backup.sh
	install -m 644 conf/examples/cpd-backup.service conf/examples/cpd-backup.timer \
	    $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 include/io.cpd.Manager.varlink $(DESTDIR)$(DOCDIR)/io.cpd.Manager.varlink
	@# An administrator's configuration is never overwritten.
	for f in cpd.conf client.conf; do \
	    [ -e $(DESTDIR)$(SYSCONFDIR)/cpd/$$f ] || \
	        install -m 644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/cpd/$$f; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for f in cpd.conf client.conf; do \
	    cmp -s conf/$$f $(DESTDIR)$(SYSCONFDIR)/cpd/$$f && rm -f $(DESTDIR)$(SYSCONFDIR)/cpd/$$f; \
	done; rmdir $(DESTDIR)$(SYSCONFDIR)/cpd $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# The list make install writes, for tests/integration/install.sh.
print-installed:
	@echo $(INSTALLED) $(SYSCONFDIR)/cpd/cpd.conf $(SYSCONFDIR)/cpd/client.conf

.PHONY: all units deps build-deps run check clean install uninstall print-installed

-include $(DAEMON_OBJS:.o=.d) $(CLIENT_OBJS:.o=.d)

# ---- Fuzzing: see tests/fuzz/README.md ----
#   make fuzz                        build build-fuzz/fuzz_varlink (clang, libFuzzer, ASan, UBSan)
#   make fuzz-run FUZZ_SECONDS=60    fuzz a copy of the seed corpus that long (CI)
#   make fuzz-run FUZZ_SECONDS=3600  a long run; FUZZ_ARGS adds libFuzzer options
# The daemon sources the harness needs are compiled into it with clang;
# tests/fuzz/stubs.c stands in for control, the job registry, journal,
# loop, engine and cred; the request, the Job object and the watchers
# are the daemon's own.
FUZZ_CC		?= clang
FUZZ_B		:= build-fuzz
FUZZ_SECONDS	?= 60
FUZZ_ARGS	?=
FUZZ_CFLAGS	= -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	   -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	   -Wall -Wextra -Wshadow -Wno-unused-parameter \
	   -Iinclude -Idaemon -Itests/fuzz -D_GNU_SOURCE -DCPD_SYSCONFDIR='"$(SYSCONFDIR)"' $(PKG_CFLAGS)
FUZZ_LIBS	= $(call pkg_once,FUZZ_LIBS,--libs json-c libconfig)
FUZZ_SRCS	:= tests/fuzz/fuzz_varlink.c tests/fuzz/stubs.c \
	   $(addprefix daemon/,varlink.c manager.c watch.c request.c view.c path.c config.c log.c \
	   filter.c change.c) \
	   $(FUZZ_B)/daemon/interface.c
FUZZ_RUN_ARGS	= -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -timeout=10 \
	   -rss_limit_mb=2048 -dict=tests/fuzz/varlink.dict -print_final_stats=1 \
	   -artifact_prefix=$(FUZZ_B)/ $(FUZZ_ARGS)

# As run and check: the harness is built by a make started after the
# packages are installed, so that its pkg-config flags are read then.
fuzz: fuzz-deps
	$(MAKE) $(FUZZ_B)/fuzz_varlink

fuzz-deps:
	@bash tests/deps.sh --build
	@bash tests/fuzz/deps.sh

$(FUZZ_B)/fuzz_varlink: $(FUZZ_SRCS) tests/fuzz/fuzz.h $(wildcard include/*.h daemon/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(FUZZ_LIBS)

$(FUZZ_B)/daemon/interface.c: include/io.cpd.Manager.varlink
	@mkdir -p $(dir $@)
	{ echo 'const char varlink_interface_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

# The full log goes to build-fuzz/fuzz.log; shown here: the summary, or
# its end on a finding (exit status non-zero, reproducer in build-fuzz/).
fuzz-run: fuzz
	@mkdir -p $(FUZZ_B)/corpus
	cp tests/fuzz/corpus/* $(FUZZ_B)/corpus/
	@echo "fuzz: $(FUZZ_SECONDS) s on $(FUZZ_B)/corpus, log in $(FUZZ_B)/fuzz.log"
	@rc=0; ./$(FUZZ_B)/fuzz_varlink $(FUZZ_RUN_ARGS) $(FUZZ_B)/corpus \
	    >$(FUZZ_B)/fuzz.log 2>&1 || rc=$$?; \
	grep -E '^#[0-9]+ +(INITED|DONE)|^stat::|^Done [0-9]+ runs' $(FUZZ_B)/fuzz.log; \
	if [ $$rc -ne 0 ]; then \
	    tail -n 80 $(FUZZ_B)/fuzz.log; \
	    echo "fuzz: FINDING (exit $$rc); reproduce with ./$(FUZZ_B)/fuzz_varlink FILE, FILE named above"; \
	fi; exit $$rc

clean-fuzz:
	rm -rf $(FUZZ_B)

.PHONY: fuzz fuzz-deps fuzz-run clean-fuzz
