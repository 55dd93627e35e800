# smime-helpers.bash - shared helpers for the S/MIME filter tests
# (30-smime-enc, 31-smime-dec, 32-smime-sign, 33-smime-verify).
#
# Usage in a .bats file:
#   load helpers
#   load smime-helpers
#   setup_file() { sm_setup_file; sm_user alice ec-p256; ... }
#   setup() { sm_setup; }
#
# setup_file builds one base store per file with smime-ca (an EC root,
# "Test CA") and the users the file needs; every test then works on its
# own copy ($STORE, also $MAILSEAL_STORE), so learning, revocation and
# key issue in one test never leak into another.  No private key is
# checked in: every key is made here, at test time.
#
# Layout of the base ($BASE = $BATS_FILE_TMPDIR/base):
#   $BASE/store            the store
#   $BASE/root.pem         the root certificate (certstore export)
#   $BASE/NAME.pem/.key    each user's certificate and private key
#   $BASE/NAME.fpr         each user's SHA-256 fingerprint
# Users have the address NAME@example.test.
#
# Fixture messages are in $FIX (tests/fixtures/smime); mimetool.py and
# cmsedit.py there are the independent MIME reader and DER editor.

# sm_env - PATH, MAILSEAL_BIN, OPENSSL_CONF, FIX (usable in setup_file)
sm_env() {
	if [ -z "${MAILSEAL_BIN:-}" ]; then
		MAILSEAL_BIN=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/bin
	fi
	export MAILSEAL_BIN
	case ":$PATH:" in
	*":$MAILSEAL_BIN:"*) ;;
	*) export PATH="$MAILSEAL_BIN:$PATH" ;;
	esac
	export OPENSSL_CONF=/dev/null
	FIX=$(cd "$BATS_TEST_DIRNAME/../fixtures/smime" && pwd)
	export FIX
	unset MAILSEAL_STORE GNUPGHOME
}

# sm_setup_file [NAME...] - the base store with its root (call from
# setup_file), and an EC P-256 user NAME of it for each NAME (sm_user)
sm_setup_file() {
	sm_env
	BASE=$BATS_FILE_TMPDIR/base
	export BASE
	mkdir -p "$BASE"
	ROOT=$(smime-ca --store "$BASE/store" init --key ec-p256 'Test CA' \
	    2>"$BASE/init.err") || { cat "$BASE/init.err" >&2; return 1; }
	[[ $ROOT =~ ^[0-9a-f]{64}$ ]] || {
		echo "smime-ca init printed no fingerprint: $ROOT" >&2
		return 1
	}
	export ROOT
	certstore --store "$BASE/store" export "$ROOT" >"$BASE/root.pem" ||
	    return 1
	local name
	for name in "$@"; do
		sm_user "$name" ec-p256 || return 1
	done
}

# sm_user NAME [rsa3072|ec-p256] [STORE-DIR] [OUT-DIR] - issue a
# certificate for NAME@example.test in the base store (or STORE-DIR);
# copies to OUT-DIR (default $BASE): NAME.pem, NAME.key, NAME.fpr
sm_user() {
	local name=$1 key=${2:-ec-p256} store=${3:-$BASE/store}
	local out=${4:-$BASE} fpr
	fpr=$(smime-ca --store "$store" issue --key "$key" \
	    "$name@example.test" 2>"$out/$name.err") ||
	    { cat "$out/$name.err" >&2; return 1; }
	[[ $fpr =~ ^[0-9a-f]{64}$ ]] || {
		echo "smime-ca issue printed no fingerprint: $fpr" >&2
		return 1
	}
	echo "$fpr" >"$out/$name.fpr"
	cp "$store/certs/$fpr.pem" "$out/$name.pem" &&
	    cp "$store/keys/$fpr.key" "$out/$name.key"
}

