#!/usr/bin/python3
"""check_metrics_config.py — the Prometheus rules and the Grafana dashboard
shipped in conf/ against the metrics the daemons register:

  * `promtool check rules` passes on conf/prometheus/tenantmail-alerts.yml,
    and `promtool test rules` on its unit tests (the alerts fire on a
    failure's series, stay silent on healthy ones);
  * conf/grafana/tenantmail-dashboard.json is JSON, and every tenantmail_*
    metric its panels and the rules name is one the sources register
    (.Name("...") in a *.cpp, with _bucket/_count/_sum for histograms): a
    renamed metric cannot leave a blank panel or a silent alert behind.

    check_metrics_config.py --root SOURCE_DIR
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys


def registered(root: str) -> tuple[set[str], set[str]]:
    """(every metric name, the histograms among them) from the sources."""
    names, histograms = set(), set()
    for path in glob.glob(os.path.join(root, "**", "*.cpp"), recursive=True):
        if os.sep + "build" in path[len(root):]:
            continue
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r'Build(Counter|Gauge|Histogram)\(\)\s*\.Name\("(tenantmail_\w+)"\)', text):
            names.add(m.group(2))
            if m.group(1) == "Histogram":
                histograms.add(m.group(2))
    return names, histograms


def used(text: str) -> set[str]:
    return set(re.findall(r"\btenantmail_[a-z_]+\b", text))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    root = os.path.abspath(parser.parse_args().root)
    failures = []
    promtool = shutil.which("promtool")
    rules = os.path.join(root, "conf", "prometheus", "tenantmail-alerts.yml")
    tests = os.path.join(root, "conf", "prometheus", "tenantmail-alerts.test.yml")
    if promtool is None:
        failures.append("promtool not found (Debian package prometheus; scripts/install-deps.sh installs it)")
    else:
        for args in (["check", "rules", rules], ["test", "rules", tests]):
            run = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120,
                                 cwd=os.path.dirname(rules))
            print(f"promtool {' '.join(args[:2])}: {'ok' if run.returncode == 0 else 'FAILED'}")
            if run.returncode != 0:
                failures.append(f"promtool {' '.join(args)}:\n{run.stdout}{run.stderr}")
    names, histograms = registered(root)
    known = names | {h + suffix for h in histograms for suffix in ("_bucket", "_count", "_sum")}
    print(f"{len(names)} metrics registered in the sources")
    dashboard_path = os.path.join(root, "conf", "grafana", "tenantmail-dashboard.json")
    try:
        dashboard = json.load(open(dashboard_path, encoding="utf-8"))
        expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        expressions.append(dashboard["templating"]["list"][1]["query"]["query"])
    except (ValueError, KeyError, IndexError) as exc:
        failures.append(f"{dashboard_path}: {exc!r}")
        expressions = []
    for where, text in (("the dashboard", "\n".join(expressions)), ("the rules", open(rules, encoding="utf-8").read())):
        unknown = sorted(used(text) - known)
        print(f"{where}: {len(used(text))} metric names, {len(unknown)} unknown")
        if unknown:
            failures.append(f"{where} names metrics no daemon registers: {', '.join(unknown)}")
        if not used(text):
            failures.append(f"{where} names no tenantmail metric at all")
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
