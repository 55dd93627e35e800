# mailseal - e-mail encryption gateway as small Unix filters.
#
#   make              build every program into $(BUILD)/bin
#   make check        install missing Debian packages, build, run all tests
#   make check SANITIZE=1    the same with ASan + UBSan (a separate build)
#   make fuzz         build the libFuzzer targets; make fuzz-run runs them
#   make bench        measurements next to the tools a user would use instead
#   make demo         the gateway on a built-in example
#   make install      PREFIX=/usr/local DESTDIR= (make uninstall: the same)
#   make deb          a Debian package in $(BUILD)/deb (debian/, debhelper)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/lib/mailseal
SHAREDIR ?= $(PREFIX)/share/mailseal
MANDIR ?= $(PREFIX)/share/man
STORE_DEFAULT ?= /var/lib/mailseal
VERSION = 0.1

CC ?= cc
CFLAGS ?= -O2 -g
SANITIZE ?=
FUZZ_SECONDS ?= 0

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS =
endif

PKGS_ALL = openssl gpgme gmime-3.0 glib-2.0 libpcre2-8 libcurl libqpdf \
	libsodium popt libzip libxml-2.0 pangocairo cairo jansson gumbo
# -isystem keeps warnings from library headers out of -Werror
pkg_cflags = $(shell pkg-config --cflags $(1) | sed 's/-I/-isystem /g')
pkg_libs = $(shell pkg-config --libs $(1))
# STATIC=0 links every library dynamically (scripts/link-libs says why the
# default links GMime and GLib statically)
STATIC ?= 1
ifeq ($(STATIC),1)
STATIC_PKGS = gmime-3.0 glib-2.0 popt libsodium gpgme gpg-error
else
STATIC_PKGS =
endif
# programs that get GLib through another shared library as well (pango)
# link everything dynamically: two copies of GObject in one process
# would each keep their own type registry
DYNAMIC_PROGRAMS = pdfwrap
link_libs = $(shell sh scripts/link-libs "$(CC)" \
	"$(if $(filter $(2),$(DYNAMIC_PROGRAMS)),,$(STATIC_PKGS))" -- $(1))

WARN = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wmissing-prototypes -Wstrict-prototypes -Wvla -Wnull-dereference \
	-Wimplicit-fallthrough
# the DLP loads libzip and libxml2 only when an archive needs them
# (common/dlp/dlp-extract.c): the sonames of the libraries compiled against
lib_soname = $(shell objdump -p "$$($(CC) -print-file-name=lib$(1).so)" \
	2>/dev/null | sed -n 's/^ *SONAME *//p')
DLP_SONAMES := -DDLP_LIBZIP_SONAME='"$(call lib_soname,zip)"' \
	-DDLP_LIBXML2_SONAME='"$(call lib_soname,xml2)"'
DEFS = -D_GNU_SOURCE -DMAILSEAL_VERSION='"$(VERSION)"' \
	-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED $(DLP_SONAMES)
# the installation's directories reach one object only (common/base/
# paths.c); PATHS_STAMP records them, and when a make names others
# (make install PREFIX=X after make) that object is rebuilt and every
# program relinked, so no program keeps a directory of an earlier build
PATH_DEFS = -DMAILSEAL_STORE_DEFAULT='"$(STORE_DEFAULT)"' \
	-DMAILSEAL_SHAREDIR='"$(SHAREDIR)"'
PATHS_STAMP = $(BUILD)/paths.stamp
ALL_CFLAGS = -std=gnu11 $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(WARN) $(DEFS) \
	$(COMMON_INC) $(call pkg_cflags,$(PKGS_ALL))
LDFLAGS ?=
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -Wl,--as-needed

