#!/usr/bin/env bats
# certstore: import, list, find, verify, export, remove - checked against a
# PKI made by the openssl command in each test.

load helpers

setup() {
	ms_setup
	NOBODY_DIR=
}

teardown() {
	if [ -n "${NOBODY_DIR:-}" ]; then
		rm -rf "$NOBODY_DIR"
	fi
}

cs() {
	certstore --store "$STORE" "$@"
}

# import_root NAME - import $PKI/NAME.pem into the root store
import_root() {
	run --separate-stderr cs import --roots "$PKI/$1.pem"
	expect_status 0
	[ "$output" = "root $(fpr "$PKI/$1.pem")" ] ||
	    fail_with "import --roots output"
}

# import_cert NAME - import $PKI/NAME.pem into the certificate store
import_cert() {
	run --separate-stderr cs import "$PKI/$1.pem"
	expect_status 0
	[ "$output" = "certificate $(fpr "$PKI/$1.pem")" ] ||
	    fail_with "import output for $1"
}

# expect_found ADDRESS FPR [PURPOSE] - find prints exactly FPR
expect_found() {
	run --separate-stderr cs find ${3:+"$3"} "$1"
	expect_status 0
	[ "$output" = "$2" ] || fail_with "find $3 $1: expected only $2"
}

# expect_not_found ADDRESS [PURPOSE] - find exits 1 with empty output
expect_not_found() {
	run --separate-stderr cs find ${2:+"$2"} "$1"
	expect_status 1
	[ -z "$output" ] || fail_with "find $2 $1: expected no output"
}

# expect_unusable FPR PURPOSE WORDS [verify options] - verify says not
# usable for PURPOSE and gives a reason containing WORDS
expect_unusable() {
	local f=$1 purpose=$2 words=$3
	shift 3
	run --separate-stderr cs verify "--$purpose" "$@" "$f"
	expect_status 1
	[ "${lines[0]}" = "$f: not usable for $purpose" ] ||
	    fail_with "verify first line"
	printf '%s\n' "${lines[@]:1}" | grep -q "^reason: .*$words" ||
	    fail_with "verify: no reason line with '$words'"
}

# expect_usable FPR PURPOSE [verify options]
expect_usable() {
	local f=$1 purpose=$2
	shift 2
	run --separate-stderr cs verify "--$purpose" "$@" "$f"
	expect_status 0
	[ "${lines[0]}" = "$f: usable for $purpose" ] ||
	    fail_with "verify first line"
	if printf '%s\n' "${lines[@]}" | grep -q '^reason:'; then
		fail_with "usable certificate with a reason line"
	fi
}

# good_pki - root imported, bob (RSA, the good certificate) imported;
# sets GOOD to its fingerprint
good_pki() {
	pki_ca root
	pki_leaf root bob key=rsa2048
	import_root root
	import_cert bob
	GOOD=$(fpr "$PKI/bob.pem")
}

# excluded NAME PURPOSE WORDS - NAME (for bob@example.test) is imported
# next to the good certificate: find returns only the good one and verify
# names the reason
excluded() {
	local name=$1 purpose=$2 words=$3 f
	f=$(fpr "$PKI/$name.pem")
	import_cert "$name"
	expect_found bob@example.test "$GOOD" "--$purpose"
	expect_unusable "$f" "$purpose" "$words"
}

@test "certstore -h prints usage; unknown option exits 64" {
	run --separate-stderr certstore -h
	expect_status 0
	[[ $output == *[Uu]sage* ]] || fail_with "no usage text"
	[[ $output == *import* && $output == *find* ]] ||
	    fail_with "usage does not name the commands"

	run --separate-stderr certstore --no-such-option
	expect_status 64
	[ -z "$output" ] || fail_with "stdout on a usage error"
	[ -n "$stderr" ] || fail_with "no message on a usage error"

	run --separate-stderr cs frobnicate
	expect_status 64
	[ -n "$stderr" ] || fail_with "no message for an unknown command"
}

@test "find returns the good certificate; fingerprint equals openssl's" {
	good_pki
	[[ $GOOD =~ ^[0-9a-f]{64}$ ]] || fail_with "openssl fingerprint $GOOD"
	expect_found bob@example.test "$GOOD"
	expect_found bob@example.test "$GOOD" --encrypt
	expect_found bob@example.test "$GOOD" --sign
	expect_usable "$GOOD" encrypt
	expect_usable "$GOOD" sign --address bob@example.test
	expect_not_found nobody@example.test
	# the store also comes from $MAILSEAL_STORE
	MAILSEAL_STORE=$STORE run --separate-stderr certstore find bob@example.test
	expect_status 0
	[ "$output" = "$GOOD" ] || fail_with "find with MAILSEAL_STORE"
}

@test "find excludes an expired certificate; verify says expired" {
	good_pki
	pki_leaf root old key=rsa2048 san=email:bob@example.test start=-400 end=-1
	excluded old encrypt expired
	excluded old sign expired
}

# refused_line FPR WORDS - find -v's stderr has a line for FPR naming WORDS
refused_line() {
	grep -q "^certificate $1: refused: .*$2" <<<"$stderr" ||
	    fail_with "find -v: no line for $1 with '$2'"
}

@test "find -v says on stderr why each certificate for the address is refused (expired, revoked, untrusted, key usage, weak key, none at all); the exit status stays" {
	good_pki
	pki_leaf root old key=rsa2048 san=email:bob@example.test start=-400 end=-1
	pki_leaf root gone key=rsa2048 san=email:bob@example.test start=-2
	pki_leaf root signer key=rsa2048 san=email:bob@example.test \
	    ku=critical,digitalSignature
	pki_leaf root small key=rsa1024 san=email:bob@example.test
	pki_ca other
	pki_leaf other stranger key=rsa2048 san=email:bob@example.test
	pki_leaf root carol key=rsa2048 start=-400 end=-1
	local n
	for n in old gone signer small stranger carol; do
		import_cert "$n"
	done
	pki_revoke root gone
	pki_crl root
	cs import "$PKI/root.crl" >/dev/null
	# a hit: the usable one on stdout, the refused ones on stderr
	run --separate-stderr cs find -v bob@example.test
	expect_status 0
	[ "$output" = "$GOOD" ] || fail_with "find -v stdout"
	refused_line "$(fpr "$PKI/old.pem")" expired
	refused_line "$(fpr "$PKI/gone.pem")" revoked
	refused_line "$(fpr "$PKI/signer.pem")" 'wrong key usage'
	refused_line "$(fpr "$PKI/small.pem")" 'weak key'
	refused_line "$(fpr "$PKI/stranger.pem")" untrusted
	[ "$(wc -l <<<"$stderr")" = 5 ] || fail_with "find -v: not 5 lines"
	! grep -q "$GOOD" <<<"$stderr" || fail_with "the usable one refused"
	# --sign judges for signing: the signing-only certificate is taken
	run --separate-stderr cs find --verbose --sign bob@example.test
	expect_status 0
	! grep -q "$(fpr "$PKI/signer.pem")" <<<"$stderr" ||
	    fail_with "--sign: the signing certificate refused"
	# a miss: exit 1 and nothing on stdout, as without -v; stderr says why
	run --separate-stderr cs find -v carol@example.test
	expect_status 1
	[ -z "$output" ] || fail_with "miss: stdout"
	[ "$stderr" = "certificate $(fpr "$PKI/carol.pem"): refused: expired" ] ||
	    fail_with "miss: $stderr"
	run --separate-stderr cs find -v nobody@example.test
	expect_status 1
	[ -z "$output" ] || fail_with "none: stdout"
	[ "$stderr" = "no certificate in the store for nobody@example.test" ] ||
	    fail_with "none: $stderr"
	# without -v a miss stays silent
	run --separate-stderr cs find carol@example.test
	expect_status 1
	[ -z "$output$stderr" ] || fail_with "find without -v said something"
}

