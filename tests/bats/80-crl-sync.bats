#!/usr/bin/env bats
# crl-sync: CRLs from the distribution points of the stored certificates
# (made by openssl ca and by smime-ca), served by a local HTTP server on
# 127.0.0.1: installed in OpenSSL's hashed layout, conditional GET (304),
# rollback and foreign signatures refused, size and time limits, private
# addresses refused (redirects included) unless allowed; then the filters
# and certstore see the revocation.

load helpers

setup() {
	ms_setup_store
	WEB=$T/web
	mkdir -p "$WEB"
	start_server "$WEB" SERVER PORT
	URL=http://127.0.0.1:$PORT
}

teardown() {
	[ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
	[ -z "${SERVER2:-}" ] || kill "$SERVER2" 2>/dev/null || true
}

# start_server DIR PIDVAR PORTVAR - the test server on a free port
start_server() {
	local dir=$1 out=$1/server.out
	python3 "$BATS_TEST_DIRNAME/../fixtures/crl/http-server.py" "$dir" \
	    >"$out" 2>&1 &
	printf -v "$2" '%s' "$!"
	for _ in $(seq 50); do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^ready' "$out" || skip "no HTTP server on 127.0.0.1"
	printf -v "$3" '%s' "$(awk '/^ready/ { print $2 }' "$out")"
}

# pki_root_with_leaves - root "root" and leaves alice and bob naming
# $URL/root.crl, all in the store
pki_root_with_leaves() {
	pki_ca root '' ec
	pki_leaf root alice cdp="$URL/root.crl"
	pki_leaf root bob cdp="$URL/root.crl"
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" "$PKI/bob.pem" >/dev/null
}

# crl_files - the CRL store's file names
crl_files() {
	ls "$STORE/crls" | sort | tr '\n' ' '
}

@test "first download: the CRL lands in the hashed layout that openssl verify -crl_check reads" {
	pki_root_with_leaves
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	hash=$(openssl crl -in "$WEB/root.crl" -noout -hash)
	[[ "$output" == *"CN=root"*": updated $hash.r0, CRL number 4096, next update "* ]] ||
	    fail_with "no update line"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail_with "one line per CA"
	cmp <(openssl crl -in "$STORE/crls/$hash.r0" -outform DER) \
	    <(openssl crl -in "$WEB/root.crl" -outform DER) ||
	    fail_with "installed CRL differs"
	openssl verify -CAfile "$PKI/root.pem" -CApath "$STORE/crls" \
	    -crl_check "$PKI/alice.pem" >/dev/null ||
	    fail_with "openssl verify with the CRL store"
	# a revocation reaches openssl through the next sync
	pki_revoke root alice
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *": updated $hash.r0, CRL number 4097,"* ]] ||
	    fail_with "second CRL not installed"
	run openssl verify -CAfile "$PKI/root.pem" -CApath "$STORE/crls" \
	    -crl_check "$PKI/alice.pem"
	[[ "$output" == *"certificate revoked"* ]] ||
	    fail_with "openssl does not see the revocation"
}

@test "second run: 304 Not Modified through If-None-Match, the CRL kept" {
	pki_root_with_leaves
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	before=$(store_snapshot "$STORE/crls")
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *": not modified "*".r0, CRL number 4096, next update "* ]] ||
	    fail_with "no not-modified line"
	[ "$(tail -n 1 "$WEB/requests.log")" = "/root.crl 304" ] ||
	    fail_with "the server did not answer 304"
	[ "$(store_snapshot "$STORE/crls")" = "$before" ] ||
	    fail_with "CRL store changed"
	# the state record holds the ETag the server sent, as a "key = value"
	# line like every record kv.c writes
	grep -rqs '^etag = "' "$STORE/crlstate" || fail_with "no ETag kept"
}

@test "a rollback to an older CRL is refused (exit 65); the newer one stays" {
	pki_root_with_leaves
	pki_crl root "$T/old.crl"
	pki_revoke root alice
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	hash=$(openssl crl -in "$WEB/root.crl" -noout -hash)
	cp "$STORE/crls/$hash.r0" "$T/installed"
	cp "$T/old.crl" "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 65
	[[ "$output" == *": refused: older than the installed CRL (rollback) ($URL/root.crl)"* ]] ||
	    fail_with "rollback not reported"
	cmp "$T/installed" "$STORE/crls/$hash.r0" || fail_with "CRL replaced"
	# refused: the next run fetches it again rather than a silent 304
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 65
}

