"""checks: the pass/fail report every integration script prints.

One line per check, "ok   NAME" or "FAIL NAME" with the detail indented
below it, and a last line "[NAME: ]N passed, M failed"; finish() returns the
exit status (1 on any failure), so ctest logs read the same in every script.

    report = Report("bounce integration")
    check = report.check
    check("forged token: no event", not events, events)
    with report.case("redis outage ran to the end"):   # an exception fails this case only
        ...
    return report.finish()      # or: return report.run_main(body, cleanup=...)

A check is a name and a condition; this module never decides what is
asserted, only how it is counted and shown. Standard library only.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from typing import Callable


def _indented(detail: object) -> str:
    text = detail if isinstance(detail, str) else repr(detail)
    return "\n     " + text.replace("\n", "\n     ") if text else ""


class Report:
    """Counts checks and prints them as they happen (flushed, so a hung
    test still shows how far it got)."""

    def __init__(self, name: str = "", print_passes: bool = True):
        self.name = name
        self.print_passes = print_passes  # False: only failures are printed
        self.passed = 0
        self.failed = 0

    def check(self, name: str, ok: object, detail: object = "") -> bool:
        """Count and print one check; return whether it passed."""
        if ok:
            self.passed += 1
            if self.print_passes:
                print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + _indented("" if detail is None else detail), flush=True)
        return bool(ok)

    @contextlib.contextmanager
    def case(self, name: str):
        """Run one case: an exception it raises is one failed check named
        after the case, and the script goes on with the next case."""
        try:
            yield
        except Exception:  # noqa: BLE001 - a broken case must not hide the rest
            self.check(name, False, traceback.format_exc().rstrip())

    def run_main(self, body: Callable[[], None], *, failure: str = "the test ran to the end",
                 cleanup: Callable[[], None] | None = None, **finish_options) -> int:
        """A script's whole run: body as one case named failure, cleanup
        (even if body raised), the elapsed time, the summary; returns the
        exit status (finish_options as for finish())."""
        started = time.monotonic()
        try:
            with self.case(failure):
                body()
        finally:
            if cleanup:
                cleanup()
        print(f"elapsed {time.monotonic() - started:.1f}s", flush=True)
        return self.finish(**finish_options)

    def summary(self, note: str = "") -> str:
        prefix = f"{self.name}: " if self.name else ""
        return f"{prefix}{self.passed} passed, {self.failed} failed{note}"

    def finish(self, require_passes: bool = False, extra_failure: bool = False,
               note: str = "") -> int:
        """Print the summary line (note appended to it); return the exit
        status. require_passes: a run in which nothing passed fails too.
        extra_failure: a failure the script found outside any check."""
        print(self.summary(note), flush=True)
        failed = self.failed or extra_failure or (require_passes and self.passed == 0)
        return 1 if failed else 0
