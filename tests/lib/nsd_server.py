"""nsd_server: an authoritative DNS server (Debian `nsd`) on loopback for tests and the demo.

    nsd = NsdServer(tmp, {"example.test": ['www IN A 192.0.2.1', f"txt IN TXT {txt(value)}"]}).start()
    nsd.address                  # "127.0.0.1:PORT", for --resolver
    nsd.reload(new_zones)        # zone files rewritten, SIGHUP
    nsd.stop()                   # by PID, with its server processes

Each zone gets an SOA, an NS and the NS's A record; records are zone-file
lines relative to the origin. NSD forks its server processes, so it runs in
the foreground (-d) in a process group of its own and stop() waits for the
whole group; the managed-process base gives it the watchdog and cleanup
rules of every other component. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess

from managed_process import ManagedProcess, group_members, stop_child
from net import LOOPBACK, MailstackError, free_port, port_open, wait_until

NSD = shutil.which("nsd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/nsd"


class NsdServer(ManagedProcess):
    """nsd -d (foreground) on 127.0.0.1:port, zones from a dict
    {origin: [record lines]}; reload() rewrites them and sends SIGHUP."""

    def __init__(self, directory: str, zones: dict[str, list[str]]):
        self.directory = os.path.join(directory, "nsd")
        super().__init__(os.path.join(self.directory, "nsd.log"))
        self.zones = zones
        self.port = free_port()
        self.serial = 1

    def __repr__(self):
        return f"NsdServer(port={self.port}, pid={self.proc.pid if self.proc else None})"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def _write(self) -> None:
        os.makedirs(os.path.join(self.directory, "zones"), exist_ok=True)
        conf = [
            "server:",
            f"    ip-address: {LOOPBACK}",
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
                    f"@ IN NS ns.{origin}.", f"ns IN A {LOOPBACK}"]
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
        self.spawn([NSD, "-d", "-c", conf], log_output=False, new_session=True)

        def serving():
            if self.proc.poll() is not None:
                raise MailstackError(f"nsd exited with status {self.proc.returncode}: {self.log()}")
            return "nsd started" in self.log() and port_open(self.port)
        try:
            wait_until(serving, 10, f"nsd on {self.address}")
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

    def stop(self, timeout: float | None = None) -> int | None:
        if self.proc is not None:
            pgid = self.proc.pid
            stop_child(self.proc, self.stop_timeout if timeout is None else timeout)
            try:
                wait_until(lambda: not group_members(pgid), 5, "nsd's server processes to exit")
            except MailstackError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
        self.release()
        return self.proc.returncode if self.proc else None


def txt(value: str) -> str:
    """TXT rdata split into 255-octet strings, as a zone file needs."""
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
