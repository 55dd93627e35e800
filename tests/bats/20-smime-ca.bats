#!/usr/bin/env bats
# smime-ca: the built-in CA, checked with openssl, certstore and gpgsm.
# RSA keys (the default, rsa3072) only where RSA is the point; elsewhere
# --key ec-p256 keeps the file fast.

load helpers

setup() {
	ms_setup
	unset GNUPGHOME
}

teardown() {
	if [ -n "${GNUPGHOME:-}" ] && [ -d "$GNUPGHOME" ]; then
		gpgconf --kill all 2>/dev/null || true
	fi
}

ca() {
	smime-ca --store "$STORE" "$@"
}

cs() {
	certstore --store "$STORE" "$@"
}

# is_fpr TEXT - a SHA-256 fingerprint: 64 lowercase hex digits
is_fpr() {
	[[ $1 =~ ^[0-9a-f]{64}$ ]]
}

# ca_init [options] - init a CA named "Test CA"; ROOT = its fingerprint,
# $T/root.pem = the root certificate exported with certstore
ca_init() {
	run --separate-stderr ca init "$@" 'Test CA'
	expect_status 0
	is_fpr "$output" || fail_with "init did not print a fingerprint"
	ROOT=$output
	run --separate-stderr cs export "$ROOT"
	expect_status 0
	printf '%s\n' "$output" >"$T/root.pem"
	[ "$(fpr "$T/root.pem")" = "$ROOT" ] || fail_with "exported root"
}

# ca_issue NAME EMAIL [options] - issue a certificate; sets CERT to its
# fingerprint and writes it to $T/NAME.pem
ca_issue() {
	local name=$1 email=$2
	shift 2
	run --separate-stderr ca issue "$@" "$email"
	expect_status 0
	is_fpr "$output" || fail_with "issue did not print a fingerprint"
	CERT=$output
	[ -f "$STORE/certs/$CERT.pem" ] || fail_with "no certs/$CERT.pem"
	cp "$STORE/certs/$CERT.pem" "$T/$name.pem"
	[ "$(fpr "$T/$name.pem")" = "$CERT" ] ||
	    fail_with "certs/$CERT.pem has another fingerprint"
}

# text CERT - openssl's text form of a certificate
text() {
	openssl x509 -in "$1" -noout -text
}

# ext_value CERT NAME - extension NAME: its header line ("NAME: critical"
# or "NAME:"), then its value lines, without indentation
ext_value() {
	text "$1" | awk -v name="$2" '
	    on && match($0, /^ */) && RLENGTH > ind {
		sub(/^ +/, ""); sub(/ +$/, ""); print; next
	    }
	    { on = 0 }
	    index($0, name ":") {
		match($0, /^ */); ind = RLENGTH; on = 1
		sub(/^ +/, ""); sub(/ +$/, ""); print
	    }'
}

# validity_seconds CERT - notAfter - notBefore in seconds
validity_seconds() {
	local nb na
	nb=$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')
	na=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
	echo $(($(date -u -d "$na" +%s) - $(date -u -d "$nb" +%s)))
}

# same_public_key KEY CERT - the private key belongs to the certificate
same_public_key() {
	[ "$(openssl pkey -in "$1" -pubout)" = \
	    "$(openssl x509 -in "$2" -noout -pubkey)" ]
}

@test "smime-ca -h prints usage; unknown option exits 64" {
	run --separate-stderr smime-ca -h
	expect_status 0
	[[ $output == *[Uu]sage* && $output == *init* && $output == *issue* ]] ||
	    fail_with "usage text"
	run --separate-stderr smime-ca --no-such-option
	expect_status 64
	[ -z "$output" ] || fail_with "stdout on a usage error"
	[ -n "$stderr" ] || fail_with "no message"
	run --separate-stderr ca init --key dsa1024 'Test CA'
	expect_status 64
	[ ! -e "$STORE/roots" ] || [ -z "$(ls -A "$STORE/roots")" ] ||
	    fail_with "a root was made with a bad key type"
}

@test "init prints the root fingerprint, equal to certstore list --roots; second init exits 64" {
	run --separate-stderr ca init 'Test CA'
	expect_status 0
	[ "${#lines[@]}" -eq 1 ] || fail_with "one line"
	is_fpr "$output" || fail_with "not a 64-hex fingerprint"
	local root=$output
	run --separate-stderr cs list --roots
	expect_status 0
	[ "${#lines[@]}" -eq 1 ] || fail_with "one root"
	[ "$(cut -f1 <<<"${lines[0]}")" = "$root" ] || fail_with "list --roots"
	[ -f "$STORE/roots/$root.pem" ] || fail_with "no roots/$root.pem"
	[ "$(fpr "$STORE/roots/$root.pem")" = "$root" ] ||
	    fail_with "roots/$root.pem fingerprint"
	text "$STORE/roots/$root.pem" | grep -q 'CA:TRUE' || fail_with "root is no CA"
	# the default key is RSA 3072
	text "$STORE/roots/$root.pem" | grep -q 'Public-Key: (3072 bit)' ||
	    fail_with "default key is not rsa3072"
	text "$STORE/roots/$root.pem" | grep -q 'Subject: .*Test CA' ||
	    fail_with "root subject does not carry the name"

	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr ca init --key ec-p256 'Another CA'
	expect_status 64
	[ -z "$output" ] || fail_with "second init printed something"
	[ -n "$stderr" ] || fail_with "second init without a message"
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "second init changed the store"
}

@test "an RSA certificate verifies with openssl -purpose smimeencrypt and smimesign" {
	ca_init --key ec-p256
	ca_issue alice alice@example.test
	text "$T/alice.pem" | grep -q 'Public-Key: (3072 bit)' ||
	    fail_with "default key is not rsa3072"
	run openssl verify -purpose smimeencrypt -CAfile "$T/root.pem" "$T/alice.pem"
	expect_status 0
	[ "$output" = "$T/alice.pem: OK" ] || fail_with "smimeencrypt"
	run openssl verify -purpose smimesign -CAfile "$T/root.pem" "$T/alice.pem"
	expect_status 0
	[ "$output" = "$T/alice.pem: OK" ] || fail_with "smimesign"
	run --separate-stderr cs find --encrypt alice@example.test
	expect_status 0
	[ "$output" = "$CERT" ] || fail_with "certstore find --encrypt"
	run --separate-stderr cs find --sign alice@example.test
	expect_status 0
	[ "$output" = "$CERT" ] || fail_with "certstore find --sign"
}

@test "an EC certificate carries keyAgreement and is found by certstore find --encrypt" {
	ca_init --key ec-p256
	ca_issue eve eve@example.test --key ec-p256
	text "$T/eve.pem" | grep -q 'ASN1 OID: prime256v1' || fail_with "not P-256"
	run ext_value "$T/eve.pem" 'X509v3 Key Usage'
	expect_status 0
	[ "${lines[0]}" = "X509v3 Key Usage: critical" ] || fail_with "KU not critical"
	[ "${lines[1]}" = "Digital Signature, Key Agreement" ] || fail_with "EC key usage"
	run --separate-stderr cs find --encrypt eve@example.test
	expect_status 0
	[ "$output" = "$CERT" ] || fail_with "certstore find --encrypt"
	run --separate-stderr cs verify --encrypt --address eve@example.test "$CERT"
	expect_status 0
	[ "${lines[0]}" = "$CERT: usable for encrypt" ] || fail_with "verify"
}

