#!/usr/bin/env python3
"""realmail-judge.py - run mailseal's filters over a corpus of real
messages and judge each result with independent readers: Python's email
package for content, openssl for S/MIME signatures, gpg for OpenPGP
signatures, qpdf and poppler for PDFs.

    realmail-judge.py [-j JOBS] [-t SECONDS] CHECK MESSAGE...

CHECK is one of smime-enc, smime-sign, pgp-enc, pgp-sign, dlp-scan,
pdfwrap, mailseal-filter.  Each message runs in a scratch directory under
$WORK with every program under a timeout; the programs come from PATH and
use the store $MAILSEAL_STORE.  The environment names the rest:

    WORK             scratch directory
    SENDER           the signing sender (S/MIME and OpenPGP key in the store)
    RECIPIENT        the recipient (S/MIME certificate and key, OpenPGP key)
    SMIME_CA         the root certificate, for openssl cms -verify
    GPG_VERIFY_HOME  a GnuPG home that holds the sender's public key
    PDF_PASSWORD     the file with the static PDF password

Prints one line per failed check, "FAIL MESSAGE CHECK: why"; one per
message refused for a documented limit (5.3.4 for the size and header
limits of mailseal(7), pdfwrap's 100 attachments), "LIMIT MESSAGE CHECK:
why"; then "realmail CHECK: N messages, M failed".  Exits 1 when one
failed.  JOBS defaults to the number of processors.
"""

import argparse
import collections
import concurrent.futures
import email
import email.header
import email.policy
import email.utils
import hashlib
import os
import re
import subprocess
import sys

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


def parse(path):
    """the message at PATH as Python reads it; a leading UTF-8 byte order
    mark, which some mail programs write, is not part of the header"""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return email.message_from_bytes(data, policy=email.policy.compat32)


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
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip()
        if part.get_content_maintype() in ("text", "multipart") or \
                encoding.lower() not in ("base64", "binary"):
            # text, and whatever is sent as lines (7bit, 8bit, quoted-
            # printable): lines end in CRLF on the wire, in LF on disk; a
            # multipart without its boundary is read as text
            payload = normal_text(payload)
        out.append((ctype, file_name(part), payload))
    return out


def decoded(part):
    """the payload of a leaf PART, decoded from its transfer encoding"""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip()
    if encoding and encoding != part.get("Content-Transfer-Encoding"):
        # "base64 " with a space is base64 to every mail reader
        part.replace_header("Content-Transfer-Encoding", encoding)
    return part.get_payload(decode=True) or b""


def walk(msg):
    """MSG and its parts, depth first, as Message.walk() has them, except
    empty trailing blocks of a message/delivery-status (RFC 3464): Python
    reads a blank line at its end as one more, empty block"""
    yield msg
    if not msg.is_multipart():
        return
    children = list(msg.get_payload())
    if msg.get_content_type() == "message/delivery-status":
        while children and not children[-1].keys() and \
                not str(children[-1].get_payload()).strip():
            children.pop()
    for child in children:
        yield from walk(child)


def file_name(part):
    """the part's file name, unfolded and decoded (RFC 2047, RFC 2231)"""
    name = part.get_filename()
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
    same_substance(original, parse(dec), "%s | %s" % (what, decrypter))


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


def attachments(msg, with_payload=False):
    """the names of the parts of MSG that a reader shows as files; with
    WITH_PAYLOAD (name, decoded payload) pairs"""
    found = []
    for part in walk(msg):
        if part.is_multipart():
            continue
        name = file_name(part)
        if not name and part.get_content_disposition() != "attachment":
            continue
        if not with_payload:
            found.append(name)
            continue
        found.append((name, decoded(part)))
    return found


PDF_ATTACHMENTS_MAX = 100


def check_pdfwrap(src, d, env):
    out = os.path.join(d, "wrapped.eml")
    pdf = os.path.join(d, "m.pdf")
    want = len(attachments(parse(src)))
    argv = ["pdfwrap", "-f", env["SENDER"], "--password-file",
            env["PDF_PASSWORD"], env["RECIPIENT"]]
    if want > PDF_ATTACHMENTS_MAX:
        # pdfwrap(1): more than 100 attachments is a refusal (69)
        status, _, err = run(argv, src, out)
        if status == 69 and re.match(rb"5\.\d{1,3}\.\d{1,3} ", err):
            raise Limit("pdfwrap: %d attachments: %s"
                        % (want, first_line(err)))
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
    status, _, err = run(["pdftotext", "-upw", password, pdf,
                          os.path.join(d, "m.txt")])
    if status != 0:
        raise Failure("pdftotext: exit %d (%s)" % (status, first_line(err)))
    status, listing, err = run(["pdfdetach", "-upw", password, "-list",
                                pdf])
    if status != 0:
        raise Failure("pdfdetach -list: exit %d (%s)"
                      % (status, first_line(err)))
    # "N embedded files" then "n: name" lines
    count = len([line for line in listing.splitlines()[1:]
                 if re.match(rb"\d+: ", line)])
    if count < want:
        raise Failure("pdfdetach: %d embedded files, the original has %d "
                      "attachments" % (count, want))
    saved = os.path.join(d, "attachments")
    os.makedirs(saved, exist_ok=True)
    status, _, err = run(["pdfdetach", "-upw", password, "-saveall",
                          "-o", saved, pdf])
    if status != 0:
        raise Failure("pdfdetach -saveall: exit %d (%s)"
                      % (status, first_line(err)))
    embedded = collections.Counter()
    for name in os.listdir(saved):
        with open(os.path.join(saved, name), "rb") as f:
            embedded[hashlib.sha256(f.read()).hexdigest()] += 1
    # every attachment is embedded byte for byte; -saveall keeps one file
    # of those that share a name, so those are only counted
    found = attachments(parse(src), with_payload=True)
    names = collections.Counter(name for name, _ in found)
    for name, payload in found:
        if names[name] > 1:
            continue
        digest = hashlib.sha256(payload).hexdigest()
        if embedded[digest] == 0:
            raise Failure("pdfdetach: attachment %r (%d bytes) is not "
                          "embedded as it is" % (name, len(payload)))
        embedded[digest] -= 1


def check_mailseal_filter(src, d, env):
    sink = os.path.join(d, "sink")
    os.makedirs(sink, exist_ok=True)
    fenv = dict(os.environ, SINK_DIR=sink)
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
