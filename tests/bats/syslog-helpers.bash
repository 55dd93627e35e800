# Syslog for tests: what the programs send to /dev/log, caught in a file.
# Needs $T (a scratch directory) and unshare(1) with mount namespaces.

# with_syslog SCRIPT - sh -c SCRIPT in a mount namespace of its own whose
# /dev/log is a datagram socket read into $T/syslog (the test machine has
# no syslog daemon; the namespace keeps the real /dev untouched)
with_syslog() {
	cat >"$T/syslog.sh" <<'EOF'
set -e
mkdir -p "$T/dev"
mount --bind /dev "$T/dev"
mount -t tmpfs -o mode=755 none /dev
for n in null zero random urandom full tty; do
	touch "/dev/$n"
	mount --bind "$T/dev/$n" "/dev/$n"
done
# a second call in one test waits for its own reader too
rm -f "$T/syslog.ready"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[2], "w").close()
with open(sys.argv[1], "wb") as out:
    while True:
        line = s.recv(65536)
        if line == b"end":
            break
        out.write(line + b"\n")
        out.flush()
' "$T/syslog" "$T/syslog.ready" &
while [ ! -e "$T/syslog.ready" ]; do sleep 0.05; done
rc=0
sh -c "$1" || rc=$?
python3 -c '
import socket
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"end", "/dev/log")'
wait
exit $rc
EOF
	T=$T unshare -m --propagation private sh "$T/syslog.sh" "$1"
}
