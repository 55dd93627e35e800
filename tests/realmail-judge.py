#!/usr/bin/env python3
"""realmail-judge.py - run mailseal's filters over a corpus of real
messages and judge each result with independent readers: Python's email
package for content, openssl for S/MIME signatures, gpg for OpenPGP
signatures, qpdf and poppler for PDFs.

    realmail-judge.py [-j JOBS] [-t SECONDS] CHECK MESSAGE...

CHECK is one of smime-enc, smime-sign, pgp-enc, pgp-sign, dlp-scan,
pdfwrap, mailseal-filter.  "In substance" is every part's content type,
file name and decoded payload (text modulo line ends), and for a whole
message the fields a reader shows (From, To, Subject, Date); where mail
readers disagree on a broken message, both the original and the result
are read the way GMime, mailseal's reader, reads it (Entity,
explicit_empty_parts, OPAQUE), each place saying why that is right.
Each message runs in a scratch directory under
$WORK with every program under a timeout; the programs come from PATH and
use the store $MAILSEAL_STORE.  The environment names the rest:

    WORK             scratch directory
    SENDER           the signing sender (S/MIME and OpenPGP key in the store)
    RECIPIENT        the recipient (S/MIME certificate and key, OpenPGP key)
    SMIME_CA         the root certificate, for openssl cms -verify
    GPG_VERIFY_HOME  a GnuPG home that holds the sender's public key
    PDF_PASSWORD     the file with the static PDF password
    MAILSEAL_STORE   the store, whose quarantine mailseal-filter may use

Prints one line per failed check, "FAIL MESSAGE CHECK: why"; one per
message refused for a documented limit (5.3.4 for the size and header
limits of mailseal(7), pdfwrap's 100 attachments), "LIMIT MESSAGE CHECK:
why"; then "realmail CHECK: N messages, M failed".  Exits 1 when one
failed.  JOBS defaults to the number of processors.
"""

import argparse
import atexit
import base64
import concurrent.futures
import email
import email.header
import email.message
import email.policy
import email.utils
import json
import os
import re
import subprocess
import shutil
import sys
import tempfile
import time

TIMEOUT = 60


class Failure(Exception):
    """one check of one message failed; the text says which and why"""


class Limit(Exception):
    """a program refused the message for a documented limit (5.3.4): no
    failure, but said in the report"""


def refused_for_limit(status, err):
    return status == 69 and err.startswith(b"5.3.4 ")