@test "the issued certificate follows the profile" {
	ca_init --key ec-p256
	ca_issue alice alice@example.test
	local c=$T/alice.pem
	text "$c" | grep -q 'Version: 3 (0x2)' || fail_with "not X.509 v3"
	run ext_value "$c" 'X509v3 Subject Alternative Name'
	[ "${lines[1]}" = "email:alice@example.test" ] || fail_with "SAN"
	[ "${#lines[@]}" -eq 2 ] || fail_with "SAN has more than the address"
	run ext_value "$c" 'X509v3 Key Usage'
	[ "${lines[0]}" = "X509v3 Key Usage: critical" ] || fail_with "KU not critical"
	[ "${lines[1]}" = "Digital Signature, Key Encipherment" ] || fail_with "RSA key usage"
	run ext_value "$c" 'X509v3 Extended Key Usage'
	[ "${lines[1]}" = "E-mail Protection" ] || fail_with "EKU is not emailProtection only"
	[ "${#lines[@]}" -eq 2 ] || fail_with "EKU"
	run ext_value "$c" 'X509v3 Basic Constraints'
	[ "${lines[1]}" = "CA:FALSE" ] || fail_with "basicConstraints"
	# no CRL URL was given at init
	if text "$c" | grep -q 'CRL Distribution Points'; then
		fail_with "CRL distribution point without --crl-url"
	fi
	# validity at most 825 days
	local v
	v=$(validity_seconds "$c")
	[ "$v" -gt 0 ] && [ "$v" -le $((825 * 86400)) ] ||
	    fail_with "validity $v s is over 825 days"
	# serial: at least 64 bits, positive, at most 20 octets
	local serial
	serial=$(openssl x509 -in "$c" -noout -serial | sed 's/^serial=//')
	[ "${#serial}" -ge 16 ] && [ "${#serial}" -le 40 ] ||
	    fail_with "serial $serial is not 8..20 octets"
	# issuer byte-identical to the root's subject
	[ "$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" = \
	    "$(openssl x509 -in "$T/root.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" ] ||
	    fail_with "issuer is not the root's subject"
	run openssl verify -CAfile "$T/root.pem" "$c"
	expect_status 0

	# a second certificate: another, non-sequential serial
	ca_issue bob bob@example.test --key ec-p256
	local serial2
	serial2=$(openssl x509 -in "$T/bob.pem" -noout -serial | sed 's/^serial=//')
	[ "$serial2" != "$serial" ] || fail_with "same serial twice"
	python3 -c 'import sys; a, b = (int(x, 16) for x in sys.argv[1:]); sys.exit(abs(a - b) <= 1)' \
	    "$serial" "$serial2" || fail_with "sequential serials"
}

@test "issue --days sets the validity, never over 825 days" {
	ca_init --key ec-p256
	ca_issue short short@example.test --key ec-p256 --days 30
	local v
	v=$(validity_seconds "$T/short.pem")
	[ "$v" -ge $((30 * 86400 - 120)) ] && [ "$v" -le $((30 * 86400 + 120)) ] ||
	    fail_with "--days 30 gave $v s"
	run --separate-stderr ca issue --key ec-p256 --days 1000 long@example.test
	if [ "$status" -eq 0 ]; then
		v=$(validity_seconds "$STORE/certs/$output.pem")
		[ "$v" -le $((825 * 86400)) ] || fail_with "--days 1000 gave $v s"
	else
		expect_status 64
		[ -z "$output" ] || fail_with "output on refusal"
	fi
}

@test "the issued key file has mode 0600 and matches the certificate" {
	ca_init --key ec-p256
	ca_issue kim kim@example.test --key ec-p256
	local key=$STORE/keys/$CERT.key
	[ -f "$key" ] || fail_with "no keys/$CERT.key"
	[ "$(stat -c %a "$key")" = 600 ] || fail_with "key mode $(stat -c %a "$key")"
	[ "$(stat -c %u "$key")" = "$(id -u)" ] || fail_with "key owner"
	same_public_key "$key" "$T/kim.pem" || fail_with "key does not match"
	grep -q -- '-----BEGIN PRIVATE KEY-----' "$key" || fail_with "not PKCS#8 PEM"
	run --separate-stderr cs list
	expect_status 0
	[ "$(awk -F'\t' -v f="$CERT" '$1 == f { print $4 }' <<<"$output")" = key ] ||
	    fail_with "certstore list does not show the key"
}

@test "PKCS#12 export (modern) opens with openssl: AES-256-CBC, PBKDF2, key matches" {
	ca_init --key ec-p256
	ca_issue pat pat@example.test --key ec-p256
	printf 'Tr0ub4dor&3 x\nnot the password\n' >"$T/pw"
	chmod 600 "$T/pw"
	ca export --password-file "$T/pw" "$CERT" >"$T/pat.p12"
	[ -s "$T/pat.p12" ] || fail_with "empty PKCS#12"
	run openssl pkcs12 -in "$T/pat.p12" -passin 'pass:Tr0ub4dor&3 x' -nodes \
	    -out "$T/all.pem"
	expect_status 0
	same_public_key "$T/all.pem" "$T/pat.pem" || fail_with "key does not match"
	[ "$(openssl x509 -in "$T/all.pem" -outform DER | sha256sum)" = \
	    "$(openssl x509 -in "$T/pat.pem" -outform DER | sha256sum)" ] ||
	    fail_with "certificate differs"
	run openssl pkcs12 -info -noout -in "$T/pat.p12" -passin file:"$T/pw"
	expect_status 0
	grep -q '^MAC: sha256' <<<"$output" || fail_with "MAC is not SHA-256"
	grep -q '^PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC' <<<"$output" ||
	    fail_with "certificate bag is not AES-256-CBC/PBKDF2"
	grep -q '^Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC' <<<"$output" ||
	    fail_with "key bag is not AES-256-CBC/PBKDF2"
	run openssl pkcs12 -in "$T/pat.p12" -passin pass:wrong -nodes -noout
	[ "$status" -ne 0 ] || fail_with "wrong password accepted"

	run --separate-stderr ca export "$CERT"
	expect_status 64
	[ -z "$output" ] || fail_with "output without --password-file"
	run --separate-stderr ca export --password-file "$T/pw" \
	    0000000000000000000000000000000000000000000000000000000000000000
	[ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail_with "unknown fingerprint"
	[ -z "$output" ] || fail_with "output for an unknown fingerprint"
}

@test "PKCS#12 --legacy export is 3DES/SHA-1 and imports into openssl and gpgsm" {
	ca_init --key ec-p256
	ca_issue leo leo@example.test
	echo 'legacy pass' >"$T/pw"
	ca export --legacy --password-file "$T/pw" "$CERT" >"$T/leo.p12"
	run openssl pkcs12 -info -noout -in "$T/leo.p12" -passin file:"$T/pw"
	expect_status 0
	grep -q '^MAC: sha1' <<<"$output" || fail_with "MAC is not SHA-1"
	grep -q '^PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC' <<<"$output" ||
	    fail_with "certificate bag is not 3DES"
	grep -q '^Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC' <<<"$output" ||
	    fail_with "key bag is not 3DES"
	run openssl pkcs12 -in "$T/leo.p12" -passin file:"$T/pw" -nodes -out "$T/all.pem"
	expect_status 0
	same_public_key "$T/all.pem" "$T/leo.pem" || fail_with "key does not match"

	export GNUPGHOME=$T/gnupg
	mkdir -m 700 "$GNUPGHOME"
	echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
	# offline: no CRL or OCSP look-ups through dirmngr
	echo disable-dirmngr >"$GNUPGHOME/gpgsm.conf"
	# gpgsm 2.2 cannot derive the right key for about one salt in
	# eighty (a leading zero byte is lost in its PKCS#12 key derivation)
	# although openssl reads the same file: a fresh export has new salts
	local try
	for try in 1 2 3 4; do
		[ "$try" = 1 ] || ca export --legacy --password-file "$T/pw" \
		    "$CERT" >"$T/leo.p12"
		run gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 \
		    --import "$T/leo.p12" <"$T/pw"
		[ "$status" -eq 0 ] &&
		    grep -q 'secret keys imported: 1' <<<"$output" && break
	done
	expect_status 0
	grep -q 'secret keys imported: 1' <<<"$output" || fail_with "gpgsm import"
	run gpgsm --list-secret-keys leo@example.test
	expect_status 0
	grep -q 'aka: leo@example.test' <<<"$output" || fail_with "gpgsm: no address"
	local colon
	colon=$(tr 'a-f' 'A-F' <<<"$CERT" | sed 's/../&:/g; s/:$//')
	grep -q "sha2 fpr: $colon" <<<"$output" || fail_with "gpgsm: other certificate"
}

@test "revoke: the certificate is no longer found and verify says revoked" {
	ca_init --key ec-p256
	ca_issue rob rob@example.test --key ec-p256
	local rob=$CERT
	ca_issue sue sue@example.test --key ec-p256
	local sue=$CERT
	run --separate-stderr cs find rob@example.test
	expect_status 0
	[ "$output" = "$rob" ] || fail_with "find before revoke"
	run --separate-stderr ca revoke "$rob"
	expect_status 0
	run --separate-stderr cs find rob@example.test
	expect_status 1
	[ -z "$output" ] || fail_with "revoked certificate found"
	run --separate-stderr cs find --sign rob@example.test
	expect_status 1
	run --separate-stderr cs verify --encrypt "$rob"
	expect_status 1
	[ "${lines[0]}" = "$rob: not usable for encrypt" ] || fail_with "verify first line"
	grep -q '^reason: .*revoked' <<<"$output" || fail_with "verify reason"
	# the other certificate of the CA is still fine
	run --separate-stderr cs find sue@example.test
	expect_status 0
	[ "$output" = "$sue" ] || fail_with "unrevoked certificate lost"
	# the CRL in crls/ lists the serial
	local hash serial
	hash=$(openssl x509 -in "$T/root.pem" -noout -hash)
	[ -f "$STORE/crls/$hash.r0" ] || fail_with "no crls/$hash.r0"
	serial=$(openssl x509 -in "$T/rob.pem" -noout -serial | sed 's/^serial=//')
	openssl crl -in "$STORE/crls/$hash.r0" -noout -text |
	    grep -q "Serial Number: $serial" || fail_with "serial not in the CRL"
}

@test "revoke writes the CRL it installed to standard output, as its page says; --days sets its period" {
	ca_init --key ec-p256
	ca_issue rob rob@example.test --key ec-p256
	local rob=$CERT
	run --separate-stderr ca revoke --days 2 "$rob"
	expect_status 0
	printf '%s\n' "$output" >"$T/revoke.crl"
	[ "${lines[0]}" = "-----BEGIN X509 CRL-----" ] || fail_with "no PEM CRL"
	[ "${lines[-1]}" = "-----END X509 CRL-----" ] ||
	    fail_with "more than the CRL"
	run openssl crl -in "$T/revoke.crl" -CAfile "$T/root.pem" -noout
	[ "$output" = "verify OK" ] || fail_with "the CRL does not verify"
	local hash serial last next
	hash=$(openssl x509 -in "$T/root.pem" -noout -hash)
	cmp <(openssl crl -in "$STORE/crls/$hash.r0" -outform DER) \
	    <(openssl crl -in "$T/revoke.crl" -outform DER) ||
	    fail_with "printed CRL is not the installed one"
	serial=$(openssl x509 -in "$T/rob.pem" -noout -serial | sed 's/^serial=//')
	openssl crl -in "$T/revoke.crl" -noout -text |
	    grep -q "Serial Number: $serial" || fail_with "serial not listed"
	last=$(openssl crl -in "$T/revoke.crl" -noout -lastupdate | sed 's/^lastUpdate=//')
	next=$(openssl crl -in "$T/revoke.crl" -noout -nextupdate | sed 's/^nextUpdate=//')
	[ $(($(date -u -d "$next" +%s) - $(date -u -d "$last" +%s))) -eq \
	    $((2 * 86400)) ] || fail_with "--days 2 not applied"
	# the page documents both the output and --days for revoke
	local page=$BATS_TEST_DIRNAME/../../man/smime-ca.1
	grep -q '^That CRL is also written in PEM to standard output' "$page" ||
	    fail_with "page does not say revoke prints the CRL"
}

@test "revoke: a fingerprint the store lacks exits 1, a certificate of another CA 65, as the page says; no CRL is written" {
	ca_init
	pki_ca other '' ec
	pki_leaf other oscar
	run --separate-stderr cs import "$PKI/oscar.pem"
	expect_status 0
	local oscar
	oscar=$(fpr "$PKI/oscar.pem")
	run --separate-stderr ca revoke "$(printf '%064d' 7)"
	expect_status 1
	[ -z "$output" ] || fail_with "a CRL was printed for a missing certificate"
	run --separate-stderr ca revoke "$oscar"
	expect_status 65
	[ -z "$output" ] || fail_with "a CRL was printed for another CA's certificate"
	grep -q 'not issued by this CA' <<<"$stderr" || fail_with "no reason given"
}

@test "smime-ca crl prints a CRL that openssl verifies; its number increases" {
	ca_init --key ec-p256
	run --separate-stderr ca crl
	expect_status 0
	printf '%s\n' "$output" >"$T/one.crl"
	[ "${lines[0]}" = "-----BEGIN X509 CRL-----" ] || fail_with "not a PEM CRL"
	run openssl crl -in "$T/one.crl" -CAfile "$T/root.pem" -noout
	expect_status 0
	[ "$output" = "verify OK" ] || fail_with "openssl crl does not verify it"

	sleep 1
	run --separate-stderr ca crl --days 3
	expect_status 0
	printf '%s\n' "$output" >"$T/two.crl"
	run openssl crl -in "$T/two.crl" -CAfile "$T/root.pem" -noout
	expect_status 0
	[ "$output" = "verify OK" ] || fail_with "second CRL"

	local n1 n2
	n1=$(openssl crl -in "$T/one.crl" -noout -crlnumber | sed 's/^crlNumber=//')
	n2=$(openssl crl -in "$T/two.crl" -noout -crlnumber | sed 's/^crlNumber=//')
	[ -n "$n1" ] && [ -n "$n2" ] || fail_with "no CRL number"
	python3 -c 'import sys; sys.exit(not int(sys.argv[2], 16) > int(sys.argv[1], 16))' \
	    "${n1#0x}" "${n2#0x}" || fail_with "CRL number $n1 then $n2"

	# --days 3: nextUpdate three days after lastUpdate
	local last next
	last=$(openssl crl -in "$T/two.crl" -noout -lastupdate | sed 's/^lastUpdate=//')
	next=$(openssl crl -in "$T/two.crl" -noout -nextupdate | sed 's/^nextUpdate=//')
	local span
	span=$(($(date -u -d "$next" +%s) - $(date -u -d "$last" +%s)))
	[ "$span" -ge $((3 * 86400 - 2)) ] && [ "$span" -le $((3 * 86400 + 2)) ] ||
	    fail_with "nextUpdate $next for lastUpdate $last"

	# the newest CRL is in crls/ under the issuer's hash
	local hash
	hash=$(openssl x509 -in "$T/root.pem" -noout -hash)
	[ -f "$STORE/crls/$hash.r0" ] || fail_with "no crls/$hash.r0"
	cmp <(openssl crl -in "$STORE/crls/$hash.r0" -outform DER) \
	    <(openssl crl -in "$T/two.crl" -outform DER) ||
	    fail_with "crls/$hash.r0 is not the newest CRL"
	[ ! -e "$STORE/crls/$hash.r1" ] || fail_with "a second CRL file for one issuer"
}

@test "openssl verify -crl_check -CApath <store>/crls reports the revoked certificate" {
	ca_init --key ec-p256
	ca_issue rob rob@example.test --key ec-p256
	local rob=$CERT
	ca_issue sue sue@example.test --key ec-p256
	run --separate-stderr ca revoke "$rob"
	expect_status 0
	run openssl verify -crl_check -CApath "$STORE/crls" -CAfile "$T/root.pem" \
	    "$T/rob.pem"
	[ "$status" -ne 0 ] || fail_with "revoked certificate verifies"
	grep -q 'certificate revoked' <<<"$output" || fail_with "not reported revoked"
	# the unrevoked one verifies, so the CRL was found in the hashed layout
	run openssl verify -crl_check -CApath "$STORE/crls" -CAfile "$T/root.pem" \
	    "$T/sue.pem"
	expect_status 0
	[ "$output" = "$T/sue.pem: OK" ] || fail_with "CRL not found by hash"
}

@test "init --crl-url puts the URL into issued certificates" {
	local url=http://crl.example.test/mailseal/root.crl
	ca_init --key ec-p256 --crl-url "$url"
	ca_issue cara cara@example.test --key ec-p256
	run ext_value "$T/cara.pem" 'X509v3 CRL Distribution Points'
	expect_status 0
	[ "${#lines[@]}" -ge 2 ] || fail_with "no CRL distribution point"
	grep -qx "URI:$url" <<<"$output" || fail_with "URL not in the certificate"
}

# old_cert NAME EMAIL - a certificate signed with the CA's key that expired
# in 2021, imported into the certificate store; CERT = its fingerprint
old_cert() {
	local db=$T/$1.db
	mkdir "$db"
	: >"$db/index.txt"
	echo 01 >"$db/serial"
	printf '[ca]\ndefault_ca = own\n[own]\ndatabase = %s\nnew_certs_dir = %s\nserial = %s\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\nemailAddress = optional\n[ext]\nsubjectAltName = email:%s\nextendedKeyUsage = emailProtection\n' \
	    "$db/index.txt" "$db" "$db/serial" "$2" >"$db/ca.cnf"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$db/key.pem" -subj "/CN=$1" -out "$db/req.pem" \
	    >/dev/null 2>&1 || fail_with "request for $1"
	openssl ca -batch -notext -config "$db/ca.cnf" -extensions ext \
	    -keyfile "$STORE/ca/ca.key" -cert "$STORE/ca/ca.pem" \
	    -startdate 20200101000000Z -enddate 20210101000000Z \
	    -in "$db/req.pem" -out "$T/$1.pem" >/dev/null 2>&1 ||
	    fail_with "certificate for $1"
	run --separate-stderr cs import "$T/$1.pem"
	expect_status 0
	CERT=$(fpr "$T/$1.pem")
}

@test "list: every certificate the CA issued with serial, dates and status valid, revoked or expired; --json" {
	ca_init --key ec-p256
	run --separate-stderr ca issue --key ec-p256 vic@example.test 'Vic Valid'
	expect_status 0
	local vic=$output
	cp "$STORE/certs/$vic.pem" "$T/vic.pem"
	ca_issue rex rex@example.test --key ec-p256
	local rex=$CERT
	run --separate-stderr ca revoke "$rex"
	expect_status 0
	old_cert olga olga@example.test
	local olga=$CERT
	# a certificate of another CA in the same store is not listed
	pki_ca other '' ec
	pki_leaf other oscar
	run --separate-stderr cs import "$PKI/oscar.pem"
	expect_status 0
	run --separate-stderr ca list
	expect_status 0
	[ "${#lines[@]}" -eq 3 ] || fail_with "three certificates expected"
	local name fp want serial
	for name in vic rex olga; do
		fp=$(fpr "$T/$name.pem")
		serial=$(openssl x509 -in "$T/$name.pem" -noout -serial | sed 's/^serial=//')
		case $name in
		vic) want="valid	vic@example.test	emailAddress=vic@example.test,CN=Vic Valid" ;;
		rex) want="revoked	rex@example.test	emailAddress=rex@example.test,CN=rex@example.test" ;;
		olga) want="expired	olga@example.test	CN=olga" ;;
		esac
		grep -qxF "$fp	$serial	$(date -u -d "$(openssl x509 -in "$T/$name.pem" -noout -startdate | sed 's/^notBefore=//')" +%F)	$(not_after_day "$T/$name.pem")	$want	$ROOT" <<<"$output" ||
		    fail_with "line of $name"
	done
	run --separate-stderr ca list --json
	expect_status 0
	python3 -c '
