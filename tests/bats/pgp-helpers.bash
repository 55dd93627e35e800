# pgp-helpers.bash - shared helpers for the OpenPGP tests (40-pgp-keys,
# 41-pgp-enc, 42-pgp-dec).
#
# Usage in a .bats file:
#   load helpers
#   load smime-helpers     # mimetool, same_content, status_of, run_out ...
#   load pgp-helpers
#   setup() { pg_setup; }
#   teardown() { pg_teardown; }
#
# Every test has its own everything under $BATS_TEST_TMPDIR ($T):
#   $STORE      the mailseal store (= $MAILSEAL_STORE); its keyring is
#               $STORE/gnupg, made by the first pgp-keys that writes
#   $PG_HOME    a scratch GnuPG home for the "other side" (senders and
#               recipients with their own gpg), used through pg_gpg
#   $PG_EMPTY   an empty GnuPG home, only for gpg --list-packets
#   $SQ_HOME    HOME for sq (sq 0.27 is stateless; this only keeps it
#               away from the real home)
# pg_teardown stops every gpg-agent (and dirmngr) that a test started: in
# its scratch homes, in every store keyring under $T, and through the
# private links mailseal makes for long keyring paths.
#
# No key is checked in: every key is made at test time (gpg --quick-gen-key,
# sq key generate, pgp-keys generate).  Fixture messages are the S/MIME
# ones ($FIX = tests/fixtures/smime).

# pg_setup - per test: PATH, $T, $STORE (= $MAILSEAL_STORE), scratch homes
pg_setup() {
	ms_setup
	sm_env
	export MAILSEAL_STORE=$STORE
	pg_homes
}

# pg_homes - the scratch homes $PG_HOME, $PG_EMPTY and $SQ_HOME under $T
pg_homes() {
	PG_HOME=$T/g
	PG_EMPTY=$T/e
	SQ_HOME=$T/sq
	mkdir -p "$PG_HOME" "$PG_EMPTY" "$SQ_HOME"
	chmod 700 "$PG_HOME" "$PG_EMPTY" "$SQ_HOME"
	echo allow-loopback-pinentry >"$PG_HOME/gpg-agent.conf"
}

