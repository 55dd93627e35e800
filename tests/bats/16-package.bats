#!/usr/bin/env bats
# make deb and the package it builds: lintian finds no error and no
# warning; dpkg -i on this machine (as root, without systemd running)
# makes the user mailseal and its store; the demo's flow runs through the
# INSTALLED programs (S/MIME opened by openssl cms, a PDF made by the
# pdfwrap next to the installed mailseal-filter); dpkg --remove keeps the
# store, dpkg --purge removes it and every file of the package.
#
# The package is purged in teardown_file whatever happened, the user this
# file made is deleted again, and a /var/lib/mailseal that was there
# before is put back: the machine is left as it was found.  The suite's
# programs stay first in PATH; this file calls the installed ones by
# their absolute paths, under a clean environment.

load helpers

STORE_DIR=/var/lib/mailseal

setup_file() {
	if [ "$(id -u)" != 0 ]; then
		# under CI a skip fails the run (tests/run): CI runs as root
		[ -z "${CI:-}" ] || {
			echo "16-package needs root (dpkg -i)" >&2
			return 1
		}
		skip "dpkg -i needs root"
	fi
	if dpkg-query -W -f='${Status}' mailseal 2>/dev/null |
	    grep -qv 'not-installed'; then
		echo "a mailseal package is installed already: left alone" >&2
		return 1
	fi
	PKGT=$BATS_FILE_TMPDIR
	export PKGT
	# a store that is there already (not the package's) waits aside
	if [ -e "$STORE_DIR" ] || [ -L "$STORE_DIR" ]; then
		mv "$STORE_DIR" "$STORE_DIR.saved-by-16-package"
	fi
	USER_BEFORE=0
	getent passwd mailseal >/dev/null && USER_BEFORE=1
	echo "$USER_BEFORE" >"$PKGT/user-before"
	# the package is built with Debian's release flags, whatever this
	# run was built with (make deb drops SANITIZE and the like)
	make -s -C "$(ms_top)" --no-print-directory deb BUILD="$PKGT/b" \
	    >"$PKGT/build.log" 2>&1 || {
		tail -n 40 "$PKGT/build.log" >&2
		return 1
	}
	DEB=$(ls "$PKGT"/b/deb/mailseal_*.deb)
	export DEB
	dpkg-deb -c "$DEB" | awk '{ print substr($6, 2) }' >"$PKGT/contents"
}

teardown_file() {
	[ -n "${PKGT:-}" ] || return 0
	if dpkg-query -W -f='${Status}' mailseal 2>/dev/null |
	    grep -qv 'not-installed'; then
		dpkg --purge mailseal >"$PKGT/purge.log" 2>&1 ||
		    cat "$PKGT/purge.log" >&2
	fi
	if [ -s "$PKGT/workdir" ]; then
		rm -rf "$(cat "$PKGT/workdir")"
	fi
	if [ "$(cat "$PKGT/user-before" 2>/dev/null)" = 0 ]; then
		getent passwd mailseal >/dev/null &&
		    deluser --quiet --system mailseal >/dev/null 2>&1
		getent group mailseal >/dev/null &&
		    delgroup --quiet --system mailseal >/dev/null 2>&1
	fi
	if [ -e "$STORE_DIR.saved-by-16-package" ]; then
		rm -rf "$STORE_DIR"
		mv "$STORE_DIR.saved-by-16-package" "$STORE_DIR"
	fi
	return 0
}

setup() {
	ms_setup
}

# as_mailseal CMD... - CMD as the user mailseal, with a clean environment
# (no MAILSEAL_* of the suite, no sanitizer options) and stdin kept
as_mailseal() {
	runuser -u mailseal -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME="$STORE_DIR" OPENSSL_CONF=/dev/null LC_ALL=C.UTF-8 \
	    ${SENDMAIL:+MAILSEAL_SENDMAIL=$SENDMAIL} "$@"
}

# mode_owner PATH - "MODE USER:GROUP" of PATH
mode_owner() {
	stat -c '%a %U:%G' "$1"
}