import json, sys
rows = {r["fingerprint"]: r for r in json.loads(sys.stdin.read())}
assert len(rows) == 3, rows
assert rows[sys.argv[1]]["status"] == "valid"
assert rows[sys.argv[1]]["addresses"] == ["vic@example.test"]
assert rows[sys.argv[1]]["subject"] == "emailAddress=vic@example.test,CN=Vic Valid"
assert rows[sys.argv[2]]["status"] == "revoked"
assert rows[sys.argv[3]]["status"] == "expired"
assert rows[sys.argv[3]]["not_after"] == "2021-01-01"
assert rows[sys.argv[3]]["not_before"] == "2020-01-01"
assert all(r["root"] == sys.argv[4] for r in rows.values())
' "$vic" "$rex" "$olga" "$ROOT" <<<"$output" || fail_with "JSON listing"
	run --separate-stderr ca list extra
	expect_status 64
}

@test "list without a CA is refused (64); a CA with nothing issued lists nothing" {
	pki_ca other '' ec
	run --separate-stderr cs import --roots "$PKI/other.pem"
	expect_status 0
	run --separate-stderr ca list
	expect_status 64
	[ -z "$output" ] || fail_with "output without a CA"
	ca_init --key ec-p256
	run --separate-stderr ca list
	expect_status 0
	[ -z "$output" ] || fail_with "a root listed as issued"
	run --separate-stderr ca list --json
	expect_status 0
	[ "$output" = "[
]" ] || fail_with "empty JSON list"
}

