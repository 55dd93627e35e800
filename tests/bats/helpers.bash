# helpers.bash - shared helpers for the bats tests: the programs under test
# on PATH, a scratch store per test, and a small PKI made with the openssl
# command (keys are generated per test; no private key is checked in).
#
# Usage in a .bats file:
#   load helpers
#   setup() { ms_setup; }
#
# PKI layout under $PKI: NAME.key, NAME.pem for every key and certificate;
# a CA made by pki_ca also has $PKI/NAME.db/ with an openssl ca database
# and config (ca.cnf), so leaves can get explicit dates, and the CA can
# revoke them and make CRLs.

bats_require_minimum_version 1.5.0

# ms_setup - per-test environment: PATH, $T (scratch), $STORE, $PKI
ms_setup() {
	if [ -z "${MAILSEAL_BIN:-}" ]; then
		MAILSEAL_BIN=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/bin
	fi
	export MAILSEAL_BIN
	case ":$PATH:" in
	*":$MAILSEAL_BIN:"*) ;;
	*) export PATH="$MAILSEAL_BIN:$PATH" ;;
	esac
	unset MAILSEAL_STORE
	T=$BATS_TEST_TMPDIR
	STORE=$T/store
	PKI=$T/pki
	mkdir -p "$PKI"
	# openssl req reads no system config: every extension is explicit
	export OPENSSL_CONF=/dev/null
}

# Exit statuses: every call of a program under test from a test's shell
# (directly, through `run` or a helper function) goes through a function
# of the same name that runs the program and appends "PROGRAM STATUS
# FILE: TEST" to $BATS_RUN_TMPDIR/exit-status.  99-exit-status.bats compares
# what the suite saw with the EXIT STATUS section of each page.  Calls
# from other processes (sh -c, Postfix, a program's own children) are not
# seen.  The program is a child of the function, not replaced by it; no
# test signals a program it started from its own shell.
ms_exec_recorded() {
	local prog=$1 rc=0
	shift
	command "$prog" "$@" || rc=$?
	printf '%s %s %s: %s\n' "$prog" "$rc" "${BATS_TEST_FILENAME##*/}" \
	    "${BATS_TEST_DESCRIPTION:-}" >>"$BATS_RUN_TMPDIR/exit-status"
	return "$rc"
}

# ms_programs - the programs under test: one page in man/ each
ms_programs() {
	local page
	for page in "$BATS_TEST_DIRNAME"/../../man/*.1; do
		page=${page##*/}
		printf '%s\n' "${page%.1}"
	done
}

for _ms_prog in $(ms_programs); do
	eval "$_ms_prog() { ms_exec_recorded $_ms_prog \"\$@\"; }"
done
unset _ms_prog
# the files of this run that loaded the helpers (99-exit-status.bats)
printf '%s\n' "${BATS_TEST_FILENAME##*/}" >>"$BATS_RUN_TMPDIR/files"

# ms_io IN OUT COMMAND... - COMMAND reading IN and writing OUT, in this
# shell (so that a program's exit status is recorded)
ms_io() {
	local in=$1 out=$2
	shift 2
	"$@" <"$in" >"$out"
}

# ms_top - the top of the source tree
ms_top() {
	(cd "$BATS_TEST_DIRNAME/../.." && pwd)
}

# ms_sharedir - MAILSEAL_SHAREDIR: the tree's share/ (policies, templates)
ms_sharedir() {
	MAILSEAL_SHAREDIR=$(ms_top)/share
	export MAILSEAL_SHAREDIR
}

