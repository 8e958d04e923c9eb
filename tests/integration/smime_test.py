#!/usr/bin/python3
"""Integration test of S/MIME signing in tenantmail-milter behind a real
private Postfix.

Usage: smime_test.py PATH/TO/tenantmail-milter

Makes a test CA and signer certificates with the openssl command, starts on
127.0.0.1 in a temp dir smtp-sink, a private Postfix (STARTTLS + SASL
submission) and tenantmail-milter with tenant acme (acme.example, RSA DKIM
key, smime for noreply@acme.example), and checks what arrives with
independent tools:

  1  towards a sink that announces 8BITMIME and one that does not (each
     case below is run for both): plain text, 8-bit UTF-8, HTML + PDF attachment (its file name raw
     UTF-8, which must come out RFC 2231-encoded) and a 200 KB message:
     multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256,
     7-bit only; `openssl cms -verify -CAfile testca.pem` and `gpgsm --verify`
     (a temporary GNUPGHOME trusting the test CA) accept the signature, the
     signed content decodes to what was sent, and dkimpy verifies the DKIM
     signature over the same delivered bytes;
  2  a message the client already signed arrives byte for byte apart from the
     added header fields (DKIM-Signature);
  3  --check-config refuses a certificate for another address and an expired
     one, naming the file and the reason.

Prints one "ok"/"FAIL" line per check; exits non-zero on any failure.
Everything started is stopped by PID. TM_KEEP_TMP=1 keeps the temp dir.
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import dkim_verify  # noqa: E402
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
import tenantmail_procs as tp  # noqa: E402

PASSWORD = "pw-" + os.urandom(6).hex()
SENDER = "noreply@acme.example"
REPORT = Report("smime integration")
check = REPORT.check


def info(text: str) -> None:
    print(f"     {text}", flush=True)


def openssl(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=60)


class Pki:
    """A test CA and signer files (certificate, key, CA chain; mode 0600)."""

    def __init__(self, directory: str):
        self.dir = directory
        self.ca_key = os.path.join(directory, "testca.key")
        self.ca = os.path.join(directory, "testca.pem")
        res = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", self.ca_key, "-out", self.ca, "-days", "30", "-subj", "/CN=tenantmail test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        assert res.returncode == 0, res.stderr.decode()

    def signer(self, name: str, address: str, *, days: int = 30, expired: bool = False) -> str:
        key = os.path.join(self.dir, f"{name}.key")
        csr = os.path.join(self.dir, f"{name}.csr")
        cert = os.path.join(self.dir, f"{name}.crt")
        ext = os.path.join(self.dir, f"{name}.ext")
        with open(ext, "w") as f:
            f.write(f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                    f"extendedKeyUsage=emailProtection\nsubjectAltName=email:{address}\n"
                    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        res = openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                      "-subj", f"/CN={address}/emailAddress={address}")
        assert res.returncode == 0, res.stderr.decode()
        res = openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                      "-out", cert, "-extfile", ext, "-days", str(days))
        assert res.returncode == 0, res.stderr.decode()
        if expired:
            backdate(cert, self.ca, self.ca_key)
        path = os.path.join(self.dir, f"{name}.pem")
        with open(path, "wb") as out:
            for part in (cert, key, self.ca):
                out.write(open(part, "rb").read())
        os.chmod(path, 0o600)
        return path


def backdate(cert_path: str, ca_path: str, ca_key_path: str) -> None:
    """Issue the certificate again, valid only in January 2020 (the openssl
    command of Debian 12 cannot set past dates without a CA database)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    ca = x509.load_pem_x509_certificate(open(ca_path, "rb").read())
    ca_key = serialization.load_pem_private_key(open(ca_key_path, "rb").read(), None)
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(ca.subject)
               .public_key(cert.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
               .not_valid_after(datetime.datetime(2020, 2, 1, tzinfo=datetime.timezone.utc)))
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    with open(cert_path, "wb") as f:
        f.write(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


class Gpgsm:
    """A throwaway GNUPGHOME that trusts the test CA and checks no CRLs."""

    def __init__(self, directory: str, ca: str):
        self.home = os.path.join(directory, "gnupg")
        os.makedirs(self.home, mode=0o700)
        with open(os.path.join(self.home, "gpgsm.conf"), "w") as f:
            f.write("disable-crl-checks\ndisable-ocsp\n")
        res = self.run("--import", ca)
        assert res.returncode == 0, res.stderr.decode()
        fpr = self.run("--with-colons", "--list-keys").stdout.decode()
        fingerprint = next(line.split(":")[9] for line in fpr.splitlines() if line.startswith("fpr:"))
        with open(os.path.join(self.home, "trustlist.txt"), "w") as f:
            f.write(f"{fingerprint} S relax\n")
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env(), capture_output=True)

    def env(self) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": self.home}

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["gpgsm", "--batch", "--disable-crl-checks", *args], env=self.env(),
                              capture_output=True, timeout=60)

    def verify(self, tmp: str, data: bytes) -> tuple[bool, str]:
        """gpgsm --verify SIGFILE DATAFILE on the parts of the delivered message."""
        content, signature = split_signed(data)
        sig_path, data_path = os.path.join(tmp, "gpgsm.p7s"), os.path.join(tmp, "gpgsm.data")
        with open(sig_path, "wb") as f:
            f.write(signature)
        with open(data_path, "wb") as f:
            f.write(content)
        res = self.run("--verify", sig_path, data_path)
        err = res.stderr.decode("utf-8", "replace")
        return res.returncode == 0 and "Good signature" in err, err[-600:]

    def stop(self) -> None:
        subprocess.run(["gpgconf", "--kill", "all"], env=self.env(), capture_output=True)