# csr NAME [openssl req options] - an EC P-256 request $T/NAME.csr with
# its key $T/NAME.key
csr() {
	local name=$1
	shift
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$name.key" -out "$T/$name.csr" "$@" >/dev/null 2>&1 ||
	    fail_with "openssl req for $name"
}

@test "sign-csr: a request made by openssl req gets the issue profile, only its address taken; openssl verifies and cms -sign works" {
	ca_init --key ec-p256
	csr zed -subj '/CN=Zed Zero/O=Other Org/OU=Sales' \
	    -addext 'subjectAltName=email:zed@example.test'
	run --separate-stderr ca sign-csr --days 30 "$T/zed.csr"
	expect_status 0
	is_fpr "$output" || fail_with "no fingerprint"
	local zed=$output
	[ -f "$STORE/certs/$zed.pem" ] || fail_with "not stored"
	[ ! -e "$STORE/keys/$zed.key" ] || fail_with "a key stored for a request"
	cp "$STORE/certs/$zed.pem" "$T/zed.pem"
	# the request's key, the profile of issue, nothing else of its subject
	cmp <(openssl x509 -in "$T/zed.pem" -noout -pubkey) \
	    <(openssl pkey -in "$T/zed.key" -pubout) || fail_with "public key"
	run openssl x509 -in "$T/zed.pem" -noout -subject -nameopt RFC2253
	[ "$output" = "subject=emailAddress=zed@example.test,CN=zed@example.test" ] ||
	    fail_with "subject"
	run ext_value "$T/zed.pem" 'X509v3 Extended Key Usage'
	grep -qx 'E-mail Protection' <<<"$output" || fail_with "EKU"
	run ext_value "$T/zed.pem" 'X509v3 Key Usage'
	grep -qx 'Digital Signature, Key Agreement' <<<"$output" || fail_with "KU"
	[ "$(not_after_day "$T/zed.pem")" = "$(date -u -d '30 days' +%F)" ] ||
	    fail_with "--days 30"
	run openssl verify -CAfile "$T/root.pem" -purpose smimesign "$T/zed.pem"
	[ "$output" = "$T/zed.pem: OK" ] || fail_with "openssl verify"
	printf 'hello\n' >"$T/msg.txt"
	openssl cms -sign -binary -in "$T/msg.txt" -signer "$T/zed.pem" \
	    -inkey "$T/zed.key" -out "$T/msg.p7m" 2>/dev/null ||
	    fail_with "cms -sign"
	openssl cms -verify -binary -in "$T/msg.p7m" -CAfile "$T/root.pem" \
	    -out "$T/msg.out" 2>/dev/null || fail_with "cms -verify"
	cmp "$T/msg.txt" "$T/msg.out" || fail_with "signed content"
	# the address in the subject only, and in DER
	csr amy -subj '/CN=Amy/emailAddress=amy@example.test' -outform DER
	run --separate-stderr ca sign-csr "$T/amy.csr"
	expect_status 0
	is_fpr "$output" || fail_with "DER request"
}

