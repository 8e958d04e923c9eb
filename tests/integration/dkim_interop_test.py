#!/usr/bin/python3
"""DKIM interop test: signatures made by `tenantmailctl sign` must verify
with an independent verifier, dkimpy (Debian python3-dkim).

    /usr/bin/python3 dkim_interop_test.py PATH/TO/tenantmailctl [--keep] [-v]

In a temp dir: makes an RSA-2048 and an Ed25519 key with the openssl CLI,
computes their DNS TXT records here (not with our code), writes the corpus
(dkim_corpus.py), and signs every message with both keys for each of the four
c= pairs. Each run must write only DKIM-Signature fields followed by the
input unchanged; each signature must verify with dkimpy and carry the
expected d=, s=, a=, c=, no l=, and an h= covering the header fields the
design says to sign. Negative controls show the test can fail: a flipped
body byte, an altered Subject, an added From (checked with h= taken
literally, so only a signature that over-signs From rejects it), and a
wrong public key must all FAIL; messages without exactly one From with one
address, and a key readable by others, must be refused with a reason on
stderr. The same runs again on bare-LF copies of a few messages, because
the signer treats a bare LF as a line end, as dkimpy does.

Prints FAIL lines (and PASS lines with -v), then
"dkim interop: N passed, M failed" and exits 1 if M > 0.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from checks import Report  # noqa: E402
import dkim_corpus  # noqa: E402
import dkim_verify  # noqa: E402

DOMAIN = dkim_corpus.SIGNING_DOMAIN
RSA_SELECTOR = "rsa2048"
ED_SELECTOR = "ed25519"
ALGORITHM_OF = {RSA_SELECTOR: "rsa-sha256", ED_SELECTOR: "ed25519-sha256"}
CANONS = ["relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"]
# Header fields DESIGN.md says to sign when present (From also over-signed).
MUST_SIGN = ["from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version",
             "content-type", "content-transfer-encoding", "list-unsubscribe",
             "list-unsubscribe-post", "in-reply-to", "references"]
# Messages also signed and verified as bare-LF copies.
LF_VARIANTS = ["01-plain.eml", "06-folded-headers.eml", "07-duplicate-headers.eml",
               "11-whitespace-only-lines.eml", "12-trailing-whitespace.eml", "26-body-only-crlfs.eml"]
SIGN_TIMEOUT = 60


class Tally(Report):
    """The report, quiet about passes unless -v (the corpus makes hundreds),
    with skipped cases listed."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("dkim interop", print_passes=verbose)
        self.skipped: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> bool:  # type: ignore[override]
        """This script's argument order: the condition first."""
        return super().check(what, ok, detail)

    def skip(self, what: str) -> None:
        self.skipped.append(what)
        print(f"SKIP {what}", flush=True)


def openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"openssl {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")


def make_key(path: str, algorithm: str) -> None:
    if algorithm == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "ED25519", "-out", path)
    os.chmod(path, 0o600)


def run_sign(ctl: str, data: bytes, keys: list[tuple[str, str]], canon: str | None = None):
    cmd = [ctl, "sign", "-d", DOMAIN]
    for selector, path in keys:
        cmd += ["-k", f"{selector}:{path}"]
    if canon:
        cmd += ["--canon", canon]
    try:
        return subprocess.run(cmd, input=data, capture_output=True, timeout=SIGN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -999, b"", b"timed out after %d s" % SIGN_TIMEOUT)