# common/ is one folder per subsystem (scripts/check-layers says which
# may include which); headers are included by their bare names
COMMON_DIRS = $(sort $(dir $(wildcard common/*/*.h)))
COMMON_INC = $(addprefix -iquote ,$(COMMON_DIRS:/=))
COMMON_HDR = $(wildcard common/*/*.h)
COMMON_SRC = $(wildcard common/*/*.c)
COMMON_OBJ = $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRC))
LIB = $(BUILD)/libmailseal.a

# programs and the libraries each one links
PROGRAMS = certstore smime-ca smime-enc smime-dec smime-sign smime-verify \
	crl-sync \
	pgp-keys pgp-enc pgp-dec pgp-sign pgp-verify route-recipient \
	mailseal-filter dlp-scan pdfwrap pdfwrap-otp pdfwrap-reply \
	sms-send mailseal-check mailseal-audit mailseal-init mailseal-expiry
LIBS_mailseal-audit = openssl glib-2.0 popt libsodium
LIBS_certstore = openssl glib-2.0 popt libsodium jansson
LIBS_smime-ca = openssl glib-2.0 popt libsodium jansson
LIBS_smime-enc = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_smime-dec = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_smime-sign = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_smime-verify = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_pgp-keys = gpgme gpg-error openssl glib-2.0 popt libsodium libcurl \
	jansson
LIBS_pgp-enc = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_pgp-dec = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_pgp-sign = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_pgp-verify = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium
LIBS_route-recipient = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt \
	libsodium
LIBS_mailseal-filter = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt \
	libsodium libpcre2-8 gumbo
# objects linked into a program besides its own: with GMime and GIO linked
# statically, mailseal-filter (started for every message) loads libmount,
# libselinux and libidn2 only when they are called (common/main/lazylib.c)
ifeq ($(STATIC),1)
OBJS_mailseal-filter = $(BUILD)/common/main/lazylib.o
endif
LIBS_crl-sync = openssl glib-2.0 popt libsodium libcurl
LIBS_dlp-scan = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium \
	libpcre2-8 gumbo
LIBS_pdfwrap-otp = openssl glib-2.0 popt libsodium
LIBS_sms-send = openssl glib-2.0 popt libsodium libcurl
LIBS_pdfwrap = gpgme gpg-error openssl gmime-3.0 glib-2.0 popt libsodium pangocairo cairo \
	libqpdf jansson gumbo
LIBS_pdfwrap-reply = openssl glib-2.0 popt libsodium jansson
LIBS_mailseal-init = gpgme gpg-error openssl glib-2.0 popt libsodium
LIBS_mailseal-check = gpgme gpg-error openssl glib-2.0 popt libsodium
LIBS_mailseal-expiry = gpgme gpg-error openssl glib-2.0 popt libsodium \
	jansson

BINS = $(addprefix $(BUILD)/bin/,$(PROGRAMS))
# installed into SBINDIR: the programs an administrator runs on the store
# (as root or its owner), never Postfix; the filters, which Postfix,
# procmail or sieve run and which find each other in one directory
# (run_bindir: mailseal-filter runs pdfwrap, dlp-scan runs
# mailseal-filter), go to BINDIR (README, "The Debian package")
ADMIN_PROGRAMS = certstore smime-ca pgp-keys crl-sync sms-send \
	mailseal-init mailseal-check mailseal-audit mailseal-expiry \
	pdfwrap-otp pdfwrap-reply
FILTER_PROGRAMS = $(filter-out $(ADMIN_PROGRAMS),$(PROGRAMS))

UNIT_SRC = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
LIBS_unit = openssl gmime-3.0 glib-2.0 popt libsodium gpgme gpg-error libcurl \
	libpcre2-8 libzip libxml-2.0 pangocairo cairo libqpdf jansson gumbo

MANPAGES = $(wildcard man/*.[1-8])

.PHONY: all check unit bats layers manlint deps fuzz fuzz-run bench demo \
	install uninstall deb clean FORCE
all: $(BINS)

$(BUILD)/common/%.o: common/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OBJECT_DEFS) -c -o $@ $<

$(BUILD)/common/base/paths.o: OBJECT_DEFS = $(PATH_DEFS)
$(BUILD)/common/base/paths.o: $(PATHS_STAMP)
# the sonames of the libraries compiled against (see lib_soname)
$(BUILD)/common/main/lazylib.o: OBJECT_DEFS = \
	-DLAZY_LIBMOUNT_SONAME='"$(call lib_soname,mount)"' \
	-DLAZY_LIBSELINUX_SONAME='"$(call lib_soname,selinux)"' \
	-DLAZY_LIBIDN2_SONAME='"$(call lib_soname,idn2)"'

# rewritten only when the directories differ from the recorded ones
$(PATHS_STAMP): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' "$(STORE_DEFAULT)" "$(SHAREDIR)" >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

FORCE:

$(LIB): $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $^

# kept: a relink (another PREFIX) needs no recompilation of the programs
.SECONDARY: $(patsubst %,$(BUILD)/cmd/%.o,$(PROGRAMS))
$(BUILD)/cmd/%.o: cmd/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/bin/%: $(BUILD)/cmd/%.o $$(OBJS_$$*) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(OBJS_$*) $(LIB) \
		$(call link_libs,$(LIBS_$*),$*)

$(BUILD)/unit/%: tests/unit/%.c $(LIB) $(COMMON_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) \
		$(call pkg_libs,$(LIBS_unit))

deps:
	@sh scripts/install-deps

check: deps
	$(MAKE) all unit-bins
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		sh tests/run

unit-bins: $(UNIT_BINS)

# common/'s layering: no folder includes one of its rank or above, no
# include circles (scripts/check-layers)
layers:
	@sh scripts/check-layers

manlint:
	@for m in $(MANPAGES); do mandoc -Tlint -W warning $$m || exit 1; done

# libFuzzer targets, built with clang into their own directory
FUZZ_BUILD = build-fuzz
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	$(WARN) $(DEFS) $(COMMON_INC) $(call pkg_cflags,$(PKGS_ALL))
FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
# lazylib.c is linked into mailseal-filter alone (OBJS_mailseal-filter)
FUZZ_OBJ = $(patsubst common/%.c,$(FUZZ_BUILD)/common/%.o, \
	$(filter-out common/main/lazylib.c,$(COMMON_SRC)))

# kept between runs (make would delete them as intermediate files)
.SECONDARY: $(FUZZ_OBJ)
$(FUZZ_BUILD)/common/%.o: common/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(OBJECT_DEFS) -c -o $@ $<

$(FUZZ_BUILD)/common/base/paths.o: OBJECT_DEFS = $(PATH_DEFS)
$(FUZZ_BUILD)/common/base/paths.o: $(PATHS_STAMP)

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
		$(call pkg_libs,$(LIBS_unit))

fuzz: deps
	$(MAKE) $(FUZZ_BINS)

fuzz-run: fuzz
	@sh tests/fuzz/run $(FUZZ_BUILD) $(if $(filter-out 0,$(FUZZ_SECONDS)),$(FUZZ_SECONDS),30)

bench: deps
	$(MAKE) all
	@BUILD=$(BUILD) sh scripts/bench

demo: deps
	$(MAKE) all
	@BUILD=$(BUILD) sh scripts/demo

# what make install puts where; make uninstall removes the same files
# and then the directories that are mailseal's own, when empty
INSTALL_MAN = $(foreach m,$(MANPAGES),\
	$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
installed = $(addprefix $(1)/,$(notdir $(wildcard $(2))))
INSTALL_FILES = $(addprefix $(BINDIR)/,$(FILTER_PROGRAMS)) \
	$(addprefix $(SBINDIR)/,$(ADMIN_PROGRAMS)) $(INSTALL_MAN) \
	$(call installed,$(SHAREDIR)/examples,scripts/examples/*) \
	$(call installed,$(SHAREDIR)/policies,share/policies/*) \
	$(call installed,$(SHAREDIR)/pdfwrap,share/pdfwrap/*.txt) \
	$(LIBEXECDIR)/install-deps
INSTALL_DIRS = $(SHAREDIR)/examples $(SHAREDIR)/policies \
	$(SHAREDIR)/pdfwrap $(SHAREDIR) $(LIBEXECDIR)

# the examples and the manual pages name the programs where the default
# PREFIX puts them; installed, they name where this install puts them
INSTALL_PATHS = sed -e 's,/usr/local/bin/,$(BINDIR)/,g' \
	-e 's,/usr/local/sbin/,$(SBINDIR)/,g'

# the programs are (re)built for these directories first ($(PATHS_STAMP))
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(addprefix $(DESTDIR),$(INSTALL_DIRS))
	install -m 0755 $(addprefix $(BUILD)/bin/,$(FILTER_PROGRAMS)) \
		$(DESTDIR)$(BINDIR)
	install -m 0755 $(addprefix $(BUILD)/bin/,$(ADMIN_PROGRAMS)) \
		$(DESTDIR)$(SBINDIR)
	for f in scripts/examples/*; do \
		$(INSTALL_PATHS) $$f >$(DESTDIR)$(SHAREDIR)/examples/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(SHAREDIR)/examples/$${f##*/} || exit 1; \
	done
	for m in $(MANPAGES); do \
		s=$${m##*.}; d=$(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
		$(INSTALL_PATHS) $$m >$$d && chmod 0644 $$d || exit 1; \
	done
	install -m 0644 share/policies/* $(DESTDIR)$(SHAREDIR)/policies
	install -m 0644 share/pdfwrap/*.txt $(DESTDIR)$(SHAREDIR)/pdfwrap
	install -m 0755 scripts/install-deps $(DESTDIR)$(LIBEXECDIR)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	for d in $(addprefix $(DESTDIR),$(INSTALL_DIRS)); do \
		[ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || \
		echo "uninstall: $$d is not empty, kept" >&2; \
	done

# the binary package, built by debhelper (debian/rules) from a copy of
# the tree in $(DEB_DIR), where the .deb lands; always with the release
# flags: nothing of this make (SANITIZE, BUILD, -j) reaches that build.
# DEB_BUILD_OPTIONS may be set (parallel=2 when it is not)
DEB_DIR = $(BUILD)/deb
DEB_TREE = LICENSE Makefile README cmd common debian man scripts share
deb: deps
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/mailseal-$(VERSION)
	cp -R $(DEB_TREE) $(DEB_DIR)/mailseal-$(VERSION)/
	cd $(DEB_DIR)/mailseal-$(VERSION) && env -u MAKEFLAGS -u MFLAGS \
		-u MAKELEVEL -u MAKEOVERRIDES -u SANITIZE -u BUILD -u STATIC \
		-u CFLAGS -u CPPFLAGS -u LDFLAGS -u PREFIX -u DESTDIR \
		DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=2}" \
		dpkg-buildpackage -b -uc -us
	@ls $(DEB_DIR)/mailseal_*.deb

clean:
	rm -rf build build-san build-fuzz