# sm_openssl_user NAME ALG - a certificate for NAME@example.test with a key
# smime-ca does not make (openssl genpkey -algorithm ALG: ed25519, ed448,
# x25519, x448), issued by openssl with the base store's CA key and
# imported with its key into the base store; copies as sm_user makes them.
# Signing keys get digitalSignature, key agreement keys keyAgreement.
sm_openssl_user() {
	local name=$1 alg=$2 dir=$BASE/openssl-$1 ku fpr
	mkdir -p "$dir"
	case $alg in
	ed25519 | ed448) ku=digitalSignature ;;
	x25519 | x448) ku=keyAgreement ;;
	*) echo "sm_openssl_user: unknown key type $alg" >&2; return 1 ;;
	esac
	openssl genpkey -algorithm "$alg" -out "$BASE/$name.key" 2>"$dir/err" ||
	    { cat "$dir/err" >&2; return 1; }
	openssl pkey -in "$BASE/$name.key" -pubout -out "$dir/pub.pem" || return 1
	cat >"$dir/ext" <<-EOF
		basicConstraints = critical, CA:false
		keyUsage = critical, $ku
		extendedKeyUsage = emailProtection
		subjectAltName = email:$name@example.test
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	# -force_pubkey: X25519 and X448 keys cannot sign a request
	openssl x509 -new -force_pubkey "$dir/pub.pem" \
	    -subj "/CN=$name@example.test" -days 365 \
	    -CA "$BASE/store/ca/ca.pem" -CAkey "$BASE/store/ca/ca.key" \
	    -extfile "$dir/ext" -out "$BASE/$name.pem" 2>"$dir/err" ||
	    { cat "$dir/err" >&2; return 1; }
	certstore --store "$BASE/store" import "$BASE/$name.pem" \
	    "$BASE/$name.key" >"$dir/import" 2>&1 ||
	    { cat "$dir/import" >&2; return 1; }
	fpr=$(openssl x509 -in "$BASE/$name.pem" -outform DER | sha256sum)
	echo "${fpr%% *}" >"$BASE/$name.fpr"
}

# sm_other_ca NAME... - a second CA, "Other CA" in $BASE/other, that the
# base store neither trusts nor holds a key of, and users NAME of it
sm_other_ca() {
	smime-ca --store "$BASE/other" init --key ec-p256 'Other CA' \
	    >/dev/null 2>&1
	local name
	for name in "$@"; do
		sm_user "$name" ec-p256 "$BASE/other" || return 1
	done
}

# sm_setup - per test: the helpers' environment and a private copy of the
# base store in $STORE (= $MAILSEAL_STORE)
sm_setup() {
	ms_setup
	sm_env
	cp -a "$BASE/store" "$STORE"
	export MAILSEAL_STORE=$STORE
}

# fpr_of NAME - the fingerprint of user NAME
fpr_of() {
	cat "$BASE/$1.fpr"
}

# sm_teardown - stop a gpg-agent a test started in its own GNUPGHOME
sm_teardown() {
	if [ -n "${GNUPGHOME:-}" ] && [ -d "$GNUPGHOME" ] &&
	    [ "$GNUPGHOME" != "${SM_SHARED_GNUPGHOME:-}" ]; then
		gpgconf --kill all 2>/dev/null || true
	fi
}

# mimetool ARGS... / cmsedit ARGS... - the Python helpers in $FIX
mimetool() {
	python3 "$FIX/mimetool.py" "$@"
}

cmsedit() {
	python3 "$FIX/cmsedit.py" "$@"
}

# body_of FILE - everything after the first empty line (LF or CRLF)
body_of() {
	awk 'done { print; next } /^\r?$/ { done = 1 }' "$1"
}

# header_block FILE - the header section, up to the first empty line
header_block() {
	awk '/^\r?$/ { exit } { print }' "$1"
}

# header_values FILE NAME - the values of the root field NAME, one a line
header_values() {
	mimetool header "$1" "$2"
}

# status_of FILE NAME - the single value of our status field NAME; fails
# unless the field is there exactly once
status_of() {
	local n
	n=$(header_block "$1" | grep -ci "^$2:") || true
	if [ "$n" != 1 ]; then
		echo "status_of: $2 appears $n times in $1" >&2
		return 1
	fi
	header_values "$1" "$2"
}

# sig_word FILE - the first word of X-Mailseal-Signature (valid, ...)
sig_word() {
	local v
	v=$(status_of "$1" X-Mailseal-Signature) || return 1
	v=${v%%;*}
	echo "${v%% *}"
}

# expect_sig FILE WORD - X-Mailseal-Signature in FILE says WORD
expect_sig() {
	local got
	got=$(sig_word "$1") || fail_with "no single X-Mailseal-Signature in $1"
	[ "$got" = "$2" ] || {
		header_block "$1" | grep -i '^X-Mailseal' >&2
		fail_with "signature status '$got', expected '$2'"
	}
}

# content_digest FILE - mimetool's per-part digest; the signed part of a
# multipart/signed stands for the message
content_digest() {
	mimetool digest "$1"
}