# ms_setup_store [SUBDIR...] - ms_setup, and $STORE as MAILSEAL_STORE for
# every program; with SUBDIRs the store is made (mode 700) with them
ms_setup_store() {
	ms_setup
	export MAILSEAL_STORE=$STORE
	[ $# -eq 0 ] && return 0
	mkdir -m 700 "$STORE" || return 1
	local sub
	for sub in "$@"; do
		mkdir -p "$STORE/$sub" || return 1
	done
}

# ms_stop_agents HOME... - stop the gpg-agent (and dirmngr) of each GnuPG
# home that exists
ms_stop_agents() {
	local home
	for home in "$@"; do
		[ -d "$home" ] || continue
		GNUPGHOME=$home gpgconf --kill all >/dev/null 2>&1 || true
	done
	return 0
}

# fail_with MESSAGE - fail the test, showing the last command's output
fail_with() {
	{
		echo "FAILED: $*"
		echo "status: ${status:-}"
		echo "output: ${output:-}"
		[ -z "${stderr:-}" ] || echo "stderr: $stderr"
	} >&2
	return 1
}

# expect_status N - the last `run` exited with N
expect_status() {
	[ "$status" -eq "$1" ] || fail_with "expected exit $1, got $status"
}

# date_offset DAYS - an openssl ca date DAYS from now (DAYS may be
# negative); four-digit years, so dates from 2050 on become GeneralizedTime
date_offset() {
	date -u -d "$1 days" +%Y%m%d%H%M%SZ
}

# fpr CERT - SHA-256 fingerprint as openssl prints it, lowercase, no colons
fpr() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# not_after_day CERT - the certificate's notAfter as YYYY-MM-DD (UTC)
not_after_day() {
	local d
	d=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
	date -u -d "$d" +%F
}

# pki_key FILE TYPE - a private key: TYPE ec (P-256), rsa2048, rsa1024 ...
pki_key() {
	case $2 in
	ec)
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$1" 2>/dev/null ;;
	rsa*)
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" \
		    -out "$1" 2>/dev/null ;;
	*)
		echo "pki_key: unknown key type $2" >&2
		return 1 ;;
	esac
}

# pki_ca_db NAME - the openssl ca database and config for CA NAME
pki_ca_db() {
	local d=$PKI/$1.db
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 'unique_subject = no' >"$d/index.txt.attr"
	echo 1000 >"$d/crlnumber"
	cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = this

[ this ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/new
rand_serial = yes
crlnumber = \$dir/crlnumber
certificate = $PKI/$1.pem
private_key = $PKI/$1.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = anything
unique_subject = no
email_in_dn = yes
copy_extensions = none
preserve = yes

[ anything ]
commonName = optional
emailAddress = optional
organizationName = optional
EOF
}

# pki_ca NAME [ISSUER] [KEYTYPE] [CDP] - a CA certificate $PKI/NAME.pem
# with key $PKI/NAME.key: self-signed root when ISSUER is empty, else an
# intermediate signed by ISSUER.  KEYTYPE defaults to ec.  CDP, a URL,
# becomes the certificate's CRL distribution point.
pki_ca() {
	local name=$1 issuer=${2:-} keytype=${3:-ec} cdp=${4:-}
	local ext=$PKI/$name.ext
	pki_key "$PKI/$name.key" "$keytype" || return 1
	cat >"$ext" <<EOF
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	[ -z "$cdp" ] || echo "crlDistributionPoints = URI:$cdp" >>"$ext"
	if [ -z "$issuer" ]; then
		openssl req -x509 -new -key "$PKI/$name.key" \
		    -subj "/O=mailseal test/CN=$name" -days 3650 -set_serial "0x$(openssl rand -hex 8)" \
		    -config "$ext" -extensions ca_ext -out "$PKI/$name.pem" \
		    2>"$PKI/$name.err" || { cat "$PKI/$name.err" >&2; return 1; }
	else
		openssl req -new -key "$PKI/$name.key" -config /dev/null \
		    -subj "/O=mailseal test/CN=$name" -out "$PKI/$name.csr" \
		    2>"$PKI/$name.err" || { cat "$PKI/$name.err" >&2; return 1; }
		openssl ca -batch -notext -config "$PKI/$issuer.db/ca.cnf" \
		    -extfile "$ext" -extensions ca_ext -days 1825 \
		    -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
		    >"$PKI/$name.err" 2>&1 || { cat "$PKI/$name.err" >&2; return 1; }
	fi
	pki_ca_db "$name"
}

# pki_leaf CA NAME [key=VALUE ...] - an end-entity certificate NAME.pem
# (key NAME.key) issued by CA with openssl ca.  Options:
#   key=ec|rsa2048|rsa1024    key type (default ec)
#   keyfile=FILE              reuse this key instead of making one
#   subj=/CN=...              subject (default /CN=NAME)
#   san=email:a@b,...         subjectAltName value; san=none for none
#                             (default email:NAME@example.test)
#   ku=...                    keyUsage value (default critical,
#                             digitalSignature + keyAgreement (ec) or
#                             keyEncipherment (rsa)); ku=none for none
#   eku=...                   extendedKeyUsage (default emailProtection);
#                             eku=none for none
#   bc=...                    basicConstraints (default CA:FALSE)
#   start=DAYS end=DAYS       validity relative to now (default -1, 365)
#   cdp=URL                   a CRL distribution point (default none)
#   freshest=URL              a delta CRL location, freshestCRL (none)
pki_leaf() {
	local ca=$1 name=$2
	shift 2
	local key=ec keyfile='' subj="/CN=$name" san="email:$name@example.test"
	local ku='' eku=emailProtection bc=CA:FALSE start=-1 end=365 opt cdp='' freshest=''
	for opt in "$@"; do
		case $opt in
		key=*) key=${opt#key=} ;;
		keyfile=*) keyfile=${opt#keyfile=} ;;
		subj=*) subj=${opt#subj=} ;;
		san=*) san=${opt#san=} ;;
		ku=*) ku=${opt#ku=} ;;
		eku=*) eku=${opt#eku=} ;;
		bc=*) bc=${opt#bc=} ;;
		start=*) start=${opt#start=} ;;
		end=*) end=${opt#end=} ;;
		cdp=*) cdp=${opt#cdp=} ;;
		freshest=*) freshest=${opt#freshest=} ;;
		*) echo "pki_leaf: bad option $opt" >&2; return 1 ;;
		esac
	done
	if [ -z "$ku" ]; then
		case $key in
		ec) ku=critical,digitalSignature,keyAgreement ;;
		*) ku=critical,digitalSignature,keyEncipherment ;;
		esac
	fi
	if [ -n "$keyfile" ]; then
		cp "$keyfile" "$PKI/$name.key"
	else
		pki_key "$PKI/$name.key" "$key" || return 1
	fi
	{
		echo '[ leaf ]'
		[ "$bc" = none ] || echo "basicConstraints = $bc"
		[ "$ku" = none ] || echo "keyUsage = $ku"
		[ "$eku" = none ] || echo "extendedKeyUsage = $eku"
		[ "$san" = none ] || echo "subjectAltName = $san"
		[ -z "$cdp" ] || echo "crlDistributionPoints = URI:$cdp"
		[ -z "$freshest" ] || echo "freshestCRL = URI:$freshest"
		echo 'subjectKeyIdentifier = hash'
		echo 'authorityKeyIdentifier = keyid'
	} >"$PKI/$name.ext"
	openssl req -new -key "$PKI/$name.key" -config /dev/null \
	    -subj "$subj" -out "$PKI/$name.csr" 2>"$PKI/$name.err" ||
	    { cat "$PKI/$name.err" >&2; return 1; }
	openssl ca -batch -notext -config "$PKI/$ca.db/ca.cnf" \
	    -extfile "$PKI/$name.ext" -extensions leaf \
	    -startdate "$(date_offset "$start")" \
	    -enddate "$(date_offset "$end")" \
	    -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
	    >"$PKI/$name.err" 2>&1 || { cat "$PKI/$name.err" >&2; return 1; }
}

