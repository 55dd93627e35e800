# postfix-helpers.bash - a private Postfix instance for the gateway tests:
# its own configuration directory, queue and log under $PF, listening on
# loopback ports only, with mailseal-filter as the pipe(8) content filter
# on the public listener, a reinjection listener (FILTER_README's
# 127.0.0.1:10026 arrangement, on a free port), a second public listener
# whose content filter is "cat | sendmail" (the benchmark's baseline) and
# every message relayed
# to an smtp-sink that dumps each transaction into $PF/sink.
#
# The filter runs as "nobody" (pipe(8) refuses root): the programs are
# copied to $PF/bin and the store, made by the test in $PF/store, is handed
# to nobody by pf_start.
#
# postdrop, which sendmail reinjection runs, reads only the default
# /etc/postfix/main.cf to decide whether a private configuration directory
# may be used.  When that file does not exist (a machine with Postfix
# installed as "No configuration"), pf_start writes one that names $PF/etc
# in alternate_config_directories and pf_stop removes it again; the file
# is marked as the tests' own, so an instance of an interrupted run that
# is gone is dropped from it.  When the machine has its own main.cf, the
# tests reinject over SMTP instead.
#
# With PF_LAYOUT=directions (set before pf_start) the instance runs the
# shipped scripts/examples/main.cf and master.cf instead, their
# addresses moved to loopback ports: the Internet-facing listener with
# the incoming filter on $PF_SMTP, submission with Cyrus SASL (a sasldb
# of the instance's own, pf_sasl_user) on $PF_SUBMIT, the relay listener
# for the internal network 127.0.0.2/32 on $PF_RELAY, SMTP reinjection
# on $PF_REINJECT, and master-oneport.cf's port 25, which chooses the
# filter by the client address, on $PF_ONEPORT.
#
# Usage: setup_file() { pf_setup_file; ...make the store...; pf_start; }
#        teardown_file() { pf_stop; }

# pf_pki NAME... - a CA in the instance's store ($BASE/root.pem) and a
# certificate for each address NAME: $BASE/NAME.pem, .key and .fpr
pf_pki() {
	local name fpr
	mkdir -p "$BASE"
	smime-ca init --key ec-p256 'Gateway Test CA' >"$BASE/root.fpr" 2>/dev/null
	certstore export "$(cat "$BASE/root.fpr")" >"$BASE/root.pem"
	for name in "$@"; do
		fpr=$(smime-ca issue --key ec-p256 "$name" 2>/dev/null)
		cp "$PF/store/certs/$fpr.pem" "$BASE/$name.pem"
		cp "$PF/store/keys/$fpr.key" "$BASE/$name.key"
		echo "$fpr" >"$BASE/$name.fpr"
	done
}

# pf_test_setup - each test's setup(): the tree's programs first in
# PATH, the instance's store, a marker of its own in $MARK
pf_test_setup() {
	ms_setup
	sm_env
	export MAILSEAL_STORE=$PF/store
	MARK="canary-$RANDOM-$RANDOM-$BATS_TEST_NUMBER"
}

