"""bench_verdict.py — whether a benchmark run earned the figure it reports.

A throughput figure means something only if the work it counts was the work
asked for: every message signed by the signer under test, every policy
request answered correctly. These functions take a run's counts and return
what was wrong with it, one sentence each; an empty list means the run
earned its figure. They are pure (no I/O) so that bench/bench_verdict_test.py
can check them without a mail system; the run-*.sh scripts print the
sentences and report no ratio built on a run that has any.
"""
import re

# The names the end-to-end runs go by, as the table prints them.
E2E_LABELS = {"none": "no milter", "tenantmail": "tenantmail-milter", "opendkim": "OpenDKIM"}


def signer_of(signatures: list[str]) -> str | None:
    """Which milter made the DKIM-Signature fields (unfolded values) of a
    message: "tenantmail", "opendkim", "several" when they disagree, None when
    unsigned. Both sign with the same key, so their fixed tag orders tell
    them apart: tenantmail writes h= before bh=, OpenDKIM bh= before h=
    (run-milter-bench.sh checks this on each milter's own output first)."""
    found = set()
    for value in signatures:
        tags = [t.split("=", 1)[0].strip() for t in value.split(";") if "=" in t]
        if "h" in tags and "bh" in tags:
            found.add("tenantmail" if tags.index("h") < tags.index("bh") else "opendkim")
        else:
            found.add("unknown")
    if not found:
        return None
    return found.pop() if len(found) == 1 else "several"


# A policy reply that refuses (defers or rejects) the recipient.
REFUSAL = re.compile(r"^(DEFER|REJECT|[45]\d\d)", re.IGNORECASE)


def e2e_problems(label: str, *, sent: int, delivered: int, unsigned: int, foreign: int = 0,
                 sampled: int = 0, verified: int = 0, expect_signed: bool = True) -> list[str]:
    """An end-to-end run through Postfix: `sent` messages submitted,
    `delivered` of them arrived, `unsigned` arrived without a DKIM-Signature,
    `foreign` arrived signed by some other signer than the one under test,
    `verified` of `sampled` passed dkimpy. The baseline (expect_signed False)
    must arrive complete and unsigned."""
    problems = []
    if sent <= 0:
        problems.append(f"{label} run: no message sent")
    elif delivered < sent:
        problems.append(f"{label} run: {delivered}/{sent} messages delivered")
    elif delivered > sent:
        problems.append(f"{label} run: {delivered} messages delivered for {sent} sent")
    if not expect_signed:
        signed = delivered - unsigned
        if signed:
            problems.append(f"{label} run: {signed}/{delivered} delivered messages signed without a milter")
        return problems
    if unsigned:
        problems.append(f"{label} run: {unsigned}/{delivered} delivered messages unsigned")
    if foreign:
        problems.append(f"{label} run: {foreign}/{delivered} delivered messages not signed by {label}")
    if delivered and not sampled:
        problems.append(f"{label} run: no delivered message checked with dkimpy")
    elif verified < sampled:
        problems.append(f"{label} run: dkimpy verified {verified}/{sampled} sampled messages")
    return problems


def _count(row: dict, key: str) -> int:
    try:
        return int(row.get(key, 0))
    except ValueError:
        return -1


def _rate(row: dict) -> float:
    try:
        return float(row.get("rate", "nan"))
    except ValueError:
        return float("nan")


def milter_run_problems(label: str, row: dict) -> list[str]:
    """A bench/milter_load RESULT line (as a dict of its key=value fields):
    every message accepted with a DKIM-Signature insert, at least one."""
    if row.get("failed") or "signed" not in row:
        return [f"{label} run: the driver gave no result"]
    problems = []
    signed = _count(row, "signed")
    others = {k: _count(row, k) for k in ("unsigned", "rejected", "tempfail", "errors")}
    total = signed + sum(max(n, 0) for n in others.values())
    for what, n in others.items():
        if n:
            problems.append(f"{label} run: {n}/{total} messages {what}")
    if signed <= 0:
        problems.append(f"{label} run: no message signed")
    if not _rate(row) > 0:
        problems.append(f"{label} run: no throughput measured")
    return problems


def policy_actions(row: dict) -> dict[str, int]:
    """bench/policy_load's actions=VERB:N,VERB:N field as a dict."""
    out = {}
    for item in row.get("actions", "-").split(","):
        verb, sep, n = item.rpartition(":")
        if sep and n.isdigit():
            out[verb] = out.get(verb, 0) + int(n)
    return out


def policy_split(row: dict) -> tuple[int, int]:
    """(permitted, refused) replies of a policy_load RESULT line."""
    acts = policy_actions(row)
    refused = sum(n for verb, n in acts.items() if REFUSAL.match(verb))
    return sum(acts.values()) - refused, refused


def policy_check_problems(label: str, row: dict, *, permitted: int, refused: int) -> list[str]:
    """The correctness check: exactly `permitted` permits and `refused`
    refusals, no error."""
    if row.get("failed") or "replies" not in row:
        return [f"{label} check: the driver gave no result"]
    problems = []
    got_permitted, got_refused = policy_split(row)
    if (got_permitted, got_refused) != (permitted, refused):
        problems.append(f"{label} check: {got_permitted} permitted and {got_refused} refused, "
                        f"expected {permitted} and {refused}")
    if _count(row, "errors"):
        problems.append(f"{label} check: {row.get('errors')} errors")
    return problems


def policy_run_problems(label: str, row: dict, *, tenants: int, limit: int) -> list[str]:
    """A measured policy run: replies counted, no error, and no refusal while
    the tenants' mean load stays below a quarter of the limit (requests are
    spread uniformly, so no tenant can have reached it: a refusal there is a
    wrong answer, not the limit at work)."""
    if row.get("failed") or "replies" not in row:
        return [f"{label} run: the driver gave no result"]
    problems = []
    replies = _count(row, "replies")
    if replies <= 0:
        problems.append(f"{label} run: no reply counted")
    if _count(row, "errors"):
        problems.append(f"{label} run: {row.get('errors')} errors in {replies} replies")
    _, refused = policy_split(row)
    if refused and replies * 4 < tenants * limit:
        problems.append(f"{label} run: {refused}/{replies} requests refused although no tenant "
                        f"can have reached its limit of {limit}")
    if not _rate(row) > 0:
        problems.append(f"{label} run: no throughput measured")
    return problems


def http_run_problems(label: str, row: dict, *, status: int) -> list[str]:
    """A bench/trackd_load line (as a dict of its key=value fields): every
    response had the expected status (200 for a pixel, 302 for a redirect),
    none was lost, at least one was counted."""
    if row.get("failed") or "requests" not in row:
        return [f"{label} run: the driver gave no result"]
    problems = []
    requests = _count(row, "requests")
    if requests <= 0:
        problems.append(f"{label} run: no response counted")
    wrong = {k: _count(row, k) for k in row if k.startswith("status_") and k != f"status_{status}"}
    for key, n in sorted(wrong.items()):
        problems.append(f"{label} run: {n}/{requests} responses had status {key[7:]}, expected {status}")
    if _count(row, f"status_{status}") != requests:
        if not wrong:
            problems.append(f"{label} run: {_count(row, f'status_{status}')}/{requests} responses had status {status}")
    if _count(row, "errors"):
        problems.append(f"{label} run: {row.get('errors')} broken connections")
    if not _rate(row) > 0:
        problems.append(f"{label} run: no throughput measured")
    return problems
