"""nsd_server: an authoritative DNS server (Debian `nsd`) on loopback for tests and the demo.

    nsd = NsdServer(tmp, {"example.test": ['www IN A 192.0.2.1', f"txt IN TXT {txt(value)}"]}).start()
    nsd.address                  # "127.0.0.1:PORT", for --resolver
    nsd.reload(new_zones)        # zone files rewritten, SIGHUP
    nsd.stop()                   # by PID, with its server processes

Each zone gets an SOA, an NS and the NS's A record; records are zone-file
lines relative to the origin. nsd runs in the foreground (-d) in its own
process group with mailstack's watchdog and cleanup rules. Standard library
only; use Debian's /usr/bin/python3.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess

import mailstack as ms

NSD = shutil.which("nsd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/nsd"


class NsdServer:
    """nsd -d (foreground) on 127.0.0.1:port, zones from a dict
    {origin: [record lines]}; reload() rewrites them and sends SIGHUP."""

    def __init__(self, directory: str, zones: dict[str, list[str]]):
        self.directory = os.path.join(directory, "nsd")
        self.zones = zones
        self.port = ms.free_port()
        self.proc: subprocess.Popen | None = None
        self.serial = 1
        self._watchdog = None
        self.log_path = os.path.join(self.directory, "nsd.log")

    def __repr__(self):
        return f"NsdServer(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def address(self) -> str:
        return f"{ms.LOOPBACK}:{self.port}"

    def _write(self) -> None:
        os.makedirs(os.path.join(self.directory, "zones"), exist_ok=True)
        conf = [
            "server:",
            f"    ip-address: {ms.LOOPBACK}",
            f"    port: {self.port}",
            "    do-ip6: no",
            '    username: ""',
            '    chroot: ""',
            '    database: ""',
            f'    zonesdir: "{self.directory}/zones"',
            f'    pidfile: "{self.directory}/nsd.pid"',
            f'    logfile: "{self.log_path}"',
            f'    xfrdfile: "{self.directory}/xfrd.state"',
            f'    zonelistfile: "{self.directory}/zone.list"',
            f'    xfrdir: "{self.directory}"',
            "    server-count: 1",
            "    verbosity: 1",
            "remote-control:",
            "    control-enable: no",
        ]
        for origin, records in self.zones.items():
            conf += ["zone:", f'    name: "{origin}"', f'    zonefile: "{origin}.zone"']
            head = [f"$ORIGIN {origin}.", "$TTL 60",
                    f"@ IN SOA ns.{origin}. hostmaster.{origin}. {self.serial} 3600 600 86400 60",
                    f"@ IN NS ns.{origin}.", f"ns IN A {ms.LOOPBACK}"]
            with open(os.path.join(self.directory, "zones", f"{origin}.zone"), "w") as f:
                f.write("\n".join(head + records) + "\n")
        with open(os.path.join(self.directory, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self) -> "NsdServer":
        self._write()
        conf = os.path.join(self.directory, "nsd.conf")
        subprocess.run(["/usr/sbin/nsd-checkconf", conf], check=True, capture_output=True)
        # Its own process group: NSD forks server processes, and stop() waits
        # for all of them, not only for the parent.
        self.proc = subprocess.Popen([NSD, "-d", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self._watchdog = ms._Watchdog(self.proc.pid)
        ms._register(self)

        def serving():
            if self.proc.poll() is not None:
                raise ms.MailstackError(f"nsd exited with status {self.proc.returncode}: {self.log()}")
            return "nsd started" in self.log() and ms.port_open(self.port)
        try:
            ms.wait_until(serving, 10, f"nsd on {self.address}")
        except Exception:
            self.stop()
            raise
        return self

    def reload(self, zones: dict[str, list[str]]) -> None:
        """New zone contents; NSD re-reads its zone files on SIGHUP."""
        self.zones = zones
        self.serial += 1
        self._write()
        os.kill(self.proc.pid, signal.SIGHUP)

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            pgid = self.proc.pid
            ms._stop_child(self.proc)
            try:
                ms.wait_until(lambda: not ms._group_members(pgid), 5, "nsd's server processes to exit")
            except ms.MailstackError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
        if self._watchdog:
            self._watchdog.disarm()
            self._watchdog = None
        ms._unregister(self)


def txt(value: str) -> str:
    """TXT rdata split into 255-octet strings, as a zone file needs."""
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)