@test "sign-csr refuses a forged request, a CA, other EKUs, other names, several or no addresses, a weak key" {
	ca_init --key ec-p256
	local before
	csr ok -subj '/CN=ok/emailAddress=ok@example.test' -outform DER
	# a flipped bit in the signature
	python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-3] ^= 1; open(sys.argv[2], "wb").write(d)' \
	    "$T/ok.csr" "$T/forged.csr"
	csr ca -subj '/CN=x/emailAddress=x@example.test' \
	    -addext 'basicConstraints=critical,CA:TRUE'
	csr certsign -subj '/CN=x/emailAddress=x@example.test' \
	    -addext 'keyUsage=digitalSignature,keyCertSign'
	csr server -subj '/CN=x/emailAddress=x@example.test' \
	    -addext 'extendedKeyUsage=emailProtection,serverAuth'
	csr dns -subj '/CN=x' \
	    -addext 'subjectAltName=email:x@example.test,DNS:example.test'
	csr two -subj '/CN=x/emailAddress=x@example.test' \
	    -addext 'subjectAltName=email:y@example.test'
	csr none -subj '/CN=nobody'
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/weak.key" \
	    -subj '/CN=x/emailAddress=x@example.test' -out "$T/weak.csr" \
	    >/dev/null 2>&1 || fail_with "RSA 2048 request"
	printf 'not a request\n' >"$T/junk.csr"
	before=$(store_snapshot "$STORE")
	local name why
	for name in forged ca certsign server dns two none weak junk; do
		case $name in
		forged) why='its signature does not verify' ;;
		ca) why='it asks to be a CA' ;;
		certsign) why='it asks to sign certificates or CRLs' ;;
		server) why='it asks for an extended key usage other than emailProtection' ;;
		dns) why='a subjectAltName that is not an e-mail address' ;;
		two) why='more than one e-mail address' ;;
		none) why='no e-mail address' ;;
		weak) why='the key is not RSA of 3072 bits or more, nor EC on P-256 or P-384' ;;
		junk) why='not a PKCS#10 certificate request' ;;
		esac
		run --separate-stderr ca sign-csr "$T/$name.csr"
		expect_status 65
		[ -z "$output" ] || fail_with "$name: output"
		[[ "$stderr" == *"$why"* ]] || fail_with "$name: reason"
	done
	[ "$(store_snapshot "$STORE")" = "$before" ] ||
	    fail_with "a refused request changed the store"
	run --separate-stderr ca sign-csr
	expect_status 64
}

@test "issue with an invalid address is refused and creates nothing" {
	ca_init --key ec-p256
	local before addr
	before=$(store_snapshot "$STORE")
	for addr in 'bob x@example.test' $'bob\t@example.test' '-bob@example.test' \
	    $'bob@example.test\n' $'bob\n@example.test' '' 'bob' 'bob@' '@example.test' \
	    'bob@@example.test' '../../x@example.test' 'bob@example.test.'; do
		run --separate-stderr ca issue --key ec-p256 -- "$addr"
		[[ $status -eq 64 || $status -eq 65 ]] ||
		    fail_with "issue '$addr' exited $status"
		[ -z "$output" ] || fail_with "issue '$addr' printed something"
		[ -n "$stderr" ] || fail_with "issue '$addr' without a message"
		[ "$(store_snapshot "$STORE")" = "$before" ] ||
		    fail_with "issue '$addr' changed the store"
	done
	# without -- a leading dash is an unknown option
	run --separate-stderr ca issue --key ec-p256 '-bob@example.test'
	[[ $status -eq 64 || $status -eq 65 ]] || fail_with "issue -bob"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
	run --separate-stderr cs list
	expect_status 0
	[ -z "$output" ] || fail_with "a certificate was issued"
}

