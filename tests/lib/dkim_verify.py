#!/usr/bin/python3
"""Verify every DKIM-Signature of a message with dkimpy, against keys given
locally instead of DNS.

dkimpy (Debian python3-dkim) is the independent verifier: this module only
feeds it messages and a DNS stand-in, and reports. Run it with Debian's
/usr/bin/python3 (that one has the dkim and nacl modules).

Module use:

    dns = DnsTable()
    dns.add_key_file("signer.example", "rsa", "/path/rsa.pem")  # private or public PEM
    dns.load_json("dns.json")     # {"sel._domainkey.signer.example.": "v=DKIM1; ..."}
    for r in verify_message(open(path, "rb").read(), dns):
        print(r.line(path))       # PASS/FAIL, d=, s=, a=, c=, reason

Command line (exit 0 only if every message has at least --min-signatures
signatures and all of them verify):

    dkim_verify.py [--dns FILE.json] [-d DOMAIN -k SELECTOR:KEYFILE ...]
                   [--txt NAME=RECORD] [--write-dns FILE.json]
                   [--literal-h] [--min-signatures N] PATH [PATH ...]

A PATH that is a directory stands for the regular files directly in it, in
name order.

--literal-h verifies h= exactly as written: dkimpy by default also hashes one
extra From instance (its fix for Debian bug 644046), which makes it reject an
added From whether or not the signer over-signed From. With --literal-h an
added From fails only if the signature itself protects against it.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

try:
    import dkim
    import dkim.util
except ImportError as exc:  # pragma: no cover - environment problem, say so plainly
    raise SystemExit(f"dkim_verify: cannot import dkimpy ({exc}); run with /usr/bin/python3 "
                     "and install python3-dkim and python3-nacl") from exc

# DER prefixes of SubjectPublicKeyInfo: the algorithm identifiers we know.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_RSA_OID = bytes.fromhex("06092a864886f70d010101")


class KeyFileError(Exception):
    pass


def dns_name(selector: str, domain: str) -> str:
    """The fully qualified TXT name dkimpy asks for: SELECTOR._domainkey.DOMAIN."""
    return f"{selector}._domainkey.{domain.rstrip('.')}."


def public_key_der(key_file: str) -> bytes:
    """DER SubjectPublicKeyInfo of a PEM key file (private or public), via openssl."""
    try:
        with open(key_file, "rb"):
            pass
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {key_file}: {exc.strerror}") from exc
    for extra in ([], ["-pubin"]):
        proc = subprocess.run(["openssl", "pkey", *extra, "-in", key_file, "-pubout", "-outform", "DER"],
                              capture_output=True, check=False)
        if proc.returncode == 0 and proc.stdout:
            return proc.stdout
    raise KeyFileError(f"openssl cannot read a key from {key_file}: "
                       f"{proc.stderr.decode(errors='replace').strip()}")


def txt_record_for_spki(der: bytes) -> bytes:
    """The DKIM TXT record (RFC 6376 3.6.1, RFC 8463) for a public key.
    RSA: p= is the base64 of the whole DER SubjectPublicKeyInfo.
    Ed25519: p= is the base64 of the raw 32-byte key, the last 32 octets of it."""
    if der.startswith(_ED25519_SPKI_PREFIX) and len(der) == len(_ED25519_SPKI_PREFIX) + 32:
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:])
    if _RSA_OID in der[:32]:
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    raise KeyFileError("public key is neither RSA nor Ed25519")


def txt_record_for_key_file(key_file: str) -> bytes:
    return txt_record_for_spki(public_key_der(key_file))


class DnsTable:
    """TXT records by name; its .lookup has the signature dkimpy wants of a dnsfunc."""

    def __init__(self, records: dict[str, bytes] | None = None) -> None:
        self.records: dict[str, bytes] = {}
        self.queries: list[str] = []
        for name, value in (records or {}).items():
            self.add(name, value)

    @staticmethod
    def _norm(name: str | bytes) -> str:
        if isinstance(name, bytes):
            name = name.decode("ascii", errors="replace")
        return name.lower().rstrip(".") + "."

    def add(self, name: str, value: str | bytes) -> None:
        self.records[self._norm(name)] = value.encode("ascii") if isinstance(value, str) else value

    def add_key_file(self, domain: str, selector: str, key_file: str) -> bytes:
        record = txt_record_for_key_file(key_file)
        self.add(dns_name(selector, domain), record)
        return record

    def load_json(self, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: want a JSON object of name -> TXT record")
        for name, value in data.items():
            self.add(name, value)

    def write_json(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({k: v.decode("ascii") for k, v in sorted(self.records.items())}, f, indent=2)
            f.write("\n")

    def lookup(self, name, timeout=5):  # noqa: ARG002 - dkimpy passes timeout
        key = self._norm(name)
        self.queries.append(key)
        return self.records.get(key)


@dataclass
class SigResult:
    index: int                  # 0 = topmost DKIM-Signature
    count: int                  # number of DKIM-Signature fields in the message
    ok: bool
    reason: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str | None:
        return self.tags.get("d")

    @property
    def selector(self) -> str | None:
        return self.tags.get("s")

    @property
    def algorithm(self) -> str | None:
        return self.tags.get("a")

    @property
    def canonicalization(self) -> str:
        """c= with RFC 6376 defaults applied: missing = simple/simple, 'x' = x/simple."""
        c = self.tags.get("c", "simple/simple")
        return c if "/" in c else c + "/simple"

    @property
    def signed_headers(self) -> list[str]:
        return [h.strip().lower() for h in self.tags.get("h", "").split(":") if h.strip()]

    def line(self, label: str) -> str:
        """'PASS|FAIL LABEL sig I/N d= s= a= c= (reason)'."""
        return ("PASS " if self.ok else "FAIL ") + self.describe(label)

    def describe(self, label: str) -> str:
        where = f"sig {self.index + 1}/{self.count}" if self.count else "no signature"
        parts = [label, where]
        if self.tags:
            parts += [f"d={self.domain}", f"s={self.selector}", f"a={self.algorithm}",
                      f"c={self.canonicalization}"]
        if self.reason:
            parts.append(f"({self.reason})")
        return " ".join(parts)


class _ListLogHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _LiteralHeaderList(list):
    """h= list that ignores dkimpy's extra From (see --literal-h)."""

    def append(self, item):  # noqa: D401
        if item == b"from":
            return
        super().append(item)


