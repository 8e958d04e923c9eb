"""webhook_receiver: the receiving end of tenantmail-webhookd in tests.

  * Receiver       an HTTP(S) server on 127.0.0.1 (a thread) taking
                   POST /hook/TENANT. It checks every POST's signature the
                   way the README tells tenants to (HMAC-SHA256 with the
                   tenant's secret over "timestamp.body", X-Tenantmail-
                   Timestamp / X-Tenantmail-Signature: v1=hex, constant-time
                   compare, stale timestamps refused), Content-Type and the
                   {"events":[...]} shape; problems go to .bad and get 400.
                   Accepted batches are in .batches; per tenant .mode says
                   "ok" (200), "fail" (500), "hold" (until .release is set)
                   or "redirect" (302).
  * write_secret(directory, tenant[, mode])  a webhook secret file ->
                   (path, secret).

Standard library only; use Debian's /usr/bin/python3.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time

import mailstack as ms


class Receiver:
    """HTTP server on 127.0.0.1: POST /hook/TENANT. Verifies the signature
    with the tenant's secret and records every batch. Behaviour per tenant:
    "ok" (200), "fail" (500), "hold" (keep the request open until released,
    then 200)."""

    def __init__(self, tenant_secrets: dict[str, str], tls: tuple[str, str] | None = None):
        self.secrets = dict(tenant_secrets)
        self.tls = tls  # (certificate, key): serve HTTPS
        self.port = ms.free_port()
        self.lock = threading.Lock()
        self.batches: list[dict] = []   # answered 2xx
        self.failed: list[dict] = []    # answered 5xx
        self.bad: list[str] = []        # signature or format problems
        self.holding = 0
        self.mode: dict[str, str] = collections.defaultdict(lambda: "ok")
        self.release = threading.Event()
        self.server = None
        self.thread = None

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver.handle(self)

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                # The dispatcher was killed while we held its request.
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", self.port), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(length)
        tenant = h.path.rsplit("/", 1)[-1]
        problems = []
        ts = h.headers.get("X-Tenantmail-Timestamp", "")
        sig = h.headers.get("X-Tenantmail-Signature", "")
        secret = self.secrets.get(tenant)
        # What a tenant's receiver does (README): recompute, compare in
        # constant time, refuse stale timestamps.
        if secret is None:
            problems.append(f"unknown tenant path {h.path}")
        else:
            expected = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, sig):
                problems.append(f"bad signature {sig!r} for {tenant}")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            problems.append(f"stale or missing timestamp {ts!r}")
        if h.headers.get("Content-Type") != "application/json":
            problems.append(f"Content-Type {h.headers.get('Content-Type')!r}")
        try:
            doc = json.loads(body)
            events = doc["events"]
            if set(doc) != {"events"} or not isinstance(events, list) or not events:
                problems.append("document is not {\"events\":[...]}")
        except Exception as exc:  # recorded as a problem
            problems.append(f"body is not JSON: {exc!r}")
            events = []
        if problems:
            with self.lock:
                self.bad.extend(problems)
            h.send_response(400)
            h.end_headers()
            return
        record = {"tenant": tenant, "events": events, "time": time.monotonic()}
        mode = self.mode[tenant]
        if mode == "redirect":
            with self.lock:
                self.failed.append(record)
            h.send_response(302)
            h.send_header("Location", h.path.rsplit("/", 1)[0] + "/acme")
            h.end_headers()
            return
        if mode == "hold":
            with self.lock:
                self.holding += 1
            self.release.wait(30)
            with self.lock:
                self.holding -= 1
            mode = "ok"
        if mode == "fail":
            with self.lock:
                self.failed.append(record)
            h.send_response(500)
            h.send_header("Content-Type", "text/plain")
            h.end_headers()
            h.wfile.write(b"receiver says no\n")
            return
        with self.lock:
            self.batches.append(record)
        h.send_response(200)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    def events(self, tenant: str | None = None) -> list[dict]:
        """Every event of the batches answered 2xx, in arrival order."""
        with self.lock:
            return [e for b in self.batches if tenant in (None, b["tenant"]) for e in b["events"]]

    def delivered_ids(self, tenant: str | None = None) -> list[str]:
        with self.lock:
            return [e["id"] for b in self.batches if tenant in (None, b["tenant"]) for e in b["events"]]

    def wait_ids(self, ids, timeout: float, what: str) -> None:
        want = set(ids)
        ms.wait_until(lambda: want <= set(self.delivered_ids()), timeout, what, interval=0.05)


def write_secret(directory: str, tenant: str, mode: int = 0o600) -> tuple[str, str]:
    secret = secrets.token_hex(32)
    path = os.path.join(directory, f"{tenant}.secret")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (secret + "\n").encode())
    os.close(fd)
    os.chmod(path, mode)
    return path, secret