# pf_free_port - a TCP port on 127.0.0.1 that nobody listens on
pf_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# pf_setup_file - the instance's directories and programs (not started)
pf_setup_file() {
	PF=$(mktemp -d /tmp/mailseal-pf.XXXXXX)
	chmod 711 "$PF"
	export PF
	mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/bin" "$PF/sink"
	local bin
	bin=${MAILSEAL_BIN:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/bin}
	cp "$bin"/* "$PF/bin/"
	chmod 755 "$PF/bin" "$PF/bin"/*
	chown postfix "$PF/data"
	chown nobody "$PF/sink"
	PF_SMTP=$(pf_free_port)
	PF_SMTP_CAT=$(pf_free_port)
	PF_REINJECT=$(pf_free_port)
	PF_SINK=$(pf_free_port)
	PF_SUBMIT=$(pf_free_port)
	PF_RELAY=$(pf_free_port)
	PF_ONEPORT=$(pf_free_port)
	export PF_SMTP PF_SMTP_CAT PF_REINJECT PF_SINK PF_SUBMIT PF_RELAY \
	    PF_ONEPORT
	export MAILSEAL_STORE=$PF/store
}

# pf_main_instance - the main.cf lines that make the private instance:
# its directories, loopback only, every message to the sink
pf_main_instance() {
	cat <<EOF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = gw.example.com
mydomain = example.com
myorigin = example.com
relayhost = [127.0.0.1]:$PF_SINK
smtp_dns_support_level = disabled
maillog_file = $PF/maillog
maillog_file_prefixes = /tmp
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
EOF
}

# pf_master_services - the master.cf services every instance has (not
# pickup, which each layout sets)
pf_master_services() {
	cat <<EOF
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_configure - main.cf and master.cf; the reinjection method is
# "sendmail" or "smtp"
pf_configure() {
	local method=$1
	if [ "${PF_LAYOUT:-}" = directions ]; then
		pf_configure_directions
		return
	fi
	{
		pf_main_instance
		cat <<EOF
mydestination =
local_transport = error:local delivery is disabled on this gateway
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
mailseal_destination_recipient_limit = 1
mailseal_destination_concurrency_limit = 10
mailseal_time_limit = 300s
cat_destination_recipient_limit = 1
cat_destination_concurrency_limit = 10
bounce_size_limit = 1
smtpd_forbid_bare_newline = normalize
enable_long_queue_ids = yes
EOF
	} >"$PF/etc/main.cf"
	{
		cat <<EOF
127.0.0.1:$PF_SMTP inet n - n - - smtpd
  -o content_filter=mailseal:dummy
127.0.0.1:$PF_SMTP_CAT inet n - n - - smtpd
  -o content_filter=cat:dummy
127.0.0.1:$PF_REINJECT inet n - n - - smtpd
  -o syslog_name=postfix-reinject
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
pickup    unix  n       -       n       1       1       pickup
  -o receive_override_options=no_address_mappings
EOF
		pf_master_services
		cat <<EOF
mailseal  unix  -       n       n       -       10      pipe
  flags=Rq user=nobody null_sender=
  argv=$PF/bin/mailseal-filter --store $PF/store -q \${queue_id} -f \${sender} -- \${recipient}
cat       unix  -       n       n       -       10      pipe
  flags=Rq user=nobody null_sender=
  argv=$PF/bin/cat-filter -f \${sender} -- \${recipient}
EOF
	} >"$PF/etc/master.cf"
	pf_store_base
	if [ "$method" = smtp ]; then
		echo "reinject-smtp = 127.0.0.1:$PF_REINJECT" \
		    >>"$PF/store/settings/global.conf"
	fi
	# the baseline filter of the benchmark: cat into sendmail
	cat >"$PF/bin/cat-filter" <<'EOF'
#!/bin/sh
cat | /usr/sbin/sendmail -G -i "$@"
EOF
	chmod 755 "$PF/bin/cat-filter"
}

# pf_store_base - the store's directories and the shipped DLP policies
pf_store_base() {
	mkdir -p "$PF/store/settings" "$PF/store/policies"
	# pipe(8) passes no MAILSEAL_SHAREDIR: the shipped DLP policies go
	# into the store
	cp "$BATS_TEST_DIRNAME/../../share/policies/"*.policy "$PF/store/policies/"
}

# pf_configure_directions - the shipped examples on loopback ports: the
# public addresses become 127.0.0.1 and a port each, the internal
# network 127.0.0.2/32, the paths and the user those of the instance;
# submission without TLS (the test client speaks plain SMTP on
# loopback) and with a sasldb of its own; no chroot
pf_configure_directions() {
	local examples=$BATS_TEST_DIRNAME/../../scripts/examples
	{
		pf_main_instance
		cat "$examples/main.cf"
	} >"$PF/etc/main.cf"
	# the instance's own, set in place (a second line for a parameter
	# makes every Postfix process warn): its domains, no TLS, no local
	# aliases, its sasldb (in $config_directory/sasl, where Debian's
	# Postfix looks whatever cyrus_sasl_config_path says)
	postconf -c "$PF/etc" -e 'mynetworks = 127.0.0.2/32' \
	    'relay_domains = example.com' 'transport_maps =' 'alias_maps =' \
	    'smtp_tls_security_level = none' 'smtpd_tls_security_level = none' \
	    "cyrus_sasl_config_path = $PF/etc/sasl"
	{
		sed -e "s|^203\.0\.113\.25:smtp |127.0.0.1:$PF_SMTP |" \
		    -e "s|^submission |127.0.0.1:$PF_SUBMIT |" \
		    -e "s|^192\.0\.2\.25:smtp |127.0.0.1:$PF_RELAY |" \
		    -e "s|^127\.0\.0\.1:10026 |127.0.0.1:$PF_REINJECT |" \
		    -e "s|mynetworks=10\.0\.0\.0/8|mynetworks=127.0.0.2/32|" \
		    -e "s|smtpd_tls_security_level=encrypt|smtpd_tls_security_level=none|" \
		    -e "s|smtpd_tls_auth_only=yes|smtpd_tls_auth_only=no|" \
		    -e "s|hash:/etc/postfix/sender_logins|texthash:$PF/etc/sender_logins|" \
		    -e "s|/usr/local/bin/mailseal-filter |$PF/bin/mailseal-filter --store $PF/store |" \
		    -e "s|user=mailseal |user=nobody |" "$examples/master.cf" |
		    awk '/^[^# \t]/ && NF >= 8 { $5 = "n" } { print }'
		sed -e "s|^smtp  *inet  *n  *-  *y |127.0.0.1:$PF_ONEPORT inet n - n |" \
		    -e "s|cidr:/etc/postfix/|cidr:$PF/etc/|" \
		    "$examples/master-oneport.cf"
		pf_master_services
	} >"$PF/etc/master.cf"
	sed 's|^10\.0\.0\.0/8|127.0.0.2/32|' "$examples/mailseal_direction.cidr" \
	    >"$PF/etc/mailseal_direction.cidr"
	: >>"$PF/etc/sender_logins"
	mkdir -p "$PF/etc/sasl"
	cat >"$PF/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $PF/etc/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
	pf_store_base
	printf 'reinject-smtp = 127.0.0.1:%s\nreinject-max-size = 52428800\n' \
	    "$PF_REINJECT" >>"$PF/store/settings/global.conf"
}

# pf_sasl_user ADDRESS PASSWORD - a SASL login of the instance that may
# use ADDRESS as its sender (smtpd_sender_login_maps)
pf_sasl_user() {
	mkdir -p "$PF/etc/sasl"
	printf '%s' "$2" | saslpasswd2 -f "$PF/etc/sasl/sasldb2" -p -c \
	    -u "${1#*@}" "${1%@*}"
	chown root:postfix "$PF/etc/sasl/sasldb2"
	chmod 640 "$PF/etc/sasl/sasldb2"
	printf '%s %s\n' "$1" "$1" >>"$PF/etc/sender_logins"
}

# pf_can_sendmail - may a private instance take sendmail reinjection here
pf_can_sendmail() {
	[ ! -e /etc/postfix/main.cf ] || [ -e /etc/postfix/.mailseal-test ]
}

# pf_alternate_dirs add|remove DIR - keep DIR in the default main.cf's
# alternate_config_directories, a file these tests own (marked by
# .mailseal-test): directories of instances that are gone are dropped,
# and the file goes with the last one
pf_alternate_dirs() {
	local op=$1 dir=$2 d keep=""
	[ -e /etc/postfix/.mailseal-test ] || [ ! -e /etc/postfix/main.cf ] ||
	    return 0
	for d in $(sed -n 's/^alternate_config_directories = //p' \
	    /etc/postfix/main.cf 2>/dev/null); do
		[ "$d" != "$dir" ] && [ -d "$d" ] && keep="$keep $d"
	done
	[ "$op" = remove ] || keep="$keep $dir"
	if [ -z "$keep" ]; then
		rm -f /etc/postfix/main.cf /etc/postfix/.mailseal-test
		return 0
	fi
	printf '# written by the mailseal tests; removed when they end\n%s\n' \
	    "alternate_config_directories =$keep" >/etc/postfix/main.cf
	: >/etc/postfix/.mailseal-test
}

# pf_start [sendmail|smtp] - configure, hand the store to nobody, start
# the sink and Postfix; waits until both listen
pf_start() {
	local method=${1:-sendmail}
	[ "${PF_LAYOUT:-}" != directions ] || method=smtp
	if [ "$method" = sendmail ] && ! pf_can_sendmail; then
		method=smtp
	fi
	PF_METHOD=$method
	export PF_METHOD
	pf_configure "$method"
	if [ "$method" = sendmail ]; then
		pf_alternate_dirs add "$PF/etc"
	fi
	chown -R nobody "$PF/store"
	smtp-sink -u nobody -c -d "$PF/sink/%M." "127.0.0.1:$PF_SINK" 256 \
	    >"$PF/sink.log" 2>&1 &
	PF_SINK_PID=$!
	export PF_SINK_PID
	postfix -c "$PF/etc" start >"$PF/start.log" 2>&1 || {
		cat "$PF/start.log" "$PF/maillog" >&2
		return 1
	}
	pf_wait_port "$PF_SMTP" && pf_wait_port "$PF_SINK"
}

# pf_wait_port PORT - wait (at most 10 s) until something listens
pf_wait_port() {
	local i
	for i in $(seq 1 100); do
		if python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(0.2)
s.connect(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# pf_stop - stop Postfix and the sink; remove what pf_start wrote outside
pf_stop() {
	[ -n "${PF:-}" ] || return 0
	postfix -c "$PF/etc" stop >/dev/null 2>&1 || true
	[ -z "${PF_SINK_PID:-}" ] || kill "$PF_SINK_PID" 2>/dev/null || true
	pf_alternate_dirs remove "$PF/etc"
	# the instance's agent, if a PGP key was used
	GNUPGHOME=$PF/store/gnupg gpgconf --kill all 2>/dev/null || true
	rm -rf "$PF"
}

# pf_queue_empty - Postfix's queue holds nothing
pf_queue_empty() {
	postqueue -c "$PF/etc" -p 2>/dev/null | grep -q '^Mail queue is empty'
}

# pf_flush - ask Postfix to retry deferred mail now
pf_flush() {
	postqueue -c "$PF/etc" -f >/dev/null 2>&1 || true
}

# pf_wait_sink N [SECONDS] - wait until the sink holds N dumps and the
# queue is empty (default 60 s)
pf_wait_sink() {
	local n=$1 limit=${2:-60} i
	for i in $(seq 1 $((limit * 5))); do
		if [ "$(pf_sink_count)" -ge "$n" ] && pf_queue_empty; then
			return 0
		fi
		sleep 0.2
	done
	echo "sink holds $(pf_sink_count) of $n; queue:" >&2
	postqueue -c "$PF/etc" -p >&2 || true
	tail -n 30 "$PF/maillog" >&2
	return 1
}

# pf_sink_count - transactions the sink dumped
pf_sink_count() {
	find "$PF/sink" -type f | wc -l
}

# pf_dump_for ADDR - the dump files with ADDR among their recipients
pf_dump_for() {
	grep -l -F "X-Rcpt-Args: <$1>" -r "$PF/sink" 2>/dev/null || true
}

# pf_arrived ADDR TEXT - the one sink dump for ADDR that holds TEXT (a
# test's Message-ID); fails when there is none or more than one
pf_arrived() {
	local d n
	d=$(grep -l -F "X-Rcpt-Args: <$1>" -r "$PF/sink" |
	    xargs -r grep -l -F "$2" || true)
	n=$(printf '%s' "$d" | grep -c . || true)
	[ "$n" = 1 ] || { echo "arrived: $n dumps for $1" >&2; return 1; }
	echo "$d"
}

# pf_message DUMP - the message in a sink dump: without the sink's own
# X-Client-*, X-Helo-Args, X-Mail-Args and X-Rcpt-Args lines and the
# Received: field smtp-sink adds, line ends made LF
pf_message() {
	awk '
	    head && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/ { next }
	    head && /^Received: .*/ && !seen { sink = 1; seen = 1; next }
	    head && sink && /^[ \t]/ { next }
	    { head = 0; sink = 0; sub(/\r$/, ""); print }
	' head=1 "$1"
}

# pf_send FROM FILE TO... - submit FILE to the filtered listener
pf_send() {
	local from=$1 file=$2
	shift 2
	python3 - "$PF_SMTP" "$from" "$file" "$@" <<'EOF'
import smtplib, sys
port, sender, path, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
with open(path, "rb") as f:
    data = f.read()
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.sendmail(sender, rcpts, data)
EOF
}

# pf_smtp PORT SOURCE LOGIN PASSWORD FROM FILE TO... - send FILE to the
# listener on PORT from the address SOURCE ("" for any), after AUTH as
# LOGIN when LOGIN is not empty; prints Postfix's refusal and fails when
# the sender or every recipient is refused
pf_smtp() {
	python3 - "$@" <<'PY'
import smtplib, sys
port, source, login, password, sender, path = sys.argv[1:7]
rcpts = sys.argv[7:]
with open(path, "rb") as f:
    data = f.read()
try:
    with smtplib.SMTP("127.0.0.1", int(port), timeout=30,
                      source_address=(source, 0) if source else None) as s:
        if login:
            s.login(login, password)
        s.sendmail(sender, rcpts, data)
except (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused) as e:
    print(e)
    sys.exit(1)
PY
}