# pg_link_dir - where mailseal puts its short links to long keyring paths
pg_link_dir() {
	local tmp=${TMPDIR:-}
	if [ -n "$tmp" ] && [ "${tmp#/}" != "$tmp" ] && [ ${#tmp} -lt 40 ]; then
		echo "$tmp/mailseal-$(id -u)"
	else
		echo "/tmp/mailseal-$(id -u)"
	fi
}

# pg_links_to DIR - the links in pg_link_dir that point at DIR
pg_links_to() {
	local l dir
	dir=$(pg_link_dir)
	for l in "$dir"/*; do
		[ -L "$l" ] && [ "$(readlink "$l")" = "$1" ] && echo "$l"
	done
	return 0
}

# pg_kill_home DIR - stop the agents of GnuPG home DIR
pg_kill_home() {
	[ -d "$1" ] || return 0
	gpgconf --homedir "$1" --kill all >/dev/null 2>&1 || true
}

# pg_stop_links DIR - stop the agents of the keyrings under DIR that
# mailseal reaches through a short link, and remove those links: such an
# agent listens only through the link
pg_stop_links() {
	local l
	for l in "$(pg_link_dir)"/*; do
		[ -L "$l" ] || continue
		case $(readlink "$l") in
		"$1"/*)
			pg_kill_home "$l"
			rm -f "$l" ;;
		esac
	done
}

# pg_teardown - stop every agent this test started; remove the links
# mailseal made for keyrings under $T
pg_teardown() {
	local d
	# long keyrings first
	pg_stop_links "$T"
	pg_kill_home "$PG_HOME"
	pg_kill_home "$PG_EMPTY"
	if [ -d "$STORE/gnupg" ]; then
		GNUPGHOME=$STORE/gnupg gpgconf --kill all >/dev/null 2>&1 || true
	fi
	# any other home an agent ran in (extra stores, extra scratch homes)
	while IFS= read -r d; do
		pg_kill_home "${d%/private-keys-v1.d}"
	done < <(find "$T" -type d -name private-keys-v1.d 2>/dev/null)
}

# pg_gpg ARGS... - gpg on the scratch home, unattended, no passphrase
pg_gpg() {
	gpg --homedir "$PG_HOME" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

# pg_gpg_key UID [ALGO [USAGE [EXPIRE [GPG-OPTION...]]]] - a new key in the
# scratch home (default future-default: ed25519 + cv25519 subkey, 2y);
# prints its fingerprint
pg_gpg_key() {
	local uid=$1 algo=${2:-future-default} usage=${3:-default}
	local expire=${4:-2y} fpr
	shift $(($# < 4 ? $# : 4))
	fpr=$(pg_gpg --status-fd 1 "$@" --quick-gen-key "$uid" "$algo" \
	    "$usage" "$expire" 2>"$T/gpg-gen.err" |
	    awk '$2 == "KEY_CREATED" { print $4 }')
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || {
		cat "$T/gpg-gen.err" >&2
		echo "pg_gpg_key: no key made for $uid" >&2
		return 1
	}
	echo "$fpr"
}

# pg_export FPR OUT - the armored public key from the scratch home
pg_export() {
	pg_gpg --armor --export "$1" >"$2" 2>"$T/gpg-export.err" && [ -s "$2" ] ||
	    { cat "$T/gpg-export.err" >&2; return 1; }
}

# pg_enc_subkey FPR - the long key ID of the encryption subkey(s) of FPR
# in the scratch home
pg_enc_subkey() {
	pg_gpg --with-colons --list-keys "$1" 2>/dev/null |
	    awk -F: '$1 == "sub" && $12 ~ /e/ { print $5 }'
}

# pg_store_import FILE [--for ADDRESS] - pgp-keys import; the fingerprint
# it prints ("key FPR") must be there
pg_store_import() {
	local file=$1
	shift
	pgp-keys import "$@" "$file" >"$T/import.out" 2>"$T/import.err" || {
		cat "$T/import.out" "$T/import.err" >&2
		echo "pgp-keys import $file failed" >&2
		return 1
	}
	grep -q '^key [0-9A-F]\{40\}$' "$T/import.out" || {
		cat "$T/import.out" >&2
		return 1
	}
}

# pg_recipient UID - a key made in the scratch home, imported into the
# store; prints the fingerprint
pg_recipient() {
	local fpr
	fpr=$(pg_gpg_key "$@") || return 1
	pg_export "$fpr" "$T/$fpr.asc" && pg_store_import "$T/$fpr.asc" ||
	    return 1
	echo "$fpr"
}

# pg_sq ARGS... - sq with its home under $T
pg_sq() {
	HOME=$SQ_HOME sq "$@"
}

# pg_sq_key ADDRESS KEY CERT - a key made by sq: the secret key in KEY,
# the certificate in CERT
pg_sq_key() {
	pg_sq key generate --userid "<$1>" --export "$2" 2>"$T/sq.err" &&
	    pg_sq key extract-cert "$2" >"$3" 2>>"$T/sq.err" ||
	    { cat "$T/sq.err" >&2; return 1; }
}

# pg_py ARGS... - the independent PGP/MIME reader (Python's email package)
#   check FILE       RFC 3156 layout of the root: multipart/encrypted with
#                    protocol application/pgp-encrypted, exactly two parts,
#                    part 1 application/pgp-encrypted stating Version: 1,
#                    part 2 application/octet-stream holding one armored
#                    OpenPGP message
#   armor FILE OUT   the decoded content of part 2
#   root-text FILE   the decoded text of a single-part root (UTF-8)
PG_PY='
import email, email.policy, sys

def load(p):
    with open(p, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.compat32)

def fail(why):
    sys.exit("pgp/mime: " + why)

cmd = sys.argv[1]
msg = load(sys.argv[2])
if cmd == "root-text":
    sys.stdout.buffer.write(msg.get_payload(decode=True))
    sys.exit(0)
if msg.get_content_type() != "multipart/encrypted":
    fail("root is " + msg.get_content_type())
if msg.get_param("protocol") != "application/pgp-encrypted":
    fail("protocol is %r" % msg.get_param("protocol"))
parts = msg.get_payload()
if not msg.is_multipart() or len(parts) != 2:
    fail("not two parts")
if parts[0].get_content_type() != "application/pgp-encrypted":
    fail("part 1 is " + parts[0].get_content_type())
if b"Version: 1" not in parts[0].get_payload(decode=True):
    fail("part 1 does not say Version: 1")
if parts[1].get_content_type() != "application/octet-stream":
    fail("part 2 is " + parts[1].get_content_type())
data = parts[1].get_payload(decode=True)
text = data.replace(b"\r\n", b"\n").strip()
if not (text.startswith(b"-----BEGIN PGP MESSAGE-----\n") and
        text.endswith(b"\n-----END PGP MESSAGE-----") and
        text.count(b"-----BEGIN PGP MESSAGE-----") == 1):
    fail("part 2 is not one armored OpenPGP message")
if cmd == "armor":
    with open(sys.argv[3], "wb") as f:
        f.write(data)
elif cmd != "check":
    fail("unknown command " + cmd)
'

pg_py() {
	python3 -c "$PG_PY" "$@"
}

# pg_check_mime MSG - MSG is PGP/MIME as RFC 3156 says
pg_check_mime() {
	pg_py check "$1" || fail_with "$1: not RFC 3156 PGP/MIME"
}

# pg_armor MSG OUT - the armored message of PGP/MIME MSG
pg_armor() {
	pg_py armor "$1" "$2" || fail_with "$1: no armored part"
}

# pg_packets FILE - gpg --list-packets without any key and without an
# agent (--list-only: nothing is decrypted)
pg_packets() {
	gpg --homedir "$PG_EMPTY" --batch --no-tty --list-only \
	    --list-packets "$1" 2>/dev/null || true
}

# pg_pkesk_ids FILE - the key IDs of the public-key encrypted session key
# packets, one a line, as gpg --list-packets shows them
pg_pkesk_ids() {
	pg_packets "$1" |
	    sed -n 's/^:pubkey enc packet:.* keyid \([0-9A-F]*\).*/\1/p'
}

# pg_wrap_mime CIPHER OUT [HEADER-LINE...] - a PGP/MIME message around the
# armored (or binary: then base64) OpenPGP message CIPHER
pg_wrap_mime() {
	local cipher=$1 out=$2 b=pgp-wrap-b0undary
	shift 2
	[ $# -gt 0 ] || set -- 'From: Alice <alice@example.test>' \
	    'To: Bob <bob@example.test>' 'Subject: wrapped pgp/mime' \
	    'Message-ID: <wrap@example.test>'
	{
		printf '%s\n' "$@"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/encrypted;\n'
		printf ' protocol="application/pgp-encrypted"; boundary="%s"\n\n' \
		    "$b"
		printf 'This is an OpenPGP/MIME encrypted message.\n'
		printf -- '--%s\nContent-Type: application/pgp-encrypted\n\n' "$b"
		printf 'Version: 1\n\n--%s\n' "$b"
		if grep -q -- '-----BEGIN PGP MESSAGE-----' "$cipher"; then
			printf 'Content-Type: application/octet-stream;'
			printf ' name="encrypted.asc"\n\n'
			sed 's/\r$//' "$cipher"
		else
			printf 'Content-Type: application/octet-stream;'
			printf ' name="encrypted.gpg"\n'
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 -w 76 "$cipher"
		fi
		printf '\n--%s--\n' "$b"
	} >"$out"
}

# pg_wrap_inline CIPHER OUT [HEADER-LINE...] - a text/plain message whose
# body is only the armored message CIPHER
pg_wrap_inline() {
	local cipher=$1 out=$2
	shift 2
	[ $# -gt 0 ] || set -- 'From: Alice <alice@example.test>' \
	    'To: Bob <bob@example.test>' 'Subject: wrapped inline' \
	    'Message-ID: <inline@example.test>'
	{
		printf '%s\n' "$@"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=us-ascii\n\n'
		sed 's/\r$//' "$cipher"
	} >"$out"
}

# no_plaintext FILE MARKER... - none of the markers in FILE
no_plaintext() {
	local f=$1 m
	shift
	for m in "$@"; do
		! grep -qF "$m" "$f" || fail_with "'$m' in clear in $f"
	done
}

# expect_refusal ADDRESS - the last run_out of pgp-enc refused: exit 69,
# nothing on stdout, first stderr line "5.7.1 ..." naming ADDRESS (when
# ADDRESS is not empty)
expect_refusal() {
	expect_status 69
	[ -z "$output" ] || fail_with "pgp-enc wrote output while refusing"
	local first=${stderr%%$'\n'*}
	[[ $first == "5.7.1 "* ]] ||
	    fail_with "first stderr line is not 5.7.1: '$first'"
	[ -z "$1" ] || [[ $first == *"$1"* ]] ||
	    fail_with "refusal does not name $1: '$first'"
}

# expect_pgp_decrypted IN OUT ORIGINAL - pgp-dec turns IN into OUT with the
# content of ORIGINAL and one X-Mailseal-Decrypted: pgp
expect_pgp_decrypted() {
	run_out "$2" pgp-dec <"$1"
	expect_status 0
	[ "$(status_of "$2" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "$1: no single X-Mailseal-Decrypted: pgp"
	! header_block "$2" | grep -qi '^X-Mailseal-Decrypt:' ||
	    fail_with "$1: decrypted and failed at once"
	[ -z "${3:-}" ] || same_content "$2" "$3" ||
	    fail_with "$1: content differs from $3"
}

# expect_pgp_failed IN [MARKER...] - pgp-dec delivers IN unchanged but for
# X-Mailseal-Decrypt: failed, exit 0, and releases none of the markers
expect_pgp_failed() {
	local in=$1
	shift
	run_out "$T/failed.eml" pgp-dec <"$in"
	expect_status 0
	[ "$(status_of "$T/failed.eml" X-Mailseal-Decrypt)" = failed ] ||
	    fail_with "$in: no X-Mailseal-Decrypt: failed"
	! grep -qi '^X-Mailseal-Decrypted' "$T/failed.eml" ||
	    fail_with "$in: reported as decrypted"
	grep -v '^X-Mailseal-Decrypt: failed\r\?$' "$T/failed.eml" \
	    >"$T/failed-rest.eml"
	same_text "$T/failed-rest.eml" "$in" ||
	    fail_with "$in: the original was not delivered"
	no_plaintext "$T/failed.eml" "$@"
	local m
	for m in "$@"; do
		! grep -qF "$m" <<<"$stderr" ||
		    fail_with "$in: plaintext '$m' on stderr"
	done
}

# expect_untouched IN - pgp-dec passes IN on byte for byte, exit 0
expect_untouched() {
	run_out "$T/untouched.eml" pgp-dec <"$1"
	expect_status 0
	cmp -s "$T/untouched.eml" "$1" || {
		diff "$1" "$T/untouched.eml" >&2 || true
		fail_with "$1: changed by pgp-dec"
	}
}

# ---- signatures (43-pgp-sign, 44-pgp-verify) ----

# pg_hash_name ALGO-NUMBER - the lowercase RFC 4880 name of a hash
# algorithm number as gpg's status lines give it (8 -> sha256)
pg_hash_name() {
	case $1 in
	1) echo md5 ;;
	2) echo sha1 ;;
	3) echo ripemd160 ;;
	8) echo sha256 ;;
	9) echo sha384 ;;
	10) echo sha512 ;;
	11) echo sha224 ;;
	*) echo "unknown-$1" ;;
	esac
}

