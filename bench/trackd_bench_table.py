"""trackd_bench_table.py — the results table of bench/run-trackd-bench.sh:
reads bench/trackd_load's lines (key=value fields), takes the median
requests/s and p99 of each point, refuses figures a run did not earn
(bench_verdict.http_run_problems: every response a 200 pixel or a 302
redirect) and prints trackd/nginx ratios against the 50% goal.

    python3 bench/trackd_bench_table.py RESULTS_FILE EVENTS_RECORDED
"""
import collections
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_verdict as bv  # noqa: E402

GOAL = 0.5


def main() -> int:
    rows = collections.defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            label = line.split("label=", 1)[1].split(" requests=")[0] if "label=" in line else "?"
            rows[label].append(fields)
    problems = []
    medians = {}
    for label, runs in rows.items():
        status = 200 if " pixel " in f" {label} " else 302
        for run in runs:
            problems += bv.http_run_problems(label, run, status=status)
        medians[label] = (statistics.median(float(r.get("rate", 0)) for r in runs),
                          statistics.median(float(r.get("p99_ms", 0)) for r in runs))
    print(f"{'point':<24} {'req/s':>9} {'p99 ms':>8}")
    for label, (rate, p99) in medians.items():
        print(f"{label:<24} {rate:>9.0f} {p99:>8.2f}")
    print()
    failed = bool(problems)
    for problem in problems:
        print(f"not counted: {problem}")
    print(f"{'trackd / nginx':<24} {'ratio':>9} {'goal':>8}")
    for label in medians:
        if not label.startswith("trackd "):
            continue
        peer = "nginx " + label[len("trackd "):]
        if peer not in medians or failed:
            continue
        ratio = medians[label][0] / medians[peer][0] if medians[peer][0] else 0.0
        verdict = "met" if ratio >= GOAL else "missed"
        print(f"{label[len('trackd '):]:<24} {ratio:>8.0%} {'>= 50% ' + verdict:>8}")
    print(f"events recorded in Redis during the run: {sys.argv[2]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