def _tags_of(raw_value: bytes) -> dict[str, str]:
    try:
        unfolded = re.sub(rb"\r?\n", b"", raw_value)
        parsed = dkim.util.parse_tag_value(unfolded)
    except Exception:  # noqa: BLE001 - a broken tag list is reported, not raised
        return {}
    return {k.decode("ascii", "replace"): re.sub(r"\s+", "", v.decode("ascii", "replace"))
            if k in (b"b", b"bh") else v.decode("ascii", "replace") for k, v in parsed.items()}


def verify_message(data: bytes, dns: DnsTable, *, literal_h: bool = False,
                   minkey: int = 1024) -> list[SigResult]:
    """Verifies every DKIM-Signature of the message with dkimpy. Returns one
    result per signature, or one failed result with count 0 if there is none
    or dkimpy cannot parse the message."""
    handler = _ListLogHandler()
    logger = logging.getLogger(f"dkim_verify.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        try:
            verifier = dkim.DKIM(data, logger=logger, minkey=minkey)
        except dkim.DKIMException as exc:
            return [SigResult(0, 0, False, f"dkimpy cannot parse the message: {exc}")]
        sig_values = [v for n, v in verifier.headers if n.lower() == b"dkim-signature"]
        if not sig_values:
            return [SigResult(0, 0, False, "no DKIM-Signature header field")]
        results = []
        for idx, raw in enumerate(sig_values):
            handler.messages.clear()
            tags = _tags_of(raw)
            try:
                if literal_h:
                    prep = verifier.verify_headerprep(idx)
                    if not prep:
                        raise dkim.ValidationError("dkimpy found no signature at this index")
                    sig, include_headers, sigheaders = prep
                    ok = verifier.verify_sig(sig, _LiteralHeaderList(include_headers),
                                             sigheaders[idx], dns.lookup)
                else:
                    ok = verifier.verify(idx=idx, dnsfunc=dns.lookup)
                reason = "" if ok else "; ".join(
                    [m for m in handler.messages if not m.startswith(("sig:", "bh:"))][-2:]
                    or ["signature does not match the signed header fields"])
            except dkim.DKIMException as exc:
                ok, reason = False, f"{type(exc).__name__}: {exc}"
            results.append(SigResult(idx, len(sig_values), bool(ok), reason, tags))
        return results
    finally:
        logger.removeHandler(handler)


def expand_paths(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, n) for n in os.listdir(p)
                          if os.path.isfile(os.path.join(p, n)))
        else:
            out.append(p)
    return out