def output_problem(out: bytes, data: bytes, want_fields: int) -> str:
    """'' if out is want_fields DKIM-Signature fields (CRLF, lines <= 998
    octets) followed by data unchanged; otherwise what is wrong."""
    if not out.endswith(data):
        return "output does not end with the input message unchanged"
    prefix = out[:len(out) - len(data)]
    if not prefix.endswith(b"\r\n"):
        return f"signature block does not end with CRLF: {prefix[-40:]!r}"
    lines = prefix[:-2].split(b"\r\n")
    fields = 0
    for line in lines:
        if b"\n" in line or b"\r" in line:
            return f"bare CR or LF in the signature block: {line[:60]!r}"
        if len(line) > 998:
            return f"signature line of {len(line)} octets (> 998)"
        if line[:1] in (b" ", b"\t"):
            if fields == 0:
                return "signature block starts with a continuation line"
            continue
        if not line.lower().startswith(b"dkim-signature:"):
            return f"unexpected line in the signature block: {line[:60]!r}"
        fields += 1
    if fields != want_fields:
        return f"{fields} DKIM-Signature field(s), want {want_fields}"
    return ""


def header_names(data: bytes) -> list[str]:
    """Lower-case names of the message's header fields (tolerates WSP before ':')."""
    names = []
    for line in re.split(rb"\r?\n", data):
        if line == b"":
            break
        if line[:1] in (b" ", b"\t"):
            continue
        m = re.match(rb"([^:\s]+)[ \t]*:", line)
        if m:
            names.append(m.group(1).decode("ascii", "replace").lower())
    return names


def tag_problem(r: dkim_verify.SigResult, canon: str, present: list[str]) -> str:
    if r.domain != DOMAIN:
        return f"d={r.domain}, want {DOMAIN}"
    if r.selector not in ALGORITHM_OF:
        return f"unexpected s={r.selector}"
    if r.algorithm != ALGORITHM_OF[r.selector]:
        return f"s={r.selector} with a={r.algorithm}, want {ALGORITHM_OF[r.selector]}"
    if r.canonicalization != canon:
        return f"c={r.canonicalization}, want {canon}"
    if "l" in r.tags:
        return "l= present (the design says never l=)"
    signed = set(r.signed_headers)
    missing = [h for h in MUST_SIGN if h in present and h not in signed]
    if missing:
        return f"h= lacks {', '.join(missing)}"
    return ""


def verify_signed(t: Tally, label: str, signed: bytes, original: bytes, canon: str,
                  dns: dkim_verify.DnsTable) -> None:
    results = dkim_verify.verify_message(signed, dns)
    present = header_names(original)
    seen = set()
    for r in results:
        what = r.describe(label)
        ok = r.ok
        detail = ""
        if ok:
            detail = tag_problem(r, canon, present)
            ok = not detail
        t.check(ok, what, detail)
        seen.add(r.selector)
    if results and results[0].count:
        for selector in sorted(set(ALGORITHM_OF) - seen):
            t.check(False, f"{label} signature s={selector}", "missing")


def expect_all_fail(t: Tally, label: str, data: bytes, dns: dkim_verify.DnsTable, literal_h=False) -> None:
    results = dkim_verify.verify_message(data, dns, literal_h=literal_h)
    if not results or not results[0].count:
        t.check(False, f"control {label}", "no signature found to fail")
        return
    for r in results:
        t.check(not r.ok, f"control {label}: sig {r.index + 1}/{r.count} s={r.selector} must FAIL",
                "it verified" if r.ok else "")


