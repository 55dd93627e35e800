#!/usr/bin/env bats
# The quarantine as a workflow: the notices of a hold, a release, a
# deletion and an expiry (to the sender only when it was authenticated,
# to the DLP officer of every hold; from <>, Auto-Submitted, no body),
# the sweep of expired entries (concurrent with holds), and a release
# that died half-way (shown, refused, forced without a second copy).
# Reinjection goes to a script that keeps each call's arguments and
# message in $T/out.

load helpers
load smime-helpers

setup_file() {
	sm_setup_file bob
}

setup() {
	sm_setup
	ms_sharedir
	mkdir -p "$STORE/settings/user" "$STORE/policies" "$T/out"
	SINK=$T/sink.sh
	cat >"$SINK" <<EOF
#!/bin/sh
# a reinjection command: arguments one a line, then the message
n=\$(mktemp "$T/out/XXXXXX")
printf '%s\n' "\$@" >"\$n.args"
cat >"\$n.eml"
rm -f "\$n"
EOF
	chmod 755 "$SINK"
	export MAILSEAL_SENDMAIL=$SINK
	printf 'rule cards\n\twhen payment_card confidence >= medium\n\taction quarantine\n' \
	    >"$STORE/policies/t.policy"
	printf 'dlp-policies = t\n' >"$STORE/settings/global.conf"
	MARK="canary-$RANDOM-$RANDOM"
	CARD=4556737586899855
	MSG=$T/in.eml
	cat >"$MSG" <<EOF
From: Alice <alice@example.test>
To: bob@example.test
Subject: quarterly figures
Message-ID: <q1@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The body with $MARK in it. Card $CARD, expiry 12/29.
EOF
}

# officer - a DLP officer in the global settings
officer() {
	echo 'dlp-officer = dpo@example.test' >>"$STORE/settings/global.conf"
}

# hold_as QUEUEID LOGIN RCPT... - mailseal-filter from alice, with the
# SASL login LOGIN ('' for none)
hold_as() {
	local q=$1 login=$2
	shift 2
	run --separate-stderr mailseal-filter -q "$q" --client-address 198.51.100.7 \
	    --sasl-username "$login" -f alice@example.test -- "$@" <"$MSG"
}