@test "find excludes a not yet valid certificate; verify says not yet valid" {
	good_pki
	pki_leaf root future key=rsa2048 san=email:bob@example.test start=10 end=400
	excluded future encrypt 'not yet valid'
}

@test "find excludes a certificate revoked by an imported CRL; verify says revoked" {
	good_pki
	pki_leaf root gone key=rsa2048 san=email:bob@example.test start=-2
	local f
	f=$(fpr "$PKI/gone.pem")
	import_cert gone
	# before the CRL both are usable, newest notBefore first
	run --separate-stderr cs find bob@example.test
	expect_status 0
	[ "$output" = "$GOOD"$'\n'"$f" ] || fail_with "find before the CRL"

	pki_revoke root gone
	pki_crl root
	run --separate-stderr cs import "$PKI/root.crl"
	expect_status 0
	[[ $output =~ ^crl\ $(openssl crl -in "$PKI/root.crl" -noout -hash)(\.r[0-9]+)?$ ]] ||
	    fail_with "import CRL output"
	expect_found bob@example.test "$GOOD"
	expect_found bob@example.test "$GOOD" --sign
	expect_unusable "$f" encrypt revoked
	expect_unusable "$f" sign revoked
}

@test "find excludes an untrusted certificate (root not imported); verify says untrusted" {
	good_pki
	pki_ca other
	pki_leaf other stranger key=rsa2048 san=email:bob@example.test
	excluded stranger encrypt untrusted
	excluded stranger sign untrusted
}

@test "find --encrypt excludes KU digitalSignature only; --sign finds it; verify says wrong key usage" {
	good_pki
	pki_leaf root signonly key=rsa2048 san=email:bob@example.test \
	    ku=critical,digitalSignature
	excluded signonly encrypt 'wrong key usage'
	run --separate-stderr cs find --sign bob@example.test
	expect_status 0
	printf '%s\n' "$output" | grep -qx "$(fpr "$PKI/signonly.pem")" ||
	    fail_with "find --sign misses the signing certificate"
	expect_usable "$(fpr "$PKI/signonly.pem")" sign
}

@test "find --sign excludes KU keyEncipherment only; verify says wrong key usage" {
	good_pki
	pki_leaf root enconly key=rsa2048 san=email:bob@example.test \
	    ku=critical,keyEncipherment
	excluded enconly sign 'wrong key usage'
	expect_usable "$(fpr "$PKI/enconly.pem")" encrypt
	# nonRepudiation alone is enough for signing
	pki_leaf root nr key=rsa2048 san=email:nr@example.test \
	    ku=critical,nonRepudiation
	import_cert nr
	expect_found nr@example.test "$(fpr "$PKI/nr.pem")" --sign
	expect_not_found nr@example.test --encrypt
}

@test "the encryption key usage must fit the key type" {
	good_pki
	# EC with keyEncipherment, RSA with keyAgreement: neither can encrypt
	pki_leaf root eckenc key=ec san=email:bob@example.test \
	    ku=critical,digitalSignature,keyEncipherment
	pki_leaf root rsaka key=rsa2048 san=email:bob@example.test \
	    ku=critical,digitalSignature,keyAgreement
	excluded eckenc encrypt 'wrong key usage'
	excluded rsaka encrypt 'wrong key usage'
}

@test "find excludes EKU serverAuth only; verify says wrong extended key usage" {
	good_pki
	pki_leaf root tls key=rsa2048 san=email:bob@example.test eku=serverAuth
	excluded tls encrypt 'wrong extended key usage'
	excluded tls sign 'wrong extended key usage'
}

@test "certificates without KU and EKU, or with anyExtendedKeyUsage, are usable" {
	good_pki
	pki_leaf root plain key=rsa2048 san=email:plain@example.test ku=none eku=none
	pki_leaf root anyeku key=rsa2048 san=email:any@example.test \
	    eku=anyExtendedKeyUsage
	import_cert plain
	import_cert anyeku
	expect_found plain@example.test "$(fpr "$PKI/plain.pem")" --encrypt
	expect_found any@example.test "$(fpr "$PKI/anyeku.pem")" --encrypt
}

@test "find excludes a CA certificate; verify says CA certificate" {
	good_pki
	pki_leaf root subca key=rsa2048 san=email:bob@example.test \
	    bc=critical,CA:TRUE \
	    ku=critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign
	excluded subca encrypt 'CA certificate'
	excluded subca sign 'CA certificate'
}

@test "find excludes a 1024-bit RSA key; verify says weak key" {
	good_pki
	pki_leaf root small key=rsa1024 san=email:bob@example.test
	excluded small encrypt 'weak key'
}

# rfc8410_leaf NAME ALG KU - a certificate for bob@example.test with an
# ALG key (ed25519, ed448, x25519, x448) and keyUsage KU, issued by root
# with openssl x509 -force_pubkey (X25519 and X448 cannot sign a request)
rfc8410_leaf() {
	local name=$1 alg=$2 ku=$3
	openssl genpkey -algorithm "$alg" -out "$PKI/$name.key" &&
	    openssl pkey -in "$PKI/$name.key" -pubout -out "$PKI/$name.pub" ||
	    return 1
	printf '%s\n' 'basicConstraints = CA:FALSE' "keyUsage = critical,$ku" \
	    'extendedKeyUsage = emailProtection' \
	    'subjectAltName = email:bob@example.test' \
	    'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' \
	    >"$PKI/$name.ext"
	openssl x509 -new -force_pubkey "$PKI/$name.pub" -subj "/CN=$name" \
	    -days 365 -CA "$PKI/root.pem" -CAkey "$PKI/root.key" \
	    -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" \
	    2>"$PKI/$name.err" || { cat "$PKI/$name.err" >&2; return 1; }
}

