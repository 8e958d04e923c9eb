"""redis_sentinel_group: a Redis Sentinel group on loopback for tests — one
master, replicas (--replicaof) and sentinels (redis-server --sentinel, each
with its own rewritable config file), every process stopped by PID.

    with SentinelGroup(directory, master_name="tm") as group:
        group.sentinel_list()        # "127.0.0.1:P1 127.0.0.1:P2 ..."
        group.wait_replicated()      # what the master wrote is on every replica
        group.kill_master()          # SIGKILL, as a crash would
        group.wait_new_master(old)   # the sentinels' promoted replica

Standard library only.
"""

from __future__ import annotations

import os
import signal
import socket

from managed_process import ManagedProcess
from net import LOOPBACK, MailstackError, free_port, wait_until
from redis_server import REDIS_SERVER, RedisServer, resp_read


def resp_command(port: int, *args, timeout: float = 2.0):
    """One RESP command to LOOPBACK:port; str/int/list/None; raises on -ERR."""
    request = f"*{len(args)}\r\n".encode()
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        request += b"$%d\r\n%s\r\n" % (len(b), b)
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.sendall(request)
        with s.makefile("rb") as f:
            return resp_read(f)


class Sentinel(ManagedProcess):
    def __init__(self, directory: str, master_name: str, master_port: int, quorum: int,
                 down_after_ms: int, failover_timeout_ms: int):
        self.directory = os.path.abspath(directory)
        super().__init__(os.path.join(self.directory, "sentinel.log"))
        self.port = free_port()
        self.config = os.path.join(self.directory, "sentinel.conf")
        os.makedirs(self.directory, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f"bind {LOOPBACK}\nport {self.port}\ndaemonize no\nprotected-mode no\n"
                    f"dir {self.directory}\nlogfile {self.log_path}\n"
                    f"sentinel monitor {master_name} {LOOPBACK} {master_port} {quorum}\n"
                    f"sentinel down-after-milliseconds {master_name} {down_after_ms}\n"
                    f"sentinel failover-timeout {master_name} {failover_timeout_ms}\n"
                    f"sentinel parallel-syncs {master_name} 1\n")

    def start(self, timeout: float = 10.0) -> "Sentinel":
        self.spawn([REDIS_SERVER, self.config, "--sentinel"], log_output=False)

        def pong():
            if self.proc.poll() is not None:
                raise MailstackError(f"sentinel exited {self.proc.returncode}; see {self.log_path}")
            try:
                return resp_command(self.port, "PING", timeout=1.0) == "PONG"
            except (OSError, MailstackError):
                return False
        wait_until(pong, timeout, f"sentinel PONG on {LOOPBACK}:{self.port}")
        return self

    def command(self, *args, timeout: float = 2.0):
        return resp_command(self.port, *args, timeout=timeout)


