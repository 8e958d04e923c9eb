"""scripted_smtp_server: a loopback SMTP server that answers as a test says.

For hard and soft rejects of some recipients only (smtp-sink cannot do that:
its -f/-r options reject a command for every client). asyncio in a thread of
the test process, standard library only; messages it accepts are
SinkMessages, optionally written in smtp-sink's dump format.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import os
import threading
import time
from typing import Callable, Mapping

from managed_process import ManagedComponent, register, unregister
from net import LOOPBACK, MailstackError, free_port
from sink_message import SinkMessage, split_addr_args

Reply = str | Callable[..., str | None] | None


class ScriptedSmtpServer(ManagedComponent):
    """Loopback SMTP server (asyncio, in a thread) answering as told.

    rcpt_replies maps a recipient address (case-insensitive) to a reply line,
    e.g. {"gone@example.org": "550 5.1.1 no such user",
          "busy@example.org": "451 4.2.0 try later"}; other recipients get
    default_rcpt_reply. A value may be a callable(recipient, attempt) that
    returns a reply (attempt counts RCPTs for that address, from 1), so a
    test can defer first and accept on retry. mail_reply / data_reply may be
    strings or callables (sender) / (SinkMessage). Accepted messages are
    kept in .messages (and written in smtp-sink's dump format to
    directory/scripted/ when directory is given). Every RCPT answered is in
    .rcpt_log as (recipient, reply)."""

    def __init__(self, directory: str | None = None, port: int | None = None,
                 rcpt_replies: Mapping[str, Reply] | None = None,
                 default_rcpt_reply: str = "250 2.1.5 Ok",
                 mail_reply: Reply = None, data_reply: Reply = None,
                 hostname: str = "scripted-sink.test"):
        self.directory = os.path.abspath(directory) if directory else None
        self.port = port or free_port()
        self.hostname = hostname
        self._rcpt = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self.default_rcpt_reply = default_rcpt_reply
        self.mail_reply = mail_reply
        self.data_reply = data_reply
        self.messages: list[SinkMessage] = []
        self.rcpt_log: list[tuple[str, str]] = []
        self._attempts: collections.Counter = collections.Counter()
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._writers: set = set()
        self._counter = 0

    def __repr__(self):
        return f"ScriptedSmtpServer(port={self.port})"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def set_rcpt_reply(self, recipient: str, reply: Reply) -> None:
        with self._cond:
            if reply is None:
                self._rcpt.pop(recipient.lower(), None)
            else:
                self._rcpt[recipient.lower()] = reply

    def start(self, timeout: float = 10.0) -> "ScriptedSmtpServer":
        if self._thread is not None:
            return self
        if self.directory:
            os.makedirs(os.path.join(self.directory, "scripted"), exist_ok=True)
        started = threading.Event()
        failure: list[BaseException] = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(
                    self._session, LOOPBACK, self.port, limit=16 << 20,
                    reuse_address=True))
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                self._server.close()
                for w in list(self._writers):
                    w.close()
                tasks = asyncio.all_tasks(loop)
                for t in tasks:
                    t.cancel()
                if tasks:
                    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name=f"scripted-smtp-{self.port}",
                                        daemon=True)
        self._thread.start()
        if not started.wait(timeout) or failure:
            self._thread = None
            raise MailstackError(f"ScriptedSmtpServer on {self.address} did not start: "
                                 f"{failure[0] if failure else 'timeout'}")
        register(self)
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        unregister(self)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[SinkMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MailstackError(f"timed out after {timeout:g}s waiting for {n} "
                                         f"message(s) at {self.address} "
                                         f"(have {len(self.messages)})")
                self._cond.wait(left)
            return list(self.messages)

    received = wait_for

    def count(self) -> int:
        with self._cond:
            return len(self.messages)

    # -- protocol ---------------------------------------------------------

    def _answer(self, reply: Reply, *args, default: str) -> str:
        if callable(reply):
            reply = reply(*args)
        return reply or default

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._writers.add(writer)
        peer = writer.get_extra_info("peername") or ("", 0)
        helo, sender, mail_params = "", None, ""
        rcpts: list[str] = []
        rcpt_params: list[str] = []

        async def send(line: str):
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await send(f"220 {self.hostname} ESMTP scripted")
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    helo, sender, rcpts, rcpt_params = arg, None, [], []
                    writer.write((f"250-{self.hostname}\r\n250-PIPELINING\r\n"
                                  "250-SIZE 104857600\r\n250-8BITMIME\r\n"
                                  "250 ENHANCEDSTATUSCODES\r\n").encode())
                    await writer.drain()
                elif verb == "HELO":
                    helo, sender, rcpts, rcpt_params = arg, None, [], []
                    await send(f"250 {self.hostname}")
                elif verb == "MAIL" and arg.upper().startswith("FROM:"):
                    addr, params = split_addr_args(arg[5:])
                    reply = self._answer(self.mail_reply, addr, default="250 2.1.0 Ok")
                    if reply.startswith("2"):
                        sender, mail_params, rcpts, rcpt_params = addr, params, [], []
                    await send(reply)
                elif verb == "RCPT" and arg.upper().startswith("TO:"):
                    if sender is None:
                        await send("503 5.5.1 Error: need MAIL command")
                        continue
                    addr, params = split_addr_args(arg[3:])
                    with self._cond:
                        self._attempts[addr.lower()] += 1
                        attempt = self._attempts[addr.lower()]
                        scripted = self._rcpt.get(addr.lower())
                    reply = self._answer(scripted, addr, attempt,
                                         default=self.default_rcpt_reply)
                    with self._cond:
                        self.rcpt_log.append((addr, reply))
                    if reply.startswith("2"):
                        rcpts.append(addr)
                        rcpt_params.append(params)
                    await send(reply)
                elif verb == "DATA":
                    if sender is None or not rcpts:
                        await send("554 5.5.1 Error: no valid recipients")
                        continue
                    await send("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        l = await reader.readline()
                        if not l:
                            return
                        if l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        chunks.append(l)
                    msg = SinkMessage(sender=sender, recipients=list(rcpts),
                                      data=b"".join(chunks), mail_params=mail_params,
                                      rcpt_params=list(rcpt_params), helo=helo,
                                      client_addr=peer[0])
                    reply = self._answer(self.data_reply, msg, default="250 2.0.0 Ok: queued")
                    if reply.startswith("2"):
                        self._store(msg)
                    sender, rcpts, rcpt_params = None, [], []
                    await send(reply)
                elif verb == "RSET":
                    sender, rcpts, rcpt_params = None, [], []
                    await send("250 2.0.0 Ok")
                elif verb == "NOOP":
                    await send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    await send("221 2.0.0 Bye")
                    return
                else:
                    await send("502 5.5.2 Error: command not recognized")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _store(self, msg: SinkMessage) -> None:
        with self._cond:
            self._counter += 1
            if self.directory:
                path = os.path.join(self.directory, "scripted", f"{self._counter:06d}.msg")
                head = [f"X-Client-Addr: {msg.client_addr}", "X-Client-Proto: ESMTP",
                        f"X-Helo-Args: {msg.helo}",
                        f"X-Mail-Args: <{msg.sender}> {msg.mail_params}".rstrip()]
                head += [f"X-Rcpt-Args: <{r}> {p}".rstrip()
                         for r, p in zip(msg.recipients, msg.rcpt_params)]
                head += [f"Received: from {msg.helo} ([{msg.client_addr}])",
                         f"\tby {self.hostname} (scripted) with ESMTP id {self._counter:06d};",
                         f"\t{email.utils.formatdate(localtime=False)}"]
                body = msg.data.replace(b"\r\n", b"\n")
                with open(path, "wb") as f:
                    f.write("\n".join(head).encode() + b"\n" + body + b"\n")
                msg.path = path
            self.messages.append(msg)
            self._cond.notify_all()