# notices_to ADDR - the reinjected messages sent to ADDR from <>
notices_to() {
	local a
	for a in "$T"/out/*.args; do
		[ -e "$a" ] || continue
		[ "$(cat "$a")" = "$(printf '%s\n' -f '' -- "$1")" ] && echo "${a%.args}.eml"
	done
	return 0
}

# count_to ADDR - how many notices went to ADDR
count_to() {
	notices_to "$1" | grep -c . || true
}

# copies_for ADDR - how many reinjections named ADDR as a recipient
copies_for() {
	local a n=0
	for a in "$T"/out/*.args; do
		[ -e "$a" ] || continue
		grep -qxF -- "$1" "$a" && n=$((n + 1))
	done
	echo "$n"
}

# held_id - the id of the newest quarantine entry of queue id $1
held_id() {
	grep -l "^queue-id: $1\$" "$STORE"/quarantine/*.meta | head -1 |
	    xargs -r basename | sed 's/\.meta$//'
}

# text_of FILE - the notice's text, its quoted-printable decoded
text_of() {
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
sys.stdout.write(m.get_payload(decode=True).decode("utf-8"))' "$1"
}

# expect_notice FILE SUBJECT - a notice as it must be: from the mailer
# daemon, one text/plain part, with a Message-ID, a Date, Auto-Submitted,
# the loop marker, the subject SUBJECT, and nothing of the held body
expect_notice() {
	local head id_re='Message-I[Dd]: <[^@>]+@[^>]+>'
	head=$(header_block "$1")
	[[ $head == *"From: Mail Delivery System <MAILER-DAEMON>"* ]] || fail_with "From: $head"
	[[ $head == *$'\nSubject: '"$2"* ]] || fail_with "Subject: $head"
	[[ $head == *$'\nAuto-Submitted: auto-generated'* ]] || fail_with "Auto-Submitted: $head"
	[[ $head =~ $id_re ]] || fail_with "Message-ID: $head"
	[[ $head == *$'\nDate: '* ]] || fail_with "Date: $head"
	[[ $head == *$'\nContent-Type: text/plain; charset=utf-8'* ]] || fail_with "type: $head"
	[[ $head == "X-Mailseal-Processed: v2; "* ]] || fail_with "no loop marker: $head"
	! grep -q -e "$MARK" -e "$CARD" -e "Card " "$1" || fail_with "the held body is in the notice"
}

@test "hold: the authenticated sender and the DLP officer are told, from <>, with the entry's fields and never the body" {
	officer
	hold_as 7Qa01 alice@example.test bob@example.test
	expect_status 0
	[[ ${stderr_lines[0]} == "2.0.0 held in quarantine as "* ]] || fail_with "status: $stderr"
	local id sender dpo
	id=$(held_id 7Qa01)
	[ -n "$id" ] || fail_with "not held"
	[ "$(copies_for bob@example.test)" = 0 ] || fail_with "the held message went out"
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "sender notices: $(count_to alice@example.test)"
	[ "$(count_to dpo@example.test)" = 1 ] || fail_with "officer notices: $(count_to dpo@example.test)"
	sender=$(notices_to alice@example.test)
	expect_notice "$sender" "Your message is held for review"
	header_block "$sender" | grep -qx 'To: alice@example.test' || fail_with "sender To"
	text_of "$sender" >"$T/sender.txt"
	grep -qx "Subject: *quarterly figures" "$T/sender.txt" || fail_with "subject: $(cat "$T/sender.txt")"
	grep -qx "Recipients: *bob@example.test" "$T/sender.txt" || fail_with "recipients"
	grep -qx "Rules: *cards" "$T/sender.txt" || fail_with "rules"
	grep -qx "Reference: *$id" "$T/sender.txt" || fail_with "reference"
	dpo=$(notices_to dpo@example.test)
	expect_notice "$dpo" "Quarantine: message held ($id)"
	text_of "$dpo" >"$T/dpo.txt"
	grep -qx "Id: *$id" "$T/dpo.txt" || fail_with "id: $(cat "$T/dpo.txt")"
	grep -qx "Sender: *alice@example.test (authenticated: sasl)" "$T/dpo.txt" || fail_with "sender"
	grep -qx "Recipients: *bob@example.test" "$T/dpo.txt" || fail_with "recipients"
	grep -qx "Subject: *quarterly figures" "$T/dpo.txt" || fail_with "subject"
	grep -qx "Verdict: *quarantine" "$T/dpo.txt" || fail_with "verdict"
	grep -qx "Rules: *cards" "$T/dpo.txt" || fail_with "rules"
	grep -qx "Size: *$(wc -c <"$MSG")" "$T/dpo.txt" || fail_with "size"
	grep -qx "Queue id: *7Qa01" "$T/dpo.txt" || fail_with "queue id"
	grep -qE "^Time: *[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" "$T/dpo.txt" || fail_with "time"
	grep -q "dlp-scan quarantine release $id" "$T/dpo.txt" || fail_with "how to release"
}

@test "hold: an unauthenticated sender is never told; the officer always is" {
	officer
	hold_as 7Qa02 '' bob@example.test
	expect_status 0
	[ "$(count_to alice@example.test)" = 0 ] || fail_with "a forged sender got a notice"
	[ "$(count_to dpo@example.test)" = 1 ] || fail_with "no officer notice"
	text_of "$(notices_to dpo@example.test)" | grep -qx "Sender: *alice@example.test (not authenticated)" ||
	    fail_with "the officer is not told the sender is not authenticated"
	# released and deleted: nothing to a sender nothing vouched for
	local id
	id=$(held_id 7Qa02)
	run dlp-scan quarantine release "$id"
	expect_status 0
	hold_as 7Qa03 '' bob@example.test
	run dlp-scan quarantine delete "$(held_id 7Qa03)"
	expect_status 0
	[ "$(count_to alice@example.test)" = 0 ] || fail_with "a forged sender got a notice"
}

@test "hold: the runs of one queue file that join an entry send no second notice" {
	officer
	local r
	for r in bob@example.test carol@example.test erin@example.test; do
		hold_as 7Qa04 alice@example.test "$r"
		expect_status 0
	done
	[ "$(ls "$STORE"/quarantine/*.meta | wc -l)" = 1 ] || fail_with "entries"
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "sender notices: $(count_to alice@example.test)"
	[ "$(count_to dpo@example.test)" = 1 ] || fail_with "officer notices: $(count_to dpo@example.test)"
}

@test "quarantine-notify: an empty list tells the sender nothing; no dlp-officer, no officer notice" {
	echo 'quarantine-notify =' >>"$STORE/settings/global.conf"
	hold_as 7Qa05 alice@example.test bob@example.test
	expect_status 0
	run dlp-scan quarantine release "$(held_id 7Qa05)"
	expect_status 0
	[ -z "$(ls "$T"/out/*.args | xargs grep -lx -- '')" ] || fail_with "a notice went out"
	[ "$(copies_for bob@example.test)" = 1 ] || fail_with "the release"
	# only the deletion
	echo 'quarantine-notify = delete' >"$STORE/settings/global.conf.new"
	sed '/^quarantine-notify/d' "$STORE/settings/global.conf" >>"$STORE/settings/global.conf.new"
	mv "$STORE/settings/global.conf.new" "$STORE/settings/global.conf"
	hold_as 7Qa06 alice@example.test bob@example.test
	[ "$(count_to alice@example.test)" = 0 ] || fail_with "a hold notice against the setting"
	run dlp-scan quarantine delete "$(held_id 7Qa06)"
	expect_status 0
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "no deletion notice"
	# a word the setting does not know is a configuration error
	echo 'quarantine-notify = hold never' >"$STORE/settings/global.conf"
	run --separate-stderr dlp-scan quarantine list
	expect_status 75
	[[ $stderr == *"quarantine-notify"* ]] || fail_with "$stderr"
}

@test "release and delete: the authenticated sender is told after the fact; a released entry deleted tells nothing" {
	hold_as 7Qa07 alice@example.test bob@example.test
	local id=
	id=$(held_id 7Qa07)
	rm -f "$T"/out/*
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 0
	[ "$(copies_for bob@example.test)" = 1 ] || fail_with "the release"
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "release notices: $(count_to alice@example.test)"
	expect_notice "$(notices_to alice@example.test)" "Your held message was released"
	text_of "$(notices_to alice@example.test)" | grep -q "sent on" || fail_with "text"
	run dlp-scan quarantine delete "$id"
	expect_status 0
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "a released entry's deletion was noticed"

	hold_as 7Qa08 alice@example.test bob@example.test
	id=$(held_id 7Qa08)
	rm -f "$T"/out/*
	run dlp-scan quarantine delete "$id"
	expect_status 0
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "deletion notices: $(count_to alice@example.test)"
	expect_notice "$(notices_to alice@example.test)" "Your held message was deleted"
	text_of "$(notices_to alice@example.test)" | grep -qx "Reference: *$id" || fail_with "reference"
}

@test "a notice that cannot be sent loses no hold: 0, the entry held, a warning" {
	officer
	printf '#!/bin/sh\ncat >/dev/null\nexit 75\n' >"$T/broken.sh"
	chmod 755 "$T/broken.sh"
	MAILSEAL_SENDMAIL=$T/broken.sh hold_as 7Qa09 alice@example.test bob@example.test
	expect_status 0
	[[ ${stderr_lines[0]} == "2.0.0 held in quarantine as "* ]] || fail_with "status: $stderr"
	run dlp-scan quarantine list
	[[ $output == *" held "*"alice@example.test bob@example.test"* ]] || fail_with "not held: $output"
	# a dlp-officer that is not an address: the hold stands, logged
	echo 'dlp-officer = not an address' >"$STORE/settings/global.conf.new"
	grep -v '^dlp-officer' "$STORE/settings/global.conf" >>"$STORE/settings/global.conf.new"
	mv "$STORE/settings/global.conf.new" "$STORE/settings/global.conf"
	run --separate-stderr dlp-scan -f alice@example.test bob@example.test <"$MSG"
	expect_status 0
	[[ $stderr == *"dlp-officer is not one address"* ]] || fail_with "not logged: $stderr"
	[ "$(ls "$STORE"/quarantine/*.meta | wc -l)" = 2 ] || fail_with "the second hold is lost"
}

@test "dlp-scan as a filter: its hold tells the officer too" {
	officer
	run --separate-stderr dlp-scan -f alice@example.test bob@example.test <"$MSG"
	expect_status 0
	[ "$(count_to dpo@example.test)" = 1 ] || fail_with "officer notices: $(count_to dpo@example.test)"
	[ "$(count_to alice@example.test)" = 0 ] || fail_with "dlp-scan vouches for no sender"
}

# age ID - make an entry's hold time four days old
age() {
	sed -i "s/^time: .*/time: $(date -u -d '4 days ago' +%Y-%m-%dT%H:%M:%SZ)/" \
	    "$STORE/quarantine/$1.meta"
}