# same_content A B - both messages carry the same decoded content
same_content() {
	local a b
	a=$(content_digest "$1") || return 1
	b=$(content_digest "$2") || return 1
	if [ "$a" != "$b" ]; then
		echo "content differs: $1 vs $2" >&2
		diff <(echo "$a") <(echo "$b") >&2
		return 1
	fi
}

# to_crlf IN OUT - every line ending in CRLF
to_crlf() {
	sed 's/\r$//; s/$/\r/' "$1" >"$2"
}

# p7m_der MSG OUT - the decoded CMS object of an application/pkcs7-mime
# message
p7m_der() {
	mimetool root-der "$1" "$2"
}

# wrap_p7m DER SMIME-TYPE OUT [HEADER-LINE ...] - a message whose root is
# application/pkcs7-mime carrying DER in base64, with the given outer
# fields (default: From alice, To bob, Subject)
wrap_p7m() {
	local der=$1 type=$2 out=$3
	shift 3
	[ $# -gt 0 ] || set -- 'From: Alice <alice@example.test>' \
	    'To: Bob <bob@example.test>' 'Subject: wrapped'
	{
		printf '%s\n' "$@"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: application/pkcs7-mime; smime-type=%s;\n' \
		    "$type"
		printf ' name="smime.p7m"\n'
		printf 'Content-Transfer-Encoding: base64\n'
		printf 'Content-Disposition: attachment; filename="smime.p7m"\n\n'
		base64 -w 64 "$der"
	} >"$out"
}

# entity_of MSG OUT - the content header fields and body of a fixture
# message (what a sender encrypts or signs as the inner entity)
entity_of() {
	awk '
	    !hdr && /^\r?$/ { hdr = 1; print; next }
	    hdr { print; next }
	    /^[ \t]/ { if (keep) print; next }
	    { keep = tolower($0) ~ /^content-/ }
	    keep { print }' "$1" >"$2"
}

# cms_print MSG [FORM] - openssl's view of the CMS structure of an S/MIME
# message (FORM SMIME, the default) or of a DER/BER object (FORM DER)
cms_print() {
	openssl cms -cmsout -print -inform "${2:-SMIME}" -in "$1"
}

# sm_gnupg DIR - a GnuPG home for gpgsm: offline, loopback pinentry, the
# base root trusted; exports GNUPGHOME
sm_gnupg() {
	export GNUPGHOME=$1
	mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
	echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
	printf 'disable-crl-checks\ndisable-dirmngr\n' >"$GNUPGHOME/gpgsm.conf"
	gpgsm --batch --import "$BASE/root.pem" >"$GNUPGHOME/root.log" 2>&1 ||
	    { cat "$GNUPGHOME/root.log" >&2; return 1; }
	printf '%s S\n' "$(openssl x509 -in "$BASE/root.pem" -noout \
	    -fingerprint -sha1 | sed 's/.*=//')" >"$GNUPGHOME/trustlist.txt"
}

# sm_gnupg_import NAME - NAME's key and certificate into gpgsm through a
# --legacy PKCS#12 export of smime-ca (password from a file)
sm_gnupg_import() {
	local name=$1 dir=$GNUPGHOME try
	echo "p12 password for $name" >"$dir/$name.pw"
	# gpgsm 2.2's PKCS#12 key derivation loses a leading zero byte in
	# its intermediate sums, so about one file in eighty (it depends on
	# the random salt) cannot be read by it although openssl reads it
	# with the same password; each try is a fresh export with new salts,
	# and each export is first checked with openssl
	for try in 1 2 3 4; do
		smime-ca --store "$BASE/store" export --legacy \
		    --password-file "$dir/$name.pw" "$(fpr_of "$name")" \
		    >"$dir/$name.p12" 2>"$dir/$name.err" ||
		    { cat "$dir/$name.err" >&2; return 1; }
		openssl pkcs12 -legacy -in "$dir/$name.p12" -noout \
		    -passin "file:$dir/$name.pw" 2>"$dir/$name.err" ||
		    { cat "$dir/$name.err" >&2; return 1; }
		gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 \
		    --import "$dir/$name.p12" <"$dir/$name.pw" \
		    >"$dir/$name.err" 2>&1 &&
		    grep -q 'secret keys imported: 1' "$dir/$name.err" &&
		    return 0
	done
	cat "$dir/$name.err" >&2
	return 1
}

# gpgsm_pw NAME ARGS... - gpgsm with NAME's passphrase on fd 0
gpgsm_pw() {
	local name=$1
	shift
	gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 "$@" \
	    <"$GNUPGHOME/$name.pw"
}

# sm_shared_gnupg NAME... - one GnuPG home for the whole file (call from
# setup_file): imports the named users; teardown_file calls
# sm_shared_gnupg_stop
sm_shared_gnupg() {
	SM_SHARED_GNUPGHOME=$BATS_FILE_TMPDIR/gnupg
	export SM_SHARED_GNUPGHOME
	sm_gnupg "$SM_SHARED_GNUPGHOME" || return 1
	local name
	for name in "$@"; do
		sm_gnupg_import "$name" || return 1
	done
}

sm_shared_gnupg_stop() {
	if [ -n "${SM_SHARED_GNUPGHOME:-}" ] && [ -d "$SM_SHARED_GNUPGHOME" ]
	then
		GNUPGHOME=$SM_SHARED_GNUPGHOME gpgconf --kill all \
		    2>/dev/null || true
	fi
}

# use_shared_gnupg - point GNUPGHOME at the file's GnuPG home
use_shared_gnupg() {
	export GNUPGHOME=$SM_SHARED_GNUPGHOME
}

# cms_cipher MSG [FORM] - "CONTENT-TYPE-OID CIPHER-OID" of an S/MIME
# encrypted message (or DER object), as openssl reads it
cms_cipher() {
	cms_print "$1" "${2:-SMIME}" | awk '
	    /contentType:/ && !type { type = $NF }
	    /contentEncryptionAlgorithm:/ { want = 1; next }
	    want && /algorithm:/ { alg = $NF; want = 0 }
	    END { gsub(/[()]/, "", type); gsub(/[()]/, "", alg)
		  print type, alg }'
}

# OIDs of the content types and ciphers
OID_ENVELOPED=1.2.840.113549.1.7.3
OID_AUTH_ENVELOPED=1.2.840.113549.1.9.16.1.23
OID_AES128_CBC=2.16.840.1.101.3.4.1.2
OID_AES256_CBC=2.16.840.1.101.3.4.1.42
OID_AES128_GCM=2.16.840.1.101.3.4.1.6
OID_AES256_GCM=2.16.840.1.101.3.4.1.46
OID_AES256_OFB=2.16.840.1.101.3.4.1.43

# expect_cipher MSG NAME - MSG is encrypted with NAME (aes256-gcm, ...)
# in the matching container (AuthEnvelopedData for GCM)
expect_cipher() {
	local want got
	case $2 in
	aes128-cbc) want="$OID_ENVELOPED $OID_AES128_CBC" ;;
	aes256-cbc) want="$OID_ENVELOPED $OID_AES256_CBC" ;;
	aes128-gcm) want="$OID_AUTH_ENVELOPED $OID_AES128_GCM" ;;
	aes256-gcm) want="$OID_AUTH_ENVELOPED $OID_AES256_GCM" ;;
	*) fail_with "expect_cipher: unknown cipher $2" ;;
	esac
	got=$(cms_cipher "$1")
	[ "$got" = "$want" ] ||
	    fail_with "$1: content type and cipher '$got', expected '$want' ($2)"
}

# run_out OUT CMD [ARG...] - like `run --separate-stderr`, but stdout goes
# byte for byte into the file OUT; sets $status and $stderr, and $output
# to the start of OUT (for failure messages)
run_out() {
	local out=$1
	shift
	status=0
	"$@" >"$out" 2>"$T/stderr" || status=$?
	stderr=$(cat "$T/stderr")
	output=$(head -c 2000 "$out")
}

# expect_uniform_line_ends FILE - every line of FILE ends in LF, or every
# one in CRLF: no mixture (bad-input catalogue row 12: normalize on output)
expect_uniform_line_ends() {
	local crlf lf
	crlf=$(grep -c $'\r$' "$1" || true)
	lf=$(grep -vc $'\r$' "$1" || true)
	[ "$crlf" = 0 ] || [ "$lf" = 0 ] ||
	    fail_with "$1: mixed line ends: $crlf CRLF and $lf LF lines"
}

# same_text A B - A and B are equal once CRLF line ends are read as LF
# (for inputs with CRLF that a filter may normalize; row 12)
same_text() {
	cmp -s <(sed 's/\r$//' "$1") <(sed 's/\r$//' "$2")
}