def verify_paths(paths: list[str], dns: DnsTable, **kw) -> list[tuple[str, list[SigResult]]]:
    results = []
    for path in expand_paths(paths):
        with open(path, "rb") as f:
            results.append((path, verify_message(f.read(), dns, **kw)))
    return results


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PATH", help="message file or directory of message files")
    ap.add_argument("--dns", action="append", default=[], metavar="FILE.json",
                    help='TXT records: {"sel._domainkey.example.com.": "v=DKIM1; k=rsa; p=..."}')
    ap.add_argument("-d", "--domain", help="domain for the -k keys")
    ap.add_argument("-k", "--key", action="append", default=[], metavar="SELECTOR:KEYFILE",
                    help="publish the public half of KEYFILE at SELECTOR._domainkey.DOMAIN")
    ap.add_argument("--txt", action="append", default=[], metavar="NAME=RECORD", help="one TXT record")
    ap.add_argument("--write-dns", metavar="FILE.json", help="write the TXT table used as JSON")
    ap.add_argument("--literal-h", action="store_true", help="do not hash dkimpy's extra From")
    ap.add_argument("--min-signatures", type=int, default=1, metavar="N",
                    help="a message with fewer signatures fails (default 1)")
    ap.add_argument("--minkey", type=int, default=1024, help="smallest RSA key accepted (default 1024)")
    args = ap.parse_args(argv)

    dns = DnsTable()
    try:
        for path in args.dns:
            dns.load_json(path)
        for spec in args.txt:
            name, sep, record = spec.partition("=")
            if not sep:
                ap.error(f"--txt wants NAME=RECORD, got {spec!r}")
            dns.add(name, record)
        if args.key and not args.domain:
            ap.error("-k needs -d DOMAIN")
        for spec in args.key:
            selector, sep, key_file = spec.partition(":")
            if not sep or not selector or not key_file:
                ap.error(f"-k wants SELECTOR:KEYFILE, got {spec!r}")
            dns.add_key_file(args.domain, selector, key_file)
    except (OSError, ValueError, KeyFileError) as exc:
        print(f"dkim_verify: {exc}", file=sys.stderr)
        return 2
    if args.write_dns:
        dns.write_json(args.write_dns)

    all_ok = True
    n_msgs = 0
    for path, results in verify_paths(args.paths, dns, literal_h=args.literal_h, minkey=args.minkey):
        n_msgs += 1
        for r in results:
            print(r.line(path))
            all_ok &= r.ok
        n_sigs = sum(1 for r in results if r.count)
        if n_sigs < args.min_signatures:
            if n_sigs:
                print(f"FAIL {path} ({n_sigs} signature(s), want at least {args.min_signatures})")
            all_ok = False
    if n_msgs == 0:
        print("dkim_verify: no message files", file=sys.stderr)
        return 1
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