# pg_gpg_status_verdict STATUS-FILE - from gpg --status-fd output: exactly
# one good signature (one GOODSIG, one VALIDSIG, no BADSIG, ERRSIG,
# EXPSIG, EXPKEYSIG or REVKEYSIG); prints "PRIMARY-FPR HASH-NAME"
pg_gpg_status_verdict() {
	local st=$1 line
	if grep -Eq '^\[GNUPG:\] (BADSIG|ERRSIG|EXPSIG|EXPKEYSIG|REVKEYSIG) ' \
	    "$st" || [ "$(grep -c '^\[GNUPG:\] GOODSIG ' "$st")" != 1 ] ||
	    [ "$(grep -c '^\[GNUPG:\] VALIDSIG ' "$st")" != 1 ]; then
		cat "$st" >&2
		return 1
	fi
	line=$(grep '^\[GNUPG:\] VALIDSIG ' "$st")
	# VALIDSIG fpr date ts expire version reserved pk-algo hash-algo
	#          class primary-fpr
	set -- $line
	echo "${12} $(pg_hash_name "${10}")"
}

# pg_gpg_verify_detached SIG DATA - gpg --verify of a detached signature
# on the scratch home (the signer's public key imported there); prints
# "PRIMARY-FPR HASH-NAME" of the one good signature, or fails
pg_gpg_verify_detached() {
	pg_gpg --status-fd 3 --verify "$1" "$2" 3>"$T/gpg-verify.status" \
	    2>"$T/gpg-verify.err" || {
		cat "$T/gpg-verify.err" >&2
		return 1
	}
	pg_gpg_status_verdict "$T/gpg-verify.status"
}