@test "RFC 8410 keys: Ed25519 signs only; Ed448, X25519 and X448 are unsupported key types (OpenSSL 3.0), not weak keys" {
	good_pki
	rfc8410_leaf ed ed25519 digitalSignature
	rfc8410_leaf edbig ed448 digitalSignature
	rfc8410_leaf x x25519 keyAgreement
	rfc8410_leaf xbig x448 keyAgreement
	local name
	for name in ed edbig x xbig; do
		import_cert "$name"
	done
	expect_usable "$(fpr "$PKI/ed.pem")" sign
	expect_unusable "$(fpr "$PKI/ed.pem")" encrypt \
	    'wrong key usage: key type cannot encrypt'
	expect_unusable "$(fpr "$PKI/edbig.pem")" sign \
	    'unsupported key type: Ed448 (no S/MIME signing with OpenSSL 3.0)'
	expect_unusable "$(fpr "$PKI/x.pem")" encrypt \
	    'unsupported key type: X25519 (no RFC 8418 key agreement with OpenSSL 3.0)'
	[[ $output != *"weak key"* && $output != *"wrong key usage"* ]] ||
	    fail_with "X25519 with keyAgreement: $output"
	expect_unusable "$(fpr "$PKI/xbig.pem")" encrypt \
	    'unsupported key type: X448 (no RFC 8418 key agreement with OpenSSL 3.0)'
	expect_unusable "$(fpr "$PKI/x.pem")" sign \
	    'wrong key usage: key type cannot sign'
	# find: only the RSA certificate encrypts; Ed25519 and RSA sign
	expect_found bob@example.test "$GOOD" --encrypt
	run --separate-stderr cs find --sign bob@example.test
	expect_status 0
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$GOOD" \
	    "$(fpr "$PKI/ed.pem")" | sort)" ] ||
	    fail_with "find --sign: $output"
}

@test "find excludes a certificate for another address; verify says address mismatch" {
	good_pki
	pki_leaf root alice key=rsa2048 san=email:alice@example.test
	import_cert alice
	local f
	f=$(fpr "$PKI/alice.pem")
	expect_found bob@example.test "$GOOD"
	expect_found alice@example.test "$f"
	expect_not_found bob@example.test.evil
	expect_not_found bob@example.tes
	expect_not_found ob@example.test
	expect_unusable "$f" encrypt 'address mismatch' --address bob@example.test
	expect_usable "$f" encrypt --address alice@example.test
	expect_usable "$f" encrypt
}

@test "verify says no address for a certificate without any e-mail address" {
	good_pki
	pki_leaf root anon key=rsa2048 subj=/CN=anonymous san=none
	import_cert anon
	expect_unusable "$(fpr "$PKI/anon.pem")" encrypt 'no address'
	expect_found bob@example.test "$GOOD"
}

