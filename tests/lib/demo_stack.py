"""demo_stack: every tenantmail program wired together on loopback, for scripts/demo.py.

The same wiring as tests/integration/events_e2e_test.py, with the demo's two
tenants: redis-server, the tenant's webhook receiver (a tap that keeps each
POST's raw timestamp, signature and body so the demo can check the HMAC
itself), a scripted SMTP server as the receiving side (it refuses one
recipient with 550), tenantmail-milter, tenantmail-policyd, a private
Postfix with the tenantmail-bounce pipe for the bounce domain,
tenantmail-maillog following Postfix's log and tenantmail-webhookd posting
the events; NSD serves the DNS zones for `tenantmailctl dns check`.

    stack = DemoStack(tmp, binaries)   # files written, nothing started
    stack.start()                      # in dependency order
    stack.stop()                       # by PID, in reverse order

Standard library only; use Debian's /usr/bin/python3.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import subprocess
import threading

import mailstack as ms
import tenantmail_procs as tp
from managed_process import read_text
from nsd_server import NsdServer
from webhook_receiver import Receiver, write_secret

TENANT = "acme"
DOMAIN = "careers.uni.example"
BOUNCE_DOMAIN = f"mta.{DOMAIN}"
LOGIN, PASSWORD = "acme-bulk", "demo-password"
# The receiving side answers this recipient with a permanent failure.
GONE = "nobody@example.org"
GONE_REPLY = f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown"
# The platform's own DNS names ([dns] in tenantmail.conf).
PLATFORM = "platform.example"
SPF_INCLUDE = f"_spf.{PLATFORM}"

PROGRAMS = ("tenantmail-milter", "tenantmail-policyd", "tenantmailctl", "tenantmail-maillog",
            "tenantmail-bounce", "tenantmail-webhookd")
FOLDERS = {"tenantmail-milter": "milter", "tenantmail-policyd": "policyd", "tenantmailctl": "tenantmailctl",
           "tenantmail-maillog": "maillog", "tenantmail-bounce": "bounce", "tenantmail-webhookd": "webhookd"}


def binaries(build_dir: str) -> dict[str, str]:
    """Path of every program in a CMake build dir; raises naming the missing ones."""
    paths = {name: os.path.abspath(os.path.join(build_dir, FOLDERS[name], name)) for name in PROGRAMS}
    missing = [p for p in paths.values() if not os.access(p, os.X_OK)]
    if missing:
        raise ms.MailstackError("not built: " + ", ".join(missing))
    return paths


def signature_valid(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What the tenant's receiver does: HMAC-SHA256 over "timestamp.body"."""
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class TapReceiver(Receiver):
    """webhook_receiver.Receiver that also keeps every POST as it arrived:
    .posts = [(timestamp, signature, body)]."""

    def __init__(self, tenant_secrets: dict[str, str]):
        super().__init__(tenant_secrets)
        self.posts: list[tuple[str, str, bytes]] = []
        self._posts_lock = threading.Lock()

    def handle(self, h) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        with self._posts_lock:
            self.posts.append((h.headers.get("X-Tenantmail-Timestamp", ""),
                               h.headers.get("X-Tenantmail-Signature", ""), body))
        h.rfile = io.BytesIO(body)  # the receiver reads the body again
        super().handle(h)

    def snapshot(self) -> list[tuple[str, str, bytes]]:
        with self._posts_lock:
            return list(self.posts)