# pg_gpg_verify_clear ASC OUT - gpg --verify of a cleartext-signed (or
# inline signed) message; the signed text goes to OUT; prints
# "PRIMARY-FPR HASH-NAME" of the one good signature, or fails
pg_gpg_verify_clear() {
	rm -f "$2"
	pg_gpg --status-fd 3 --output "$2" --verify "$1" \
	    3>"$T/gpg-verify.status" 2>"$T/gpg-verify.err" || {
		cat "$T/gpg-verify.err" >&2
		return 1
	}
	pg_gpg_status_verdict "$T/gpg-verify.status"
}

# pg_sq_verify CERT SIG DATA - sq 0.27 verify of a detached signature
pg_sq_verify() {
	pg_sq verify --signer-cert "$1" --detached "$2" "$3" \
	    >"$T/sq-verify.out" 2>&1 || {
		cat "$T/sq-verify.out" >&2
		return 1
	}
}

# pg_sq_verify_clear CERT ASC OUT - sq 0.27 verify of a cleartext-signed
# message (sq recognises the cleartext framework by itself); the text
# goes to OUT
pg_sq_verify_clear() {
	rm -f "$3"
	pg_sq verify --signer-cert "$1" --output "$3" "$2" \
	    >"$T/sq-verify.out" 2>&1 || {
		cat "$T/sq-verify.out" >&2
		return 1
	}
}