@test "make deb: the filters in /usr/bin, the administration programs in /usr/sbin, units for /usr; lintian: no error, no warning" {
	for p in mailseal-filter dlp-scan pdfwrap route-recipient smime-enc \
	    smime-dec smime-sign smime-verify pgp-enc pgp-dec pgp-sign \
	    pgp-verify; do
		grep -qx "/usr/bin/$p" "$PKGT/contents" ||
		    fail_with "/usr/bin/$p missing"
	done
	for p in certstore smime-ca pgp-keys crl-sync sms-send mailseal-init \
	    mailseal-check mailseal-audit mailseal-expiry pdfwrap-otp \
	    pdfwrap-reply; do
		grep -qx "/usr/sbin/$p" "$PKGT/contents" ||
		    fail_with "/usr/sbin/$p missing"
	done
	run grep -c '^/usr/s\?bin/.' "$PKGT/contents"
	[ "$output" = 23 ] || fail_with "not 23 programs"
	for u in crl-sync quarantine-sweep sms-send mailseal-expiry; do
		grep -qx "/lib/systemd/system/$u.service" "$PKGT/contents"
		grep -qx "/lib/systemd/system/$u.timer" "$PKGT/contents"
	done
	# install-deps is for the source tree only
	! grep -q install-deps "$PKGT/contents"
	# the units and the examples name the package's paths
	mkdir "$PKGT/x"
	dpkg-deb -x "$DEB" "$PKGT/x"
	grep -qx 'ExecStart=/usr/sbin/crl-sync' \
	    "$PKGT/x/lib/systemd/system/crl-sync.service"
	grep -qx 'ExecStart=/usr/bin/dlp-scan quarantine sweep' \
	    "$PKGT/x/lib/systemd/system/quarantine-sweep.service"
	grep -qx 'ExecStart=/usr/sbin/sms-send' \
	    "$PKGT/x/lib/systemd/system/sms-send.service"
	grep -q '^ExecStart=/usr/sbin/mailseal-expiry ' \
	    "$PKGT/x/lib/systemd/system/mailseal-expiry.service"
	grep -q 'argv=/usr/bin/mailseal-filter ' \
	    "$PKGT/x/usr/share/mailseal/examples/master.cf"
	# built with the release flags even in a SANITIZE=1 run, and with
	# Debian's shared libraries (security updates reach them)
	run objdump -p "$PKGT/x/usr/bin/mailseal-filter"
	[[ "$output" != *libasan* ]] && [[ "$output" != *libubsan* ]] ||
	    fail_with "a sanitizer in the package"
	[[ "$output" == *"NEEDED               libgmime-3.0.so"* ]] ||
	    fail_with "GMime not linked dynamically"
	run grep -rl /usr/local "$PKGT/x"
	[ "$status" -eq 1 ] || fail_with "/usr/local named in the package"
	zcat "$PKGT/x/usr/share/man/man1/sms-send.1.gz" |
	    grep -q '/usr/sbin/sms\\-send'

	run lintian --no-tag-display-limit "$DEB"
	echo "$output" >"$PKGT/lintian.out"
	[ "$status" -eq 0 ] || fail_with "lintian failed"
	run grep -E '^(E|W): ' "$PKGT/lintian.out"
	[ "$status" -eq 1 ] || fail_with "lintian: errors or warnings"
}