@test "sweep: removes only the entries past quarantine-retention, each with an audit line; a held one's sender is told" {
	echo 'quarantine-retention = 259200' >>"$STORE/settings/global.conf"
	local old released young stuck
	hold_as 7Qb01 alice@example.test bob@example.test
	old=$(held_id 7Qb01)
	sed -i 's/quarterly/second/' "$MSG"
	hold_as 7Qb02 alice@example.test bob@example.test
	released=$(held_id 7Qb02)
	run dlp-scan quarantine release "$released"
	expect_status 0
	sed -i 's/second/third/' "$MSG"
	hold_as 7Qb03 alice@example.test bob@example.test
	young=$(held_id 7Qb03)
	sed -i 's/third/fourth/' "$MSG"
	hold_as 7Qb04 alice@example.test bob@example.test
	stuck=$(held_id 7Qb04)
	sed -i 's/^state: held/state: releasing/' "$STORE/quarantine/$stuck.meta"
	age "$old"
	age "$released"
	age "$stuck"
	rm -f "$T"/out/*
	run --separate-stderr dlp-scan quarantine sweep
	expect_status 0
	[ ! -e "$STORE/quarantine/$old.meta" ] && [ ! -e "$STORE/quarantine/$old.eml" ] ||
	    fail_with "the expired held entry stays"
	[ ! -e "$STORE/quarantine/$released.eml" ] || fail_with "the expired released entry stays"
	[ -e "$STORE/quarantine/$young.eml" ] || fail_with "a young entry went"
	[ -e "$STORE/quarantine/$stuck.eml" ] || fail_with "an entry being released went"
	[[ $stderr == *"$stuck is still \"releasing\""* ]] || fail_with "the stuck entry is not named: $stderr"
	grep -q "expire quarantine $old\$" "$STORE/audit/log" || fail_with "no audit line for $old"
	grep -q "expire quarantine $released\$" "$STORE/audit/log" || fail_with "no audit line for $released"
	[ "$(grep -c 'expire quarantine' "$STORE/audit/log")" = 2 ] || fail_with "audit lines"
	mailseal-audit verify >/dev/null || fail_with "the audit chain is broken"
	# the held one's sender is told, the released one's not
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "expiry notices: $(count_to alice@example.test)"
	expect_notice "$(notices_to alice@example.test)" "Your held message expired"
	text_of "$(notices_to alice@example.test)" | grep -qx "Reference: *$old" || fail_with "which entry"
	# nothing more to do
	run dlp-scan quarantine sweep
	expect_status 0
	[ "$(ls "$STORE"/quarantine/*.meta | wc -l)" = 2 ] || fail_with "the second sweep removed something"
	run dlp-scan quarantine sweep extra
	expect_status 64
}

@test "sweep: side by side with holds, under the store lock: every new hold stays, every expired entry goes" {
	echo 'quarantine-retention = 259200' >>"$STORE/settings/global.conf"
	echo 'quarantine-notify =' >>"$STORE/settings/global.conf"
	local round
	for round in 1 2 3 4 5 6; do
		sed -i "s/^Subject: .*/Subject: old $round/" "$MSG"
		hold_as "7Qc0$round" alice@example.test bob@example.test
		expect_status 0
		age "$(held_id "7Qc0$round")"
	done
	for round in 1 2 3 4 5 6; do
		sed "s/^Subject: .*/Subject: new $round/" "$MSG" >"$T/new$round.eml"
		mailseal-filter -q "7Qd0$round" -f alice@example.test -- bob@example.test \
		    <"$T/new$round.eml" 2>/dev/null &
		dlp-scan quarantine sweep 2>/dev/null &
	done
	wait
	run dlp-scan quarantine sweep
	expect_status 0
	run dlp-scan quarantine list
	[ "${#lines[@]}" = 6 ] || fail_with "entries: $output"
	[[ $output != *" old "* ]] || fail_with "an expired entry stays"
	for round in 1 2 3 4 5 6; do
		[[ $output == *" new $round"* ]] || fail_with "hold $round lost"
	done
	[ "$(grep -c 'expire quarantine' "$STORE/audit/log")" = 6 ] || fail_with "audit lines"
	mailseal-audit verify >/dev/null || fail_with "the audit chain is broken"
}