@test "a CRL with the CA's name but signed by another key is refused (exit 65)" {
	pki_root_with_leaves
	# an impostor with the same subject and its own key
	pki_key "$PKI/evil.key" ec
	openssl req -x509 -new -key "$PKI/evil.key" \
	    -subj "/O=mailseal test/CN=root" -days 30 -out "$PKI/evil.pem" \
	    2>/dev/null
	openssl ca -batch -config "$PKI/root.db/ca.cnf" -gencrl \
	    -keyfile "$PKI/evil.key" -cert "$PKI/evil.pem" \
	    -out "$WEB/root.crl" >/dev/null 2>&1 || fail_with "evil CRL"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 65
	[[ "$output" == *": refused: no CA in the store signed this CRL"* ]] ||
	    fail_with "foreign signature not reported"
	[ -z "$(crl_files)" ] || fail_with "something was installed"
}

@test "an answer over --max-size is refused, with or without Content-Length (exit 75)" {
	pki_root_with_leaves
	for path in big big-announced; do
		echo "crl-urls = $URL/$path" >"$STORE/settings/global.conf"
		run --separate-stderr crl-sync --allow-private-addresses \
		    --max-size 1M
		expect_status 75
		[[ "$output" == *"failed: the answer is over the size limit ($URL/$path)"* ]] ||
		    fail_with "size limit not reported for $path"
	done
	[ -z "$(crl_files)" ] || fail_with "something was installed"
}

@test "a server that never answers ends in the timeout, and the other CAs still sync" {
	pki_root_with_leaves
	pki_crl root "$WEB/root.crl"
	echo "crl-urls = $URL/hang" >"$STORE/settings/global.conf"
	start=$(date +%s)
	run --separate-stderr timeout 30 crl-sync --allow-private-addresses \
	    --timeout 2
	end=$(date +%s)
	expect_status 75
	[ $((end - start)) -lt 10 ] || fail_with "took $((end - start)) s"
	[[ "$output" == *"failed: timed out ($URL/hang)"* ]] ||
	    fail_with "timeout not reported"
	[[ "$output" == *"CN=root"*": updated "* ]] ||
	    fail_with "the reachable CA was not synced"
}

@test "loopback is refused by default, redirects included; an allow-listed address is not" {
	mkdir -p "$T/web2"
	start_server "$T/web2" SERVER2 PORT2
	# CA one publishes through a redirect to a second server, CA two
	# directly; the names resolve to 127.0.0.1 through the test hook
	pki_ca one '' ec
	pki_ca two '' ec
	pki_leaf one alice cdp="http://crl.example.test:$PORT/redirect/$PORT2/one.crl"
	pki_leaf two bob cdp="http://crl.example.test:$PORT/two.crl"
	certstore import --roots "$PKI/one.pem" "$PKI/two.pem" >/dev/null
	certstore import "$PKI/alice.pem" "$PKI/bob.pem" >/dev/null
	pki_crl one "$T/web2/one.crl"
	pki_crl two "$WEB/two.crl"
	echo "crl-resolve = crl.example.test:$PORT:127.0.0.1" \
	    >"$STORE/settings/global.conf"
	run --separate-stderr crl-sync
	expect_status 75
	[ "$(grep -c 'failed: a private or loopback address was refused' <<<"$output")" -eq 2 ] ||
	    fail_with "loopback not refused"
	[ ! -s "$WEB/requests.log" ] || fail_with "the server was reached"
	# the first server allowed by address and port: CA two's URL works,
	# the redirect of CA one to the second server is refused
	echo "crl-allow-addresses = 127.0.0.1:$PORT" \
	    >>"$STORE/settings/global.conf"
	run --separate-stderr crl-sync
	expect_status 75
	[[ "$output" == *"CN=two"*": updated "* ]] ||
	    fail_with "the allowed address was refused"
	[[ "$output" == *"CN=one"*": failed: a private or loopback address was refused (http://crl.example.test:$PORT/redirect/$PORT2/one.crl)"* ]] ||
	    fail_with "redirect not refused"
	grep -q "^/redirect/$PORT2/one.crl 302" "$WEB/requests.log" ||
	    fail_with "the redirect URL was not asked"
	[ ! -s "$T/web2/requests.log" ] ||
	    fail_with "the redirect target was reached"
	# --allow-private-addresses follows the redirect
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *"CN=one"*": updated "* ]] ||
	    fail_with "the redirect was not followed"
	grep -q '^/one.crl 200' "$T/web2/requests.log" ||
	    fail_with "the second server was not asked"
}

