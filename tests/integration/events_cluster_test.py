#!/usr/bin/python3
"""Events end to end on a Redis Cluster: every step of events_e2e_test.py
(Postfix, milter, policyd, maillog, the bounce pipe, webhookd, a
signature-checking receiver; one outcome per recipient, DSN/ARF reports,
suppression, blocked, a forged token giving nothing) with every program in
Cluster mode on 3 masters (tests/lib/redis_cluster_group.py).

The tenant's keys share one slot ({acme}); the queue-id keys (tm:qid:{QID})
each have the slot of their queue id, on any master: the test finds every
message's on some master, so every program wrote and read them there.

Run (as root): events_cluster_test.py MILTER POLICYD MAILLOG BOUNCE WEBHOOKD
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import events_e2e_test as e2e  # noqa: E402
import mailstack as ms  # noqa: E402
from redis_cluster_group import ClusterGroup  # noqa: E402

REPORT = e2e.REPORT
REPORT.name = "events_cluster"


def spread(cluster: ClusterGroup) -> None:
    """Where the keys went: the tenant's on its slot's master, the queue-id
    keys on whichever master their own slot has."""
    holders = {}
    for port in cluster.master_ports():
        keys = cluster.command(port, "KEYS", "tm:*") or []
        holders[port] = sorted(keys)
    tenant_port = cluster.owner_port(f"{{{e2e.TENANT}}}")
    tenant_keys = [k for keys in holders.values() for k in keys if k.startswith(f"tm:{{{e2e.TENANT}}}:")]
    REPORT.check("every key of the tenant is on the master of its slot",
                 tenant_keys and all(k in holders[tenant_port] for k in tenant_keys), holders)
    messages = [k for k in tenant_keys if k.count(":") == 3 and ":msg:" in k]
    qids = {k.split(":", 3)[3] for k in messages}
    qid_keys = {k.removeprefix("tm:qid:{").removesuffix("}") for keys in holders.values() for k in keys
                if k.startswith("tm:qid:")}
    REPORT.check("every message record has its queue-id key on the master of that key's slot",
                 len(qids) >= 2 and qids <= qid_keys, {"records": sorted(qids), "queue-id keys": sorted(qid_keys)})


def main() -> int:
    if len(sys.argv) != 6:
        print(f"usage: {sys.argv[0]} MILTER POLICYD MAILLOG BOUNCE WEBHOOKD (paths of the tenantmail programs)",
              file=sys.stderr)
        return 2
    binaries = [os.path.abspath(p) for p in sys.argv[1:6]]

    def body():
        with ms.managed_workdir("tm-events-cluster-") as tmp:
            with ClusterGroup(tmp, masters=3) as cluster:
                e2e.run_all(e2e.Stack(tmp, *binaries, cluster=cluster))
                with REPORT.case("the keys' placement was read"):
                    spread(cluster)
    return REPORT.run_main(body, failure="setup", cleanup=ms.stop_all)


if __name__ == "__main__":
    sys.exit(main())