@test "issue, revoke and crl without a CA are refused" {
	run --separate-stderr ca issue --key ec-p256 ann@example.test
	[[ $status -eq 64 || $status -eq 75 ]] || fail_with "issue before init"
	[ -z "$output" ] || fail_with "issue before init printed something"
	[ -n "$stderr" ] || fail_with "no message"
	run --separate-stderr ca crl
	[[ $status -eq 64 || $status -eq 75 ]] || fail_with "crl before init"
	[ -z "$output" ] || fail_with "crl before init printed something"
	if [ -d "$STORE" ]; then
		[ -z "$(find "$STORE/certs" "$STORE/keys" "$STORE/crls" "$STORE/roots" \
		    -type f 2>/dev/null)" ] || fail_with "files were written"
	fi
}

@test "init refuses a CRL URL that is not http(s)" {
	local url
	for url in 'file:///etc/passwd' 'ldap://ldap.example.test/cn=ca' \
	    $'http://crl.example.test/a\nb' 'http://crl.example.test/a b'; do
		run --separate-stderr ca init --key ec-p256 --crl-url "$url" 'Test CA'
		expect_status 64
		[ -z "$output" ] || fail_with "init printed something for $url"
		if [ -d "$STORE/roots" ]; then
			[ -z "$(ls -A "$STORE/roots")" ] || fail_with "a root was made for $url"
		fi
	done
}

@test "crl --days is limited to 10 days (SBR)" {
	ca_init --key ec-p256
	run --separate-stderr ca crl --days 30
	expect_status 64
	[ -z "$output" ] || fail_with "a CRL for 30 days"
	run --separate-stderr ca crl
	expect_status 0
	local last next span
	last=$(openssl crl -noout -lastupdate <<<"$output" | sed 's/^lastUpdate=//')
	next=$(openssl crl -noout -nextupdate <<<"$output" | sed 's/^nextUpdate=//')
	span=$(($(date -u -d "$next" +%s) - $(date -u -d "$last" +%s)))
	[ "$span" -gt 0 ] && [ "$span" -le $((10 * 86400)) ] ||
	    fail_with "default CRL lifetime $span s"
}

@test "export refuses an empty or unreadable password file, and names it (exit 75)" {
	ca_init --key ec-p256
	ca_issue pat pat@example.test --key ec-p256
	: >"$T/empty"
	printf '\nsecond line\n' >"$T/emptyline"
	local pw
	for pw in empty emptyline missing; do
		run --separate-stderr ca export --password-file "$T/$pw" "$CERT"
		[ "$status" -eq 75 ] ||
		    fail_with "export with the password file '$pw' exited $status"
		[ -z "$output" ] || fail_with "a PKCS#12 without a password"
		[[ $stderr == *"password file $T/$pw"* ]] ||
		    fail_with "the password file is not named"
	done
}

@test "parallel issue, revoke and crl all land" {
	ca_init --key ec-p256
	local i
	for i in 1 2 3 4; do
		(set +e; ca issue --key ec-p256 "u$i@example.test" >"$T/f$i" 2>"$T/e$i"
		 echo $? >"$T/rc$i") &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$T/rc$i")" = 0 ] || fail_with "issue $i: $(cat "$T/e$i")"
		is_fpr "$(cat "$T/f$i")" || fail_with "issue $i output"
	done
	[ "$(find "$STORE/certs" -type f | wc -l)" -eq 4 ] || fail_with "four certificates"
	local serials
	serials=$(for i in 1 2 3 4; do
		openssl x509 -in "$STORE/certs/$(cat "$T/f$i").pem" -noout -serial
	done | sort -u | wc -l)
	[ "$serials" -eq 4 ] || fail_with "serials not unique"

	for i in 1 2 3 4; do
		(set +e; ca revoke "$(cat "$T/f$i")" >/dev/null 2>"$T/e$i"; echo $? >"$T/rc$i") &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$T/rc$i")" = 0 ] ||
		    fail_with "revoke $i exited $(cat "$T/rc$i"): $(cat "$T/e$i")"
	done
	# every revoke that succeeded is in the installed CRL at once
	local hash
	hash=$(openssl x509 -in "$T/root.pem" -noout -hash)
	[ "$(openssl crl -in "$STORE/crls/$hash.r0" -noout -text | grep -c 'Serial Number:')" -eq 4 ] ||
	    fail_with "the installed CRL does not list all four revocations"
	for i in 1 2 3 4; do
		run --separate-stderr cs find "u$i@example.test"
		expect_status 1
	done

	# parallel crl calls: each succeeds with its own CRL number, the
	# highest is installed
	for i in 1 2 3 4; do
		(set +e; ca crl >"$T/c$i.pem" 2>"$T/e$i"; echo $? >"$T/rc$i") &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$T/rc$i")" = 0 ] ||
		    fail_with "crl $i exited $(cat "$T/rc$i"): $(cat "$T/e$i")"
	done
	local numbers
	numbers=$(for i in 1 2 3 4; do
		openssl crl -in "$T/c$i.pem" -noout -crlnumber | sed 's/^crlNumber=0x//'
	done | sort -u)
	[ "$(wc -l <<<"$numbers")" -eq 4 ] ||
	    fail_with "CRL numbers used twice: $(echo $numbers)"
	local newest
	newest=$(python3 -c 'import sys; print(max(sys.argv[1:], key=lambda x: int(x, 16)))' $numbers)
	[ "$(openssl crl -in "$STORE/crls/$hash.r0" -noout -crlnumber | sed 's/^crlNumber=0x//')" = "$newest" ] ||
	    fail_with "the installed CRL is not the newest"
	[ "$(openssl crl -in "$STORE/crls/$hash.r0" -noout -text | grep -c 'Serial Number:')" -eq 4 ] ||
	    fail_with "the installed CRL lost revocations"
}

# signed_by CRL ROOT [FORM] - openssl verifies CRL (PEM, or FORM) with the
# root certificate ROOT ("openssl crl" exits 0 either way: its words count)
signed_by() {
	[ "$(openssl crl -inform "${3:-PEM}" -in "$1" -CAfile "$2" -noout 2>&1)" = "verify OK" ]
}