def split_signed(data: bytes) -> tuple[bytes, bytes]:
    """The signed entity (exact bytes between the first two delimiters) and the DER signature."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    boundary = msg.get_boundary().encode()
    body = data.split(b"\r\n\r\n", 1)[1]
    delimiter = b"--" + boundary + b"\r\n"
    start = body.index(delimiter) + len(delimiter)
    end = body.index(b"\r\n--" + boundary, start)
    signature = msg.get_payload()[1].get_payload(decode=True)
    return body[start:end], signature


def headers(to: str, subject: str, extra: list[str]) -> list[str]:
    return [f"From: Acme <{SENDER}>", f"To: {to}", f"Subject: {subject}",
            f"Date: {email.utils.formatdate(localtime=False)}",
            f"Message-ID: <{os.urandom(8).hex()}@client.tenantmail.test>", "MIME-Version: 1.0", *extra]


def raw(head: list[str], body: bytes) -> bytes:
    return "".join(h + "\r\n" for h in head).encode() + b"\r\n" + body


def crlf(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def wait_for(sink: ms.SmtpSink, rcpt: str, timeout: float = 30.0) -> bytes:
    def found():
        for path in sink.message_paths():
            msg = ms.parse_sink_file(path)
            if rcpt in msg.recipients:
                return msg.data
        return None
    return ms.wait_until(found, timeout, f"a message for {rcpt} at the sink", interval=0.05)


def sink_headers_stripped(data: bytes) -> bytes:
    """The delivered message without the fields the milter and Postfix add on the way."""
    head, body = data.split(b"\r\n\r\n", 1)
    kept, skipping = [], False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skipping = name in (b"dkim-signature", b"received", b"x-mail-args", b"x-rcpt-args", b"return-path")
        if not skipping:
            kept.append(line)
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


class Stack:
    def __init__(self, tmp: str, milter_bin: str):
        self.tmp = tmp
        f = self.files = tp.TenantFiles(tmp)
        self.pki = Pki(tmp)
        rsa = f.rsa_key("acme")
        f.publish("acme.example", "tm2026", rsa)
        f.bounce_secret()
        self.dns = tp.dns_for(f)
        self.signer = self.pki.signer("noreply", SENDER)
        self.tenant = {"domains": "acme.example", "selector": "tm2026", "key": rsa,
                       "bounce_domain": "mta.acme.example", "sasl_users": "acme-tx:transactional",
                       "smime": f"{SENDER}:{self.signer}"}
        f.write_tenants({"acme": self.tenant})
        self.milter_port = ms.free_port()
        self.config = f.write_config(self.milter_port)
        self.milter_bin = milter_bin
        self.milter = tp.Milter(milter_bin, self.config, tmp, port=self.milter_port)

    def dkim(self, data: bytes) -> tuple[bool, str]:
        results = dkim_verify.verify_message(data, self.dns)
        return len(results) == 1 and all(r.ok for r in results), "; ".join(r.line("msg") for r in results)


def openssl_verify(tmp: str, ca: str, data: bytes) -> tuple[bool, bytes, str]:
    path = os.path.join(tmp, "delivered.eml")
    with open(path, "wb") as f:
        f.write(data)
    res = openssl("cms", "-verify", "-in", path, "-CAfile", ca)
    return res.returncode == 0, res.stdout, res.stderr.decode("utf-8", "replace")[-600:]


def check_signed_message(stack: Stack, gpg: Gpgsm, name: str, data: bytes, expect) -> None:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    ctype = msg.get("Content-Type", "")
    check(f"{name}: multipart/signed; protocol=application/pkcs7-signature; micalg=sha-256",
          msg.get_content_type() == "multipart/signed"
          and msg.get_param("protocol") == "application/pkcs7-signature" and msg.get_param("micalg") == "sha-256",
          ctype)
    check(f"{name}: every delivered octet is 7-bit", all(b < 128 for b in data))
    ok, content, why = openssl_verify(stack.tmp, stack.pki.ca, data)
    check(f"{name}: openssl cms -verify -CAfile testca.pem", ok, why)
    inner = email.message_from_bytes(content, policy=email.policy.default) if ok else None
    check(f"{name}: the signed content decodes to what was sent", inner is not None and expect(inner))
    ok, why = gpg.verify(stack.tmp, data)
    check(f"{name}: gpgsm --verify", ok, why)
    ok, why = stack.dkim(data)
    check(f"{name}: DKIM over the same delivered bytes verifies (dkimpy)", ok, why)


def text_of(inner) -> str:
    return next(p.get_content() for p in inner.walk() if p.get_content_type() == "text/plain")


def run_with_postfix(stack: Stack, gpg: Gpgsm, pf, sink: ms.SmtpSink, tag: str) -> None:
    """Every case once; tag ("8BITMIME" or "7-bit sink") goes into the check
    names and the recipients' local parts."""
    local = "n8-" if tag != "8BITMIME" else ""

    def send(rcpt: str, message: bytes) -> bytes:
        rcpt = local + rcpt
        ms.send_smtp(pf.submission_port, SENDER, [rcpt], message, starttls=True, login=("acme-tx", PASSWORD))
        return wait_for(sink, rcpt)

    def check_signed(stack_, gpg_, name, data, content_ok) -> None:
        check_signed_message(stack_, gpg_, f"{tag}: {name}", data, content_ok)

    data = send("plain@example.org", raw(headers("plain@example.org", "plain", ["Content-Type: text/plain"]),
                                         crlf("Your receipt.\nThank you.\n")))
    check_signed(stack, gpg, "plain text", data, lambda m: text_of(m).replace("\r\n", "\n") == "Your receipt.\nThank you.\n")

    utf8 = "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u20ac 10\n" * 3
    data = send("utf8@example.org", raw(headers("utf8@example.org", "utf8", [
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]), crlf(utf8)))
    check_signed(stack, gpg, "8-bit UTF-8", data, lambda m: text_of(m).replace("\r\n", "\n") == utf8)

    pdf = b"%PDF-1.4\n" + os.urandom(20000)
    html = "<html><body><p>Caf\u00e9 offer</p></body></html>\n"
    body = crlf("--mix\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html) + \
        "--mix\r\nContent-Type: application/pdf; name=\"offre-\u00e9t\u00e9.pdf\"\r\nContent-Disposition: attachment; " \
        "filename=\"offre-\u00e9t\u00e9.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode() + b64(pdf) + b"--mix--\r\n"
    data = send("html@example.org", raw(headers("html@example.org", "html", [
        "Content-Type: multipart/mixed; boundary=\"mix\""]), body))

    def html_and_pdf(m) -> bool:
        parts = {p.get_content_type(): p for p in m.walk()}
        # the line break before a delimiter belongs to the delimiter
        return ("text/html" in parts and parts["text/html"].get_content().replace("\r\n", "\n") == html.rstrip("\n")
                and parts.get("application/pdf") is not None and parts["application/pdf"].get_content() == pdf
                and parts["application/pdf"].get_filename() == "offre-\u00e9t\u00e9.pdf")
    check_signed(stack, gpg, "HTML + PDF attachment (raw UTF-8 file name)", data, html_and_pdf)

    big = ("lorem ipsum dolor sit amet, \u00e9l\u00e8ve " * 2 + "\n") * 3000
    data = send("big@example.org", raw(headers("big@example.org", "big", [
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]), crlf(big)))
    info(f"200 KB message: {len(crlf(big))} octets sent, {len(data)} delivered")
    check_signed(stack, gpg, "200 KB", data, lambda m: text_of(m).replace("\r\n", "\n") == big)

    # 2. already signed by the client: passed on as it came.
    presigned = data.split(b"\r\n\r\n", 1)[1]
    head = headers("pre@example.org", "pre", [
        "Content-Type: " + email.message_from_bytes(data).get("Content-Type").replace("\r\n", "").replace("\n", "")])
    sent = raw(head, presigned)
    delivered = send("pre@example.org", sent)
    stripped = sink_headers_stripped(delivered)
    check(f"{tag}: already signed: arrives byte for byte apart from DKIM-Signature and trace fields",
          stripped.split(b"\r\n\r\n", 1)[1] == sent.split(b"\r\n\r\n", 1)[1]
          and all(h.encode() in stripped for h in head), stripped[:600])
    ok, why = stack.dkim(delivered)
    check(f"{tag}: already signed: DKIM verifies", ok, why)
    log = open(stack.milter.log_path, encoding="utf-8", errors="replace").read()
    check(f"{tag}: already signed: logged no-smime (already signed or encrypted)",
          log.count("no-smime (already signed or encrypted)") == (1 if tag == "8BITMIME" else 2), log[-800:])


def check_config_refusals(stack: Stack) -> None:
    for name, path, reason in [
            ("a certificate for another address", stack.pki.signer("other", "billing@acme.example"),
             "does not name noreply@acme.example"),
            ("an expired certificate", stack.pki.signer("expired", SENDER, expired=True), "expired on")]:
        tenants = os.path.join(stack.tmp, f"tenants-{os.path.basename(path)}.conf")
        stack.files.write_tenants({"acme": {**stack.tenant, "smime": f"{SENDER}:{path}"}}, path=tenants)
        conf = stack.files.write_config(stack.milter_port, name=f"{os.path.basename(path)}.conf", tenants_file=tenants)
        status, out = tp.run_check_config(stack.milter_bin, conf)
        check(f"--check-config refuses {name}, naming file and reason",
              status != 0 and path in out and reason in out, out[-400:])


def run(stack: Stack) -> None:
    status, out = tp.run_check_config(stack.milter_bin, stack.config)
    check("--check-config accepts the good certificate", status == 0, out[-400:])
    check_config_refusals(stack)
    gpg = Gpgsm(stack.tmp, stack.pki.ca)
    try:
        # The same cases towards a sink announcing 8BITMIME and one that does
        # not (smtp-sink -8): Postfix would convert 8-bit mail for the second,
        # breaking both signatures; what we send is 7-bit, so it need not.
        port = ms.free_port()
        stack.milter.start()
        pf = ms.PrivatePostfix(stack.tmp, port, milter=stack.milter_port,
                               extra_main_cf={"local_header_rewrite_clients": "", "smtp_connection_cache_on_demand": "no"})
        pf.add_sasl_user("acme-tx", PASSWORD)
        with pf:
            for tag, args in (("8BITMIME", ()), ("7-bit sink", ("-8",))):
                directory = os.path.join(stack.tmp, "sink-" + tag.replace(" ", "-"))
                os.makedirs(directory, exist_ok=True)
                with ms.SmtpSink(directory, port=port, extra_args=args) as sink:
                    run_with_postfix(stack, gpg, pf, sink, tag)
    finally:
        gpg.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: smime_test.py TENANTMAIL_MILTER", file=sys.stderr)
        return 2
    milter_bin = os.path.abspath(argv[0])

    def body():
        with ms.managed_workdir("tenantmail-smime-test-") as tmp:
            if os.environ.get("TM_KEEP_TMP"):
                print(f"     logs in {tmp}", flush=True)
            t0 = time.monotonic()
            run(Stack(tmp, milter_bin))
            info(f"done in {time.monotonic() - t0:.1f}s")
    return REPORT.run_main(body, failure="smime integration test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