def flip_body_byte(signed: bytes, near_end: bool = False) -> bytes:
    """Changes one letter of the body (a letter, so no canonicalisation hides it)."""
    sep = signed.find(b"\r\n\r\n") + 4
    body = signed[sep:]
    positions = [i for i, ch in enumerate(body[-2000:] if near_end else body[:2000]) if chr(ch).isalpha()]
    base = len(body) - min(len(body), 2000) if near_end else 0
    pos = sep + base + positions[len(positions) // 2]
    flipped = bytes([signed[pos] ^ 0x20])  # swaps letter case
    return signed[:pos] + flipped + signed[pos + 1:]


def alter_nth_header(signed: bytes, name: bytes, nth: int) -> bytes:
    """Appends '!' to the value of the nth (0 = topmost) `name` field."""
    head_end = signed.find(b"\r\n\r\n")
    head = signed[:head_end]
    starts = [m.start() for m in re.finditer(rb"(?im)^" + re.escape(name) + rb"[ \t]*:", head)]
    start = starts[nth]
    end = head.find(b"\r\n", start)
    while end != -1 and head[end + 2:end + 3] in (b" ", b"\t"):
        end = head.find(b"\r\n", end + 2)
    end = len(head) if end == -1 else end
    return signed[:end] + b"!" + signed[end:]


def add_from(signed: bytes, where: str) -> bytes:
    extra = b"From: Mallory <mallory@signer.example>\r\n"
    if where == "top":
        # right after the DKIM-Signature fields, above the original headers
        m = re.match(rb"(?:DKIM-Signature:.*?\r\n(?:[ \t].*?\r\n)*)+", signed, re.S | re.I)
        pos = m.end() if m else 0
        return signed[:pos] + extra + signed[pos:]
    head_end = signed.find(b"\r\n\r\n") + 2
    return signed[:head_end] + extra + signed[head_end:]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tenantmailctl", help="path of the tenantmailctl binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("-v", "--verbose", action="store_true", help="print PASS lines too")
    args = ap.parse_args(argv)
    ctl = os.path.abspath(args.tenantmailctl)
    if not os.access(ctl, os.X_OK):
        print(f"dkim interop: {ctl} is not an executable file", file=sys.stderr)
        print("dkim interop: 0 passed, 1 failed")
        return 1

    started = time.monotonic()
    t = Tally(args.verbose)
    tmp = tempfile.mkdtemp(prefix="tm-dkim-interop-")
    try:
        keys = os.path.join(tmp, "keys")
        os.mkdir(keys, 0o700)
        rsa, ed = os.path.join(keys, "rsa.pem"), os.path.join(keys, "ed25519.pem")
        rsa_other, ed_other = os.path.join(keys, "rsa-other.pem"), os.path.join(keys, "ed-other.pem")
        make_key(rsa, "rsa")
        make_key(ed, "ed25519")
        make_key(rsa_other, "rsa")
        make_key(ed_other, "ed25519")
        key_args = [(RSA_SELECTOR, rsa), (ED_SELECTOR, ed)]

        dns = dkim_verify.DnsTable()
        dns.add_key_file(DOMAIN, RSA_SELECTOR, rsa)
        dns.add_key_file(DOMAIN, ED_SELECTOR, ed)
        dns.write_json(os.path.join(tmp, "dns.json"))
        wrong_dns = dkim_verify.DnsTable()
        wrong_dns.add_key_file(DOMAIN, RSA_SELECTOR, rsa_other)
        wrong_dns.add_key_file(DOMAIN, ED_SELECTOR, ed_other)

        corpus_dir = os.path.join(tmp, "corpus")
        main_set, refusals = dkim_corpus.write_corpus(corpus_dir)
        by_name = {m.name: m for _, m in main_set}
        signed_dir = os.path.join(tmp, "signed")
        os.mkdir(signed_dir)

        def sign_and_check(label: str, data: bytes, canon: str, dkimpy_parses: bool) -> bytes | None:
            proc = run_sign(ctl, data, key_args, canon)
            problem = ""
            if proc.returncode != 0:
                problem = (f"exit {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[:300]}")
            else:
                problem = output_problem(proc.stdout, data, want_fields=2)
            if not t.check(not problem, f"sign {label}", problem):
                return None
            out_path = os.path.join(signed_dir, label.replace("/", "_").replace(" ", "_"))
            with open(out_path, "wb") as f:
                f.write(proc.stdout)
            if dkimpy_parses:
                verify_signed(t, label, proc.stdout, data, canon, dns)
            else:
                t.skip(f"verify {label}: dkimpy cannot parse this header syntax")
            return proc.stdout

        # 1. the corpus, four canonicalisations, RSA and Ed25519 in one run
        signed_by_canon: dict[str, dict[str, bytes]] = {}
        for canon in CANONS:
            signed_by_canon[canon] = {}
            for _, m in main_set:
                label = f"{m.name} c={canon}"
                out = sign_and_check(label, m.data, canon, m.dkimpy_parses)
                if out is not None:
                    signed_by_canon[canon][m.name] = out

        # 2. bare-LF copies
        for canon in CANONS:
            for name in LF_VARIANTS:
                data = by_name[name].data.replace(b"\r\n", b"\n")
                sign_and_check(f"{name} (bare LF) c={canon}", data, canon, True)

        # 3. negative controls on signed messages
        for canon in CANONS:
            signed = signed_by_canon[canon]
            tag = f"c={canon}"
            if "01-plain.eml" in signed:
                s = signed["01-plain.eml"]
                expect_all_fail(t, f"01-plain body byte flipped {tag}", flip_body_byte(s), dns)
                expect_all_fail(t, f"01-plain Subject altered {tag}", alter_nth_header(s, b"Subject", 0), dns)
                expect_all_fail(t, f"01-plain From added on top, h= literal {tag}",
                                add_from(s, "top"), dns, literal_h=True)
                expect_all_fail(t, f"01-plain From added at bottom {tag}", add_from(s, "bottom"), dns)
                expect_all_fail(t, f"01-plain verified with other keys {tag}", s, wrong_dns)
            else:
                t.check(False, f"controls on 01-plain {tag}", "no signed message")
            if "25-body-1mb.eml" in signed:
                expect_all_fail(t, f"25-body-1mb byte flipped near the end {tag}",
                                flip_body_byte(signed["25-body-1mb.eml"], near_end=True), dns)
            if "07-duplicate-headers.eml" in signed:
                s = signed["07-duplicate-headers.eml"]
                expect_all_fail(t, f"07-duplicate-headers first Subject altered {tag}",
                                alter_nth_header(s, b"Subject", 0), dns)
                expect_all_fail(t, f"07-duplicate-headers second Subject altered {tag}",
                                alter_nth_header(s, b"Subject", 1), dns)
            if "16-odd-case-names.eml" in signed:
                expect_all_fail(t, f"16-odd-case-names From added on top, h= literal {tag}",
                                add_from(signed["16-odd-case-names.eml"], "top"), dns, literal_h=True)

        # 4. messages that must be refused
        for _, m in refusals:
            proc = run_sign(ctl, m.data, key_args, "relaxed/relaxed")
            err = proc.stderr.decode(errors="replace").strip()
            problem = ""
            if proc.returncode <= 0 or proc.returncode >= 128:
                problem = f"exit {proc.returncode}, want a refusal (1)"
            elif not err:
                problem = "nothing on stderr"
            elif "from" not in err.lower():
                problem = f"stderr does not name the From problem: {err!r}"
            elif b"dkim-signature" in proc.stdout.lower():
                problem = "a signature was written anyway"
            t.check(not problem, f"refuse {m.name} ({m.about}) -> {err[:120]!r}", problem)

        # 5. a key readable by others must be refused, naming the file
        open_key = os.path.join(keys, "rsa-open.pem")
        shutil.copyfile(rsa, open_key)
        os.chmod(open_key, 0o644)
        proc = run_sign(ctl, by_name["01-plain.eml"].data, [(RSA_SELECTOR, open_key)], "relaxed/relaxed")
        err = proc.stderr.decode(errors="replace").strip()
        problem = ""
        if proc.returncode <= 0 or proc.returncode >= 128:
            problem = f"exit {proc.returncode}, want a refusal"
        elif "rsa-open.pem" not in err:
            problem = f"stderr does not name the key file: {err!r}"
        t.check(not problem, f"refuse key readable by others -> {err[:120]!r}", problem)
    finally:
        keep = args.keep or t.failed
        if keep:
            print(f"dkim interop: files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    skipped = f", {len(t.skipped)} skipped" if t.skipped else ""
    return t.finish(require_passes=True, note=f"{skipped} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
