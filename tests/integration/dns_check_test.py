#!/usr/bin/python3
"""`tenantmailctl dns check / dns records / rotate / retire` against a real
authoritative DNS server: NSD (Debian `nsd`) on 127.0.0.1, a high port, zones
written by this test, started in the foreground and stopped by PID.

Usage: dns_check_test.py PATH/TO/tenantmailctl

Keys are made with the openssl CLI and the expected p= values computed with
it too (`openssl pkey -pubout -outform DER`), not with tenantmail's code.
One tenant per scenario, each with its own zone <tenant>.test; the platform
(mail host, SPF include, bounce MX, hosted keys) lives in platform.test:

  good        direct records, RSA + Ed25519, valid DMARC        -> all ✓, exit 0
  chain       CNAME delegation; the key behind two CNAMEs across
              three zones (tenant -> platform -> keystore)      -> all ✓, exit 0
  roundtrip   zone written from `dns records --format zone`     -> all ✓, exit 0
  nodkim      no DKIM record                                    -> ✗ DKIM, exit 1
  wrongkey    DKIM record with another key                      -> ✗ DKIM, exit 1
  noinclude   SPF without the platform's include                -> ✗ SPF, exit 1
  spf11       SPF tree with 11 DNS lookups                      -> ✗ SPF, exit 1
  twospf      two SPF records                                   -> ✗ SPF, exit 1
  baddmarc    malformed DMARC                                   -> ✗ DMARC, exit 1
  nobounce    bounce domain missing                             -> ✗ SPF, ✗ MX, exit 1
  evil        a TXT record with ESC, BEL and CSI bytes (raw and
              UTF-8) where the DKIM key should be             -> ✗ DKIM, escaped
Tracking domains (click.<tenant>.test, dns.tracking_target = track.platform.test):
  good        CNAME to the target, in other case            -> ✓ Track
  roundtrip   the CNAME as `dns records --format zone` wrote it -> ✓ Track
  noinclude   CNAME to another host                          -> ✗ Track
  twospf      an A record instead of the CNAME               -> ✗ Track
  nodkim      nothing at all                                 -> ✗ Track
each checked in text form (mark per line, found/expected) and --json.
Then: colour only on a terminal; bad input (unknown tenant -> 4, unreadable
key -> 5, [dns] options missing -> 4, resolver unreachable -> 3 within the
timeout); the table fits 100 columns; a key rotation end to end (rotate,
`rotate --activate` refused while the record is missing, dns check before
and after the new key is published, automatic activation, retire); without
dns.tracking_target, dns records leaves the CNAME out with a note and dns
check shows it as not checked (exit 0); then
`rotate --activate` refused for a record with another key, accepted once
the right one is served, and `--force` activating an unpublished key with
a warning; last, a TXT record full of terminal escapes comes out escaped.

Prints one ok/FAIL line per check and "dns integration: N passed, M failed";
exits non-zero on any failure. TM_KEEP_TMP=1 keeps the temp dir.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import mailstack as ms  # noqa: E402
from checks import Report  # noqa: E402
from nsd_server import NsdServer, txt  # noqa: E402

OPENSSL = "/usr/bin/openssl"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DNS, EXIT_CONFIG, EXIT_KEY = 0, 1, 2, 3, 4, 5
PLATFORM = "platform.test"
SPF_INCLUDE = f"_spf.{PLATFORM}"
MAIL_HOST = f"mail.{PLATFORM}"
BOUNCE_MX = f"mx.{PLATFORM}"
KEY_ZONE = f"dkim.{PLATFORM}"
TRACKING_TARGET = f"track.{PLATFORM}"
TRACKED = ["good", "roundtrip", "noinclude", "twospf", "nodkim"]
PLATFORM_SPF = f"v=spf1 include:{SPF_INCLUDE} -all"


REPORT = Report("dns integration")
check = REPORT.check


# ---------------------------------------------------------------------------
# Keys, made and read with openssl only.

def make_key(path: str, algorithm: str = "rsa") -> str:
    """Writes a private key (0600); returns the DKIM TXT value of its public half."""
    args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if algorithm == "rsa" \
        else ["-algorithm", "ED25519"]
    subprocess.run([OPENSSL, "genpkey", *args, "-out", path], check=True, capture_output=True)
    os.chmod(path, 0o600)
    der = subprocess.run([OPENSSL, "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    if algorithm == "rsa":
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()  # RFC 8463: raw key


# ---------------------------------------------------------------------------
# The world: tenants, their zones, the platform.

TENANTS = ["good", "chain", "roundtrip", "nodkim", "wrongkey", "noinclude", "spf11", "twospf",
           "baddmarc", "nobounce", "rot", "evil"]

# Where evil.test's DKIM key should be: screen clear, cursor home, a green
# "✓ all checks OK", a bell, a raw 8-bit CSI (0x9b) and a UTF-8 encoded one
# (U+009B), in zone-file decimal escapes.
HOSTILE_TXT = '"\\027[2J\\027[H\\027[32m\\226\\156\\147 all checks OK\\007 \\155 31m \\194\\155 2J"'
HOSTILE_SHOWN = "\\x1b[2J\\x1b[H\\x1b[32m✓ all checks OK\\x07 \\x9b 31m \\u009b 2J"


class World:
    def __init__(self, tmp: str, ctl: str):
        self.tmp = tmp
        self.ctl = ctl
        self.keys_dir = os.path.join(tmp, "keys")
        os.makedirs(self.keys_dir, mode=0o700)
        self.tenants_path = os.path.join(tmp, "tenants.conf")
        self.config_path = os.path.join(tmp, "tenantmail.conf")
        self.key: dict[str, str] = {}       # tenant -> RSA TXT value
        sections = []
        for t in TENANTS:
            path = os.path.join(self.keys_dir, f"{t}.s1.pem")
            self.key[t] = make_key(path)
            extra = ""
            if t == "good":
                ed_path = os.path.join(self.keys_dir, "good.e1.pem")
                self.key["good-ed"] = make_key(ed_path, "ed25519")
                extra = f"ed25519_selector = e1\ned25519_key = {ed_path}\n"
            if t in TRACKED:
                extra += f"tracking_domain = click.{t}.test\n"
            sections.append(f"[{t}]\ndomains = {t}.test\nselector = s1\nkey = {path}\n{extra}"
                            f"bounce_domain = bounce.{t}.test\nsasl_users = {t}-user\n")
        self.other_key = make_key(os.path.join(tmp, "other.pem"))
        # Onboarding: a tenant without a key yet (keygen --selector gives it one).
        sections.append("[newco]\ndomains = newco.test\nbounce_domain = bounce.newco.test\n"
                        "from_rewrite = newco@platform.test   ; until it signs\n")
        # Sends as the platform (no key), but tracks: only its tracking CNAME is needed.
        sections.append("[tracknokey]\ndomains = tracknokey.test\nfrom_rewrite = tracknokey@platform.test\n"
                        "tracking_domain = click.tracknokey.test\n")
        # A tenant whose key file is missing, for the exit status of a bad key.
        sections.append(f"[lostkey]\ndomains = lostkey.test\nselector = s1\n"
                        f"key = {self.keys_dir}/lostkey.s1.pem\nbounce_domain = bounce.lostkey.test\n")
        with open(self.tenants_path, "w") as f:
            f.write("# integration test tenants\n\n" + "\n".join(sections))
        self.config_path = self.write_config(self.config_path, f"tracking_target = {TRACKING_TARGET}\n")
        self.untracked_config = self.write_config(os.path.join(tmp, "untracked.conf"))
        self.nsd: NsdServer | None = None

    def write_config(self, path: str, extra: str = "") -> str:
        with open(path, "w") as f:
            f.write(f"tenants_file = {self.tenants_path}\n\n[dns]\n"
                    f"platform_mail_host = {MAIL_HOST}\nspf_include = {SPF_INCLUDE}\n"
                    f"bounce_mx = {BOUNCE_MX}\ndkim_key_zone = {KEY_ZONE}\n"
                    f"dmarc_rua = mailto:dmarc@{PLATFORM}\ntimeout = 2s\n{extra}")
        return path

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([self.ctl, *args, "-c", self.config_path], capture_output=True, text=True,
                              timeout=timeout)

    def check_dns(self, tenant: str, *extra: str) -> subprocess.CompletedProcess:
        return self.run("dns", "check", tenant, "--resolver", self.nsd.address, *extra)

    # Direct records for one tenant, everything right unless told otherwise.
    def direct(self, t: str, *, dkim: str | None = "own", spf: list[str] | None = None,
               mx: bool = True, dmarc: str | None = None) -> list[str]:
        records = []
        if dkim == "own":
            records.append(f"s1._domainkey IN TXT {txt(self.key[t])}")
        elif dkim == "other":
            records.append(f"s1._domainkey IN TXT {txt(self.other_key)}")
        for value in ([PLATFORM_SPF] if spf is None else spf):
            records.append(f"bounce IN TXT {txt(value)}")
        if mx:
            records.append(f"bounce IN MX 10 {BOUNCE_MX}.")
        if dmarc is not None:
            records.append(f"_dmarc IN TXT {txt(dmarc)}")
        return records

    def zones(self, rot_keys: dict[str, str] | None = None) -> dict[str, list[str]]:
        """rot_keys: {selector: TXT value} published for rot.test beside s1."""
        zones: dict[str, list[str]] = {}
        platform = [
            f"mail IN MX 10 {BOUNCE_MX}.",
            f"mail IN TXT {txt(PLATFORM_SPF)}",
            f"_spf IN TXT {txt('v=spf1 ip4:192.0.2.0/24 -all')}",
            "mx IN A 192.0.2.25",
            "track IN A 192.0.2.80",
            # chain: platform name -> keystore.test
            "s1.chain.dkim IN CNAME k-chain.keystore.test.",
        ]
        zones[PLATFORM] = platform
        zones["keystore.test"] = [f"k-chain IN TXT {txt(self.key['chain'])}"]

        zones["good.test"] = self.direct("good", dmarc=f"v=DMARC1; p=none; rua=mailto:dmarc@{PLATFORM}") + \
            [f"e1._domainkey IN TXT {txt(self.key['good-ed'])}", "click IN CNAME Track.Platform.TEST."]
        zones["chain.test"] = ["s1._domainkey IN CNAME s1.chain.dkim.platform.test.",
                               f"bounce IN CNAME {MAIL_HOST}."]
        zones["roundtrip.test"] = self.roundtrip_records()
        zones["nodkim.test"] = self.direct("nodkim", dkim=None)
        zones["wrongkey.test"] = self.direct("wrongkey", dkim="other")
        zones["noinclude.test"] = self.direct("noinclude", spf=["v=spf1 ip4:198.51.100.7 -all"]) + \
            ["click IN CNAME track.elsewhere.test."]
        # 3 at the top + 5 in a.spf11.test + 3 in b.spf11.test = 11 lookups.
        zones["spf11.test"] = self.direct("spf11", spf=[
            f"v=spf1 include:{SPF_INCLUDE} include:a.spf11.test include:b.spf11.test -all"]) + [
            f"a IN TXT {txt('v=spf1 a mx ptr exists:x.spf11.test a:y.spf11.test -all')}",
            f"b IN TXT {txt('v=spf1 a mx a:z.spf11.test -all')}"]
        zones["twospf.test"] = self.direct("twospf", spf=[PLATFORM_SPF, "v=spf1 mx -all"]) + \
            ["click IN A 192.0.2.80"]
        zones["baddmarc.test"] = self.direct("baddmarc", dmarc="v=DMARC1; p=bogus")
        zones["nobounce.test"] = self.direct("nobounce", spf=[], mx=False)
        rot = self.direct("rot")
        for selector, value in (rot_keys or {}).items():
            rot.append(f"{selector}._domainkey IN TXT {txt(value)}")
        zones["rot.test"] = rot
        zones["tracknokey.test"] = [f"click IN CNAME {TRACKING_TARGET}."]
        zones["evil.test"] = self.direct("evil", dkim=None) + [f"s1._domainkey IN TXT {HOSTILE_TXT}"]
        return zones

    def roundtrip_records(self) -> list[str]:
        """The tenant side of `dns records --format zone --delegation direct`,
        pasted into the zone as an admin would."""
        out = self.run("dns", "records", "roundtrip", "--format", "zone", "--delegation", "direct")
        if out.returncode != 0:
            raise RuntimeError(f"dns records --format zone failed: {out.stderr}")
        self.roundtrip_zone_text = out.stdout
        return [line for line in out.stdout.splitlines() if line and not line.startswith(";")]


# ---------------------------------------------------------------------------
# Checking one scenario.

MARK = {"pass": "✓", "fail": "✗", "absent": "–"}


def parse_lines(stdout: str) -> dict[tuple[str, str], tuple[str, str]]:
    """{(check, name): (mark, rest)} from the text report."""
    lines = {}
    for line in stdout.splitlines():
        m = re.match(r"^(✓|✗|–) (\S+)\s+(\S+)\s+(.*)$", line)
        if m:
            lines[(m.group(2), m.group(3))] = (m.group(1), m.group(4))
    return lines


def scenario(world: World, tenant: str, exit_code: int, expect: dict[tuple[str, str], tuple[str, str]]) -> None:
    """expect: {(check, name): (status, substring of the found/expected text)}."""
    text = world.check_dns(tenant)
    got = parse_lines(text.stdout)
    problems = []
    for (check_name, name), (status, needle) in expect.items():
        line = got.get((check_name, name))
        if line is None:
            problems.append(f"no {check_name} line for {name}")
        elif line[0] != MARK[status] or needle not in line[1]:
            problems.append(f"{check_name} {name}: want {MARK[status]} with {needle!r}, got {line[0]} {line[1]}")
    check(f"{tenant}: exit {exit_code} and the expected ✓/✗ lines",
          text.returncode == exit_code and not problems,
          f"exit {text.returncode}; " + "; ".join(problems) + "\n" + text.stdout + text.stderr)

    js = world.check_dns(tenant, "--json")
    try:
        data = json.loads(js.stdout)
        statuses = {(c["check"], c["name"]): c for c in data["checks"]}
        json_problems = [f"{k}: {statuses.get(k, {}).get('status')} != {status}"
                         for k, (status, _) in expect.items() if statuses.get(k, {}).get("status") != status]
        ok = js.returncode == exit_code and data["ok"] == (exit_code == 0) and not json_problems \
            and all("found" in c and "expected" in c for c in data["checks"])
    except (ValueError, KeyError) as exc:
        ok, json_problems = False, [repr(exc)]
    check(f"{tenant}: --json agrees (statuses, ok, exit {exit_code})", ok,
          f"exit {js.returncode}; {json_problems}\n{js.stdout[:2000]}")


def run_scenarios(world: World) -> None:
    dkim = lambda t, s="s1": ("DKIM", f"{s}._domainkey.{t}.test")  # noqa: E731
    spf = lambda t: ("SPF", f"bounce.{t}.test")  # noqa: E731
    mx = lambda t: ("MX", f"bounce.{t}.test")  # noqa: E731
    dmarc = lambda t: ("DMARC", f"_dmarc.{t}.test")  # noqa: E731
    track = lambda t: ("Track", f"click.{t}.test")  # noqa: E731

    scenario(world, "good", EXIT_OK, {
        dkim("good"): ("pass", "key matches"),
        dkim("good", "e1"): ("pass", "(k=ed25519)"),
        spf("good"): ("pass", "1/10 lookups"),
        mx("good"): ("pass", f"MX 10 {BOUNCE_MX}"),
        dmarc("good"): ("pass", "p=none, rua=mailto:dmarc@platform.test"),
        track("good"): ("pass", f"CNAME {TRACKING_TARGET}"),
    })
    scenario(world, "chain", EXIT_OK, {
        dkim("chain"): ("pass", "via CNAME s1.chain.dkim.platform.test -> k-chain.keystore.test"),
        spf("chain"): ("pass", f"via CNAME {MAIL_HOST}"),
        mx("chain"): ("pass", f"via CNAME {MAIL_HOST}"),
        dmarc("chain"): ("absent", "not published (optional)"),
    })
    scenario(world, "roundtrip", EXIT_OK, {
        dkim("roundtrip"): ("pass", "key matches"),
        spf("roundtrip"): ("pass", "includes"),
        mx("roundtrip"): ("pass", BOUNCE_MX),
        dmarc("roundtrip"): ("pass", "p=none"),
        track("roundtrip"): ("pass", f"CNAME {TRACKING_TARGET}"),
    })
    scenario(world, "nodkim", EXIT_FAILED, {
        dkim("nodkim"): ("fail", "no such name (NXDOMAIN); expected TXT v=DKIM1; k=rsa;"),
        track("nodkim"): ("fail", f"not found (NXDOMAIN); expected CNAME {TRACKING_TARGET}"),
        spf("nodkim"): ("pass", ""),
        mx("nodkim"): ("pass", ""),
    })
    scenario(world, "wrongkey", EXIT_FAILED, {
        dkim("wrongkey"): ("fail", "a different key: p="),
        spf("wrongkey"): ("pass", ""),
    })
    scenario(world, "noinclude", EXIT_FAILED, {
        dkim("noinclude"): ("pass", ""),
        spf("noinclude"): ("fail", f"does not include {SPF_INCLUDE}"),
        track("noinclude"): ("fail", f"CNAME track.elsewhere.test: not the platform's {TRACKING_TARGET}"),
        mx("noinclude"): ("pass", ""),
    })
    scenario(world, "spf11", EXIT_FAILED, {
        spf("spf11"): ("fail", "11 DNS lookups, over RFC 7208's limit of 10"),
        dkim("spf11"): ("pass", ""),
    })
    scenario(world, "twospf", EXIT_FAILED, {
        spf("twospf"): ("fail", "2 SPF records"),
        track("twospf"): ("fail", "no CNAME; A 192.0.2.80 instead"),
        mx("twospf"): ("pass", ""),
    })
    scenario(world, "baddmarc", EXIT_FAILED, {
        dmarc("baddmarc"): ("fail", "p=bogus is not none, quarantine or reject"),
        dkim("baddmarc"): ("pass", ""),
        spf("baddmarc"): ("pass", ""),
    })
    scenario(world, "nobounce", EXIT_FAILED, {
        dkim("nobounce"): ("pass", ""),
        spf("nobounce"): ("fail", "no SPF record: no such name (NXDOMAIN)"),
        mx("nobounce"): ("fail", "bounces cannot reach the platform"),
    })


def run_tracking_unset(world: World) -> None:
    """Without dns.tracking_target: the CNAME cannot be named, so it is left
    out with a note, and dns check says it did not check it."""
    table = subprocess.run([world.ctl, "dns", "records", "good", "-c", world.untracked_config],
                           capture_output=True, text=True, timeout=30)
    check("no tracking_target: dns records leaves the tracking CNAME out and says to set dns.tracking_target",
          table.returncode == 0 and "click.good.test" in table.stdout and "CNAME track" not in table.stdout
          and "note: tracking_domain click.good.test needs a CNAME" in table.stdout
          and "dns.tracking_target" in table.stdout, table.stdout + table.stderr)
    zone = subprocess.run([world.ctl, "dns", "records", "good", "--format", "zone", "-c", world.untracked_config],
                          capture_output=True, text=True, timeout=30)
    check("no tracking_target: the zone stays pasteable (no placeholder), the note on stderr",
          zone.returncode == 0 and "click.good.test" not in zone.stdout and "dns.tracking_target" in zone.stderr,
          zone.stdout + zone.stderr)
    out = subprocess.run([world.ctl, "dns", "check", "good", "--resolver", world.nsd.address,
                          "-c", world.untracked_config], capture_output=True, text=True, timeout=30)
    line = parse_lines(out.stdout).get(("Track", "click.good.test"))
    check("no tracking_target: dns check shows the tracking domain as not checked, exit 0",
          out.returncode == EXIT_OK and line is not None and line[0] == MARK["absent"]
          and "dns.tracking_target is not set" in line[1], out.stdout + out.stderr)
    keyless = world.run("dns", "records", "tracknokey")
    checked = world.check_dns("tracknokey")
    check("a tenant without a key but with tracking_domain: its CNAME listed, and checked ✓",
          keyless.returncode == 0 and checked.returncode == EXIT_OK
          and re.search(r"^click\.tracknokey\.test\s+CNAME\s+track\.platform\.test", keyless.stdout, re.M)
          and parse_lines(checked.stdout).get(("Track", "click.tracknokey.test"), ("",))[0] == MARK["pass"],
          keyless.stdout + keyless.stderr + checked.stdout + checked.stderr)
    table = world.run("dns", "records", "good")
    check("with tracking_target: dns records lists click.good.test CNAME track.platform.test as required",
          table.returncode == 0 and "With A or B, created by the tenant's IT team:" in table.stdout
          and re.search(r"^click\.good\.test\s+CNAME\s+track\.platform\.test", table.stdout, re.M) is not None,
          table.stdout)


def run_output_checks(world: World) -> None:
    argv = [world.ctl, "dns", "check", "nodkim", "--resolver", world.nsd.address, "-c", world.config_path]
    status, tty_out = ms.run_on_tty(argv, timeout=30)
    check("on a terminal: green ✓ and red ✗ in colour",
          "\033[32m✓\033[0m" in tty_out and "\033[31m✗\033[0m" in tty_out and status == EXIT_FAILED, tty_out)
    piped = world.check_dns("nodkim")
    check("through a pipe: marks without colour codes", "\033[" not in piped.stdout and "✗" in piped.stdout,
          piped.stdout)

    table = world.run("dns", "records", "good")
    widest = max(len(line) for line in table.stdout.splitlines())
    check("dns records table: both options, platform side, fits 100 columns",
          table.returncode == 0 and widest <= 100 and "A. CNAME delegation" in table.stdout
          and "B. Direct records" in table.stdout and "Published by the platform:" in table.stdout
          and re.search(r"^s1\._domainkey\.good\.test\s+CNAME\s+s1\.good\.dkim\.platform\.test", table.stdout, re.M)
          and re.search(r"^e1\._domainkey\.good\.test\s+TXT\s+v=DKIM1; k=ed25519;", table.stdout, re.M),
          f"exit {table.returncode}, widest {widest}\n{table.stdout}")
    records = world.run("dns", "records", "good", "--format", "json")
    try:
        data = json.loads(records.stdout)
        by = {(r["delegation"], r["name"], r["type"]): r["value"] for r in data["records"]}
        ok = by.get(("direct", "s1._domainkey.good.test", "TXT")) == world.key["good"] \
            and by.get(("direct", "e1._domainkey.good.test", "TXT")) == world.key["good-ed"] \
            and by.get(("cname", "bounce.good.test", "CNAME")) == MAIL_HOST \
            and by.get(("direct", "bounce.good.test", "MX")) == f"10 {BOUNCE_MX}" \
            and by.get(("direct", "bounce.good.test", "TXT")) == PLATFORM_SPF \
            and by.get(("cname", "s1.good.dkim.platform.test", "TXT")) == world.key["good"]
    except (ValueError, KeyError) as exc:
        ok, by = False, exc
    check("dns records --format json: the keys openssl derives, platform names from [dns]", ok, by)
    check("dns records --format zone: loaded by nsd as written (roundtrip tenant green above)",
          "bounce.roundtrip.test.\tIN\tMX\t10 mx.platform.test." in world.roundtrip_zone_text,
          world.roundtrip_zone_text)


def run_bad_input(world: World) -> None:
    unknown = world.check_dns("nosuch")
    check("unknown tenant: exit 4, says so", unknown.returncode == EXIT_CONFIG
          and "no tenant 'nosuch'" in unknown.stderr, unknown.stderr)
    lost = world.check_dns("lostkey")
    check("unreadable key: exit 5, names the file", lost.returncode == EXIT_KEY
          and "lostkey.s1.pem" in lost.stderr, lost.stderr)
    lost_records = world.run("dns", "records", "lostkey")
    check("unreadable key: dns records exits 5 too", lost_records.returncode == EXIT_KEY, lost_records.stderr)

    bare = os.path.join(world.tmp, "bare.conf")
    with open(bare, "w") as f:
        f.write(f"tenants_file = {world.tenants_path}\n")
    no_dns = subprocess.run([world.ctl, "dns", "records", "good", "-c", bare], capture_output=True, text=True)
    check("[dns] options missing: exit 4, names them", no_dns.returncode == EXIT_CONFIG
          and "dns.platform_mail_host" in no_dns.stderr, no_dns.stderr)

    silent = ms.free_port()  # nothing listens there
    t0 = time.monotonic()
    down = world.run("dns", "check", "good", "--resolver", f"127.0.0.1:{silent}", "--timeout", "1s")
    elapsed = time.monotonic() - t0
    check("resolver unreachable: exit 3 within the timeout, clear message",
          down.returncode == EXIT_DNS and elapsed < 5 and "no answer from resolver" in down.stderr,
          f"exit {down.returncode} after {elapsed:.1f}s: {down.stderr}")
    down_json = world.run("dns", "check", "good", "--json", "--resolver", f"127.0.0.1:{silent}", "--timeout", "1s")
    try:
        err = json.loads(down_json.stdout)
        ok = down_json.returncode == EXIT_DNS and err["exit"] == EXIT_DNS and err["ok"] is False
    except ValueError:
        ok = False
    check("resolver unreachable with --json: an error object, exit 3", ok, down_json.stdout)
    bad = world.run("dns", "check", "good", "--resolver", "dns.example:53")
    check("--resolver that is not an address: usage error 2", bad.returncode == EXIT_USAGE, bad.stderr)


def run_keygen(world: World) -> None:
    before = world.run("dns", "records", "newco")
    check("a tenant without a key needs no records: says so, exit 0",
          before.returncode == 0 and "no DKIM key" in before.stdout, before.stdout + before.stderr)
    made = world.run("keygen", "newco", "--selector", "nc1")
    key_path = os.path.join(world.keys_dir, "newco.nc1.pem")
    text = tenants_text(world)
    section = text[text.index("[newco]"):].split("\n\n")[0]
    check("keygen --selector: key 0600 in keys/, selector and key added to the section, TXT printed",
          made.returncode == 0 and os.path.exists(key_path) and (os.stat(key_path).st_mode & 0o777) == 0o600
          and "selector" in section and f"= {key_path}" in section and "; until it signs" in section
          and "nc1._domainkey.newco.test. IN TXT \"v=DKIM1; k=rsa; p=" in made.stdout,
          made.stdout + made.stderr + section)
    expected = "v=DKIM1; k=rsa; p=" + base64.b64encode(subprocess.run(
        [OPENSSL, "pkey", "-in", key_path, "-pubout", "-outform", "DER"], check=True,
        capture_output=True).stdout).decode()
    records = world.run("dns", "records", "newco", "--format", "json")
    values = {(r["delegation"], r["name"]): r["value"] for r in json.loads(records.stdout).get("records", [])} \
        if records.returncode == 0 else {}
    check("the new key's record matches openssl's public key", values.get(("direct", "nc1._domainkey.newco.test"))
          == expected, values)
    again = world.run("keygen", "newco", "--selector", "nc1")
    other = world.run("keygen", "newco", "--selector", "nc2")
    check("keygen never overwrites; another selector is a rotation",
          again.returncode == 1 and "already exists" in again.stderr and other.returncode == 1
          and "rotate newco --selector nc2" in other.stderr, again.stderr + other.stderr)


def tenants_text(world: World) -> str:
    with open(world.tenants_path) as f:
        return f.read()


def rot_section(world: World) -> str:
    text = tenants_text(world)
    return text[text.index("[rot]"):].split("\n\n")[0]


def run_rotation(world: World) -> None:
    started = world.run("rotate", "rot", "--selector", "s2")
    new_key = os.path.join(world.keys_dir, "rot.s2.pem")
    check("rotate: new key 0600 beside the old, pending note, record printed",
          started.returncode == 0 and os.path.exists(new_key)
          and (os.stat(new_key).st_mode & 0o777) == 0o600
          and "# tenantmailctl-rotation: pending rsa s2" in rot_section(world)
          and "selector = s1" in rot_section(world) and "s2._domainkey.rot.test" in started.stdout,
          started.stdout + started.stderr + rot_section(world))

    refused = world.run("rotate", "rot", "--activate", "--resolver", world.nsd.address)
    check("rotate --activate before publication: refused (exit 1), says what DNS shows, nothing switched",
          refused.returncode == EXIT_FAILED and "refusing to activate selector s2" in refused.stderr
          and "s2._domainkey.rot.test: no such name" in refused.stderr and "--force" in refused.stderr
          and "selector = s1" in rot_section(world) and "pending rsa s2" in rot_section(world),
          f"exit {refused.returncode}\n{refused.stdout}{refused.stderr}{rot_section(world)}")

    before = world.check_dns("rot")
    check("dns check before publication: pending key '–', still exit 0, nothing activated",
          before.returncode == 0 and re.search(r"^– DKIM\+ s2\._domainkey\.rot\.test .*not published yet",
                                               before.stdout, re.M)
          and "selector = s1" in rot_section(world), before.stdout + before.stderr)

    # Publish the new key (its TXT value derived with openssl) and wait for NSD to serve it.
    world.rot_next_key = "v=DKIM1; k=rsa; p=" + base64.b64encode(subprocess.run(
        [OPENSSL, "pkey", "-in", new_key, "-pubout", "-outform", "DER"], check=True,
        capture_output=True).stdout).decode()
    world.nsd.reload(world.zones(rot_keys={"s2": world.rot_next_key}))

    def published():
        out = world.check_dns("rot", "--no-activate")
        return out if re.search(r"^✓ DKIM\+ s2\._domainkey", out.stdout, re.M) else None
    seen = ms.wait_until(published, 10, "nsd to serve s2._domainkey.rot.test", interval=0.2)
    check("dns check --no-activate: pending key green, tenants.conf untouched, says how to activate",
          "selector = s1" in rot_section(world) and "rotate rot --activate" in seen.stdout, seen.stdout)

    activated = world.check_dns("rot")
    section = rot_section(world)
    check("dns check sees it published: activates it (selector/key switched, old one retiring)",
          activated.returncode == 0 and "activated selector s2" in activated.stdout
          and "selector = s2" in section and f"key = {new_key}" in section
          and "# tenantmailctl-rotation: retiring rsa s1" in section and "pending" not in section,
          activated.stdout + section)
    after = world.check_dns("rot")
    check("after activation: new key required and green, old one listed as DKIM-",
          after.returncode == 0 and re.search(r"^✓ DKIM  s2\._domainkey\.rot\.test", after.stdout, re.M)
          and re.search(r"^✓ DKIM- s1\._domainkey\.rot\.test", after.stdout, re.M), after.stdout)
    listed = world.run("dns", "records", "rot", "--format", "json")
    roles = {k["selector"]: k["role"] for k in json.loads(listed.stdout)["keys"]} if listed.returncode == 0 else {}
    check("dns records keeps the old selector listed until retire", roles == {"s2": "active", "s1": "retiring"},
          roles)

    retired = world.run("retire", "rot")
    old_key = os.path.join(world.keys_dir, "rot.s1.pem")
    check("retire: old key file deleted, note removed, records to delete named",
          retired.returncode == 0 and not os.path.exists(old_key) and "rotation" not in rot_section(world)
          and "s1._domainkey.rot.test" in retired.stdout, retired.stdout + retired.stderr + rot_section(world))
    again = world.run("retire", "rot")
    check("retire with nothing to retire: refused, exit 1", again.returncode == EXIT_FAILED, again.stderr)
    reread = world.run("dns", "records", "rot", "--format", "json")
    check("tenants.conf still loads as a whole after the rotation", reread.returncode == 0
          and [k["selector"] for k in json.loads(reread.stdout)["keys"]] == ["s2"], reread.stdout + reread.stderr)


def new_key_txt(path: str) -> str:
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(subprocess.run(
        [OPENSSL, "pkey", "-in", path, "-pubout", "-outform", "DER"], check=True,
        capture_output=True).stdout).decode()


def run_activate_checks(world: World) -> None:
    """rotate --activate looks in DNS itself: another key is refused, the
    right one accepted; --force skips the look with a warning."""
    started = world.run("rotate", "rot", "--selector", "s3")
    s3_txt = new_key_txt(os.path.join(world.keys_dir, "rot.s3.pem"))
    check("second rotation started (s3 pending)", started.returncode == 0
          and "pending rsa s3" in rot_section(world), started.stdout + started.stderr)
    world.nsd.reload(world.zones(rot_keys={"s2": world.rot_next_key, "s3": world.other_key}))
    ms.wait_until(lambda: "a different key" in world.check_dns("rot", "--no-activate").stdout, 10,
                  "nsd to serve the wrong s3 key", interval=0.2)
    wrong = world.run("rotate", "rot", "--activate", "--resolver", world.nsd.address)
    check("rotate --activate with another key under the selector: refused (exit 1), nothing switched",
          wrong.returncode == EXIT_FAILED and "a different key" in wrong.stderr
          and "selector = s2" in rot_section(world), wrong.stdout + wrong.stderr)

    world.nsd.reload(world.zones(rot_keys={"s2": world.rot_next_key, "s3": s3_txt}))
    ms.wait_until(lambda: re.search(r"^✓ DKIM\+ s3\._domainkey", world.check_dns("rot", "--no-activate").stdout,
                                    re.M), 10, "nsd to serve the right s3 key", interval=0.2)
    right = world.run("rotate", "rot", "--activate", "--resolver", world.nsd.address)
    check("rotate --activate once DNS serves the key: activated, exit 0, no warning",
          right.returncode == 0 and "activated" in right.stdout and "warning" not in right.stderr
          and "selector = s3" in rot_section(world), right.stdout + right.stderr + rot_section(world))
    world.run("retire", "rot")

    world.run("rotate", "rot", "--selector", "s4")
    forced = world.run("rotate", "rot", "--activate", "--force", "--resolver", world.nsd.address)
    check("rotate --activate --force with the record unpublished: activated with a warning",
          forced.returncode == 0 and "selector = s4" in rot_section(world)
          and "warning: signing with a key not checked in DNS (--force)" in forced.stderr,
          forced.stdout + forced.stderr + rot_section(world))
    lonely = world.run("rotate", "rot", "--force")
    check("--force without --activate: usage error", lonely.returncode == EXIT_USAGE, lonely.stderr)


def terminal_bytes(data: bytes) -> list[str]:
    """Bytes or characters a terminal would act on (newlines aside)."""
    text = data.decode("utf-8", "surrogateescape")
    return sorted({repr(c) for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
                   or 0xdc80 <= ord(c) <= 0xdcff})


def run_hostile_txt(world: World) -> None:
    argv = [world.ctl, "dns", "check", "evil", "--resolver", world.nsd.address, "-c", world.config_path]
    text = subprocess.run(argv, capture_output=True, timeout=30)
    out = text.stdout.decode("utf-8", "replace")
    check("dns check of a TXT record full of escapes: no control byte reaches the terminal",
          text.returncode == EXIT_FAILED and not terminal_bytes(text.stdout + text.stderr),
          f"exit {text.returncode}; controls {terminal_bytes(text.stdout + text.stderr)}\n{text.stdout!r}")
    check("... and they show escaped (\\x1b, \\x07, \\x9b, \\u009b), the fake ✓ line inside the ✗ line",
          re.search(r"^✗ DKIM\s+s1\._domainkey\.evil\.test\s+TXT \"" + re.escape(HOSTILE_SHOWN), out, re.M)
          is not None, out)
    js = subprocess.run(argv + ["--json"], capture_output=True, timeout=30)
    try:
        found = {c["name"]: c["found"] for c in json.loads(js.stdout)["checks"]}["s1._domainkey.evil.test"]
        # ESC and BEL as JSON escapes; the raw 0x9b, not UTF-8, as U+FFFD.
        ok = js.returncode == EXIT_FAILED and "\x1b[2J" in found and "\x07 \ufffd 31m \u009b 2J" in found \
            and b"\x1b" not in js.stdout and b"\\u001b" in js.stdout
    except (ValueError, KeyError) as exc:
        ok, found = False, repr(exc)
    check("dns check --json: the TXT data as JSON escapes (what is not UTF-8 as U+FFFD), exit 1", ok,
          f"{found!r}\n{js.stderr[-500:]!r}")
    status, tty_out = ms.run_on_tty(argv, timeout=30)
    controls = [m for m in re.findall(r"\x1b\[[0-9;]*[A-Za-z]", tty_out) if m not in ("\x1b[31m", "\x1b[32m",
                                                                                       "\x1b[2m", "\x1b[0m")]
    check("on a terminal: only tenantmailctl's own colour codes, none from the record",
          status == EXIT_FAILED and not controls and "\x07" not in tty_out, f"{controls}\n{tty_out!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dns_check_test.py TENANTMAILCTL", file=sys.stderr)
        return 2
    ctl = os.path.abspath(argv[0])
    t0 = time.monotonic()

    def body():
        with ms.managed_workdir("tenantmail-dns-test-") as tmp:
            world = World(tmp, ctl)
            world.rot_next_key = ""
            world.nsd = NsdServer(tmp, world.zones()).start()
            print(f"     nsd pid {world.nsd.proc.pid} on {world.nsd.address}; "
                  f"setup {time.monotonic() - t0:.1f}s", flush=True)
            run_scenarios(world)
            run_output_checks(world)
            run_tracking_unset(world)
            run_bad_input(world)
            run_keygen(world)
            run_rotation(world)
            run_activate_checks(world)
            run_hostile_txt(world)
    return REPORT.run_main(body, failure="dns integration test ran to the end", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