@test "dpkg -i without systemd: the user mailseal, the store made by mailseal-init (modes, secrets, settings); configuring again changes nothing" {
	run dpkg -i "$DEB"
	[ "$status" -eq 0 ] || fail_with "dpkg -i"
	[[ "$output" == *"made $STORE_DIR"* ]] || fail_with "no store made"
	run getent passwd mailseal
	[ "$status" -eq 0 ]
	IFS=: read -r _ _ uid _ _ home shell <<<"$output"
	[ "$home" = "$STORE_DIR" ]
	[ "$shell" = /usr/sbin/nologin ]
	[ "$uid" -lt 1000 ] || fail_with "not a system user"
	[ "$(mode_owner "$STORE_DIR")" = "700 mailseal:mailseal" ]
	for d in certs keys roots settings pdf pdf/static pdf/otp spool \
	    spool/sms spool/sms-done gnupg; do
		[ "$(stat -c '%a %U' "$STORE_DIR/$d")" = "700 mailseal" ] ||
		    fail_with "$d: $(mode_owner "$STORE_DIR/$d")"
	done
	for k in pdf/random.key pdf/reply.key; do
		[ "$(stat -c '%a %U %s' "$STORE_DIR/$k")" = "600 mailseal 32" ] ||
		    fail_with "$k: $(stat -c '%a %U %s' "$STORE_DIR/$k")"
	done
	[ "$(stat -c %U "$STORE_DIR/settings/global.conf")" = mailseal ]
	# every line of the settings file a comment or empty
	run grep -v -E '^(#|$)' "$STORE_DIR/settings/global.conf"
	[ "$status" -eq 1 ] || fail_with "an active setting"
	# nothing of the store belongs to root
	run find "$STORE_DIR" ! -user mailseal
	[ -z "$output" ] || fail_with "not the user's"
	sum=$(cat "$STORE_DIR/pdf/random.key" "$STORE_DIR/pdf/reply.key" |
	    sha256sum)

	run dpkg-reconfigure mailseal
	[ "$status" -eq 0 ] || fail_with "configure again"
	[[ "$output" != *"made "* ]] || fail_with "made something again"
	[ "$(cat "$STORE_DIR/pdf/random.key" "$STORE_DIR/pdf/reply.key" |
	    sha256sum)" = "$sum" ] || fail_with "a secret was replaced"
	# the timers that are on by default are enabled, sms-send's is not
	[ -L /etc/systemd/system/timers.target.wants/crl-sync.timer ]
	[ -L /etc/systemd/system/timers.target.wants/quarantine-sweep.timer ]
	[ -L /etc/systemd/system/timers.target.wants/mailseal-expiry.timer ]
	[ ! -e /etc/systemd/system/timers.target.wants/sms-send.timer ]
}