# pg_wrap_signed DATA SIG OUT [HEADER-LINE...] - a PGP/MIME multipart/
# signed (RFC 3156, micalg=pgp-sha256 unless $PG_MICALG says otherwise)
# whose part 1 is DATA (the canonical CRLF bytes that were signed, written
# with LF) and whose part 2 is the armored signature SIG
pg_wrap_signed() {
	local data=$1 sig=$2 out=$3 b=pgp-signed-b0undary
	shift 3
	[ $# -gt 0 ] || set -- 'From: Alice <alice@example.test>' \
	    'To: Bob <bob@example.test>' 'Subject: wrapped signed' \
	    'Message-ID: <signed@example.test>'
	{
		printf '%s\n' "$@"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/signed; micalg=%s;\n' \
		    "${PG_MICALG:-pgp-sha256}"
		printf ' protocol="application/pgp-signature"; boundary="%s"\n\n' \
		    "$b"
		printf 'This is an OpenPGP/MIME signed message.\n'
		printf -- '--%s\n' "$b"
		sed 's/\r$//' "$data"
		printf '\n--%s\n' "$b"
		printf 'Content-Type: application/pgp-signature;'
		printf ' name="signature.asc"\n\n'
		sed 's/\r$//' "$sig"
		printf '\n--%s--\n' "$b"
	} >"$out"
}

# pg_signed_check MSG - MSG is PGP/MIME signed as RFC 3156 says: root
# multipart/signed with protocol application/pgp-signature and a micalg
# pgp-*, exactly two parts, part 1 only Content-* fields, part 2
# application/pgp-signature holding one armored signature; prints micalg
pg_signed_check() {
	python3 - "$1" <<-'EOF'
		import email, email.policy, sys
		with open(sys.argv[1], "rb") as f:
		    m = email.message_from_binary_file(f, policy=email.policy.compat32)
		def fail(why):
		    sys.exit("pgp/mime signed: " + why)
		if m.get_content_type() != "multipart/signed":
		    fail("root is " + m.get_content_type())
		if m.get_param("protocol") != "application/pgp-signature":
		    fail("protocol is %r" % m.get_param("protocol"))
		micalg = m.get_param("micalg") or ""
		if not micalg.startswith("pgp-") or micalg != micalg.lower():
		    fail("micalg is %r" % micalg)
		parts = m.get_payload()
		if not m.is_multipart() or len(parts) != 2:
		    fail("not two parts")
		for name in parts[0].keys():
		    if not name.lower().startswith("content-"):
		        fail("part 1 has the field " + name)
		if parts[1].get_content_type() != "application/pgp-signature":
		    fail("part 2 is " + parts[1].get_content_type())
		sig = parts[1].get_payload(decode=True).replace(b"\r\n", b"\n").strip()
		if not (sig.startswith(b"-----BEGIN PGP SIGNATURE-----\n") and
		        sig.endswith(b"\n-----END PGP SIGNATURE-----") and
		        sig.count(b"-----BEGIN PGP") == 1):
		    fail("part 2 is not one armored signature")
		print(micalg)
	EOF
}