# renew_ca - init an EC CA with a CRL URL, issue OLD (old@) under it,
# renew with URL ca-2.crl and issue NEW (new@) under the new root; ROOT
# and ROOT2 the roots, $T/root.pem and $T/root2.pem their certificates
renew_ca() {
	ca_init --key ec-p256 --crl-url http://pki.example.test/crl/ca.crl
	ca_issue old old@example.test --key ec-p256
	OLD=$CERT
	run --separate-stderr ca renew --key ec-p256 \
	    --crl-url http://pki.example.test/crl/ca-2.crl
	expect_status 0
	is_fpr "$output" || fail_with "renew did not print a fingerprint"
	ROOT2=$output
	[ "$ROOT2" != "$ROOT" ] || fail_with "the same root"
	run --separate-stderr cs export "$ROOT2"
	expect_status 0
	printf '%s\n' "$output" >"$T/root2.pem"
	ca_issue new new@example.test --key ec-p256
	NEW=$CERT
	cat "$T/root.pem" "$T/root2.pem" >"$T/roots.pem"
}

# key_id CERT NAME - the keyid of extension NAME (Subject or Authority
# Key Identifier)
key_id() {
	ext_value "$1" "X509v3 $2 Key Identifier" | sed -n '2{s/^keyid://;p;}'
}

# crl_akid CRL - the keyid of a PEM CRL's Authority Key Identifier
crl_akid() {
	openssl crl -in "$1" -noout -text |
	    awk 'on { sub(/^ +/, ""); sub(/^keyid:/, ""); print; exit }
		/Authority Key Identifier/ { on = 1 }'
}