@test "after a sync a revoked certificate is dropped by smime-enc, certstore find and verify, and smime-verify says revoked" {
	pki_root_with_leaves
	pki_crl root "$WEB/root.crl"
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: t\n\nhello\n' \
	    >"$T/plain.eml"
	openssl cms -sign -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
	    -in "$T/plain.eml" -from alice@example.test -to bob@example.test \
	    -subject t >"$T/signed.eml" 2>/dev/null || fail_with "cms -sign"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	run --separate-stderr smime-enc alice@example.test <"$T/plain.eml"
	expect_status 0
	smime-verify --no-learn <"$T/signed.eml" >"$T/v1.eml"
	grep -q '^X-Mailseal-Signature: valid' "$T/v1.eml" ||
	    fail_with "control: signature not valid"
	pki_revoke root alice
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	run --separate-stderr smime-enc alice@example.test <"$T/plain.eml"
	expect_status 69
	[[ "$stderr" == "5.7.1 no usable S/MIME certificate for: alice@example.test"* ]] ||
	    fail_with "revoked recipient not refused"
	run --separate-stderr smime-enc bob@example.test <"$T/plain.eml"
	expect_status 0
	run --separate-stderr certstore find alice@example.test
	expect_status 1
	run --separate-stderr certstore verify "$(fpr "$PKI/alice.pem")"
	expect_status 1
	grep -qx 'reason: revoked' <<<"$output" || fail_with "verify: not revoked"
	smime-verify --no-learn <"$T/signed.eml" >"$T/v2.eml"
	grep -q '^X-Mailseal-Signature: revoked' "$T/v2.eml" ||
	    fail_with "smime-verify: not revoked"
}

