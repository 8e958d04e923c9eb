#!/usr/bin/python3
"""Self-test of check_includes.py on a tiny fake tree with known wrong includes.

Usage: check_includes_selftest.py   (ctest: include_direction_selftest)

  1  a clean tree (daemon -> own folder and common/, tests/ -> anything) passes
  2  common/x.h including "milter/y.h" and policyd/ including "milter/" fail,
     each named by file:line; the allowed includes beside them are not named
  3  an exceptions entry lets its include pass, the other still fails; an
     entry that matches nothing is reported as stale
"""

import os
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_includes.py")
failures = 0


def check(name: str, ok: bool, detail: str = "") -> None:
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        failures += 1
        if detail:
            print(detail)


def write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def run(root: str, *extra: str) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, CHECKER, "--root", root, *extra],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def clean_tree(root: str) -> None:
    write(root, "common/x.h", '#pragma once\n#include "common/z.h"\n#include <string>\n')
    write(root, "common/z.h", "#pragma once\n")
    write(root, "milter/y.h", '#pragma once\n#include "common/x.h"\n#include "milter/w.h"\n')
    write(root, "milter/w.h", "#pragma once\n")
    write(root, "policyd/a.cpp", '#include "policyd/a.h"\n#include "common/x.h"\n#include "local.h"\n')
    write(root, "policyd/a.h", "#pragma once\n")
    write(root, "tests/unit/t.cpp", '#include "milter/y.h"\n#include "policyd/a.h"\n')
    write(root, "fuzz/f.cpp", '#include "milter/y.h"\n')


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tm-includes-") as root:
        clean_tree(root)
        status, out, err = run(root)
        check("1 clean tree passes", status == 0, out + err)

        write(root, "common/x.h", '#pragma once\n#include "common/z.h"\n#include "milter/y.h"\n')
        write(root, "policyd/a.cpp", '#include "policyd/a.h"\n#include "milter/w.h"\n#include "common/x.h"\n')
        status, out, err = run(root)
        check("2 wrong includes fail", status == 1, out + err)
        check("2 common/x.h:3 named", 'common/x.h:3: #include "milter/y.h"' in out, out)
        check("2 policyd/a.cpp:2 named", 'policyd/a.cpp:2: #include "milter/w.h"' in out, out)
        check("2 nothing else named", len([l for l in out.splitlines() if ": #include" in l]) == 2, out)

        exceptions = os.path.join(root, "exceptions.txt")
        write(root, "exceptions.txt",
              "# comment\npolicyd/a.cpp milter/w.h moving to common/\n"
              "bounce/gone.cpp milter/y.h no longer there\n")
        status, out, err = run(root, "--exceptions", exceptions)
        check("3 listed include passes", "policyd/a.cpp" not in out, out)
        check("3 unlisted one still fails", status == 1 and "common/x.h:3" in out, out + err)
        check("3 stale entry reported", "exceptions.txt:3: warning: stale exception" in err, err)
    print(f"check_includes selftest: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
