"""bench_verdict_test.py — the benchmarks' "was this run earned" guard
(bench/bench_verdict.py): each way a run can go wrong is reported, and a
clean run is not. Runs under ctest (label unit) without a mail system."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_verdict as bv  # noqa: E402


class EndToEnd(unittest.TestCase):
    def test_clean_run_is_earned(self):
        self.assertEqual(bv.e2e_problems("tenantmail-milter", sent=200, delivered=200, unsigned=0,
                                         sampled=5, verified=5), [])

    def test_the_run_that_went_past_the_milter(self):
        # signed 6/200 delivered, dkimpy verified 0/5: must not count
        problems = bv.e2e_problems("tenantmail-milter", sent=200, delivered=200, unsigned=194,
                                   sampled=5, verified=0)
        self.assertIn("tenantmail-milter run: 194/200 delivered messages unsigned", problems)
        self.assertIn("tenantmail-milter run: dkimpy verified 0/5 sampled messages", problems)

    def test_short_delivery(self):
        self.assertEqual(bv.e2e_problems("OpenDKIM", sent=200, delivered=190, unsigned=0,
                                         sampled=5, verified=5),
                         ["OpenDKIM run: 190/200 messages delivered"])

    def test_nothing_sent_or_delivered(self):
        self.assertTrue(bv.e2e_problems("x", sent=0, delivered=0, unsigned=0))
        self.assertTrue(bv.e2e_problems("x", sent=10, delivered=0, unsigned=0))

    def test_signed_by_the_other_milter(self):
        self.assertEqual(bv.e2e_problems("OpenDKIM", sent=10, delivered=10, unsigned=0, foreign=10,
                                         sampled=5, verified=5),
                         ["OpenDKIM run: 10/10 delivered messages not signed by OpenDKIM"])

    def test_unverified_or_unsampled(self):
        self.assertTrue(bv.e2e_problems("x", sent=10, delivered=10, unsigned=0, sampled=5, verified=4))
        self.assertTrue(bv.e2e_problems("x", sent=10, delivered=10, unsigned=0, sampled=0, verified=0))

    def test_baseline_must_be_complete_and_unsigned(self):
        self.assertEqual(bv.e2e_problems("no milter", sent=10, delivered=10, unsigned=10,
                                         expect_signed=False), [])
        self.assertTrue(bv.e2e_problems("no milter", sent=10, delivered=10, unsigned=7, expect_signed=False))
        self.assertTrue(bv.e2e_problems("no milter", sent=10, delivered=9, unsigned=9, expect_signed=False))


class Signer(unittest.TestCase):
    OURS = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=careers.uni.ac.uk; s=bench; t=1; h=From:To:From; bh=AAA=; b=BBB="
    ODK = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=careers.uni.ac.uk; s=bench; t=1; bh=AAA=; h=From:To:From; b=BBB="

    def test_each_signer_and_none(self):
        self.assertEqual(bv.signer_of([self.OURS]), "tenantmail")
        self.assertEqual(bv.signer_of([self.OURS, self.OURS.replace("rsa-sha256", "ed25519-sha256")]), "tenantmail")
        self.assertEqual(bv.signer_of([self.ODK]), "opendkim")
        self.assertIsNone(bv.signer_of([]))

    def test_mixed_or_unrecognised(self):
        self.assertEqual(bv.signer_of([self.OURS, self.ODK]), "several")
        self.assertEqual(bv.signer_of(["v=1; b=xyz"]), "unknown")


class MilterDriver(unittest.TestCase):
    GOOD = {"label": "tm-tcp/2k/32/1", "signed": "900", "unsigned": "0", "rejected": "0",
            "tempfail": "0", "errors": "0", "rate": "900.0"}

    def test_clean_run_is_earned(self):
        self.assertEqual(bv.milter_run_problems("ours", self.GOOD), [])

    def test_any_bad_message_spoils_the_run(self):
        for key in ("unsigned", "rejected", "tempfail", "errors"):
            row = dict(self.GOOD, **{key: "1"})
            self.assertEqual(bv.milter_run_problems("ours", row), [f"ours run: 1/901 messages {key}"], key)

    def test_no_result_or_nothing_signed(self):
        self.assertTrue(bv.milter_run_problems("ours", {"label": "x", "failed": "1"}))
        self.assertTrue(bv.milter_run_problems("ours", dict(self.GOOD, signed="0", rate="0.0")))


class Policy(unittest.TestCase):
    CHECK = {"label": "check/postfwd", "replies": "1100", "errors": "0",
             "actions": "DUNNO:1000,DEFER_IF_PERMIT:100"}
    RUN = {"label": "postfwd/32/1", "replies": "20000", "errors": "0", "rate": "8000.0",
           "actions": "DUNNO:20000"}

    def test_actions(self):
        self.assertEqual(bv.policy_split(self.CHECK), (1000, 100))
        self.assertEqual(bv.policy_split({"actions": "-"}), (0, 0))

    def test_correct_check(self):
        self.assertEqual(bv.policy_check_problems("postfwd", self.CHECK, permitted=1000, refused=100), [])

    def test_wrong_check(self):
        row = dict(self.CHECK, actions="DUNNO:1100")
        self.assertEqual(bv.policy_check_problems("postfwd", row, permitted=1000, refused=100),
                         ["postfwd check: 1100 permitted and 0 refused, expected 1000 and 100"])
        self.assertTrue(bv.policy_check_problems("postfwd", dict(self.CHECK, errors="3"),
                                                 permitted=1000, refused=100))
        self.assertTrue(bv.policy_check_problems("postfwd", {"failed": "1"}, permitted=1000, refused=100))

    def test_clean_run_is_earned(self):
        self.assertEqual(bv.policy_run_problems("postfwd", self.RUN, tenants=1000, limit=500), [])

    def test_errors_empty_or_wrongly_refused_runs(self):
        self.assertTrue(bv.policy_run_problems("p", dict(self.RUN, errors="5"), tenants=1000, limit=500))
        self.assertTrue(bv.policy_run_problems("p", dict(self.RUN, replies="0", rate="0.0", actions="-"),
                                               tenants=1000, limit=500))
        self.assertTrue(bv.policy_run_problems("p", {"failed": "1"}, tenants=1000, limit=500))
        refusing = dict(self.RUN, actions="DUNNO:10000,DEFER_IF_PERMIT:10000")
        self.assertEqual(bv.policy_run_problems("p", refusing, tenants=1000, limit=500),
                         ["p run: 10000/20000 requests refused although no tenant can have reached "
                          "its limit of 500"])

    def test_refusals_allowed_once_the_limit_is_within_reach(self):
        heavy = dict(self.RUN, replies="400000", actions="DUNNO:399000,DEFER_IF_PERMIT:1000")
        self.assertEqual(bv.policy_run_problems("p", heavy, tenants=1000, limit=500), [])


class HttpRuns(unittest.TestCase):
    RUN = {"label": "trackd pixel", "requests": "30000", "rate": "10000", "p50_ms": "0.7", "p99_ms": "2.1",
           "errors": "0", "status_200": "30000"}

    def test_clean_run_is_earned(self):
        self.assertEqual(bv.http_run_problems("trackd pixel", self.RUN, status=200), [])

    def test_wrong_statuses_are_reported(self):
        run = dict(self.RUN, status_200="29000", status_404="1000")
        self.assertEqual(bv.http_run_problems("trackd pixel", run, status=200),
                         ["trackd pixel run: 1000/30000 responses had status 404, expected 200"])
        self.assertTrue(bv.http_run_problems("nginx redirect", self.RUN, status=302))

    def test_errors_and_empty_runs(self):
        self.assertTrue(bv.http_run_problems("x", dict(self.RUN, errors="3"), status=200))
        self.assertTrue(bv.http_run_problems("x", {"requests": "0", "rate": "0", "errors": "0"}, status=200))
        self.assertTrue(bv.http_run_problems("x", {"failed": "1"}, status=200))


if __name__ == "__main__":
    unittest.main()
