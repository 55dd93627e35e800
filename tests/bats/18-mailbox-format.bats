#!/usr/bin/env bats
# The sealed-message format of the portal's mailboxes (common/portal/
# mailbox.h), read by a second, independent reader: a Python script over
# libsodium through ctypes opens a message and a metadata record the unit
# test sealed (build/unit/test-mailbox with MAILBOX_EXPORT), following
# only the format description, and must get the plaintext back byte for
# byte; the same reader refuses the message with one byte changed.

load helpers

setup() {
	ms_setup
	UNIT=${MAILSEAL_BIN%/*}/unit/test-mailbox
	[ -x "$UNIT" ] || {
		echo "$UNIT not built (make unit-bins)" >&2
		return 1
	}
	MAILBOX_EXPORT=$T "$UNIT" >"$T/unit.out" 2>/dev/null
}

# reader DIR FILE - the plaintext of DIR/FILE on stdout, exit 3 if it
# does not open
reader() {
	python3 - "$@" <<'PY'
import ctypes, ctypes.util, sys

na = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert na.sodium_init() >= 0
ull = ctypes.c_ulonglong
directory, name = sys.argv[1], sys.argv[2]
pk = open(directory + "/key.pub", "rb").read()
sk = open(directory + "/key.sec", "rb").read()
data = open(directory + "/" + name, "rb").read()
header = data[:28]
if header[:4] != b"MSMB" or header[4] != 1 or header[6:8] != b"\0\0":
    sys.exit(3)
chunk = int.from_bytes(header[8:12], "big")
key = ctypes.create_string_buffer(32)
if na.crypto_box_seal_open(key, data[28:108], ull(80), pk, sk) != 0:
    sys.exit(3)
state = ctypes.create_string_buffer(
    na.crypto_secretstream_xchacha20poly1305_statebytes())
if na.crypto_secretstream_xchacha20poly1305_init_pull(
        state, data[108:132], key) != 0:
    sys.exit(3)
pos, out = 132, b""
while True:
    piece = data[pos:pos + chunk + 17]
    pos += len(piece)
    plain = ctypes.create_string_buffer(chunk)
    plen, tag = ull(), ctypes.c_ubyte()
    if na.crypto_secretstream_xchacha20poly1305_pull(
            state, plain, ctypes.byref(plen), ctypes.byref(tag), piece,
            ull(len(piece)), header, ull(28)) != 0:
        sys.exit(3)
    out += plain.raw[:plen.value]
    if tag.value == 3:		# TAG_FINAL
        break
    if len(piece) < chunk + 17:
        sys.exit(3)
if pos != len(data):
    sys.exit(3)
sys.stdout.buffer.write(bytes([header[5]]) + out)
PY
}

@test "a sealed message opens with an independent reader" {
	grep -q "^ok .* - files exported" "$T/unit.out"
	run reader "$T" message.sealed
	[ "$status" -eq 0 ]
	reader "$T" message.sealed >"$T/out"
	# kind 1, then the message
	[ "$(head -c 1 "$T/out" | od -An -tu1 | tr -d ' ')" = 1 ]
	tail -c +2 "$T/out" >"$T/body"
	cmp "$T/body" "$T/message.plain"
	[ "$(wc -c <"$T/body")" -eq 131077 ]
}

@test "the independent reader refuses a changed byte and a cut" {
	grep -q "^ok .* - files exported" "$T/unit.out"
	cp "$T/message.sealed" "$T/flip.sealed"
	printf 'x' | dd of="$T/flip.sealed" bs=1 seek=70000 conv=notrunc \
	    2>/dev/null
	run reader "$T" flip.sealed
	[ "$status" -eq 3 ]
	head -c 65668 "$T/message.sealed" >"$T/cut.sealed"
	run reader "$T" cut.sealed
	[ "$status" -eq 3 ]
}

@test "a sealed metadata record opens to its JSON" {
	grep -q "^ok .* - files exported" "$T/unit.out"
	reader "$T" meta.sealed >"$T/meta"
	[ "$(head -c 1 "$T/meta" | od -An -tu1 | tr -d ' ')" = 2 ]
	tail -c +2 "$T/meta" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m == {"from": "bob@example.org", "subject": "Hello",
    "date": 1796000000, "size": 131077, "attachments": ["a.pdf"]}, m
'
}
