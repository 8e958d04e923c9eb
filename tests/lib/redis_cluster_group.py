"""redis_cluster_group: a Redis Cluster on loopback for tests — masters (and
replicas) joined by `redis-cli --cluster create`, a slot moved by hand
(migrate_slot, to watch the ASK window) or slots by `redis-cli --cluster
reshard`, a master killed for a failover; every process stopped by PID.

    with ClusterGroup(directory, masters=3) as cluster:
        cluster.config_lines()              # "cluster_nodes = 127.0.0.1:P1 ...\ntimeout = 500ms\n"
        cluster.owner_port("key")           # the master serving the key's slot
        cluster.migrate_slot(slot, port, pause_between_batches=1.0)
        cluster.reshard(from_port, to_port, 100)
        cluster.kill_master(port)           # SIGKILL, as a crash would
        cluster.wait_failover(port)         # the replica that took its slots

Each node is a RedisServer (its own directory) with --cluster-enabled and a
bus port of its own (--cluster-port): the default, port + 10000, is past
65535 for the ports above 55535 that free_port() may hand out. With a password,
requirepass and masterauth are in a 0600 file named first on redis-server's
command line and redis-cli gets it in REDISCLI_AUTH: never on a command
line. Standard library only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from commands import clean_env
from net import LOOPBACK, MailstackError, free_port, wait_until
from redis_server import RedisServer, resp_read

REDIS_CLI = "/usr/bin/redis-cli"
SLOTS = 16384


def resp_pipeline(port: int, *commands, timeout: float = 5.0) -> list:
    """Commands (each a tuple) on one connection to LOOPBACK:port; their
    replies (str/int/list/None); raises on the first -ERR, -ASK, -MOVED..."""
    request = b""
    for args in commands:
        request += f"*{len(args)}\r\n".encode()
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            request += b"$%d\r\n%s\r\n" % (len(b), b)
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.sendall(request)
        with s.makefile("rb") as f:
            return [resp_read(f) for _ in commands]


def free_ports(count: int) -> list[int]:
    """count distinct ports that were free a moment ago."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def quote_conf(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ClusterNode(RedisServer):
    """redis-server with --cluster-enabled on LOOPBACK:port (bus on bus_port);
    with a password, command() sends AUTH first."""

    def __init__(self, directory: str, port: int, bus_port: int, password: str | None = None):
        super().__init__(directory, port=port)
        self.bus_port = bus_port
        self.password = password
        self.extra_args = ["--cluster-enabled", "yes",
                           "--cluster-config-file", os.path.join(self.directory, "nodes.conf"),
                           "--cluster-node-timeout", "2000", "--cluster-port", str(bus_port),
                           # a replica's first sync would otherwise wait 5 s for other replicas
                           "--repl-diskless-sync-delay", "0"]

    def __repr__(self):
        return f"ClusterNode(port={self.port}, pid={self.proc.pid if self.proc else None})"

    def spawn(self, argv, **kwargs):
        if self.password is not None:  # a config file must come first on the command line
            secret = os.path.join(self.directory, "auth.conf")
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"requirepass {quote_conf(self.password)}\nmasterauth {quote_conf(self.password)}\n")
            argv = [argv[0], secret, *argv[1:]]
        return super().spawn(argv, **kwargs)

    def command(self, *args, timeout: float = 5.0, asking: bool = False):
        """One command; asking: ASKING first on the same connection, as a
        client that follows an ASK redirection does."""
        commands = [("AUTH", self.password)] if self.password is not None else []
        commands += [("ASKING",)] if asking else []
        return resp_pipeline(self.port, *commands, args, timeout=timeout)[-1]