# pki_revoke CA NAME - revoke NAME.pem in CA's database
pki_revoke() {
	openssl ca -batch -config "$PKI/$1.db/ca.cnf" -revoke "$PKI/$2.pem" \
	    >"$PKI/$2.err" 2>&1 || { cat "$PKI/$2.err" >&2; return 1; }
}

# pki_crl CA [OUT] - a CRL of CA in PEM (default $PKI/CA.crl)
pki_crl() {
	local out=${2:-$PKI/$1.crl}
	openssl ca -batch -config "$PKI/$1.db/ca.cnf" -gencrl -out "$out" \
	    >"$PKI/$1.crl.err" 2>&1 || { cat "$PKI/$1.crl.err" >&2; return 1; }
}

# store_snapshot DIR - every entry below DIR with type, mode, size and a
# content hash, except the writers' lock file; equal output = unchanged
store_snapshot() {
	local dir=$1
	[ -e "$dir" ] || { echo "(missing)"; return 0; }
	(
		cd "$dir" &&
		    find . -path ./lock -prune -o -printf '%p %y %m %s\n' | sort &&
		    find . -type f ! -path ./lock -exec sha256sum {} + | sort -k2
	)
}

# corpus_as_alice NAME OUT - the message NAME of tests/corpus/realmail sent
# by alice@example.test: her From first, its own From and Sender left out
corpus_as_alice() {
	{
		printf 'From: Alice <alice@example.test>\n'
		sed -e '/^From:/d' -e '/^Sender:/d' \
		    "$BATS_TEST_DIRNAME/../corpus/realmail/$1"
	} >"$2"
}
