"""tracking_table.py — the results table of run-tracking-bench.sh, from the
RESULT lines bench/milter_load printed (one file, given as the argument).
A run with errors, tempfails or unsigned messages shows "failed" and gives
no ratio."""
import os
import sys


def rows_of(path: str) -> dict[str, dict[str, str]]:
    rows = {}
    for line in open(path):
        fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        rows[fields.get("label", "-")] = fields
    return rows


def earned(row: dict[str, str]) -> bool:
    return bool(row) and "failed" not in row and row.get("errors") == "0" and row.get("tempfail") == "0" \
        and row.get("unsigned") == "0" and row.get("rejected") == "0" and int(row.get("signed", "0")) > 0


def cell(row: dict[str, str]) -> str:
    if not earned(row):
        return "failed"
    return f"{float(row['cpu_ms_per_msg']):.3f} ms CPU, {float(row['rate']):.0f}/s, p99 {float(row['p99_ms']):.1f} ms"


def main() -> int:
    rows = rows_of(sys.argv[1])
    print(f"milter per message, c={os.environ.get('CONC', '?')}, multipart text + HTML with links")
    print("| size | tracked (ours) | untracked (ours) | OpenDKIM (signs only) "
          "| tracked / untracked CPU | tracked / OpenDKIM CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    status = 0
    for size in os.environ.get("SIZES", "2k 200k").split():
        t, u, o = (rows.get(f"{k}/{size}", {}) for k in ("tracked", "untracked", "opendkim"))
        ok = all(earned(r) for r in (t, u, o))
        status |= 0 if ok else 1
        ratio = (lambda a, b: f"{float(a['cpu_ms_per_msg']) / float(b['cpu_ms_per_msg']):.2f}") if ok else None
        print(f"| {size} | {cell(t)} | {cell(u)} | {cell(o)} | {ratio(t, u) if ok else '-'} "
              f"| {ratio(t, o) if ok else '-'} |")
    return status


if __name__ == "__main__":
    sys.exit(main())