class DemoStack:
    def __init__(self, tmp: str, programs: dict[str, str]):
        self.tmp = tmp
        self.ctl = programs["tenantmailctl"]
        self.files = tp.TenantFiles(tmp)
        self.files.bounce_secret()
        self.redis = ms.RedisServer(tmp)
        secret_path, self.webhook_secret = write_secret(self.files.dir, TENANT)
        self.receiver = TapReceiver({TENANT: self.webhook_secret})
        self.remote = ms.ScriptedSmtpServer(os.path.join(tmp, "remote"), rcpt_replies={GONE: GONE_REPLY},
                                            hostname="mx.example.org")
        self.nsd = NsdServer(tmp, {})
        self._write_tenants(secret_path)
        bounce_wrapper, self.bounce_log = tp.bounce_pipe(self.files, tmp, programs["tenantmail-bounce"])
        self.milter_port = ms.free_port()
        self.policyd = tp.Policyd(programs["tenantmail-policyd"], tmp, "policyd", self.redis.port,
                                  self.files.tenants_path, redis_timeout="2s")
        self.config = os.path.join(self.files.dir, "tenantmail.conf")
        self.postfix = tp.BouncePostfix(os.path.join(tmp, "postfix"), self.remote.port, bounce_wrapper, self.config,
                                        bounce_domains=[BOUNCE_DOMAIN], milter=self.milter_port,
                                        policy=self.policyd.port,
                                        extra_main_cf={"local_header_rewrite_clients": ""})
        self.postfix.add_sasl_user(LOGIN, PASSWORD)
        self._write_config()
        self.milter = tp.Milter(programs["tenantmail-milter"], self.config, tmp, port=self.milter_port)
        self.maillog = tp.Maillog(programs["tenantmail-maillog"], self.config, tmp)
        self.webhookd = tp.Webhookd(programs["tenantmail-webhookd"], tmp, "webhookd", self.redis.port,
                                    self.files.tenants_path)

    def _write_tenants(self, webhook_secret_path: str) -> None:
        acme_rsa, acme_ed = self.files.rsa_key(TENANT), self.files.ed25519_key(TENANT)
        self.files.publish(DOMAIN, "demo2026", acme_rsa)
        self.files.publish(DOMAIN, "demo2026e", acme_ed)
        self.files.write_tenants({
            TENANT: {"domains": DOMAIN, "selector": "demo2026", "key": acme_rsa,
                     "ed25519_selector": "demo2026e", "ed25519_key": acme_ed,
                     "bounce_domain": BOUNCE_DOMAIN, "sasl_users": f"{LOGIN}:bulk",
                     "bulk_rate": "4/3m", "webhook_url": f"{self.receiver.base}/{TENANT}",
                     "webhook_secret": webhook_secret_path},
            "beta": {"domains": "beta.example", "selector": "beta1", "key": self.files.rsa_key("beta"),
                     "bounce_domain": "mta.beta.example", "sasl_users": "beta"},
        })

    def _write_config(self) -> None:
        """One tenantmail.conf for the milter, maillog, bounce and tenantmailctl."""
        assert self.files.write_config(self.milter_port) == self.config
        with open(self.config, "a") as f:
            f.write(f"\n[redis]\nhost = {ms.LOOPBACK}\nport = {self.redis.port}\ntimeout = 2s\n"
                    f"\n[maillog]\nfile = {self.postfix.log_path}\n"
                    f"state_file = {os.path.join(self.tmp, 'maillog.state')}\npoll_interval = 100ms\n"
                    f"\n[dns]\nplatform_mail_host = mail.{PLATFORM}\nspf_include = {SPF_INCLUDE}\n"
                    f"bounce_mx = mx.{PLATFORM}\ndkim_key_zone = dkim.{PLATFORM}\n"
                    f"dmarc_rua = mailto:dmarc@{PLATFORM}\nresolver = {self.nsd.address}\ntimeout = 2s\n")

    def platform_zone(self) -> list[str]:
        """What the platform publishes: its SPF record and the bounce MX host."""
        return [f'_spf IN TXT "v=spf1 ip4:{ms.LOOPBACK} -all"', f"mx IN A {ms.LOOPBACK}",
                f"mail IN MX 10 mx.{PLATFORM}.", f'mail IN TXT "v=spf1 include:{SPF_INCLUDE} -all"']

    def start(self) -> None:
        self.redis.start()
        self.receiver.start()
        self.remote.start()
        # The tenant's zone starts empty: the demo publishes its records.
        self.nsd.zones = {PLATFORM: self.platform_zone(), DOMAIN: []}
        self.nsd.start()
        self.milter.start()
        self.policyd.start()
        self.postfix.start()
        self.maillog.start()
        self.webhookd.start()

    def stop(self) -> None:
        self.milter.terminate()  # libmilter notices SIGTERM only at its next poll
        for component in (self.webhookd, self.maillog, self.postfix, self.policyd, self.milter, self.nsd,
                          self.remote, self.redis):
            try:
                component.stop()
            except Exception as exc:  # keep stopping the others
                print(f"    (stopping {component!r}: {exc})")
        self.receiver.stop()

    def ctl_run(self, *args: str) -> subprocess.CompletedProcess:
        """tenantmailctl ARGS -c tenantmail.conf."""
        return subprocess.run([self.ctl, *args, "-c", self.config], capture_output=True, text=True, timeout=60)

    def bounce_log_text(self) -> str:
        return read_text(self.bounce_log)