class SentinelGroup:
    def __init__(self, directory: str, master_name: str = "tm", replicas: int = 2, sentinels: int = 3,
                 down_after_ms: int = 1000, failover_timeout_ms: int = 10000):
        self.directory = os.path.abspath(directory)
        self.master_name = master_name
        self.servers: list[RedisServer] = []
        self.master = RedisServer(os.path.join(self.directory, "redis-0"))
        self.servers.append(self.master)
        for i in range(replicas):
            self.servers.append(RedisServer(os.path.join(self.directory, f"redis-{i + 1}"),
                                            extra_args=["--replicaof", LOOPBACK, str(self.master.port)]))
        quorum = sentinels // 2 + 1
        self.sentinels = [Sentinel(os.path.join(self.directory, f"sentinel-{i}"), master_name,
                                   self.master.port, quorum, down_after_ms, failover_timeout_ms)
                          for i in range(sentinels)]

    def __enter__(self) -> "SentinelGroup":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "SentinelGroup":
        for server in self.servers:
            server.start()
        replicas = len(self.servers) - 1
        wait_until(lambda: f"connected_slaves:{replicas}" in self.master.command("INFO", "replication"), 20,
                   f"{replicas} replicas in sync with the master")
        for sentinel in self.sentinels:
            sentinel.start()
        others = len(self.sentinels) - 1

        def discovered():
            for sentinel in self.sentinels:
                if len(sentinel.command("SENTINEL", "replicas", self.master_name) or []) != replicas:
                    return False
                if len(sentinel.command("SENTINEL", "sentinels", self.master_name) or []) != others:
                    return False
            return True
        wait_until(discovered, 30, "every sentinel to know the replicas and the other sentinels")
        return self

    def stop(self) -> None:
        for process in [*self.sentinels, *self.servers]:
            try:
                process.stop()
            except Exception:
                pass

    def sentinel_list(self) -> str:
        return " ".join(f"{LOOPBACK}:{s.port}" for s in self.sentinels)

    def master_port(self) -> int:
        """The master's port as the first sentinel that answers says."""
        for sentinel in self.sentinels:
            try:
                host, port = sentinel.command("SENTINEL", "get-master-addr-by-name", self.master_name)
                return int(port)
            except (OSError, MailstackError, TypeError, ValueError):
                continue
        raise MailstackError("no sentinel answered get-master-addr-by-name")

    def wait_agreed(self, port: int, timeout: float = 30.0) -> None:
        """Until every sentinel names port as the master: after a failover
        the others learn it from the leader's hello messages a little
        later, and a client asking one of them meanwhile is sent to the old
        master."""
        def agreed():
            try:
                return all(int(s.command("SENTINEL", "get-master-addr-by-name", self.master_name)[1]) == port
                           for s in self.sentinels)
            except (OSError, MailstackError, TypeError, ValueError, IndexError):
                return False
        wait_until(agreed, timeout, f"every sentinel to name 127.0.0.1:{port} master")

    def server_on(self, port: int) -> RedisServer:
        return next(s for s in self.servers if s.port == port)

    def kill_master(self) -> RedisServer:
        """SIGKILL to the current master, by PID (a crash: no goodbye)."""
        master = self.server_on(self.master_port())
        os.kill(master.proc.pid, signal.SIGKILL)
        master.proc.wait(10)
        return master

    def manual_failover(self, timeout: float = 30.0) -> None:
        """SENTINEL FAILOVER, once the sentinels accept one: right after a
        failover they answer INPROG (still reconfiguring the replicas) or
        NOGOODSLAVE (no replica in sync yet) for a while."""
        def accepted():
            try:
                return self.sentinels[0].command("SENTINEL", "FAILOVER", self.master_name) == "OK"
            except MailstackError as exc:
                if "INPROG" in str(exc) or "NOGOODSLAVE" in str(exc):
                    return False
                raise
        wait_until(accepted, timeout, "the sentinels to accept SENTINEL FAILOVER", interval=0.1)

    def wait_replicated(self, timeout: float = 30.0) -> None:
        """Until every replica is online and has acknowledged everything the
        master has written so far (its replication offset). A full resync
        after a failover can take several seconds."""
        primary = self.server_on(self.master_port())
        offset = int(primary.command("INFO", "replication").split("master_repl_offset:")[1].split()[0])

        def caught_up():
            info = primary.command("INFO", "replication")
            replicas = [p for p in info.split() if p.startswith("slave") and "offset=" in p]
            return replicas and all("state=online" in r and int(r.split("offset=")[1].split(",")[0]) >= offset
                                    for r in replicas)
        try:
            wait_until(caught_up, timeout, "every replica to catch up with the master")
        except MailstackError as exc:
            raise MailstackError(f"{exc}: master offset {offset}; {primary.command('INFO', 'replication')}")

    def wait_new_master(self, old_port: int, timeout: float = 30.0) -> int:
        def promoted():
            port = self.master_port()
            if port == old_port:
                return None
            role = self.server_on(port).command("ROLE")
            return port if role and role[0] == "master" else None
        return wait_until(promoted, timeout, "the sentinels to promote a replica", interval=0.05)