@test "renew: a new root with the same subject, a new key, serial and key identifier; both roots stay in the root store" {
	renew_ca
	[ "$(openssl x509 -in "$T/root2.pem" -noout -subject)" = "subject=CN = Test CA" ] ||
	    fail_with "new subject"
	[ "$(openssl x509 -in "$T/root2.pem" -noout -issuer)" = "issuer=CN = Test CA" ] ||
	    fail_with "new issuer"
	[ "$(openssl x509 -in "$T/root.pem" -noout -serial)" != \
	    "$(openssl x509 -in "$T/root2.pem" -noout -serial)" ] ||
	    fail_with "same serial"
	[ "$(openssl x509 -in "$T/root.pem" -noout -pubkey)" != \
	    "$(openssl x509 -in "$T/root2.pem" -noout -pubkey)" ] ||
	    fail_with "same key"
	local ski1 ski2
	ski1=$(key_id "$T/root.pem" Subject)
	ski2=$(key_id "$T/root2.pem" Subject)
	[ -n "$ski1" ] && [ -n "$ski2" ] && [ "$ski1" != "$ski2" ] ||
	    fail_with "subject key identifiers $ski1 $ski2"
	[ "$(key_id "$T/root2.pem" Authority)" = "$ski2" ] ||
	    fail_with "the new root's authority key identifier"
	# the certificates name their root by key identifier
	[ "$(key_id "$T/old.pem" Authority)" = "$ski1" ] || fail_with "old AKID"
	[ "$(key_id "$T/new.pem" Authority)" = "$ski2" ] || fail_with "new AKID"
	[ "$(ext_value "$T/new.pem" 'X509v3 CRL Distribution Points' | grep URI)" = \
	    "URI:http://pki.example.test/crl/ca-2.crl" ] || fail_with "new CDP"
	[ "$(ext_value "$T/old.pem" 'X509v3 CRL Distribution Points' | grep URI)" = \
	    "URI:http://pki.example.test/crl/ca.crl" ] || fail_with "old CDP"
	# the new root is valid now, and longer than the old one
	openssl x509 -in "$T/root2.pem" -noout -checkend 0 >/dev/null ||
	    fail_with "new root not valid"
	[ "$(date -d "$(openssl x509 -in "$T/root2.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)" -ge \
	    "$(date -d "$(openssl x509 -in "$T/root.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)" ] ||
	    fail_with "new root ends first"
	# both roots trusted
	run --separate-stderr cs list --roots
	expect_status 0
	grep -q "^$ROOT	" <<<"$output" || fail_with "old root left the root store"
	grep -q "^$ROOT2	" <<<"$output" || fail_with "new root not in the root store"
	# both keys kept, mode 0600; ca.pem and ca.key are the current root's
	[ "$(stat -c %a "$STORE/ca/$ROOT.key")" = 600 ] || fail_with "old key mode"
	[ "$(stat -c %a "$STORE/ca/$ROOT2.key")" = 600 ] || fail_with "new key mode"
	same_public_key "$STORE/ca/$ROOT.key" "$T/root.pem" || fail_with "old key"
	same_public_key "$STORE/ca/$ROOT2.key" "$T/root2.pem" || fail_with "new key"
	cmp -s "$STORE/ca/ca.pem" "$STORE/ca/$ROOT2.pem" || fail_with "ca/ca.pem"
	same_public_key "$STORE/ca/ca.key" "$T/root2.pem" || fail_with "ca/ca.key"
	# list: the root that issued each certificate
	run --separate-stderr ca list
	expect_status 0
	[ "$(awk -F'\t' -v f="$OLD" '$1 == f { print $8 }' <<<"$output")" = "$ROOT" ] ||
	    fail_with "list: root of the old certificate"
	[ "$(awk -F'\t' -v f="$NEW" '$1 == f { print $8 }' <<<"$output")" = "$ROOT2" ] ||
	    fail_with "list: root of the new certificate"
	run --separate-stderr ca list --json
	expect_status 0
	python3 -c '
import json, sys
rows = {r["fingerprint"]: r["root"] for r in json.loads(sys.stdin.read())}
assert rows == {sys.argv[1]: sys.argv[2], sys.argv[3]: sys.argv[4]}, rows
' "$OLD" "$ROOT" "$NEW" "$ROOT2" <<<"$output" || fail_with "JSON root"
}

@test "renew: certificates of both roots verify with openssl, certstore and gpgsm" {
	renew_ca
	run openssl verify -CAfile "$T/roots.pem" -purpose smimesign \
	    "$T/old.pem" "$T/new.pem"
	expect_status 0
	[ "$output" = "$T/old.pem: OK
$T/new.pem: OK" ] || fail_with "openssl verify: $output"
	# each chains to its own root, not to the other
	run openssl verify -CAfile "$T/root.pem" "$T/new.pem"
	[ "$status" -ne 0 ] || fail_with "new certificate under the old root"
	run openssl verify -CAfile "$T/root2.pem" "$T/old.pem"
	[ "$status" -ne 0 ] || fail_with "old certificate under the new root"
	local c
	for c in "$OLD" "$NEW"; do
		run --separate-stderr cs verify --sign "$c"
		expect_status 0
		[ "${lines[0]}" = "$c: usable for sign" ] || fail_with "certstore verify $c"
	done
	# gpgsm: both roots trusted, a signature by each certificate
	export GNUPGHOME=$T/gnupg
	mkdir -m 700 "$GNUPGHOME"
	printf 'disable-crl-checks\ndisable-dirmngr\n' >"$GNUPGHOME/gpgsm.conf"
	gpgsm --batch --import "$T/root.pem" "$T/root2.pem" >/dev/null 2>&1 ||
	    fail_with "gpgsm root import"
	for c in root root2; do
		printf '%s S\n' "$(openssl x509 -in "$T/$c.pem" -noout \
		    -fingerprint -sha1 | sed 's/.*=//')"
	done >"$GNUPGHOME/trustlist.txt"
	echo 'signed text' >"$T/data"
	for c in old new; do
		openssl cms -sign -binary -outform DER -in "$T/data" \
		    -signer "$T/$c.pem" -inkey "$STORE/keys/$(fpr "$T/$c.pem").key" \
		    -out "$T/$c.sig" || fail_with "cms sign $c"
		run gpgsm --batch --verify "$T/$c.sig" "$T/data"
		expect_status 0
		grep -q "Good signature from.*$c@example.test" <<<"$output" ||
		    fail_with "gpgsm: $c"
	done
}

@test "renew: a revocation goes on the CRL of the root that issued the certificate" {
	renew_ca
	ca_issue old2 keep@example.test --key ec-p256
	local keep=$CERT
	local old_serial new_serial
	old_serial=$(openssl x509 -in "$T/old.pem" -noout -serial | sed 's/^serial=//')
	new_serial=$(openssl x509 -in "$T/new.pem" -noout -serial | sed 's/^serial=//')
	# a certificate of the old root: the old root's CRL
	run --separate-stderr ca revoke "$OLD"
	expect_status 0
	printf '%s\n' "$output" >"$T/old.crl"
	signed_by "$T/old.crl" "$T/root.pem" ||
	    fail_with "the CRL is not the old root's"
	! signed_by "$T/old.crl" "$T/root2.pem" ||
	    fail_with "control: the new root verifies the old root's CRL"
	openssl crl -in "$T/old.crl" -noout -text >"$T/old.txt"
	grep -q "Serial Number: $old_serial" "$T/old.txt" || fail_with "old serial"
	[ "$(grep -c 'Serial Number:' "$T/old.txt")" = 1 ] || fail_with "old CRL entries"
	[ "$(crl_akid "$T/old.crl")" = "$(key_id "$T/root.pem" Subject)" ] ||
	    fail_with "old CRL AKID"
	run --separate-stderr cs verify "$OLD"
	expect_status 1
	grep -q '^reason: .*revoked' <<<"$output" || fail_with "old not revoked"
	# the new root's certificates are untouched
	run --separate-stderr cs verify --sign "$NEW"
	expect_status 0
	# a certificate of the new root: the new root's CRL, its own entry only
	run --separate-stderr ca revoke "$NEW"
	expect_status 0
	printf '%s\n' "$output" >"$T/new.crl"
	signed_by "$T/new.crl" "$T/root2.pem" ||
	    fail_with "the CRL is not the new root's"
	openssl crl -in "$T/new.crl" -noout -text >"$T/new.txt"
	grep -q "Serial Number: $new_serial" "$T/new.txt" || fail_with "new serial"
	[ "$(crl_akid "$T/new.crl")" = "$(key_id "$T/root2.pem" Subject)" ] ||
	    fail_with "new CRL AKID"
	[ "$(grep -c 'Serial Number:' "$T/new.txt")" = 1 ] || fail_with "new CRL entries"
	run --separate-stderr cs verify "$NEW"
	expect_status 1
	grep -q '^reason: .*revoked' <<<"$output" || fail_with "new not revoked"
	# openssl picks each root's CRL by key identifier from the hashed
	# directory: both revoked, the one left of the new root fine
	local hash
	hash=$(openssl x509 -in "$T/root.pem" -noout -hash)
	[ -f "$STORE/crls/$hash.r0" ] && [ -f "$STORE/crls/$hash.r1" ] ||
	    fail_with "two CRLs expected: $(ls "$STORE/crls")"
	run openssl verify -crl_check -CAfile "$T/roots.pem" -CApath "$STORE/crls" "$T/old.pem"
	[ "$status" -ne 0 ] && [[ $output == *"certificate revoked"* ]] ||
	    fail_with "openssl: old not revoked: $output"
	run openssl verify -crl_check -CAfile "$T/roots.pem" -CApath "$STORE/crls" "$T/new.pem"
	[ "$status" -ne 0 ] && [[ $output == *"certificate revoked"* ]] ||
	    fail_with "openssl: new not revoked: $output"
	run openssl verify -crl_check -CAfile "$T/roots.pem" -CApath "$STORE/crls" "$T/old2.pem"
	expect_status 0
	run --separate-stderr cs verify --sign "$keep"
	expect_status 0
	# smime-ca crl issues a CRL for each root, the revocations stay apart
	run --separate-stderr ca crl
	expect_status 0
	printf '%s\n' "$output" |
	    awk -v dir="$T" '/BEGIN X509 CRL/ { n++ } { print > (dir "/crl" n ".pem") }'
	signed_by "$T/crl1.pem" "$T/root.pem" &&
	    openssl crl -in "$T/crl1.pem" -noout -text | grep -q "Serial Number: $old_serial" ||
	    fail_with "crl: the old root's CRL"
	signed_by "$T/crl2.pem" "$T/root2.pem" &&
	    openssl crl -in "$T/crl2.pem" -noout -text | grep -q "Serial Number: $new_serial" ||
	    fail_with "crl: the new root's CRL"
}

@test "renew: --crl-url is needed when the CA has one and must differ from every earlier one; usage" {
	ca_init --key ec-p256 --crl-url http://pki.example.test/crl/ca.crl
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr ca renew --key ec-p256
	expect_status 64
	[[ $stderr == *"needs --crl-url"* ]] || fail_with "stderr: $stderr"
	run --separate-stderr ca renew --crl-url http://pki.example.test/crl/ca.crl
	expect_status 64
	run --separate-stderr ca renew --crl-url http://other.example.test/ca.crl
	expect_status 64
	[[ $stderr == *"published under that name"* ]] || fail_with "stderr: $stderr"
	run --separate-stderr ca renew --crl-url ldap://pki.example.test/x
	expect_status 64
	run --separate-stderr ca renew extra
	expect_status 64
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
	rm -rf "$STORE"
	run --separate-stderr ca renew
	expect_status 64
	[[ $stderr == *"no CA"* ]] || fail_with "renew without a CA: $stderr"
}

@test "a renewal that fails half way leaves the store as it was, and the old root still issues" {
	local dir
	dir=$(mktemp -d /tmp/mailseal-bats.XXXXXX)
	chmod 755 "$dir"
	STORE=$dir/store
	ca_init --key ec-p256
	ca_issue old old@example.test --key ec-p256
	chown -R 65534:65534 "$STORE"
	# the new root cannot enter the root store: the step after its key
	# and certificate were written to ca/
	chmod 0500 "$STORE/roots"
	local before
	before=$(store_snapshot "$STORE")
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MAILSEAL_BIN/smime-ca" --store "$STORE" renew --key ec-p256
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on failure"
	[[ $stderr == *"CA not renewed: root $ROOT stays in use"* ]] ||
	    fail_with "stderr: $stderr"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
	chmod 0700 "$STORE/roots"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MAILSEAL_BIN/smime-ca" --store "$STORE" issue --key ec-p256 after@example.test
	expect_status 0
	openssl verify -CAfile "$T/root.pem" "$STORE/certs/$output.pem" >/dev/null ||
	    fail_with "not issued under the old root"
	rm -rf "$dir"
}
