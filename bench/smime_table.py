"""smime_table.py — the results table of run-smime-bench.sh, from the
RESULT lines bench/milter_load printed (one file, given as the argument);
rows read and judged as tracking_table.py does."""
import os
import sys

from tracking_table import cell, earned, rows_of


def main() -> int:
    rows = rows_of(sys.argv[1])
    print(f"milter per message, c={os.environ.get('CONC', '?')}, multipart text + HTML")
    print("| size | S/MIME + DKIM (ours) | DKIM alone (ours) | OpenDKIM "
          "| S/MIME+DKIM / DKIM CPU | S/MIME+DKIM / OpenDKIM CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    status = 0
    for size in os.environ.get("SIZES", "2k 200k").split():
        s, d, o = (rows.get(f"{k}/{size}", {}) for k in ("smime", "dkim", "opendkim"))
        ok = all(earned(r) for r in (s, d, o))
        status |= 0 if ok else 1

        def ratio(a: dict[str, str], b: dict[str, str]) -> str:
            return f"{float(a['cpu_ms_per_msg']) / float(b['cpu_ms_per_msg']):.2f}" if ok else "-"

        print(f"| {size} | {cell(s)} | {cell(d)} | {cell(o)} | {ratio(s, d)} | {ratio(s, o)} |")
    return status


if __name__ == "__main__":
    sys.exit(main())