@test "a CRL past nextUpdate plus the grace: revocation = soft uses the certificate, hard does not" {
	pki_ca root '' ec "$URL/root.crl"
	pki_leaf root alice cdp="$URL/root.crl"
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" >/dev/null
	openssl ca -batch -config "$PKI/root.db/ca.cnf" -gencrl \
	    -crl_lastupdate "$(date_offset -3)" \
	    -crl_nextupdate "$(date_offset -2)" -out "$WEB/root.crl" \
	    >/dev/null 2>&1 || fail_with "stale CRL"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 75
	[[ "$output" == *"(past nextUpdate)"* ]] || fail_with "stale not told"
	f=$(fpr "$PKI/alice.pem")
	run --separate-stderr certstore verify "$f"
	expect_status 0
	grep -q '^note: revocation unknown: CRL has expired' <<<"$output" ||
	    fail_with "soft: no note"
	echo 'revocation = hard' >"$STORE/settings/global.conf"
	run --separate-stderr certstore verify "$f"
	expect_status 1
	grep -q '^reason: revocation unknown: CRL has expired' <<<"$output" ||
	    fail_with "hard: not refused"
	run --separate-stderr certstore find alice@example.test
	expect_status 1
	# within the grace the CRL still counts
	echo 'revocation-grace = 604800' >>"$STORE/settings/global.conf"
	run --separate-stderr certstore find alice@example.test
	expect_status 0
	# hard, and a distribution point without any CRL: unknown too
	rm -f "$STORE/crls"/*
	run --separate-stderr certstore verify "$f"
	expect_status 1
	grep -q '^reason: revocation unknown: no CRL' <<<"$output" ||
	    fail_with "hard: missing CRL not refused"
}

@test "smime-ca CRLs: an intermediate names its root's CRL, leaves the intermediate's; stale CRLs are pruned" {
	# the CA side: its own store, publishing CRLs on the web server
	CA=$T/castore
	smime-ca --store "$CA" init --key ec-p256 --crl-url "$URL/builtin.crl" \
	    'Builtin CA' >"$T/ca.fpr" 2>/dev/null
	fpr=$(smime-ca --store "$CA" issue --key ec-p256 carol@example.test \
	    2>/dev/null)
	certstore --store "$CA" export "$(cat "$T/ca.fpr")" >"$T/ca.pem"
	certstore --store "$CA" export "$fpr" >"$T/carol.pem"
	smime-ca --store "$CA" crl >"$WEB/builtin.crl" 2>/dev/null
	# an openssl ca chain: root -> intermediate (naming the root's CRL)
	pki_ca root '' ec
	pki_ca inter root ec "$URL/root.crl"
	pki_leaf inter dave cdp="$URL/inter.crl"
	pki_crl root "$WEB/root.crl"
	pki_crl inter "$WEB/inter.crl"
	certstore import --roots "$T/ca.pem" "$PKI/root.pem" >/dev/null
	certstore import "$T/carol.pem" "$PKI/inter.pem" "$PKI/dave.pem" \
	    >/dev/null
	run --separate-stderr crl-sync --allow-private-addresses -j 3
	expect_status 0
	[ "$(grep -c ': updated ' <<<"$output")" -eq 3 ] ||
	    fail_with "three CAs expected"
	[[ "$output" == *"CN=Builtin CA"*": updated "* ]] ||
	    fail_with "smime-ca CRL not installed"
	openssl verify -CAfile "$T/ca.pem" -CApath "$STORE/crls" -crl_check \
	    "$T/carol.pem" >/dev/null || fail_with "openssl verify carol"
	cat "$PKI/root.pem" "$PKI/inter.pem" >"$T/chain.pem"
	openssl verify -CAfile "$T/chain.pem" -CApath "$STORE/crls" \
	    -crl_check_all "$PKI/dave.pem" >/dev/null ||
	    fail_with "openssl verify dave with every CRL"
	# a revocation by smime-ca reaches the gateway
	smime-ca --store "$CA" revoke "$fpr" >"$WEB/builtin.crl" 2>/dev/null
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	run --separate-stderr certstore verify "$fpr"
	grep -qx 'reason: revoked' <<<"$output" || fail_with "carol not revoked"
	# the built-in CA leaves the store: its CRL goes, and only it
	hash=$(openssl crl -in "$WEB/builtin.crl" -noout -hash)
	certstore remove "$fpr" >/dev/null
	certstore remove "$(cat "$T/ca.fpr")" >/dev/null
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *"removed $hash.r0: no CA in the stores signed it"* ]] ||
	    fail_with "stale CRL not removed"
	[ ! -e "$STORE/crls/$hash.r0" ] || fail_with "stale CRL left"
	[ "$(ls "$STORE/crls" | wc -l)" -eq 2 ] || fail_with "other CRLs gone"
}

@test "two CAs with one name hash: r0 and r1, and removing one keeps the numbering contiguous" {
	pki_ca twin '' ec
	mv "$PKI/twin.pem" "$PKI/twin1.pem"; mv "$PKI/twin.key" "$PKI/twin1.key"
	pki_crl_with twin1 "$WEB/twin1.crl"
	pki_ca twin '' ec
	cp "$PKI/twin.pem" "$PKI/twin2.pem"; cp "$PKI/twin.key" "$PKI/twin2.key"
	pki_crl_with twin2 "$WEB/twin2.crl"
	certstore import --roots "$PKI/twin1.pem" "$PKI/twin2.pem" >/dev/null
	printf 'crl-urls = %s/twin1.crl %s/twin2.crl\n' "$URL" "$URL" \
	    >"$STORE/settings/global.conf"
	run --separate-stderr crl-sync --allow-private-addresses -j 1
	expect_status 0
	hash=$(openssl crl -in "$WEB/twin1.crl" -noout -hash)
	[ "$(crl_files)" = "$hash.r0 $hash.r1 " ] || fail_with "not r0 and r1"
	# the CA of r0 goes: the r1 file moves down to r0
	n=0
	for i in 0 1; do
		if cmp -s <(openssl crl -in "$STORE/crls/$hash.r$i" -outform DER) \
		    <(openssl crl -in "$WEB/twin1.crl" -outform DER); then
			n=$i
		fi
	done
	certstore remove "$(fpr "$PKI/twin$((n + 1)).pem")" >/dev/null
	run --separate-stderr crl-sync --allow-private-addresses
	[ "$(crl_files)" = "$hash.r0 " ] || fail_with "numbering has a gap"
	cmp <(openssl crl -in "$STORE/crls/$hash.r0" -outform DER) \
	    <(openssl crl -in "$WEB/twin$((2 - n)).crl" -outform DER) ||
	    fail_with "the wrong CRL was kept"
}

@test "usage: -h, unknown options and bad numbers; -n lists without fetching; a bad crl-urls is a configuration error (78)" {
	run crl-sync -h
	expect_status 0
	[[ "$output" == "usage: crl-sync "* ]] || fail_with "no usage"
	run crl-sync --bogus
	expect_status 64
	run crl-sync --jobs 0
	expect_status 64
	run crl-sync --max-size 12X
	expect_status 64
	pki_root_with_leaves
	run --separate-stderr crl-sync -n
	expect_status 0
	[[ "$output" == *"CN=root"*": would fetch $URL/root.crl" ]] ||
	    fail_with "no plan"
	[ ! -e "$WEB/requests.log" ] || fail_with "-n fetched"
	echo 'crl-urls = ftp://example.test/x.crl' >"$STORE/settings/global.conf"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 78
}

# sync_says TEXT WHY - crl-sync exits 0 with its line for the built-in
# CA starting with TEXT
sync_says() {
	run --separate-stderr crl-sync
	expect_status 0
	[[ "$output" == "CN=Gateway CA: $1"* ]] || fail_with "$2"
}

# alice_revoked WHY - openssl finds $T/alice.pem revoked by the CRL store
alice_revoked() {
	run openssl verify -CAfile "$STORE/ca/ca.pem" -CApath "$STORE/crls" \
	    -crl_check "$T/alice.pem"
	[[ "$output" == *"certificate revoked"* ]] || fail_with "$1"
}

@test "the built-in CA's CRL is issued locally, never fetched from its unreachable URL" {
	smime-ca init --key ec-p256 --crl-url http://127.0.0.1:1/ca.crl \
	    'Gateway CA' >/dev/null 2>&1
	alice=$(smime-ca issue --key ec-p256 alice@example.test 2>/dev/null)
	certstore export "$alice" >"$T/alice.pem"
	hash=$(openssl x509 -in "$STORE/ca/ca.pem" -noout -subject_hash)
	run --separate-stderr crl-sync -n
	expect_status 0
	[ "$output" = "CN=Gateway CA: would issue a CRL locally" ] ||
	    fail_with "no local plan"
	[ ! -e "$STORE/crls/$hash.r0" ] || fail_with "-n issued a CRL"
	# no CRL yet: one is made with the CA's key, the URL never tried
	sync_says "issued locally $hash.r0, CRL number 1, next update " "no local CRL"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail_with "one line per CA"
	[[ "$stderr" != *"127.0.0.1"* ]] || fail_with "the URL was fetched"
	openssl crl -in "$STORE/crls/$hash.r0" -CAfile "$STORE/ca/ca.pem" \
	    -noout 2>/dev/null || fail_with "the CRL does not verify"
	openssl verify -CAfile "$STORE/ca/ca.pem" -CApath "$STORE/crls" \
	    -crl_check "$T/alice.pem" >/dev/null || fail_with "CRL not current"
	# current: kept as it is
	sync_says "current locally $hash.r0, CRL number 1, " "a current CRL re-issued"
	# a revocation publishes a CRL that crl-sync keeps
	smime-ca revoke "$alice" >/dev/null 2>&1
	sync_says "current locally $hash.r0, CRL number 2, " "the revocation's CRL replaced"
	alice_revoked "not revoked"
	# less than half its period to run: a fresh one, same revocations
	mkdir "$T/db"
	: >"$T/db/index.txt"
	echo 02 >"$T/db/crlnumber"
	printf '[ca]\ndefault_ca = own\n[own]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\n' \
	    "$T/db/index.txt" "$T/db/crlnumber" >"$T/db/ca.cnf"
	openssl ca -batch -config "$T/db/ca.cnf" -gencrl \
	    -keyfile "$STORE/ca/ca.key" -cert "$STORE/ca/ca.pem" \
	    -crl_lastupdate "$(date_offset -6)" \
	    -crl_nextupdate "$(date_offset 1)" -out "$STORE/crls/$hash.r0" \
	    >/dev/null 2>&1 || fail_with "aged CRL"
	sync_says "issued locally $hash.r0, CRL number 3, " "an aging CRL not re-issued"
	alice_revoked "the fresh CRL lost the revocation"
}

# pki_crl_with NAME OUT - a CRL of the CA whose files are NAME.pem and
# NAME.key, with the database of the CA made last under that subject
pki_crl_with() {
	openssl ca -batch -config "$PKI/twin.db/ca.cnf" -gencrl \
	    -keyfile "$PKI/$1.key" -cert "$PKI/$1.pem" -out "$2" \
	    >/dev/null 2>&1 || fail_with "CRL of $1"
}

@test "a delta CRL is installed beside its complete CRL and its revocations count; one newer than the base is refused" {
	# OpenSSL applies a delta only when the certificate (or the complete
	# CRL) names one in freshestCRL
	pki_ca root '' ec
	pki_leaf root alice cdp="$URL/root.crl" freshest="$URL/delta.crl"
	pki_leaf root bob cdp="$URL/root.crl" freshest="$URL/delta.crl"
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" "$PKI/bob.pem" >/dev/null
	pki_crl root "$WEB/root.crl"			# complete, number 4096
	pki_revoke root alice
	printf '[ delta ]\n2.5.29.27 = critical,DER:02021000\n' \
	    >>"$PKI/root.db/ca.cnf"			# BaseCRLNumber 4096
	openssl ca -batch -config "$PKI/root.db/ca.cnf" -gencrl \
	    -crlexts delta -out "$WEB/delta.crl" >/dev/null 2>&1 ||
	    fail_with "delta CRL"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *": updated "*".r0, CRL number 4096, "*"; delta: updated "*".r1, CRL number 4097, "* ]] ||
	    fail_with "no complete and delta line"
	hash=$(openssl crl -in "$WEB/root.crl" -noout -hash)
	[ "$(crl_files)" = "$hash.r0 $hash.r1 " ] || fail_with "not r0 and r1"
	run --separate-stderr certstore verify "$(fpr "$PKI/alice.pem")"
	expect_status 1
	grep -qx 'reason: revoked' <<<"$output" || fail_with "delta not used"
	run --separate-stderr certstore find bob@example.test
	expect_status 0
	# a delta built on a complete CRL we do not hold is refused
	sed -i 's/DER:02021000/DER:02022000/' "$PKI/root.db/ca.cnf"
	openssl ca -batch -config "$PKI/root.db/ca.cnf" -gencrl \
	    -crlexts delta -out "$WEB/delta.crl" >/dev/null 2>&1 ||
	    fail_with "second delta CRL"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 65
	[[ "$output" == *"refused: a delta CRL newer than the complete CRL installed"* ]] ||
	    fail_with "orphan delta not refused"
}

# signed_by CRL ROOT [FORM] - openssl verifies CRL (PEM, or FORM) with the
# root certificate ROOT ("openssl crl" exits 0 either way: its words count)
signed_by() {
	[ "$(openssl crl -inform "${3:-PEM}" -in "$1" -CAfile "$2" -noout 2>&1)" = "verify OK" ]
}

# renewed_ca - a built-in CA "Gateway CA" with alice under its first root
# (ROOT1, CRL at .../crl/ca.crl) and bob under the root made by renew
# (ROOT2, .../crl/ca-2.crl); $T/NAME.pem the certificates and roots
renewed_ca() {
	smime-ca init --key ec-p256 --crl-url http://127.0.0.1:1/crl/ca.crl \
	    'Gateway CA' >"$T/root1.fpr" 2>/dev/null || fail_with "init"
	ROOT1=$(cat "$T/root1.fpr")
	alice=$(smime-ca issue --key ec-p256 alice@example.test 2>/dev/null)
	ROOT2=$(smime-ca renew --crl-url http://127.0.0.1:1/crl/ca-2.crl \
	    2>/dev/null) || fail_with "renew"
	bob=$(smime-ca issue --key ec-p256 bob@example.test 2>/dev/null)
	certstore export "$alice" >"$T/alice.pem"
	certstore export "$bob" >"$T/bob.pem"
	certstore export "$ROOT1" >"$T/root1.pem"
	certstore export "$ROOT2" >"$T/root2.pem"
	cat "$T/root1.pem" "$T/root2.pem" >"$T/roots.pem"
	hash=$(openssl x509 -in "$T/root1.pem" -noout -subject_hash)
}

# serial_of CERT - its serial as openssl prints it in a CRL
serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

@test "a renewed built-in CA: one CRL per root, each with the revocations of its own certificates; both roots stay" {
	renewed_ca
	run --separate-stderr crl-sync -n
	expect_status 0
	[ "$output" = "CN=Gateway CA: would issue a CRL locally (root ${ROOT1:0:16})
CN=Gateway CA: would issue a CRL locally (root ${ROOT2:0:16})" ] ||
	    fail_with "plan: $output"
	run --separate-stderr crl-sync
	expect_status 0
	[[ $output == "CN=Gateway CA: root ${ROOT1:0:16}: issued locally $hash.r"[01]", CRL number "*"; root ${ROOT2:0:16}: issued locally $hash.r"[01]", CRL number "* ]] ||
	    fail_with "sync: $output"
	[[ $stderr != *"127.0.0.1"* ]] || fail_with "a URL was fetched"
	[ "$(crl_files)" = "$hash.r0 $hash.r1 " ] || fail_with "CRL files: $(crl_files)"
	# revocations land on their own root's CRL
	smime-ca revoke "$alice" >/dev/null 2>&1 || fail_with "revoke alice"
	smime-ca revoke "$bob" >/dev/null 2>&1 || fail_with "revoke bob"
	run --separate-stderr crl-sync
	expect_status 0
	local f root serial other found
	for f in "$STORE/crls/$hash.r0" "$STORE/crls/$hash.r1"; do
		if signed_by "$f" "$T/root1.pem"; then
			serial=$(serial_of "$T/alice.pem")
			other=$(serial_of "$T/bob.pem")
			found="$found 1"
		elif signed_by "$f" "$T/root2.pem"; then
			serial=$(serial_of "$T/bob.pem")
			other=$(serial_of "$T/alice.pem")
			found="$found 2"
		else
			fail_with "$f verifies with neither root"
		fi
		openssl crl -in "$f" -noout -text | grep -q "Serial Number: $serial" ||
		    fail_with "$f lacks its root's revocation"
		! openssl crl -in "$f" -noout -text | grep -q "Serial Number: $other" ||
		    fail_with "$f lists the other root's certificate"
	done
	[[ $found == " 1 2" || $found == " 2 1" ]] || fail_with "roots: $found"
	for f in alice bob; do
		run openssl verify -CAfile "$T/roots.pem" -CApath "$STORE/crls" \
		    -crl_check "$T/$f.pem"
		[[ $output == *"certificate revoked"* ]] || fail_with "$f not revoked: $output"
		run --separate-stderr certstore verify "$(fpr "$T/$f.pem")"
		expect_status 1
		grep -q '^reason: .*revoked' <<<"$output" || fail_with "certstore: $f"
	done
	# neither root nor its CRL is pruned
	run --separate-stderr certstore list --roots
	expect_status 0
	grep -q "^$ROOT1	" <<<"$output" || fail_with "old root gone"
	grep -q "^$ROOT2	" <<<"$output" || fail_with "new root gone"
	[ "$(crl_files)" = "$hash.r0 $hash.r1 " ] || fail_with "CRL files after: $(crl_files)"
}

@test "--publish DIR: each root's CRL in DER under its URL's file name, mode 0644, replaced atomically, never in the store" {
	renewed_ca
	local pub=$T/www
	mkdir "$pub"
	run --separate-stderr crl-sync -n --publish "$pub"
	expect_status 0
	[[ $output == *"(root ${ROOT1:0:16}), would publish $pub/ca.crl"* &&
	    $output == *"(root ${ROOT2:0:16}), would publish $pub/ca-2.crl"* ]] ||
	    fail_with "plan: $output"
	[ -z "$(ls -A "$pub")" ] || fail_with "-n wrote"
	smime-ca revoke "$alice" >/dev/null 2>&1 || fail_with "revoke alice"
	run --separate-stderr crl-sync --publish "$pub"
	expect_status 0
	[[ $output == *"published $pub/ca.crl"*"published $pub/ca-2.crl"* ]] ||
	    fail_with "sync: $output"
	[ "$(ls -A "$pub" | tr '\n' ' ')" = "ca-2.crl ca.crl " ] ||
	    fail_with "published: $(ls -A "$pub")"
	# the names are those of the certificates' distribution points
	openssl x509 -in "$T/alice.pem" -noout -ext crlDistributionPoints |
	    grep -q 'URI:http://127.0.0.1:1/crl/ca.crl$' || fail_with "alice's CDP"
	openssl x509 -in "$T/bob.pem" -noout -ext crlDistributionPoints |
	    grep -q 'URI:http://127.0.0.1:1/crl/ca-2.crl$' || fail_with "bob's CDP"
	# DER, signed by the right root, the revocation on it, mode 0644
	signed_by "$pub/ca.crl" "$T/root1.pem" DER ||
	    fail_with "ca.crl is not the first root's DER CRL"
	signed_by "$pub/ca-2.crl" "$T/root2.pem" DER ||
	    fail_with "ca-2.crl is not the new root's DER CRL"
	openssl crl -inform DER -in "$pub/ca.crl" -noout -text |
	    grep -q "Serial Number: $(serial_of "$T/alice.pem")" || fail_with "alice not on ca.crl"
	! openssl crl -inform DER -in "$pub/ca-2.crl" -noout -text | grep -q 'Serial Number' ||
	    fail_with "ca-2.crl lists a revocation"
	[ "$(stat -c %a "$pub/ca.crl")" = 644 ] || fail_with "mode $(stat -c %a "$pub/ca.crl")"
	[ "$(stat -c %a "$pub/ca-2.crl")" = 644 ] || fail_with "mode of ca-2.crl"
	# the same CRL as the store's
	local f
	for f in "$STORE/crls/$hash.r0" "$STORE/crls/$hash.r1"; do
		openssl crl -in "$f" -outform DER -out "$T/store.der"
		cmp -s "$T/store.der" "$pub/ca.crl" || cmp -s "$T/store.der" "$pub/ca-2.crl" ||
		    fail_with "$f published differently"
	done
	# a revocation of bob: the next run replaces ca-2.crl by rename (a
	# new inode: a reader holding the old file keeps a whole CRL)
	local inode
	inode=$(stat -c %i "$pub/ca-2.crl")
	smime-ca revoke "$bob" >/dev/null 2>&1 || fail_with "revoke bob"
	run --separate-stderr crl-sync --publish "$pub"
	expect_status 0
	[ "$(stat -c %i "$pub/ca-2.crl")" != "$inode" ] || fail_with "rewritten in place"
	openssl crl -inform DER -in "$pub/ca-2.crl" -noout -text |
	    grep -q "Serial Number: $(serial_of "$T/bob.pem")" || fail_with "bob not on ca-2.crl"
	[ "$(ls -A "$pub" | tr '\n' ' ')" = "ca-2.crl ca.crl " ] ||
	    fail_with "temporary files left: $(ls -A "$pub")"
	# never the store, nor a directory in it or holding it
	local before
	before=$(store_snapshot "$STORE")
	for f in "$STORE" "$STORE/ca" "$STORE/.." "$T/missing"; do
		run --separate-stderr crl-sync --publish "$f"
		expect_status 64
		[ -z "$output" ] || fail_with "output for $f"
	done
	[[ $stderr == *"$T/missing"* ]] || fail_with "stderr: $stderr"
	[ "$(store_snapshot "$STORE")" = "$before" ] || fail_with "store changed"
}

@test "--publish without a built-in CA is a usage error (64), with a CA without a CRL URL a configuration error (78)" {
	mkdir "$T/www"
	run --separate-stderr crl-sync --publish "$T/www"
	expect_status 64
	[[ $stderr == *"no built-in CA"* ]] || fail_with "stderr: $stderr"
	smime-ca init --key ec-p256 'Gateway CA' >/dev/null 2>&1
	run --separate-stderr crl-sync --publish "$T/www"
	expect_status 78
	[[ $stderr == *"does not end in a file name"* ]] || fail_with "stderr: $stderr"
	[ -z "$(ls -A "$T/www")" ] || fail_with "something published"
}

@test "the crl-publish examples: the timer's service and the cron line run crl-sync --publish with absolute paths, into a directory the unit may write" {
	local ex cmd line
	ex=$(ms_top)/scripts/examples
	cmd=$(sed -n 's/^ExecStart=//p' "$ex/crl-publish.service")
	[ "$cmd" = "/usr/local/sbin/crl-sync --publish /var/www/mailseal-crl" ] ||
	    fail_with "ExecStart: $cmd"
	grep -qx 'ReadWritePaths=/var/lib/mailseal /var/www/mailseal-crl' \
	    "$ex/crl-publish.service" || fail_with "the unit cannot write the directory"
	line=$(grep -v '^#' "$ex/crl-publish.cron" | grep -v '^MAILTO=' | grep .)
	[ "$(wc -l <<<"$line")" -eq 1 ] || fail_with "one cron line expected"
	[[ $line == *'$('"$cmd"' 2>&1)'* ]] || fail_with "cron runs another command: $line"
	[[ $line != *%* ]] || fail_with "a % in the cron line"
	systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$ex/crl-publish.timer")" \
	    >/dev/null 2>&1 || fail_with "OnCalendar"
	# the command as written, with this build and a scratch directory
	smime-ca init --key ec-p256 --crl-url http://pki.example.test/crl/mail-ca.crl \
	    'Gateway CA' >/dev/null 2>&1
	mkdir "$T/www"
	cmd=${cmd/\/usr\/local\/sbin\/crl-sync/$MAILSEAL_BIN/crl-sync}
	cmd=${cmd/\/var\/www\/mailseal-crl/$T/www}
	run --separate-stderr $cmd
	expect_status 0
	signed_by "$T/www/mail-ca.crl" "$STORE/ca/ca.pem" DER ||
	    fail_with "the example did not publish the CA's CRL"
}