def run(argv, stdin_path=None, stdout_path=None, env=None, timeout=None,
        input_bytes=None):
    """run ARGV with a timeout; returns (status, stdout, stderr) where a
    signal is a negative status and a timeout raises Failure"""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    if input_bytes is not None:
        stdin = subprocess.PIPE
    try:
        proc = subprocess.run(argv, stdin=stdin, stdout=stdout,
                              stderr=subprocess.PIPE, env=env,
                              input=input_bytes,
                              timeout=timeout or TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure("%s: no result in %d s (hang)"
                      % (argv[0], timeout or TIMEOUT))
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
    return proc.returncode, proc.stdout, proc.stderr


def first_line(data):
    text = data.decode("utf-8", "replace").strip().splitlines()
    return text[0][:160] if text else ""


def expect_zero(argv, stdin_path, stdout_path, env=None):
    status, _, err = run(argv, stdin_path, stdout_path, env)
    if status < 0:
        raise Failure("%s: killed by signal %d" % (argv[0], -status))
    if refused_for_limit(status, err):
        raise Limit("%s: %s" % (argv[0], first_line(err)))
    if status != 0:
        raise Failure("%s: exit %d (%s)" % (argv[0], status, first_line(err)))
    if os.path.getsize(stdout_path) == 0:
        raise Failure("%s: exit 0 with no output" % argv[0])


class Entity(email.message.Message):
    """Python's message, read with the last of several Content-Type fields.
    Readers disagree on a header section with two: Python takes the
    first; GMime, the reader of every mailseal program, and SpamAssassin
    take the last (SpamAssassin's own test of its badmime2.txt, in this
    corpus, expects the multipart/alternative of its second field).  The
    judge reads both the original and the result this way, so a part is
    compared with the same part, never with a text that another reading of
    the same header shows instead."""

    def _headers_named(self, name):
        """every value of the field NAME as received"""
        return [v for k, v in self._headers if k.lower() == name.lower()]

    def get(self, name, failobj=None):
        if name.lower() == "content-type":
            values = self.get_all(name)
            if not values:
                return failobj
            # unfolded (RFC 5322 2.2.3) before its parameters are read:
            # a boundary folded inside its quotes, "simple CRLF SP
            # boundary", is "simple boundary" to every reader but
            # Python's compat32, which keeps the line end in it
            return re.sub(r"\r?\n(?=[ \t])", "", str(values[-1]))
        return super().get(name, failobj)

    def get_content_maintype(self):
        """an OPAQUE type is no message: Python's parser, which asks
        this, then keeps its body as it is, as GMime does"""
        if self.get_content_type() in OPAQUE:
            return "application"
        return super().get_content_maintype()


# RFC 2046 5.2.2, 5.2.3: the body of a message/partial is a fragment of a
# message, that of a message/external-body the header of a body stored
# elsewhere; neither is a message to be read before it is put together or
# fetched.  GMime, and so mailseal, keeps them whole as leaves; Python
# would read each as a message.
OPAQUE = ("message/partial", "message/external-body")

# gpg --list-packets reads one part at a time in a home of its own
GPG_HOME = tempfile.mkdtemp(prefix="realmail-gpg.")
atexit.register(shutil.rmtree, GPG_HOME, True)


def read_message(data):
    return email.message_from_bytes(data, _class=Entity,
                                    policy=email.policy.compat32)


def explicit_empty_parts(data, msg):
    """DATA with an empty line written between a delimiter line and the
    delimiter of the same multipart right after it.  RFC 2046 has no
    spelling for such a pair; GMime and mime4j (whose double-bound.msg
    and multipartemptypart.msg are in this corpus, with an empty part
    expected there) read an empty part between them, the part RFC 2046
    writes as the delimiter, an empty line, the next delimiter.  Python
    reads no part there, and before a close delimiter it misses the close
    and reads the epilogue as the last part.  Writing the empty line in
    makes Python read what GMime reads; it adds a part, so a result that
    loses one fails the comparison."""
    boundaries = set()
    for part in msg.walk():
        if part.is_multipart() and part.get_boundary():
            boundaries.add(part.get_boundary().encode("utf-8",
                                                      "surrogateescape"))
    if not boundaries:
        return data
    lines = data.splitlines(keepends=True)
    out = []
    previous = None     # the boundary of the delimiter line before
    for line in lines:
        text = line.rstrip(b"\r\n").rstrip(b" \t")
        current = None
        closing = False
        if text.startswith(b"--"):
            name = text[2:]
            if name.endswith(b"--") and name[:-2] in boundaries:
                current, closing = name[:-2], True
            elif name in boundaries:
                current = name
        if current is not None and current == previous:
            out.append(b"\r\n" if line.endswith(b"\r\n") else b"\n")
        out.append(line)
        previous = current if current is not None and not closing else None
    return b"".join(out)


def parse(path):
    """the message at PATH as mail programs read it (Entity,
    explicit_empty_parts); a leading UTF-8 byte order mark, which some
    mail programs write, is not part of the header"""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    msg = read_message(data)
    fixed = explicit_empty_parts(data, msg)
    return msg if fixed == data else read_message(fixed)


def normal_text(data):
    """text modulo line ends and trailing white space at the end"""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip()


def leaves(msg):
    """the parts of MSG as (content type, filename, decoded payload) in
    order; containers add their type only"""
    out = []
    for part in walk(msg):
        ctype = part.get_content_type()
        if part.is_multipart():
            out.append((ctype, None, None))
            continue
        if ctype == "message/rfc822":
            out.append((ctype, None, None))
            continue
        payload = decoded(part)
        if textual(part):
            payload = normal_text(payload)
        out.append((ctype, file_name(part), payload))
    return out


def textual(part):
    """the payload of PART is lines: text, and whatever is sent as lines
    (7bit, 8bit, quoted-printable), whose lines end in CRLF on the wire,
    in LF on disk; a multipart without its boundary is read as text"""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip()
    return part.get_content_maintype() in ("text", "multipart") or \
        encoding.lower() not in ("base64", "binary")


def decoded(part):
    """the payload of a leaf PART, decoded from its transfer encoding"""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip()
    if encoding and encoding != part.get("Content-Transfer-Encoding"):
        # "base64 " with a space is base64 to every mail reader
        part.replace_header("Content-Transfer-Encoding", encoding)
    if encoding.lower() == "base64" and not part.is_multipart():
        # base64 with one character over whole groups of four: that
        # character holds 6 bits, no octet, and every decoder leaves it
        # out; Python alone then gives back the encoded text undecoded
        # (bpo-27397), which no reader shows as the part's content
        letters = re.sub(rb"[^A-Za-z0-9+/]", b"", part.get_payload().encode(
            "ascii", "surrogateescape").split(b"=")[0])
        if len(letters) % 4 == 1:
            letters = letters[:-1]
            return base64.b64decode(letters + b"=" * (-len(letters) % 4))
    return part.get_payload(decode=True) or b""


def walk(msg):
    """MSG and its parts, depth first, as Message.walk() has them, except
    empty trailing blocks of a message/delivery-status (RFC 3464): Python
    reads a blank line at its end as one more, empty block"""
    yield msg
    for child in children(msg):
        yield from walk(child)


def children(msg):
    """the parts right inside MSG (see walk)"""
    if not msg.is_multipart():
        return []
    found = list(msg.get_payload())
    if msg.get_content_type() == "message/delivery-status":
        while found and not found[-1].keys() and \
                not str(found[-1].get_payload()).strip():
            found.pop()
    return found


def eight_bit_text(value):
    """a header value as a reader shows it.  Python keeps raw 8-bit octets
    of a header as surrogates, and its compat32 policy shows each as
    U+FFFD, so two names that differ only in their 8-bit octets would look
    the same.  The octets are read as mail programs read unlabelled 8-bit
    text: UTF-8 where they are UTF-8, else ISO-8859-1, one character per
    octet.  Both readings are one to one, so this compares the octets
    themselves: a result that labels the name with its charset (RFC 2231,
    RFC 2047) is equal only when it names the same octets so read."""
    if not isinstance(value, str) or \
            not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    octets = value.encode("utf-8", "surrogateescape")
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError:
        return octets.decode("iso-8859-1")


def file_name(part):
    """the part's file name, unfolded and decoded (RFC 2047, RFC 2231);
    raw 8-bit octets read by eight_bit_text"""
    fields = email.message.Message()
    for field, value in part._headers:     # as received, octets and all
        if field.lower() in ("content-type", "content-disposition"):
            fields[field] = eight_bit_text(value)
    name = fields.get_filename()
    if name is None:
        return None
    name = re.sub(r"\r?\n[ \t]+", " ", str(name))
    try:
        return str(email.header.make_header(email.header.decode_header(name)))
    except (ValueError, LookupError, UnicodeError):
        return name


def same_substance(original, result, what):
    """the parts of RESULT are those of ORIGINAL: same types, names and
    decoded payloads, text modulo line ends"""
    a = leaves(original)
    b = leaves(result)
    if len(a) != len(b):
        raise Failure("%s: %d parts, the original has %d (%s against %s)"
                      % (what, len(b), len(a),
                         " ".join(t for t, _, _ in b)[:200],
                         " ".join(t for t, _, _ in a)[:200]))
    for n, (pa, pb) in enumerate(zip(a, b), 1):
        if pa[0] != pb[0]:
            raise Failure("%s: part %d is %s, the original's is %s"
                          % (what, n, pb[0], pa[0]))
        if pa[1] != pb[1]:
            raise Failure("%s: part %d (%s) is named %r, the original %r"
                          % (what, n, pa[0], pb[1], pa[1]))
        if pa[2] != pb[2]:
            raise Failure("%s: part %d (%s) has other content: %d bytes, "
                          "the original %d" % (what, n, pa[0],
                                               len(pb[2]), len(pa[2])))


SHOWN_FIELDS = ("From", "To", "Subject", "Date")


def shown(value):
    """a header value as a reader shows it: 8-bit octets read as
    eight_bit_text, unfolded, RFC 2047 words decoded, runs of white
    space one space (folding and a bare CR, which mailseal(7) makes a
    space, are no difference a reader sees)"""
    text = " ".join(eight_bit_text(str(value)).split())
    try:
        text = str(email.header.make_header(email.header.decode_header(
            text)))
    except (ValueError, LookupError, UnicodeError):
        pass
    return " ".join(text.split())


def same_fields(original, result, what):
    """RESULT, a whole message, shows the fields a reader sees (From, To,
    Subject, Date) as ORIGINAL does, each as often"""
    for name in SHOWN_FIELDS:
        a = [shown(v) for v in original._headers_named(name)]
        b = [shown(v) for v in result._headers_named(name)]
        if a != b:
            raise Failure("%s: %s is %r, the original's %r"
                          % (what, name, [v[:80] for v in b],
                             [v[:80] for v in a]))


def is_encrypted(msg):
    """the root is S/MIME enveloped data or PGP/MIME, or inline PGP"""
    ctype = msg.get_content_type()
    if ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return "signed-data" not in (msg.get_param("smime-type") or "")
    if ctype == "multipart/encrypted":
        return True
    return False


def expected_signature(original, sender):
    """the status a verifier must give a valid signature by SENDER: valid
    when the From field holds SENDER alone, else mismatch"""
    fields = original.get_all("From") or []
    addresses = email.utils.getaddresses([str(f) for f in fields])
    if len(addresses) == 1 and addresses[0][1].lower() == sender.lower():
        return "valid"
    return "mismatch"


def check_status(what, path, want):
    words = header_of(path, "X-Mailseal-Signature")
    if len(words) != 1 or words[0].split(";")[0].strip() != want:
        raise Failure("%s: X-Mailseal-Signature %r, not %s"
                      % (what, [w[:80] for w in words], want))


def signed_content(path):
    """the signed entity of a multipart/signed message, the message
    itself otherwise"""
    msg = parse(path)
    if msg.get_content_type() == "multipart/signed" and msg.is_multipart():
        return msg.get_payload()[0]
    return msg


def passed_on(original, path, what):
    """an encrypted ORIGINAL may be passed on (smime-enc(1), pgp-enc(1)):
    the output at PATH is then the original in substance"""
    if not is_encrypted(original):
        return False
    try:
        same_substance(original, parse(path), what + ", passed on")
    except Failure:
        return False    # encrypted once more: it must decrypt to it
    return True


def header_of(path, name):
    msg = parse(path)
    return msg.get_all(name) or []


# --- the checks, one message each -------------------------------------

def check_smime_enc(src, d, env):
    enc = os.path.join(d, "enc.eml")
    expect_zero(["smime-enc", env["RECIPIENT"]], src, enc)
    decrypts_to_original(parse(src), enc, d, "smime-dec",
                         "application/pkcs7-mime", "smime-enc")


def decrypts_to_original(original, enc, d, decrypter, wrapped, what):
    """ENC, which WHAT made of ORIGINAL, is of type WRAPPED and DECRYPTER
    makes it the original in substance again; or it is the original, an
    encrypted message passed on"""
    if passed_on(original, enc, what):
        return
    encrypted = parse(enc)
    if encrypted.get_content_type() != wrapped:
        raise Failure("%s: the output is %s"
                      % (what, encrypted.get_content_type()))
    dec = os.path.join(d, "dec.eml")
    expect_zero([decrypter], enc, dec)
    if header_of(dec, "X-Mailseal-Decrypt"):
        raise Failure("%s: X-Mailseal-Decrypt: %s"
                      % (decrypter, header_of(dec, "X-Mailseal-Decrypt")[0]))
    decrypted = parse(dec)
    same_fields(original, decrypted, "%s | %s" % (what, decrypter))
    same_substance(original, decrypted, "%s | %s" % (what, decrypter))


def check_smime_sign(src, d, env):
    signed = os.path.join(d, "signed.eml")
    verified = os.path.join(d, "verified.eml")
    content = os.path.join(d, "content.eml")
    expect_zero(["smime-sign", "-f", env["SENDER"]], src, signed)
    status, _, err = run(["openssl", "cms", "-verify", "-in", signed,
                          "-CAfile", env["SMIME_CA"], "-purpose", "any",
                          "-out", content])
    if status != 0:
        raise Failure("openssl cms -verify: exit %d (%s)"
                      % (status, first_line(err)))
    original = parse(src)
    same_substance(original, parse(content), "smime-sign, openssl content")
    expect_zero(["smime-verify", "--no-learn"], signed, verified)
    check_status("smime-verify", verified,
                 expected_signature(original, env["SENDER"]))
    same_fields(original, parse(verified), "smime-sign | smime-verify")
    same_substance(original, signed_content(verified),
                   "smime-sign | smime-verify")


def check_pgp_enc(src, d, env):
    enc = os.path.join(d, "enc.eml")
    expect_zero(["pgp-enc", env["RECIPIENT"]], src, enc)
    decrypts_to_original(parse(src), enc, d, "pgp-dec",
                         "multipart/encrypted", "pgp-enc")


def check_pgp_sign(src, d, env):
    signed = os.path.join(d, "signed.eml")
    verified = os.path.join(d, "verified.eml")
    expect_zero(["pgp-sign", "-f", env["SENDER"]], src, signed)
    msg = parse(signed)
    if msg.get_content_type() != "multipart/signed" or \
            len(msg.get_payload()) != 2:
        raise Failure("pgp-sign: the output is %s, not multipart/signed "
                      "with two parts" % msg.get_content_type())
    # RFC 3156: the signed entity exactly as it stands between the
    # boundaries, with CRLF line ends
    raw = open(signed, "rb").read()
    boundary = msg.get_boundary().encode()
    pieces = re.split(b"(?:^|\r?\n)--" + re.escape(boundary) +
                      b"(?:--)?[ \t]*(?:\r?\n|$)", raw)
    if len(pieces) < 4:
        raise Failure("pgp-sign: the boundaries cannot be found")
    entity = re.sub(b"\r?\n", b"\r\n", pieces[1])
    sig = msg.get_payload()[1].get_payload(decode=True) or b""
    with open(os.path.join(d, "entity"), "wb") as f:
        f.write(entity)
    with open(os.path.join(d, "sig.asc"), "wb") as f:
        f.write(sig)
    genv = dict(os.environ, GNUPGHOME=env["GPG_VERIFY_HOME"])
    status, out, err = run(["gpg", "--batch", "--status-fd", "1",
                            "--verify", os.path.join(d, "sig.asc"),
                            os.path.join(d, "entity")], env=genv)
    if status != 0 or b"[GNUPG:] GOODSIG" not in out:
        raise Failure("gpg --verify: exit %d (%s)"
                      % (status, first_line(err)))
    original = parse(src)
    same_substance(original, msg.get_payload()[0], "pgp-sign, signed part")
    expect_zero(["pgp-verify"], signed, verified)
    check_status("pgp-verify", verified,
                 expected_signature(original, env["SENDER"]))
    same_fields(original, parse(verified), "pgp-sign | pgp-verify")
    same_substance(original, signed_content(verified),
                   "pgp-sign | pgp-verify")


DLP_STATUSES = (0, 69)


def check_dlp_scan(src, d, env):
    out = os.path.join(d, "scanned.eml")
    status, _, err = run(["dlp-scan", "-f", env["SENDER"],
                          env["RECIPIENT"]], src, out)
    if status < 0:
        raise Failure("dlp-scan: killed by signal %d" % -status)
    if status not in DLP_STATUSES:
        raise Failure("dlp-scan: exit %d (%s)" % (status, first_line(err)))
    if refused_for_limit(status, err):
        raise Limit("dlp-scan: %s" % first_line(err))
    if status == 69:
        if not re.match(rb"5\.\d{1,3}\.\d{1,3} ", err):
            raise Failure("dlp-scan: exit 69 without a 5.x.y line first")
        return
    verdict = header_of(out, "X-Mailseal-DLP")
    if len(verdict) != 1 or not re.match(
            r"(pass|warn|must-encrypt|quarantine)\b", verdict[0].strip()):
        raise Failure("dlp-scan: no verdict (X-Mailseal-DLP %r)" % verdict)


def body_text(part):
    """PART is text that pdfwrap shows as the body: text/plain or
    text/html without a file name and not an attachment"""
    return part.get_content_type() in ("text/plain", "text/html") and \
        not file_name(part) and \
        part.get_content_disposition() != "attachment"


def pgp_mime_encrypted(part):
    """PART is PGP/MIME encrypted data as RFC 3156 shapes it (protocol
    application/pgp-encrypted, two parts, the first application/pgp-
    encrypted saying "Version: 1") whose second part gpg reads as OpenPGP
    encrypted data (a session key packet first).  Anything else dressed
    as such is a multipart like any other to mailseal, and its parts are
    embedded one by one"""
    if part.get_content_type() != "multipart/encrypted" or \
            (part.get_param("protocol") or "").lower() != \
            "application/pgp-encrypted":
        return False
    kids = children(part)
    if len(kids) != 2 or kids[0].get_content_type() != \
            "application/pgp-encrypted" or \
            b"Version: 1" not in decoded(kids[0]):
        return False
    proc = subprocess.run(["gpg", "--homedir", GPG_HOME, "--batch",
                           "--list-packets"], input=decoded(kids[1]),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          timeout=60)
    # the packet at offset 0, as gpg's "# off=" comment line names it:
    # a public- or symmetric-key encrypted session key (tag 1 or 3)
    return re.match(rb"# off=0 ctb=[0-9a-f]+ tag=(1|3) ",
                    proc.stdout) is not None


def pdf_parts(msg):
    """what the PDF must hold of MSG, one (kind, name, part) per part, in
    order: kind "file" for a part embedded as its decoded payload (see
    same_file), "entity" for one embedded whole as received (encrypted or
    OPAQUE: its fields and body).  A text/plain body is shown in the PDF's
    text, not embedded: no entry.  A text/html body is both shown and
    embedded: a file."""
    found = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if pgp_mime_encrypted(part) or ctype in OPAQUE:
            found.append(("entity", file_name(part), part))
        elif part.is_multipart():
            stack[0:0] = children(part)
        elif ctype == "message/rfc822" or (
                part.get_content_maintype() == "multipart" and
                not normal_text(decoded(part)).strip()):
            continue        # no body, or no parts: nothing to hold
        elif part.get_content_maintype() == "multipart":
            # a multipart in which no delimiter is found: its text is all
            # preamble to a MIME reader, kept whole as received
            found.append(("entity", None, part))
        elif body_text(part) and ctype == "text/plain":
            continue
        else:
            found.append(("file", file_name(part), part))
    return found


def same_file(part, data):
    """DATA, an embedded file, is the decoded payload of PART: byte for
    byte, or for a textual part modulo line ends and trailing white space
    at its end, as leaves() compares it"""
    if textual(part):
        return normal_text(data) == normal_text(decoded(part))
    return data == decoded(part)


PDF_ATTACHMENTS_MAX = 100


def embedded_files(pdf, password):
    """the files embedded in PDF as qpdf reads them: [(name, bytes)]"""
    status, out, err = run(["qpdf", "--password=" + password, "--json=2",
                            "--json-key=attachments", "--json-key=qpdf",
                            "--json-stream-data=inline",
                            "--decode-level=all", pdf])
    if status not in (0, 3):        # 3: warnings only
        raise Failure("qpdf --json: exit %d (%s)" % (status,
                                                     first_line(err)))
    tree = json.loads(out)
    objects = tree["qpdf"][1]
    files = []
    for entry in tree["attachments"].values():
        stream = objects["obj:" + entry["preferredcontents"]]["stream"]
        files.append((entry["preferredname"],
                      base64.b64decode(stream.get("data", ""))))
    return files


def same_entity(part, data):
    """DATA, an embedded file, is PART as received in substance: the same
    content type and parts"""
    try:
        embedded = read_message(data)
        return embedded.get_content_type() == part.get_content_type() \
            and leaves(embedded) == leaves(part)
    except Exception:       # not a MIME entity at all
        return False


def check_pdfwrap(src, d, env):
    out = os.path.join(d, "wrapped.eml")
    pdf = os.path.join(d, "m.pdf")
    original = parse(src)
    wanted = pdf_parts(original)
    files = len(wanted)
    argv = ["pdfwrap", "-f", env["SENDER"], "--password-file",
            env["PDF_PASSWORD"], env["RECIPIENT"]]
    if files > PDF_ATTACHMENTS_MAX:
        # pdfwrap(1): more than 100 attachments is a refusal (69)
        status, _, err = run(argv, src, out)
        if status == 69 and re.match(rb"5\.\d{1,3}\.\d{1,3} ", err):
            raise Limit("pdfwrap: %d attachments: %s"
                        % (files, first_line(err)))
    expect_zero(argv, src, out)
    pdfs = [p for p in parse(out).walk()
            if p.get_content_type() == "application/pdf"]
    if len(pdfs) != 1:
        raise Failure("pdfwrap: %d application/pdf parts" % len(pdfs))
    with open(pdf, "wb") as f:
        f.write(pdfs[0].get_payload(decode=True) or b"")
    password = open(env["PDF_PASSWORD"]).read().strip()
    status, out_text, err = run(["qpdf", "--check",
                                 "--password=" + password, pdf])
    if status != 0 or b"No syntax or stream encoding errors" not in out_text:
        raise Failure("qpdf --check: exit %d (%s)"
                      % (status, first_line(err or out_text)))
    status, listing, err = run(["pdfdetach", "-upw", password, "-list",
                                pdf])
    if status != 0:
        raise Failure("pdfdetach -list: exit %d (%s)"
                      % (status, first_line(err)))
    # poppler's count, "N embedded files" then "n: name" lines
    count = len([line for line in listing.splitlines()[1:]
                 if re.match(rb"\d+: ", line)])
    if count < files:
        raise Failure("pdfdetach: %d embedded files, the original has %d "
                      "parts to embed" % (count, files))
    # every part is embedded: a file as its payload, an entity whole;
    # each embedded file stands for one part only
    embedded = [data for _, data in embedded_files(pdf, password)]
    for kind, name, part in wanted:
        same = same_file if kind == "file" else same_entity
        match = [i for i, data in enumerate(embedded) if same(part, data)]
        if not match:
            raise Failure("pdfwrap: %s %s named %r (%d bytes) is not "
                          "embedded as it is" % (kind, part.get_content_type(),
                                                 name, len(decoded(part))
                                                 if kind == "file" else 0))
        del embedded[match[0]]


def held_whole(original, since):
    """mailseal-filter(1) ended with nothing sent and exit 0: a DLP
    quarantine verdict (mail DLP cannot scan whole is held, mailseal(7)).
    The message must then wait in the store's quarantine, kept whole: a
    held entry, written since SINCE, that is the original in substance.
    Entries are matched by content, since the filters of the run share
    one store; one that is not the original in substance matches none."""
    qdir = os.path.join(os.environ.get("MAILSEAL_STORE", ""), "quarantine")
    entries = [os.path.join(qdir, f) for f in os.listdir(qdir)
               if f.endswith(".eml")] if os.path.isdir(qdir) else []
    for path in entries:
        meta = path[:-4] + ".meta"
        if os.path.getmtime(path) < since or not os.path.exists(meta):
            continue
        with open(meta, encoding="utf-8", errors="replace") as f:
            if "state: held" not in f.read().splitlines():
                continue
        try:
            held = parse(path)
            same_fields(original, held, "quarantine")
            same_substance(original, held, "quarantine")
        except Failure:
            continue
        return
    raise Failure("mailseal-filter: nothing sent, and no held message in "
                  "the quarantine is the original in substance")


def check_mailseal_filter(src, d, env):
    sink = os.path.join(d, "sink")
    os.makedirs(sink, exist_ok=True)
    fenv = dict(os.environ, SINK_DIR=sink)
    started = time.time() - 1       # the quarantine's times are seconds
    status, _, err = run(["mailseal-filter", "-f", env["SENDER"], "--",
                          env["RECIPIENT"]], src, os.path.join(d, "out"),
                         env=fenv)
    if status < 0:
        raise Failure("mailseal-filter: killed by signal %d" % -status)
    if refused_for_limit(status, err):
        raise Limit("mailseal-filter: %s" % first_line(err))
    if status != 0:
        if status == 69 and re.match(rb"5\.\d{1,3}\.\d{1,3} ", err):
            return      # refused by policy (DLP), as documented
        raise Failure("mailseal-filter: exit %d (%s)"
                      % (status, first_line(err)))
    copies = sorted(f for f in os.listdir(sink) if f.endswith(".eml"))
    if not copies:
        held_whole(parse(src), started)
        return
    if len(copies) != 1:
        raise Failure("mailseal-filter: %d copies reinjected" % len(copies))
    decrypts_to_original(parse(src), os.path.join(sink, copies[0]), d,
                         "smime-dec", "application/pkcs7-mime",
                         "mailseal-filter")


CHECKS = {
    "smime-enc": check_smime_enc,
    "smime-sign": check_smime_sign,
    "pgp-enc": check_pgp_enc,
    "pgp-sign": check_pgp_sign,
    "dlp-scan": check_dlp_scan,
    "pdfwrap": check_pdfwrap,
    "mailseal-filter": check_mailseal_filter,
}


def judge(check, path, env):
    name = os.path.basename(path)
    d = os.path.join(env["WORK"], check, name)
    os.makedirs(d, exist_ok=True)
    try:
        CHECKS[check](path, d, env)
    except Failure as e:
        return "FAIL %s %s: %s" % (name, check, e)
    except Limit as e:
        return "LIMIT %s %s: %s" % (name, check, e)
    except Exception as e:      # the judge itself could not read a result
        return "FAIL %s %s: unreadable result (%s: %s)" % (
            name, check, type(e).__name__, e)
    return None


def main():
    global TIMEOUT
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-t", "--timeout", type=int, default=TIMEOUT)
    ap.add_argument("check", choices=sorted(CHECKS))
    ap.add_argument("messages", nargs="+")
    args = ap.parse_args()
    TIMEOUT = args.timeout
    env = {k: os.environ.get(k, "") for k in (
        "WORK", "SENDER", "RECIPIENT", "SMIME_CA", "GPG_VERIFY_HOME",
        "PDF_PASSWORD")}
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for line in pool.map(lambda p: judge(args.check, p, env),
                             args.messages):
            if line:
                failed += line.startswith("FAIL ")
                print(line, flush=True)
    print("realmail %s: %d messages, %d failed"
          % (args.check, len(args.messages), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