@test "a release that died half-way: list shows it releasing; release refuses without --force; --force sends only what was not sent" {
	officer
	# bob gets S/MIME, erin plain: two copies; the second kills the release
	hold_as 7Qe01 alice@example.test bob@example.test erin@example.test
	local id
	id=$(held_id 7Qe01)
	cat >"$T/killer.sh" <<EOF
#!/bin/sh
if [ -e "$T/first-done" ]; then
	cat >/dev/null
	kill -KILL "\$PPID"
	sleep 5
fi
touch "$T/first-done"
exec "$SINK" "\$@"
EOF
	chmod 755 "$T/killer.sh"
	rm -f "$T"/out/*
	MAILSEAL_SENDMAIL=$T/killer.sh run dlp-scan quarantine release "$id"
	[ "$status" = 137 ] || fail_with "status $status: the release was not killed"
	[ "$(($(copies_for bob@example.test) + $(copies_for erin@example.test)))" = 1 ] ||
	    fail_with "copies before the kill"
	run dlp-scan quarantine list
	[[ $output == "$id "*" releasing "* ]] || fail_with "state: $output"
	# not again silently
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 1
	[[ $stderr == *"$id: a release began"*"did not finish"*"--force"* ]] || fail_with "$stderr"
	[ "$(($(copies_for bob@example.test) + $(copies_for erin@example.test)))" = 1 ] ||
	    fail_with "sent again without --force"
	# the sweep leaves it to the administrator
	age "$id"
	run dlp-scan quarantine sweep
	[ -e "$STORE/quarantine/$id.eml" ] || fail_with "the sweep removed it"
	# forced: the recipient the dead run reached gets no second copy
	run --separate-stderr dlp-scan quarantine release --force "$id"
	expect_status 0
	[ "$(copies_for bob@example.test)" = 1 ] || fail_with "bob: $(copies_for bob@example.test) copies"
	[ "$(copies_for erin@example.test)" = 1 ] || fail_with "erin: $(copies_for erin@example.test) copies"
	run dlp-scan quarantine list
	[[ $output == "$id "*" released "* ]] || fail_with "state: $output"
	grep -q "release interrupted, held again quarantine $id\$" "$STORE/audit/log" ||
	    fail_with "the forced release is not in the audit log"
	[ "$(count_to alice@example.test)" = 1 ] || fail_with "release notices: $(count_to alice@example.test)"
}

@test "release --force: a held entry is released as usual; never while the releasing process runs; --force elsewhere is a usage error" {
	hold_as 7Qf01 alice@example.test bob@example.test
	local id
	id=$(held_id 7Qf01)
	run --separate-stderr dlp-scan quarantine release --force "$id"
	expect_status 0
	[ "$(copies_for bob@example.test)" = 1 ] || fail_with "a held entry is released once"
	sed -i 's/^state: released/state: releasing/' "$STORE/quarantine/$id.meta"
	printf 'releaser: %s 2026-01-01T00:00:00Z\n' "$$" >>"$STORE/quarantine/$id.meta"
	run --separate-stderr dlp-scan quarantine release --force "$id"
	expect_status 75
	[[ $stderr == *"still runs"* ]] || fail_with "$stderr"
	[ "$(copies_for bob@example.test)" = 1 ] || fail_with "sent while a release runs"
	run --separate-stderr dlp-scan quarantine delete --force "$id"
	expect_status 64
	run --separate-stderr dlp-scan --force -f alice@example.test bob@example.test <"$MSG"
	expect_status 64
}