@test "the installed programs: S/MIME through /usr/bin/mailseal-filter opened by openssl cms; the PDF by the pdfwrap next to it; DLP with the shipped policy" {
	# the user mailseal must reach it: not under bats' own 0700 directory
	W=$(mktemp -d /tmp/mailseal-pkg.XXXXXX)
	echo "$W" >"$PKGT/workdir"
	chmod 755 "$W"
	mkdir "$W/sent"
	chown mailseal: "$W/sent"
	cat >"$W/sendmail" <<EOF
#!/bin/sh
for last; do :; done
cat >"$W/sent/\$last.eml"
EOF
	chmod 755 "$W/sendmail"
	SENDMAIL=$W/sendmail
	{
		printf 'From: Alice <alice@example.com>\n'
		printf 'To: bob@partner.example, frank@pdf.example\n'
		printf 'Subject: Quarterly figures\n'
		printf 'Message-ID: <package-1@example.com>\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n\n'
		printf 'Revenue is up 12 %% this quarter, card 4556737586899855.\n'
	} >"$W/message.eml"
	chmod 644 "$W/message.eml"

	run as_mailseal /usr/sbin/smime-ca init --key ec-p256 "Package Test CA"
	[ "$status" -eq 0 ] || fail_with "smime-ca init"
	run --separate-stderr as_mailseal /usr/sbin/smime-ca issue \
	    --key ec-p256 bob@partner.example "Bob Partner"
	[ "$status" -eq 0 ] || fail_with "smime-ca issue"
	bob=$output
	as_mailseal /usr/sbin/certstore export "$bob" >"$W/bob.pem"
	cp "$STORE_DIR/keys/$bob.key" "$W/bob.key"
	printf 'methods = smime pgp pdf\npdf-password-mode = random-to-sender\n' |
	    as_mailseal sh -c 'mkdir -p /var/lib/mailseal/settings/user &&
		cat >/var/lib/mailseal/settings/user/frank@pdf.example.conf'

	for rcpt in bob@partner.example frank@pdf.example; do
		# a PDF password goes only to a sender who logged in
		run --separate-stderr as_mailseal /usr/bin/mailseal-filter \
		    --sasl-username alice@example.com -f alice@example.com \
		    -- "$rcpt" <"$W/message.eml"
		[ "$status" -eq 0 ] || fail_with "mailseal-filter to $rcpt"
	done
	# bob's copy: CMS for his certificate, no plain text in it
	! grep -q Revenue "$W/sent/bob@partner.example.eml"
	run --separate-stderr openssl cms -decrypt \
	    -in "$W/sent/bob@partner.example.eml" \
	    -recip "$W/bob.pem" -inkey "$W/bob.key"
	[ "$status" -eq 0 ] || fail_with "openssl cms -decrypt"
	[[ "$output" == *"Revenue is up 12 % this quarter"* ]] ||
	    fail_with "not the message"
	# frank's copy: an encrypted PDF made by /usr/bin/pdfwrap, the
	# password in a notice to alice made with pdf/random.key
	grep -q '^Content-Type: application/pdf' \
	    "$W/sent/frank@pdf.example.eml"
	! grep -q Revenue "$W/sent/frank@pdf.example.eml"
	[ -s "$W/sent/alice@example.com.eml" ] || fail_with "no notice"
	python3 - "$W/sent/frank@pdf.example.eml" "$W/m.pdf" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in m.walk():
    if part.get_content_type() == "application/pdf":
        open(sys.argv[2], "wb").write(part.get_payload(decode=True))
PY
	run qpdf --requires-password "$W/m.pdf"
	[ "$status" -eq 0 ] || fail_with "the PDF opens without a password"
	# the DLP policy shipped in /usr/share/mailseal, compiled in
	run --separate-stderr as_mailseal /usr/bin/dlp-scan bob@partner.example \
	    <"$W/message.eml"
	[ "$status" -eq 0 ] || fail_with "dlp-scan"
	[[ "$output" == *"X-Mailseal-DLP: must-encrypt; rules=payment-cards"* ]] ||
	    fail_with "no verdict from /usr/share/mailseal/policies"
}

@test "dpkg --remove keeps the store and the user; dpkg --purge removes the store and every file the package put" {
	run dpkg --remove mailseal
	[ "$status" -eq 0 ] || fail_with "dpkg --remove"
	[ ! -e /usr/bin/mailseal-filter ]
	[ ! -e /usr/sbin/certstore ]
	[ "$(mode_owner "$STORE_DIR")" = "700 mailseal:mailseal" ]
	[ -s "$STORE_DIR/pdf/random.key" ]
	[ -d "$STORE_DIR/ca" ] && [ -n "$(ls "$STORE_DIR/certs")" ]
	run dpkg-query -W -f='${Status}' mailseal
	[ "$output" = "deinstall ok config-files" ]

	run dpkg --purge mailseal
	[ "$status" -eq 0 ] || fail_with "dpkg --purge"
	[ ! -e "$STORE_DIR" ] || fail_with "the store is still there"
	run dpkg-query -W -f='${Status}' mailseal
	[ "$status" -ne 0 ] || [[ "$output" == *not-installed* ]]
	# every file of the package is gone; only directories others share
	# (/usr/bin, /lib/systemd/system ...) may stay
	while read -r f; do
		[ -d "$f" ] && [ ! -L "$f" ] && continue
		[ ! -e "$f" ] && [ ! -L "$f" ] || fail_with "left: $f"
	done <"$PKGT/contents"
	[ ! -e /usr/share/mailseal ] && [ ! -e /usr/share/doc/mailseal ]
	# no enablement of a timer left behind, no process of the user
	run find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
	    -name '*crl-sync*' -o -name '*quarantine-sweep*' \
	    -o -name '*mailseal-expiry*' -o -name '*sms-send*'
	[ -z "$output" ] || fail_with "enablement left"
	run pgrep -u mailseal
	[ "$status" -eq 1 ] || fail_with "a process of mailseal still runs"
	# the user stays (README: files elsewhere may carry its id)
	getent passwd mailseal >/dev/null
}