class ClusterGroup:
    def __init__(self, directory: str, masters: int = 3, replicas_per_master: int = 0,
                 password: str | None = None):
        self.directory = os.path.abspath(directory)
        self.masters = masters
        self.replicas_per_master = replicas_per_master
        self.password = password
        count = masters * (1 + replicas_per_master)
        ports = free_ports(2 * count)
        self.nodes = [ClusterNode(os.path.join(self.directory, f"node-{i}"), ports[2 * i], ports[2 * i + 1],
                                  password) for i in range(count)]
        self.ids: dict[int, str] = {}  # port -> node ID (CLUSTER MYID)
        self._replicas_at_kill: dict[int, list[int]] = {}

    def __enter__(self) -> "ClusterGroup":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "ClusterGroup":
        for node in self.nodes:
            node.start()
        self.ids = {node.port: node.command("CLUSTER", "MYID") for node in self.nodes}
        # redis-cli picks the masters; the roles are read back (CLUSTER NODES), never assumed.
        self.redis_cli("--cluster", "create", *(f"{LOOPBACK}:{n.port}" for n in self.nodes),
                       "--cluster-replicas", str(self.replicas_per_master), "--cluster-yes", timeout=60)

        replicas = len(self.nodes) - self.masters

        def joined():  # each node's own view: gossip spreads the roles a little later
            for n in self.nodes:
                flags = [line.split()[2].split(",") for line in n.command("CLUSTER", "NODES").splitlines()]
                if (sum("master" in f for f in flags), sum("slave" in f for f in flags)) != (self.masters, replicas):
                    return False
                role = n.command("ROLE")
                if role[0] != "master" and role[3] != "connected":
                    return False
            return True
        wait_until(joined, 20, f"every node to know {self.masters} masters and {replicas} connected replicas")
        self.wait_stable(20)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            try:
                node.stop()
            except Exception:
                pass

    # -- talking to the nodes ----------------------------------------------

    def node(self, port: int) -> ClusterNode:
        return next(n for n in self.nodes if n.port == port)

    def command(self, port: int, *args, asking: bool = False, timeout: float = 5.0):
        """One command (RESP) to the node on port; raises MailstackError on
        an error reply, e.g. "redis: ASK 866 127.0.0.1:P"."""
        return self.node(port).command(*args, asking=asking, timeout=timeout)

    def redis_cli(self, *args, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess:
        """redis-cli with the password (if any) in REDISCLI_AUTH."""
        env = {**clean_env(), "TERM": "dumb"}  # --cluster output without colour codes
        if self.password is not None:
            env["REDISCLI_AUTH"] = self.password
        proc = subprocess.run([REDIS_CLI, *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, env=env)
        if check and proc.returncode != 0:
            raise MailstackError(f"redis-cli {' '.join(args)} exited {proc.returncode}: {proc.stdout}{proc.stderr}")
        return proc

    def cli(self, port: int, *args, check: bool = True) -> str:
        """redis-cli -h 127.0.0.1 -p port ARGS (e.g. "-c", "SET", k, v); its stdout."""
        return self.redis_cli("-h", LOOPBACK, "-p", str(port), *args, check=check).stdout

    def live_nodes(self) -> list[ClusterNode]:
        return [n for n in self.nodes if n.alive()]

    # -- the slot map ------------------------------------------------------

    def slot_map(self, port: int | None = None) -> list[tuple[int, int, int]]:
        """(first slot, last slot, master port) ranges as the node on port
        (default: the first live one) sees them, from CLUSTER SLOTS."""
        node = self.node(port) if port else self.live_nodes()[0]
        return sorted((r[0], r[1], int(r[2][1])) for r in node.command("CLUSTER", "SLOTS"))

    def key_slot(self, key: str) -> int:
        return self.live_nodes()[0].command("CLUSTER", "KEYSLOT", key)

    def slot_owner(self, slot: int) -> int:
        """The port of the master serving slot."""
        return next(p for first, last, p in self.slot_map() if first <= slot <= last)

    def owner_port(self, key: str) -> int:
        return self.slot_owner(self.key_slot(key))

    def slots_of(self, port: int) -> list[int]:
        return [s for first, last, p in self.slot_map() if p == port for s in range(first, last + 1)]

    def master_ports(self) -> list[int]:
        """The running masters (with or without slots), by CLUSTER NODES."""
        ports = []
        for line in self.live_nodes()[0].command("CLUSTER", "NODES").splitlines():
            fields = line.split()
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            if "master" in fields[2].split(",") and self.node(port).alive():
                ports.append(port)
        return sorted(ports)

    def replicas_of(self, port: int) -> list[int]:
        ports = []
        for line in self.live_nodes()[0].command("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if fields[3] == self.ids[port] and "fail" not in fields[2].split(","):
                ports.append(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
        return sorted(ports)

    def seeds(self) -> list[str]:
        return [f"{LOOPBACK}:{p}" for p in self.master_ports()]

    def cluster_nodes(self) -> str:
        """The masters as [redis] cluster_nodes wants them: "127.0.0.1:P1 127.0.0.1:P2 ..."."""
        return " ".join(self.seeds())

    def password_file(self) -> str | None:
        """The password in a 0600 file (for [redis] password_file), or None."""
        if self.password is None:
            return None
        path = os.path.join(self.directory, "redis.pw")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        return path

    def config_lines(self, timeout: str | None = "500ms") -> str:
        """The [redis] lines for cluster mode, each ending in "\\n":
        cluster_nodes, timeout (None: left out) and, with a password,
        password_file."""
        lines = f"cluster_nodes = {self.cluster_nodes()}\n"
        if timeout:
            lines += f"timeout = {timeout}\n"
        if self.password is not None:
            lines += f"password_file = {self.password_file()}\n"
        return lines

    def wait_stable(self, timeout: float = 20.0) -> None:
        """Until every live node says cluster_state:ok and all of them map
        the 16384 slots to the same masters."""
        seen = {}

        def stable():
            seen.clear()
            try:
                for node in self.live_nodes():
                    if "cluster_state:ok" not in node.command("CLUSTER", "INFO"):
                        seen[node.port] = "cluster_state not ok"
                        return False
                    seen[node.port] = self.slot_map(node.port)
            except (OSError, MailstackError) as exc:
                seen["error"] = str(exc)
                return False
            maps = list(seen.values())
            return all(m == maps[0] for m in maps) and sum(last - first + 1 for first, last, _ in maps[0]) == SLOTS
        try:
            wait_until(stable, timeout, "every node to say cluster_state:ok with the same slot map", interval=0.05)
        except MailstackError as exc:
            raise MailstackError(f"{exc}: {seen}")

    # -- moving slots ------------------------------------------------------

    def migrate_slot(self, slot: int, to_port: int, pause_between_batches: float = 0.0,
                     batch: int = 100) -> None:
        """Move one slot to the master on to_port by hand: SETSLOT IMPORTING
        on the target, MIGRATING on the owner, MIGRATE its keys batch by
        batch, then SETSLOT NODE on every master (target first, owner next).
        pause_between_batches: sleep that long after each batch, the last one
        too, so the old owner answers ASK for the keys already moved."""
        from_port = self.slot_owner(slot)
        if from_port == to_port:
            return
        source, target = self.node(from_port), self.node(to_port)
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", self.ids[from_port])
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", self.ids[to_port])
        auth = ["AUTH", self.password] if self.password is not None else []
        while keys := source.command("CLUSTER", "GETKEYSINSLOT", slot, batch):
            source.command("MIGRATE", LOOPBACK, to_port, "", 0, 5000, *auth, "KEYS", *keys, timeout=10)
            if pause_between_batches:
                time.sleep(pause_between_batches)  # a window held open on purpose, not a wait
        others = [p for p in self.master_ports() if p not in (to_port, from_port)]
        for port in [to_port, from_port, *others]:
            self.node(port).command("CLUSTER", "SETSLOT", slot, "NODE", self.ids[to_port])
        self.wait_stable(20)

    def check_clean(self) -> str | None:
        """`redis-cli --cluster check` output when it finds nothing to say, else None."""
        port = self.master_ports()[0]
        out = self.redis_cli("--cluster", "check", f"{LOOPBACK}:{port}", check=False)
        text = out.stdout + out.stderr
        clean = out.returncode == 0 and "[ERR]" not in text and "[WARNING]" not in text \
            and f"[OK] All {SLOTS} slots covered" in text
        return text if clean else None

    def reshard(self, from_port: int, to_port: int, slots: int) -> list[int]:
        """redis-cli --cluster reshard of `slots` slots; the slots that moved."""
        before = set(self.slots_of(to_port))
        self.redis_cli("--cluster", "reshard", f"{LOOPBACK}:{from_port}",
                       "--cluster-from", self.ids[from_port], "--cluster-to", self.ids[to_port],
                       "--cluster-slots", str(slots), "--cluster-yes", timeout=120)
        wait_until(self.check_clean, 20, "redis-cli --cluster check to find nothing wrong", interval=0.1)
        self.wait_stable(20)
        return sorted(set(self.slots_of(to_port)) - before)

    # -- failover ----------------------------------------------------------

    def kill_master(self, port: int) -> ClusterNode:
        """SIGKILL to the node on port, by PID (a crash: no goodbye)."""
        self._replicas_at_kill[port] = self.replicas_of(port)
        node = self.node(port)
        os.kill(node.proc.pid, signal.SIGKILL)
        node.proc.wait(10)
        return node

    def wait_failover(self, old_port: int, timeout: float = 30.0) -> int:
        """Until one of old_port's replicas is a master serving slots and the
        cluster is stable again; its port."""
        candidates = self._replicas_at_kill.get(old_port) or self.replicas_of(old_port)
        if not candidates:
            raise MailstackError(f"the master on {old_port} has no replica to fail over to")

        def promoted():
            try:
                owners = {p for _, _, p in self.slot_map()}
                return next((p for p in candidates if p in owners and self.command(p, "ROLE")[0] == "master"),
                            None)
            except (OSError, MailstackError):
                return None
        new_port = wait_until(promoted, timeout, f"a replica of {old_port} to take over its slots",
                              interval=0.05)
        self.wait_stable(timeout)
        return new_port


if __name__ == "__main__":
    import sys
    import threading

    from managed_process import managed_workdir

    def check(what: str, ok: bool, detail: object = "") -> None:
        print(f"{'ok' if ok else 'FAIL'}: {what}" + (f" ({detail})" if detail and not ok else ""), flush=True)
        if not ok:
            sys.exit(1)

    with managed_workdir("tm-cluster-") as directory:
        began = time.monotonic()
        with ClusterGroup(directory, masters=3) as cluster:
            print(f"start() took {time.monotonic() - began:.2f}s; masters {cluster.master_ports()}")
            print(cluster.config_lines(), end="")
            check("three masters, all slots covered", len(cluster.seeds()) == 3 and cluster.check_clean() is not None)

            keys = [f"key:{i}" for i in range(100)]
            replies = [cluster.cli(cluster.master_ports()[0], "-c", "SET", k, f"value-{k}").strip() for k in keys]
            check("100 SETs through redis-cli -c", replies == ["OK"] * 100, replies)
            owners = {key: cluster.owner_port(key) for key in keys}
            check("every key is on its owner", all(cluster.command(p, "GET", k) == f"value-{k}"
                                                 for k, p in owners.items()))

            key = keys[0]
            slot, old = cluster.key_slot(key), owners[key]
            new = next(p for p in cluster.master_ports() if p != old)
            mover = threading.Thread(target=cluster.migrate_slot, args=(slot, new),
                                     kwargs={"pause_between_batches": 1.0})
            mover.start()

            def asked():
                try:
                    cluster.command(old, "GET", key)
                    return None
                except MailstackError as exc:
                    return str(exc) if "ASK" in str(exc) else None
            try:
                ask = wait_until(asked, 10, f"the old owner {old} to answer ASK for {key}")
                print(f"during migration of slot {slot} ({old} -> {new}) the old owner says: {ask}")
                check("ASK names the slot and the new owner", ask == f"redis: ASK {slot} {LOOPBACK}:{new}", ask)
                check("ASKING then GET on the new owner", cluster.command(new, "GET", key, asking=True)
                      == f"value-{key}")
            finally:
                mover.join(30)
            check(f"slot {slot} is served by {new}", cluster.owner_port(key) == new)
            try:
                cluster.command(old, "GET", key)
                moved = None
            except MailstackError as exc:
                moved = str(exc)
            print(f"after migration the old owner says: {moved}")
            check("old owner answers MOVED", moved == f"redis: MOVED {slot} {LOOPBACK}:{new}", moved)

            src, dst = cluster.master_ports()[0], cluster.master_ports()[1]
            # 100 random keys rarely land in the 100 slots moved: add some in
            # the source's first 200 slots (redis-cli takes its lowest ones).
            first = set(cluster.slots_of(src)[:200])
            probes = [f"probe:{i}" for i in range(5000)]
            slots = resp_pipeline(src, *(("CLUSTER", "KEYSLOT", p) for p in probes))
            extra = [p for p, s in zip(probes, slots) if s in first]
            for k in extra:
                cluster.cli(src, "-c", "SET", k, f"value-{k}")
            keys += extra
            before = {k: cluster.owner_port(k) for k in keys}
            moved_slots = cluster.reshard(src, dst, 100)
            check("reshard moved 100 slots", len(moved_slots) == 100, len(moved_slots))
            after = {k: cluster.owner_port(k) for k in keys}
            changed = [k for k in keys if before[k] != after[k]]
            ranges = [(s, s) for s in moved_slots[:1]]
            for s in moved_slots[1:]:
                ranges[-1:] = [(ranges[-1][0], s)] if s == ranges[-1][1] + 1 else [ranges[-1], (s, s)]
            print(f"reshard {src} -> {dst}: slots {' '.join(f'{a}-{b}' if a != b else str(a) for a, b in ranges)}; "
                  f"{len(changed)} of {len(keys)} keys changed owner, e.g.:")
            for k in changed[:10]:
                print(f"  {k} (slot {cluster.key_slot(k)}): {before[k]} -> {after[k]}")
            check("exactly the keys in the moved slots went from the source to the target", changed and
                  changed == [k for k in keys if cluster.key_slot(k) in moved_slots] and
                  all(before[k] == src and after[k] == dst for k in changed))
            check("every key readable through redis-cli -c",
                  all(cluster.cli(src, "-c", "GET", k).strip() == f"value-{k}" for k in keys))
            pids = [n.proc.pid for n in cluster.nodes]
        cluster.stop()  # a second time: nothing happens
        from managed_process import pid_alive
        check("every redis-server we started is gone", not any(pid_alive(p) for p in pids), pids)
    print("redis_cluster_group self-check passed")