@test "find excludes addresses with whitespace; verify says malformed address" {
	good_pki
	# SAN rfc822Name "bob @example.test" and "bob x@example.test"
	pki_leaf root sp key=rsa2048 san='email:bob @example.test'
	pki_leaf root sp2 key=rsa2048 san='email:bob x@example.test'
	# no SAN, subject emailAddress "bob<TAB>@example.test"
	pki_leaf root tab key=rsa2048 san=none \
	    subj="/CN=bob/emailAddress=bob	@example.test"
	openssl x509 -in "$PKI/sp.pem" -noout -ext subjectAltName |
	    grep -q 'email:bob @example.test' || fail_with "openssl SAN"
	for n in sp sp2 tab; do
		excluded "$n" encrypt 'malformed address'
	done
	run --separate-stderr cs find 'bob x@example.test'
	[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
	    fail_with "find of an address with a space"
	[ -z "$output" ] || fail_with "find of an address with a space printed"
}

@test "a certificate issued by an intermediate in the cert store is found" {
	pki_ca root
	pki_ca inter root
	pki_leaf inter carol
	import_root root
	local f
	f=$(fpr "$PKI/carol.pem")
	import_cert carol
	# without the intermediate the chain is incomplete
	expect_not_found carol@example.test
	expect_unusable "$f" encrypt untrusted
	import_cert inter
	expect_found carol@example.test "$f"
	expect_usable "$f" encrypt
	# the intermediate is a CA certificate, never a recipient
	expect_unusable "$(fpr "$PKI/inter.pem")" encrypt 'CA certificate'
}

@test "EC certificate with keyAgreement is found for --encrypt" {
	pki_ca root
	pki_leaf root eve key=ec ku=critical,digitalSignature,keyAgreement
	pki_leaf root evesig key=ec san=email:eve@example.test \
	    ku=critical,digitalSignature start=-5
	import_root root
	import_cert eve
	import_cert evesig
	local f
	f=$(fpr "$PKI/eve.pem")
	expect_found eve@example.test "$f" --encrypt
	expect_found eve@example.test "$f"
	expect_usable "$f" encrypt
	expect_unusable "$(fpr "$PKI/evesig.pem")" encrypt 'wrong key usage'
	# for signing both, newest notBefore first
	run --separate-stderr cs find --sign eve@example.test
	expect_status 0
	[ "$output" = "$f"$'\n'"$(fpr "$PKI/evesig.pem")" ] ||
	    fail_with "find --sign order"
}

@test "find lists several usable certificates newest notBefore first" {
	pki_ca root
	pki_leaf root b1 san=email:bob@example.test start=-30
	pki_leaf root b2 san=email:bob@example.test start=-2
	pki_leaf root b3 san=email:bob@example.test start=-10
	import_root root
	run --separate-stderr cs import "$PKI/b1.pem" "$PKI/b2.pem" "$PKI/b3.pem"
	expect_status 0
	[ "${#lines[@]}" -eq 3 ] || fail_with "three import lines"
	run --separate-stderr cs find bob@example.test
	expect_status 0
	[ "$output" = "$(fpr "$PKI/b2.pem")"$'\n'"$(fpr "$PKI/b3.pem")"$'\n'"$(fpr "$PKI/b1.pem")" ] ||
	    fail_with "find order"
}

@test "lookup is case-insensitive in the local part and the domain" {
	pki_ca root
	pki_leaf root bob
	pki_leaf root dave san=email:Dave@Example.TEST
	import_root root
	import_cert bob
	import_cert dave
	local f d
	f=$(fpr "$PKI/bob.pem")
	d=$(fpr "$PKI/dave.pem")
	expect_found BOB@Example.TEST "$f"
	expect_found bob@EXAMPLE.test "$f"
	expect_found dave@example.test "$d"
	expect_found DAVE@EXAMPLE.TEST "$d"
	expect_usable "$f" encrypt --address Bob@example.TEST
}

@test "subject emailAddress is used when the SAN has no e-mail address" {
	pki_ca root
	pki_leaf root frank subj=/CN=Frank/emailAddress=frank@example.test \
	    san=DNS:frank.example.test
	# with an e-mail address in the SAN the subject's is not used
	pki_leaf root mix subj=/CN=Mix/emailAddress=subject@example.test \
	    san=email:san@example.test
	import_root root
	import_cert frank
	import_cert mix
	expect_found frank@example.test "$(fpr "$PKI/frank.pem")"
	expect_found san@example.test "$(fpr "$PKI/mix.pem")"
	expect_not_found subject@example.test
	expect_unusable "$(fpr "$PKI/mix.pem")" encrypt 'address mismatch' \
	    --address subject@example.test
}

@test "a CRL of an intermediate in the cert store revokes its certificates" {
	pki_ca root
	pki_ca inter root
	pki_leaf inter ida
	pki_leaf inter idb san=email:ida@example.test start=-3
	import_root root
	import_cert inter
	import_cert ida
	import_cert idb
	local a b
	a=$(fpr "$PKI/ida.pem")
	b=$(fpr "$PKI/idb.pem")
	run --separate-stderr cs find ida@example.test
	expect_status 0
	[ "$output" = "$a"$'\n'"$b" ] || fail_with "find before the CRL"
	pki_revoke inter idb
	pki_crl inter
	run --separate-stderr cs import "$PKI/inter.crl"
	expect_status 0
	[[ $output =~ ^crl\ $(openssl crl -in "$PKI/inter.crl" -noout -hash)(\.r[0-9]+)?$ ]] ||
	    fail_with "import CRL output"
	expect_found ida@example.test "$a"
	expect_unusable "$b" encrypt revoked
}

@test "importing a certificate twice keeps one copy" {
	pki_ca root
	pki_leaf root ann
	import_root root
	import_cert ann
	import_cert ann
	run --separate-stderr cs list
	expect_status 0
	[ "${#lines[@]}" -eq 1 ] || fail_with "listed twice"
	expect_found ann@example.test "$(fpr "$PKI/ann.pem")"
}

@test "import a PEM bundle with several certificates, a key and a CRL" {
	pki_ca root
	pki_leaf root ann
	pki_leaf root ben key=rsa2048
	pki_leaf root cat
	pki_crl root
	import_root root
	cat "$PKI/ann.pem" "$PKI/ben.pem" "$PKI/ben.key" "$PKI/cat.pem" \
	    "$PKI/root.crl" >"$T/bundle.pem"
	local a b c
	a=$(fpr "$PKI/ann.pem")
	b=$(fpr "$PKI/ben.pem")
	c=$(fpr "$PKI/cat.pem")
	run --separate-stderr cs import "$T/bundle.pem"
	expect_status 0
	[ "${#lines[@]}" -eq 5 ] || fail_with "five objects"
	local want
	want=$(printf '%s\n' "certificate $a" "certificate $b" "key $b" \
	    "certificate $c" | sort)
	[ "$(printf '%s\n' "${lines[@]}" | grep -v '^crl ' | sort)" = "$want" ] ||
	    fail_with "bundle import lines"
	printf '%s\n' "${lines[@]}" | grep -q '^crl [0-9a-f]' ||
	    fail_with "no crl line"
	[ "$(stat -c %a "$STORE/keys/$b.key")" = 600 ] || fail_with "key mode"
	expect_found ann@example.test "$a"
	expect_found ben@example.test "$b"
	expect_found cat@example.test "$c"
}

@test "import from standard input" {
	pki_ca root
	pki_leaf root ann
	import_root root
	run --separate-stderr cs import - <"$PKI/ann.pem"
	expect_status 0
	[ "$output" = "certificate $(fpr "$PKI/ann.pem")" ] || fail_with "stdin import"
	expect_found ann@example.test "$(fpr "$PKI/ann.pem")"
}

@test "import DER certificate, DER CRL and DER PKCS#7" {
	pki_ca root
	pki_leaf root ann
	pki_leaf root ben
	pki_crl root
	openssl x509 -in "$PKI/root.pem" -outform DER -out "$T/root.der"
	openssl x509 -in "$PKI/ann.pem" -outform DER -out "$T/ann.der"
	openssl crl -in "$PKI/root.crl" -outform DER -out "$T/root.crl.der"
	openssl crl2pkcs7 -nocrl -certfile "$PKI/ben.pem" -outform DER \
	    -out "$T/ben.p7b"
	run --separate-stderr cs import --roots "$T/root.der"
	expect_status 0
	[ "$output" = "root $(fpr "$PKI/root.pem")" ] || fail_with "DER root"
	run --separate-stderr cs import "$T/ann.der"
	expect_status 0
	[ "$output" = "certificate $(fpr "$PKI/ann.pem")" ] || fail_with "DER cert"
	run --separate-stderr cs import "$T/root.crl.der"
	expect_status 0
	[[ $output =~ ^crl\ [0-9a-f]+ ]] || fail_with "DER CRL"
	run --separate-stderr cs import "$T/ben.p7b"
	expect_status 0
	[ "$output" = "certificate $(fpr "$PKI/ben.pem")" ] || fail_with "DER PKCS#7"
	expect_found ann@example.test "$(fpr "$PKI/ann.pem")"
	expect_found ben@example.test "$(fpr "$PKI/ben.pem")"
}

@test "import a PEM PKCS#7 bundle (crl2pkcs7 -nocrl -certfile)" {
	pki_ca root
	pki_ca inter root
	pki_leaf inter ann
	pki_leaf inter ben key=rsa2048
	import_root root
	cat "$PKI/inter.pem" "$PKI/ann.pem" "$PKI/ben.pem" >"$T/chain.pem"
	openssl crl2pkcs7 -nocrl -certfile "$T/chain.pem" -out "$T/chain.p7b"
	run --separate-stderr cs import "$T/chain.p7b"
	expect_status 0
	local want
	want=$(for n in inter ann ben; do
		echo "certificate $(fpr "$PKI/$n.pem")"
	done | sort)
	[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$want" ] ||
	    fail_with "PKCS#7 import lines"
	expect_found ann@example.test "$(fpr "$PKI/ann.pem")"
	expect_found ben@example.test "$(fpr "$PKI/ben.pem")"
}

@test "import PKCS#12 with --password-file puts the key into keys/ with mode 0600" {
	pki_ca root
	pki_leaf root pat key=rsa2048
	import_root root
	printf 'correct horse\nsecond line is not the password\n' >"$T/pw"
	openssl pkcs12 -export -in "$PKI/pat.pem" -inkey "$PKI/pat.key" \
	    -name pat -passout pass:'correct horse' -out "$T/pat.p12"
	local f
	f=$(fpr "$PKI/pat.pem")

	# a wrong password is garbage input and writes nothing
	echo wrong >"$T/badpw"
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr cs import --password-file "$T/badpw" "$T/pat.p12"
	expect_status 65
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "store changed by a failed PKCS#12 import"

	# a password file that cannot be read is the administrator's to fix:
	# a configuration failure that names the file
	run --separate-stderr cs import --password-file "$T/nopw" "$T/pat.p12"
	expect_status 75
	[[ $stderr == *"password file $T/nopw"* ]] ||
	    fail_with "the password file is not named"
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "store changed by a failed PKCS#12 import"

	run --separate-stderr cs import --password-file "$T/pw" "$T/pat.p12"
	expect_status 0
	[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$(printf '%s\n' \
	    "certificate $f" "key $f")" ] || fail_with "PKCS#12 import lines"
	[ -f "$STORE/keys/$f.key" ] || fail_with "no keys/$f.key"
	[ "$(stat -c %a "$STORE/keys/$f.key")" = 600 ] || fail_with "key mode"
	[ "$(openssl pkey -in "$STORE/keys/$f.key" -pubout)" = \
	    "$(openssl x509 -in "$PKI/pat.pem" -noout -pubkey)" ] ||
	    fail_with "stored key does not match the certificate"
	expect_found pat@example.test "$f"
	run --separate-stderr cs list
	expect_status 0
	[ "$(printf '%s\n' "$output" | awk -F'\t' -v f="$f" '$1 == f { print $4 }')" = key ] ||
	    fail_with "list does not show the key"
}

# legacy_p12 NAME OUT PASSWORD PBE-OPTIONS... - NAME's key and certificate
# as a PKCS#12 encrypted the way older Windows and Outlook exports are
legacy_p12() {
	local name=$1 out=$2 pw=$3
	shift 3
	openssl pkcs12 -export -legacy "$@" -in "$PKI/$name.pem" \
	    -inkey "$PKI/$name.key" -name "$name" -passout "pass:$pw" \
	    -out "$out"
}

@test "import a legacy PKCS#12 (RC2-40, 3DES): the key signs, openssl cms verifies; a wrong password is said as such" {
	pki_ca root
	pki_leaf root old key=rsa2048
	import_root root
	local f
	f=$(fpr "$PKI/old.pem")
	printf 'old export\n' >"$T/pw"
	echo 'not the password' >"$T/badpw"
	legacy_p12 old "$T/rc2.p12" 'old export' \
	    -certpbe PBE-SHA1-RC2-40 -keypbe PBE-SHA1-3DES
	legacy_p12 old "$T/des.p12" 'old export' -descert
	# the default provider alone cannot read the RC2-40 bags
	! openssl pkcs12 -in "$T/rc2.p12" -passin 'pass:old export' \
	    -noout 2>/dev/null || fail_with "RC2-40 readable without -legacy"

	local before p12
	before=$(store_snapshot "$STORE")
	for p12 in rc2 des; do
		run --separate-stderr cs import --password-file "$T/badpw" \
		    "$T/$p12.p12"
		expect_status 65
		[ "$stderr" = "certstore: error: $T/$p12.p12: PKCS#12 password wrong (its integrity check fails)" ] ||
		    fail_with "$p12: wrong password diagnostic: $stderr"
		[ "$(store_snapshot "$STORE")" = "$before" ] ||
		    fail_with "$p12: store changed by a wrong password"
	done

	for p12 in rc2 des; do
		run --separate-stderr cs import --password-file "$T/pw" \
		    "$T/$p12.p12"
		expect_status 0
		[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$(printf '%s\n' \
		    "certificate $f" "key $f")" ] ||
		    fail_with "$p12: import lines: $output"
		case $stderr in
		*'old export'*) fail_with "$p12: the password in a diagnostic" ;;
		esac
		[ "$(openssl pkey -in "$STORE/keys/$f.key" -pubout)" = \
		    "$(openssl x509 -in "$PKI/old.pem" -noout -pubkey)" ] ||
		    fail_with "$p12: stored key does not match the certificate"
	done

	# the imported key signs; openssl verifies against the root
	printf 'From: Old <old@example.test>\r\nTo: x@example.test\r\nSubject: legacy\r\nContent-Type: text/plain\r\n\r\nsigned with an imported key\r\n' >"$T/msg.eml"
	smime-sign --store "$STORE" <"$T/msg.eml" >"$T/signed.eml" ||
	    fail_with "smime-sign with the imported key"
	openssl cms -verify -CAfile "$PKI/root.pem" -in "$T/signed.eml" \
	    -out "$T/content" -signer "$T/signer.pem" 2>"$T/verify.err" ||
	    fail_with "openssl cms -verify: $(cat "$T/verify.err")"
	grep -q 'signed with an imported key' "$T/content" ||
	    fail_with "verified content differs"
	[ "$(fpr "$T/signer.pem")" = "$f" ] || fail_with "signed by another key"
}

@test "list prints fingerprint, notAfter, addresses, key and subject" {
	pki_ca root
	pki_leaf root multi subj='/CN=Multi User' \
	    san=email:multi@example.test,email:other@example.test
	pki_leaf root ann
	import_root root
	import_cert multi
	import_cert ann
	local m a
	m=$(fpr "$PKI/multi.pem")
	a=$(fpr "$PKI/ann.pem")
	run --separate-stderr cs list
	expect_status 0
	[ "${#lines[@]}" -eq 2 ] || fail_with "two certificates listed"
	local line
	line=$(printf '%s\n' "${lines[@]}" | grep "^$m	")
	[ "$(printf '%s' "$line" | awk -F'\t' '{ print NF }')" -eq 6 ] ||
	    fail_with "six tab-separated fields"
	IFS=$'\t' read -r f1 f2 f3 f4 f5 f6 <<<"$line"
	[ "$f1" = "$m" ] || fail_with "fingerprint field"
	[ "$f2" = "$(not_after_day "$PKI/multi.pem")" ] || fail_with "notAfter field: $f2"
	[ "$f3" = multi@example.test,other@example.test ] || fail_with "addresses field: $f3"
	[ "$f4" = - ] || fail_with "key field: $f4"
	[ "$f5" = usable ] || fail_with "status field: $f5"
	[[ $f6 == *"Multi User"* ]] || fail_with "subject field: $f6"
	printf '%s\n' "${lines[@]}" | grep -q "^$a	$(not_after_day "$PKI/ann.pem")	ann@example.test	-	.*ann" ||
	    fail_with "second line"
	# the root is in the root store, not in the certificate store
	if printf '%s\n' "${lines[@]}" | grep -q "^$(fpr "$PKI/root.pem")"; then
		fail_with "root in the certificate list"
	fi
	# notAfter from 2050 on is a GeneralizedTime
	pki_leaf root far end=12000
	import_cert far
	openssl asn1parse -in "$PKI/far.pem" | grep -q GENERALIZEDTIME ||
	    fail_with "openssl made no GeneralizedTime"
	run --separate-stderr cs list
	expect_status 0
	printf '%s\n' "${lines[@]}" |
	    grep -q "^$(fpr "$PKI/far.pem")	$(not_after_day "$PKI/far.pem")	far@example.test	" ||
	    fail_with "GeneralizedTime notAfter"
	expect_found far@example.test "$(fpr "$PKI/far.pem")"

	run --separate-stderr cs list --roots
	expect_status 0
	[ "${#lines[@]}" -eq 1 ] || fail_with "one root"
	[[ ${lines[0]} == "$(fpr "$PKI/root.pem")	$(not_after_day "$PKI/root.pem")	"* ]] ||
	    fail_with "root line"
}

@test "list: each certificate's status (usable, expiring, expired, revoked, untrusted, root valid); --expiring DAYS lists only those ending within DAYS" {
	good_pki
	pki_leaf root soon key=rsa2048 start=-10 end=10
	pki_leaf root old key=rsa2048 start=-400 end=-1
	pki_leaf root gone key=rsa2048 start=-2
	pki_ca stranger
	pki_leaf stranger lone key=rsa2048
	local n
	for n in soon old gone lone; do
		import_cert "$n"
	done
	pki_revoke root gone
	pki_crl root
	run --separate-stderr cs import "$PKI/root.crl"
	expect_status 0
	run --separate-stderr cs list
	expect_status 0
	local listing=$output
	status_of() {
		awk -F'\t' -v f="$(fpr "$PKI/$1.pem")" '$1 == f { print $5 }' \
		    <<<"$listing"
	}
	[ "$(status_of bob)" = usable ] || fail_with "bob: $(status_of bob)"
	[ "$(status_of soon)" = expiring ] || fail_with "soon: $(status_of soon)"
	[ "$(status_of old)" = expired ] || fail_with "old: $(status_of old)"
	[ "$(status_of gone)" = revoked ] || fail_with "gone: $(status_of gone)"
	[ "$(status_of lone)" = untrusted ] || fail_with "lone: $(status_of lone)"
	# the window: within 30 days by default, or DAYS
	run --separate-stderr cs list --expiring 5
	expect_status 0
	[[ $output == "$(fpr "$PKI/old.pem")	"* ]] ||
	    fail_with "--expiring 5: $output"
	[ "${#lines[@]}" -eq 1 ] || fail_with "--expiring 5 lists more than old"
	run --separate-stderr cs list --expiring 30
	expect_status 0
	[ "$(cut -f1 <<<"$output" | sort)" = "$(printf '%s\n' \
	    "$(fpr "$PKI/old.pem")" "$(fpr "$PKI/soon.pem")" | sort)" ] ||
	    fail_with "--expiring 30: $output"
	run --separate-stderr cs list --expiring 5 --json
	expect_status 0
	run python3 -c 'import json, sys
rows = json.loads(sys.stdin.read())
assert [r["status"] for r in rows] == ["expired"], rows' <<<"$output"
	expect_status 0
	run --separate-stderr cs list --roots
	expect_status 0
	[ "$(cut -f5 <<<"$output")" = valid ] || fail_with "root: $output"
	run --separate-stderr cs list --expiring soon
	expect_status 64
}

@test "list --json is a JSON array with the documented keys" {
	pki_ca root
	pki_leaf root multi subj='/CN=Multi User' \
	    san=email:multi@example.test,email:other@example.test
	pki_leaf root kim
	import_root root
	import_cert multi
	cat "$PKI/kim.pem" "$PKI/kim.key" >"$T/kim.pem"
	run --separate-stderr cs import "$T/kim.pem"
	expect_status 0
	run --separate-stderr cs list --json
	expect_status 0
	printf '%s\n' "$output" >"$T/list.json"
	python3 -m json.tool "$T/list.json" >/dev/null || fail_with "not JSON"
	local serial
	serial=$(openssl x509 -in "$PKI/multi.pem" -noout -serial | sed 's/serial=//')
	run python3 - "$T/list.json" "$(fpr "$PKI/multi.pem")" \
	    "$(fpr "$PKI/kim.pem")" "$serial" \
	    "$(not_after_day "$PKI/multi.pem")" <<'EOF'
import json, sys
path, multi, kim, serial, not_after = sys.argv[1:]
data = json.load(open(path))
assert isinstance(data, list), "not an array"
assert len(data) == 2, "expected 2 entries, got %d" % len(data)
keys = {"fingerprint", "subject", "issuer", "serial", "not_before",
        "not_after", "addresses", "has_key", "root"}
for o in data:
    missing = keys - set(o)
    assert not missing, "missing keys %s" % sorted(missing)
by = {o["fingerprint"]: o for o in data}
m = by[multi]
assert m["addresses"] == ["multi@example.test", "other@example.test"], m["addresses"]
assert m["has_key"] is False, m["has_key"]
assert m["root"] is False, m["root"]
assert "Multi User" in m["subject"], m["subject"]
assert "root" in m["issuer"], m["issuer"]
assert not_after in str(m["not_after"]), m["not_after"]
s = str(m["serial"]).replace(":", "").lower().lstrip("0")
assert s == serial.lower().lstrip("0") or s == str(int(serial, 16)), m["serial"]
assert str(m["not_before"]) < str(m["not_after"]), "not_before"
assert by[kim]["has_key"] is True, by[kim]["has_key"]
assert by[kim]["addresses"] == ["kim@example.test"], by[kim]["addresses"]
print("ok")
EOF
	expect_status 0
	[ "$output" = ok ] || fail_with "JSON content"

	run --separate-stderr cs list --roots --json
	expect_status 0
	run python3 -c 'import json, sys
d = json.loads(sys.argv[1]); assert len(d) == 1 and d[0]["root"] is True
assert d[0]["fingerprint"] == sys.argv[2]; print("ok")' "$output" "$(fpr "$PKI/root.pem")"
	expect_status 0
	[ "$output" = ok ] || fail_with "JSON roots"
}

@test "list --json stays valid JSON for hostile subjects: controls, quotes, backslashes, 8-bit bytes" {
	pki_ca root
	pki_leaf root odd subj=$'/CN=Odd \x01\x1b[31m "q" \\\\ \xff\xfe end'
	import_root root
	import_cert odd
	run --separate-stderr cs list --json
	expect_status 0
	printf '%s\n' "$output" >"$T/list.json"
	python3 -m json.tool "$T/list.json" >/dev/null || fail_with "not JSON"
	run python3 - "$T/list.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
subject = [o for o in data if "Odd" in o["subject"]][0]["subject"]
assert "end" in subject, subject
assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in subject), subject
print("ok")
EOF
	expect_status 0
	[ "$output" = ok ] || fail_with "JSON subject"
}

@test "export prints the certificate unchanged" {
	pki_ca root
	pki_leaf root ann
	import_root root
	import_cert ann
	local f
	f=$(fpr "$PKI/ann.pem")
	run --separate-stderr cs export "$f"
	expect_status 0
	printf '%s\n' "$output" >"$T/out.pem"
	[[ ${lines[0]} == "-----BEGIN CERTIFICATE-----" ]] || fail_with "not PEM"
	openssl x509 -in "$T/out.pem" -outform DER -out "$T/out.der"
	openssl x509 -in "$PKI/ann.pem" -outform DER -out "$T/ann.der"
	cmp "$T/out.der" "$T/ann.der" || fail_with "exported certificate differs"
	# roots export too
	run --separate-stderr cs export "$(fpr "$PKI/root.pem")"
	expect_status 0
	[ "$(printf '%s\n' "$output" | openssl x509 -outform DER | sha256sum)" = \
	    "$(openssl x509 -in "$PKI/root.pem" -outform DER | sha256sum)" ] ||
	    fail_with "exported root differs"
	run --separate-stderr cs export 0000000000000000000000000000000000000000000000000000000000000000
	expect_status 1
	[ -z "$output" ] || fail_with "output for an unknown fingerprint"
}

@test "remove deletes the certificate and its index entries, keeps the key" {
	pki_ca root
	pki_leaf root ann
	pki_leaf root ann2 san=email:ann@example.test start=-3
	import_root root
	cat "$PKI/ann.pem" "$PKI/ann.key" >"$T/ann.pem"
	run --separate-stderr cs import "$T/ann.pem"
	expect_status 0
	import_cert ann2
	local f f2
	f=$(fpr "$PKI/ann.pem")
	f2=$(fpr "$PKI/ann2.pem")
	run --separate-stderr cs find ann@example.test
	expect_status 0
	[ "$output" = "$f"$'\n'"$f2" ] || fail_with "find before remove"

	run --separate-stderr cs remove "$f"
	expect_status 0
	expect_found ann@example.test "$f2"
	run --separate-stderr cs remove "$f2"
	expect_status 0
	expect_not_found ann@example.test
	run --separate-stderr cs list
	expect_status 0
	[ -z "$output" ] || fail_with "list after remove"
	run --separate-stderr cs export "$f"
	expect_status 1
	run --separate-stderr cs verify "$f"
	expect_status 1
	[ -f "$STORE/keys/$f.key" ] || fail_with "key removed"
	[ ! -e "$STORE/certs/$f.pem" ] || fail_with "certs/$f.pem still there"
	run --separate-stderr cs remove "$f"
	expect_status 1
}

@test "verify of an unknown fingerprint exits 1" {
	pki_ca root
	import_root root
	run --separate-stderr cs verify ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
	expect_status 1
	run --separate-stderr cs verify --encrypt not-a-fingerprint
	[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
	    fail_with "verify of a malformed fingerprint"
}

@test "garbage input exits 65 and leaves the store unchanged" {
	pki_ca root
	pki_leaf root ann
	import_root root
	head -c 3000 /dev/urandom >"$T/garbage.bin"
	printf -- '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG\n-----END CERTIFICATE-----\n' \
	    >"$T/broken.pem"
	head -c 400 "$PKI/ann.pem" >"$T/truncated.pem"
	openssl x509 -in "$PKI/ann.pem" -outform DER | head -c 200 >"$T/truncated.der"
	: >"$T/empty"
	local before bad
	before=$(store_snapshot "$STORE")
	for bad in garbage.bin broken.pem truncated.pem truncated.der empty; do
		# the good file first: nothing may be written before the bad
		# one is parsed
		run --separate-stderr cs import "$PKI/ann.pem" "$T/$bad"
		expect_status 65
		[ -n "$stderr" ] || fail_with "no message for $bad"
		[ "$(store_snapshot "$STORE")" = "$before" ] ||
		    fail_with "store changed by $bad"
	done
	run --separate-stderr cs import - <"$T/garbage.bin"
	expect_status 65
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "store changed by garbage on stdin"
	run --separate-stderr cs import "$T/no-such-file"
	[[ $status -eq 65 || $status -eq 66 || $status -eq 64 ]] ||
	    fail_with "missing file"
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "store changed by a missing file"
	expect_not_found ann@example.test
}

@test "a CRL whose issuer is not in the store is refused (65), store unchanged" {
	pki_ca root
	pki_ca other
	pki_crl other
	import_root root
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr cs import "$PKI/other.crl"
	expect_status 65
	[ -n "$stderr" ] || fail_with "no message"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
	# a CRL under the right issuer name but signed by another key
	pki_key "$PKI/fake.key" ec
	openssl req -x509 -new -key "$PKI/fake.key" -subj "/O=mailseal test/CN=root" \
	    -days 30 -config "$PKI/root.ext" -extensions ca_ext \
	    -out "$PKI/fake.pem" 2>/dev/null
	[ "$(openssl x509 -in "$PKI/fake.pem" -noout -subject)" = \
	    "$(openssl x509 -in "$PKI/root.pem" -noout -subject)" ] ||
	    fail_with "forged issuer name"
	pki_ca_db fake
	pki_crl fake "$T/forged.crl"
	run --separate-stderr cs import "$T/forged.crl"
	expect_status 65
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
}

@test "a damaged store exits 75, never 'not found'" {
	pki_ca root
	pki_leaf root ann
	import_root root
	import_cert ann
	local f idx
	f=$(fpr "$PKI/ann.pem")
	# a truncated index record
	idx=$(grep -l "$f" "$STORE"/index/addr/*)
	[ -n "$idx" ] || fail_with "no index record names $f"
	cp "$idx" "$T/idx"
	head -c 20 "$T/idx" >"$idx"
	run --separate-stderr cs find ann@example.test
	expect_status 75
	[ -z "$output" ] || fail_with "output from a damaged index"
	[ -n "$stderr" ] || fail_with "no message"
	: >"$idx"
	run --separate-stderr cs find ann@example.test
	expect_status 75
	cp "$T/idx" "$idx"
	expect_found ann@example.test "$f"
	# a truncated certificate file
	head -c 300 "$PKI/ann.pem" >"$STORE/certs/$f.pem"
	run --separate-stderr cs find ann@example.test
	expect_status 75
	[ -z "$output" ] || fail_with "output from a damaged certificate"
	run --separate-stderr cs verify "$f"
	expect_status 75
}

@test "only import creates a missing store" {
	run --separate-stderr certstore --store "$T/missing" find ann@example.test
	[[ $status -eq 1 || $status -eq 75 ]] || fail_with "find in a missing store"
	[ -z "$output" ] || fail_with "output from a missing store"
	run --separate-stderr certstore --store "$T/missing" list
	[[ $status -eq 0 || $status -eq 75 ]] || fail_with "list of a missing store"
	[ -z "$output" ] || fail_with "output from a missing store"
	[ ! -e "$T/missing" ] || fail_with "a reader created the store"
	pki_ca root
	STORE=$T/missing
	import_root root
	for d in certs roots keys crls index; do
		[ -d "$STORE/$d" ] || fail_with "import made no $d/"
	done
}

@test "an unwritable store exits 75 with a clear message" {
	pki_ca root
	pki_leaf root ann
	NOBODY_DIR=$(mktemp -d /tmp/mailseal-bats.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	STORE=$NOBODY_DIR/store
	import_root root
	# readable by everyone, writable only by root
	chmod -R go+rX "$STORE"
	cp "$PKI/ann.pem" "$NOBODY_DIR/ann.pem"
	chmod 644 "$NOBODY_DIR/ann.pem"
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MAILSEAL_BIN/certstore" --store "$STORE" import "$NOBODY_DIR/ann.pem"
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on failure"
	# the message names the store and the cause
	[[ $stderr == *"$STORE"* ]] || fail_with "message does not name the store"
	grep -Eiq 'permission denied|read-only|not writable' <<<"$stderr" ||
	    fail_with "message does not name the cause"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
}

@test "a store with a read-only certs/ directory exits 75" {
	pki_ca root
	pki_leaf root ann
	NOBODY_DIR=$(mktemp -d /tmp/mailseal-bats.XXXXXX)
	chmod 755 "$NOBODY_DIR"
	STORE=$NOBODY_DIR/store
	import_root root
	chown -R 65534:65534 "$STORE"
	chmod 0500 "$STORE/certs"
	cp "$PKI/ann.pem" "$NOBODY_DIR/ann.pem"
	chmod 644 "$NOBODY_DIR/ann.pem"
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MAILSEAL_BIN/certstore" --store "$STORE" import "$NOBODY_DIR/ann.pem"
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on failure"
	[[ $stderr == *"$STORE/"* ]] || fail_with "message does not name the file"
	grep -Eiq 'permission denied|read-only|not writable' <<<"$stderr" ||
	    fail_with "message does not name the cause"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
	# reading still works for that user
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MAILSEAL_BIN/certstore" --store "$STORE" list --roots
	expect_status 0
	[[ $output == "$(fpr "$PKI/root.pem")	"* ]] || fail_with "list as nobody"
}

@test "two imports at once both land" {
	pki_ca root
	import_root root
	local i n
	for i in 1 2 3; do
		pki_leaf root "a$i" san="email:a$i@example.test"
		pki_leaf root "b$i" san="email:b$i@example.test"
	done
	for i in 1 2 3; do
		(set +e; cs import "$PKI/a$i.pem" >"$T/a$i.out" 2>"$T/a$i.err"; echo $? >"$T/a$i.rc") &
		(set +e; cs import "$PKI/b$i.pem" >"$T/b$i.out" 2>"$T/b$i.err"; echo $? >"$T/b$i.rc") &
		wait
	done
	for i in 1 2 3; do
		for n in "a$i" "b$i"; do
			[ "$(cat "$T/$n.rc")" = 0 ] ||
			    fail_with "import $n exited $(cat "$T/$n.rc"): $(cat "$T/$n.err")"
			[ "$(cat "$T/$n.out")" = "certificate $(fpr "$PKI/$n.pem")" ] ||
			    fail_with "import $n output"
		done
	done
	run --separate-stderr cs list
	expect_status 0
	[ "${#lines[@]}" -eq 6 ] || fail_with "six certificates listed"
	for i in 1 2 3; do
		for n in "a$i" "b$i"; do
			printf '%s\n' "${lines[@]}" | grep -q "^$(fpr "$PKI/$n.pem")	" ||
			    fail_with "$n not listed"
		done
	done
	for i in 1 2 3; do
		for n in "a$i" "b$i"; do
			run --separate-stderr cs find "$n@example.test"
			expect_status 0
			[ "$output" = "$(fpr "$PKI/$n.pem")" ] || fail_with "find $n"
		done
	done

	# one address: both updates of its index entry land
	for i in 1 2 3 4; do
		pki_leaf root "s$i" san=email:shared@example.test start="-$i"
	done
	for i in 1 2 3 4; do
		(set +e; cs import "$PKI/s$i.pem" >/dev/null 2>"$T/s$i.err"; echo $? >"$T/s$i.rc") &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$T/s$i.rc")" = 0 ] || fail_with "import s$i: $(cat "$T/s$i.err")"
	done
	run --separate-stderr cs find shared@example.test
	expect_status 0
	[ "$output" = "$(for i in 1 2 3 4; do fpr "$PKI/s$i.pem"; done)" ] ||
	    fail_with "find shared@example.test after parallel imports"
}

# outside_listing - everything below $T except the store and bats' own
# temporary files, with sizes and mtimes of files
outside_listing() {
	(cd "$T" && find . -path ./outer/store -prune -o \
	    -name 'separate-stderr-*' -prune -o \
	    -type d -printf '%p/\n' -o -printf '%p %s %T@\n' | sort)
}

# named_after_address - store entries whose names come from an address
named_after_address() {
	find "$STORE" \( -name '*passwd*' -o -name '*evil*' -o -name '*@*' \
	    -o -name '*..*' \) -print
}

@test "addresses with / or .. never reach the file system" {
	pki_ca root
	pki_leaf root bob
	mkdir "$T/outer"
	STORE=$T/outer/store
	import_root root
	import_cert bob
	local before addr
	before=$(outside_listing)
	for addr in 'a/../../x@example.test' '../../etc/passwd@x' \
	    '../../../../../../etc/passwd' 'x@../../etc' 'bob@example.test/..' \
	    '../../evil@x.test'; do
		run --separate-stderr cs find "$addr"
		[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
		    fail_with "find '$addr'"
		[ -z "$output" ] || fail_with "find '$addr' printed something"
		run --separate-stderr cs verify --address "$addr" "$(fpr "$PKI/bob.pem")"
		[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
		    fail_with "verify --address '$addr'"
	done
	[ "$(outside_listing)" = "$before" ] ||
	    fail_with "find changed something outside the store"
	[ -z "$(named_after_address)" ] || fail_with "store file named after an address"

	# a certificate whose SAN is ../../evil@x.test: refused or stored
	# under its fingerprint only, and never found
	pki_leaf root evil san=email:../../evil@x.test
	before=$(outside_listing)
	run --separate-stderr cs import "$PKI/evil.pem"
	[[ $status -eq 0 || $status -eq 65 ]] || fail_with "import of the evil SAN"
	[ "$(outside_listing)" = "$before" ] ||
	    fail_with "import created a file outside the store"
	[ -z "$(named_after_address)" ] || fail_with "store file named after an address"
	[ -z "$(find /etc /tmp -maxdepth 2 -name '*evil*' -newer "$PKI/evil.pem" 2>/dev/null)" ] ||
	    fail_with "a file named after the address exists"
	run --separate-stderr cs find '../../evil@x.test'
	[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
	    fail_with "find of the evil address"
	[ -z "$output" ] || fail_with "evil certificate found"
	run --separate-stderr cs find evil@x.test
	expect_status 1
	[ -z "$output" ] || fail_with "evil certificate found as evil@x.test"
	expect_found bob@example.test "$(fpr "$PKI/bob.pem")"
}

@test "find '' is a usage or data error, not a crash" {
	pki_ca root
	import_root root
	run --separate-stderr cs find ''
	[[ $status -eq 64 || $status -eq 65 ]] || fail_with "find ''"
	[ -z "$output" ] || fail_with "output for find ''"
	[ -n "$stderr" ] || fail_with "no message for find ''"
	run --separate-stderr cs find
	expect_status 64
	run --separate-stderr cs find --encrypt --sign bob@example.test
	expect_status 64
	run --separate-stderr cs find -- '-bob@example.test'
	[[ $status -eq 1 || $status -eq 64 || $status -eq 65 ]] ||
	    fail_with "find of a leading-dash address"
	run --separate-stderr cs find $'bob\n@example.test'
	[[ $status -eq 64 || $status -eq 65 ]] || fail_with "find with a newline"
}
