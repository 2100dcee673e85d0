#!/usr/bin/python3
"""Unit tests of the lab's scenario runner: scenario parsing, the comparison and its diff, and a
whole gwprobe call through fake_gwprobe.py (canned JSON). Needs no root and no namespaces.

Run: /usr/bin/python3 -m unittest tests/lab/scenario_runner_test.py  (GWPROBE_BIN = the real
binary, optional: then every shipped scenario's codes are checked against `gwprobe codes`).
"""

import glob
import json
import os
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenario_runner as runner  # noqa: E402

FAKE = os.path.join(HERE, "fake_gwprobe.py")
SCENARIOS = sorted(glob.glob(os.path.join(HERE, "scenarios", "*.toml")))

MINIMAL_PROFILE = 'profile_toml = """name = "t"\\n"""'


def scenario_from(text, profiles_dir=None):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(textwrap.dedent(text))
    try:
        return runner.load_scenario(f.name, profiles_dir or os.path.join(HERE, "profiles"))
    finally:
        os.unlink(f.name)


def result(check_id, diagnosis="OK", status="pass", message=""):
    return {"id": check_id, "kind": check_id.split(":", 1)[0], "target": check_id.split(":", 1)[1],
            "status": status, "diagnosis": diagnosis, "message": message}


def report(verdict, *results):
    return {"schema": "gwprobe.report/v1", "tool_version": "test", "profile": "lab-healthy",
            "verdict": verdict, "results": list(results)}


DROP_SCENARIO = f"""
    description = "drop"
    requires = ["proxy"]
    [gwprobe]
    {MINIMAL_PROFILE}
    [expect]
    exit = 0
    verdict = "degraded"
    unlisted = "OK"
    [expect.results]
    "tcp:relay.lab.test:443" = "OK"
    "tcp:relay.lab.test:935?" = {{ diagnosis = "TCP_FILTERED", status = "warn" }}
"""

DROP_REPORT = report("degraded", result("dns:relay.lab.test"), result("tcp:relay.lab.test:443"),
                     *[result(f"tcp:relay.lab.test:{p}", "TCP_FILTERED", "warn")
                       for p in range(9350, 9355)])


class ShippedScenariosTest(unittest.TestCase):
    def test_every_shipped_scenario_loads(self):
        self.assertGreaterEqual(len(SCENARIOS), 7)
        for path in SCENARIOS:
            with self.subTest(scenario=os.path.basename(path)):
                s = runner.load_scenario(path)
                self.assertTrue(s.results or s.tool_checks)

    def test_every_shipped_scenario_names_only_real_diagnosis_codes(self):
        gwprobe = os.environ.get("GWPROBE_BIN")
        if not gwprobe:
            self.skipTest("GWPROBE_BIN not set")
        codes = runner.gwprobe_codes(gwprobe)
        self.assertIn("TCP_FILTERED", codes)
        for path in SCENARIOS:
            with self.subTest(scenario=os.path.basename(path)):
                runner.check_codes_known(runner.load_scenario(path), codes)

    def test_a_misspelt_code_is_reported_with_the_scenario_file(self):
        s = scenario_from(DROP_SCENARIO.replace("TCP_FILTERED", "TCP_FILTRED"))
        with self.assertRaisesRegex(runner.ScenarioError, r"TCP_FILTRED is not a gwprobe diagnosis"):
            runner.check_codes_known(s, {"OK", "TCP_FILTERED"})


class LoadScenarioRejectionsTest(unittest.TestCase):
    CASES = [
        ("no description", f'[gwprobe]\n{MINIMAL_PROFILE}\n[expect]\nexit = 0\n',
         "missing 'description'"),
        ("unknown top-level key", f'description = "x"\ntopolgy = {{}}\n[gwprobe]\n{MINIMAL_PROFILE}\n'
         '[expect]\nexit = 0\n', r"unknown key\(s\) topolgy"),
        ("two profiles", 'description = "x"\n[gwprobe]\nprofile = "lab-healthy.toml"\n'
         f'{MINIMAL_PROFILE}\n[expect]\nexit = 0\n', "exactly one of 'profile'"),
        ("missing profile file", 'description = "x"\n[gwprobe]\nprofile = "nope.toml"\n'
         '[expect]\nexit = 0\n', "profile 'nope.toml'"),
        ("bad status", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect.results]\n'
         '"tcp:a:1" = { diagnosis = "OK", status = "passed" }\n', "status 'passed' is not one of"),
        ("bad verdict", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect]\n'
         'verdict = "fine"\n', "verdict 'fine' is not one of"),
        ("id without kind", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect.results]\n'
         '"relay" = "OK"\n', "a check id is KIND:TARGET"),
        ("lower-case code", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect.results]\n'
         '"tcp:a:1" = "ok"\n', "'ok' is not a diagnosis code"),
        ("exit as string", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect]\nexit = "0"\n',
         "'exit' must be int"),
        ("exit as boolean", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect]\nexit = true\n',
         "'exit' must be int"),
        ("tool check in an unknown namespace", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n'
         '[expect]\n[[tool_check]]\nname = "n"\nrun = "true"\nns = "router"\n', "ns 'router'"),
        ("tool check with a broken regex", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n'
         '[expect]\n[[tool_check]]\nname = "n"\nrun = "true"\nstdout = "("\n',
         "not a valid regular expression"),
        ("nothing expected", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n[expect]\n',
         "expects nothing"),
        ("not TOML", 'description = "x\n', "not valid TOML"),
        ("requires a non-kind", f'description = "x"\nrequires = ["TLS probe"]\n[gwprobe]\n'
         f'{MINIMAL_PROFILE}\n[expect]\nexit = 0\n', "is not a probe kind"),
        ("a fact with a bad name", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n'
         '[expect.results]\n"tcp:a:1" = { diagnosis = "OK", facts = { "RST TTL" = 64 } }\n',
         "'RST TTL' is not a fact name"),
        ("a fact that is a table", f'description = "x"\n[gwprobe]\n{MINIMAL_PROFILE}\n'
         '[expect.results]\n"tcp:a:1" = { diagnosis = "OK", facts = { ttl = { v = 1 } } }\n',
         "ttl must be a string, number or boolean"),
    ]

    def test_each_malformed_scenario_is_rejected_with_a_clear_message(self):
        for name, text, message in self.CASES:
            with self.subTest(case=name):
                with self.assertRaisesRegex(runner.ScenarioError, message) as ctx:
                    scenario_from(text)
                self.assertRegex(str(ctx.exception), r"\.toml: ")


class EvaluateTest(unittest.TestCase):
    def setUp(self):
        self.scenario = scenario_from(DROP_SCENARIO)

    def test_a_matching_report_passes(self):
        ev = runner.evaluate(self.scenario, DROP_REPORT, 0)
        self.assertEqual(ev.mismatches, [])
        self.assertEqual(ev.outcome, runner.EXIT_PASS)
        self.assertEqual(ev.checked, 4)  # two id expectations, verdict, exit code

    def test_a_pattern_must_hold_for_every_check_it_matches(self):
        bad = json.loads(json.dumps(DROP_REPORT))
        bad["results"][4]["diagnosis"] = "TCP_REFUSED"  # port 9352
        ev = runner.evaluate(self.scenario, bad, 0)
        self.assertEqual([m[0] for m in ev.mismatches], ["tcp:relay.lab.test:9352"])
        self.assertEqual(ev.outcome, runner.EXIT_FAIL)

    def test_a_status_mismatch_is_reported_even_when_the_code_matches(self):
        bad = json.loads(json.dumps(DROP_REPORT))
        bad["results"][2]["status"] = "fail"  # 9350 failing instead of warning
        ev = runner.evaluate(self.scenario, bad, 0)
        self.assertEqual(ev.mismatches, [("tcp:relay.lab.test:9350", "TCP_FILTERED/warn",
                                          "TCP_FILTERED/fail")])

    def test_wrong_verdict_and_exit_code_are_mismatches(self):
        bad = dict(DROP_REPORT, verdict="not_ready")
        ev = runner.evaluate(self.scenario, bad, 1)
        self.assertIn(("verdict", "degraded", "not_ready"), ev.mismatches)
        self.assertIn(("exit code", "0", "1"), ev.mismatches)

    def test_a_missing_check_fails_when_its_kind_is_not_pending(self):
        short = dict(DROP_REPORT, results=DROP_REPORT["results"][:2])
        ev = runner.evaluate(self.scenario, short, 0)
        self.assertEqual(ev.mismatches, [("tcp:relay.lab.test:935?", "TCP_FILTERED/warn",
                                          "no such check in the report")])

    def test_unlisted_checks_must_have_the_unlisted_code(self):
        extra = dict(DROP_REPORT, results=DROP_REPORT["results"] +
                     [result("dns:login.lab.test", "DNS_TIMEOUT", "fail")])
        ev = runner.evaluate(self.scenario, extra, 0)
        self.assertEqual([m[0] for m in ev.mismatches], ["dns:login.lab.test"])

    def test_expectations_on_a_required_kind_without_checks_are_pending_not_failed(self):
        s = scenario_from(DROP_SCENARIO + '    "proxy:*" = "PROXY_AUTH_REQUIRED"\n')
        ev = runner.evaluate(s, DROP_REPORT, 0)
        self.assertEqual(ev.mismatches, [])
        self.assertEqual([p[0] for p in ev.pending], ["proxy:*", "verdict", "exit code"])
        self.assertEqual(ev.outcome, runner.EXIT_SKIP)

    def test_once_the_required_kind_appears_its_expectations_are_compared(self):
        s = scenario_from(DROP_SCENARIO + '    "proxy:*" = "PROXY_AUTH_REQUIRED"\n')
        with_proxy = dict(DROP_REPORT, results=DROP_REPORT["results"] +
                          [result("proxy:relay.lab.test:443", "PROXY_CONNECT_DENIED", "fail")])
        ev = runner.evaluate(s, with_proxy, 0)
        self.assertEqual(ev.pending, [])
        self.assertIn(("proxy:relay.lab.test:443", "PROXY_AUTH_REQUIRED",
                       "PROXY_CONNECT_DENIED/fail"), ev.mismatches)

    def test_a_missing_check_of_a_required_kind_that_has_landed_fails(self):
        s = scenario_from(DROP_SCENARIO + '    "proxy:login.lab.test:443" = "OK"\n')
        with_proxy = dict(DROP_REPORT, results=DROP_REPORT["results"] +
                          [result("proxy:relay.lab.test:443")])
        ev = runner.evaluate(s, with_proxy, 0)
        self.assertEqual(ev.pending, [])
        self.assertEqual(ev.mismatches, [("proxy:login.lab.test:443", "OK",
                                          "no such check in the report")])

    def test_strict_mode_turns_pending_expectations_into_failures(self):
        s = scenario_from(DROP_SCENARIO + '    "proxy:*" = "PROXY_AUTH_REQUIRED"\n')
        ev = runner.evaluate(s, DROP_REPORT, 0, strict=True)
        self.assertEqual(ev.pending, [])
        self.assertEqual([m[0] for m in ev.mismatches], ["proxy:*", "verdict", "exit code"])
        self.assertEqual(ev.outcome, runner.EXIT_FAIL)

    def test_a_rejected_command_line_is_pending_for_a_scenario_awaiting_probes(self):
        s = scenario_from(DROP_SCENARIO)  # requires = ["proxy"]
        said = "gwprobe: The following arguments were not expected: --proxy\n"
        ev = runner.evaluate(s, None, 2, said)
        self.assertEqual(ev.mismatches, [])
        self.assertEqual(ev.pending[0][0], "command line")
        self.assertIn("not expected: --proxy", ev.pending[0][1])
        self.assertEqual(runner.evaluate(s, None, 2, said, strict=True).outcome, runner.EXIT_FAIL)

    def test_a_rejected_command_line_fails_a_scenario_that_awaits_nothing(self):
        s = scenario_from(DROP_SCENARIO.replace('requires = ["proxy"]', ""))
        ev = runner.evaluate(s, None, 2, "gwprobe: bad flag\n")
        self.assertEqual(ev.outcome, runner.EXIT_FAIL)

    def test_no_json_report_is_a_failure(self):
        ev = runner.evaluate(self.scenario, None, 3)
        self.assertEqual(ev.mismatches, [("report", "a JSON report on stdout", "none (exit 3)")])

    def test_a_wrong_schema_is_a_failure(self):
        ev = runner.evaluate(self.scenario, dict(DROP_REPORT, schema="other/v9"), 0)
        self.assertIn(("schema", "gwprobe.report/v1", "'other/v9'"), ev.mismatches)

    def test_a_secret_in_the_output_fails_the_scenario(self):
        secrets = [("LAB_PROXY_PASSWORD", "5ecretf00d")]
        ev = runner.evaluate(self.scenario, DROP_REPORT, 0, "proxy http://gwlab:5ecretf00d@x", secrets)
        self.assertEqual(ev.mismatches[0][0], "secrets")
        clean = runner.evaluate(self.scenario, DROP_REPORT, 0, "proxy http://gwlab:***@x", secrets)
        self.assertEqual(clean.mismatches, [])

    def test_expected_facts_must_equal_the_checks_facts(self):
        s = scenario_from(DROP_SCENARIO.replace(
            '"tcp:relay.lab.test:443" = "OK"',
            '"tcp:relay.lab.test:443" = { diagnosis = "OK", facts = { capture_rst_ttl = 64, '
            'capture_rst_injected = true, capture_icmp_from = "10.77.1.1" } }'))
        good = json.loads(json.dumps(DROP_REPORT))
        good["results"][1]["facts"] = {"capture_rst_ttl": 64, "capture_rst_injected": True,
                                       "capture_icmp_from": "10.77.1.1", "other": "x"}
        self.assertEqual(runner.evaluate(s, good, 0).mismatches, [])
        bad = json.loads(json.dumps(good))
        bad["results"][1]["facts"].update(capture_rst_ttl=63, capture_rst_injected=1)
        del bad["results"][1]["facts"]["capture_icmp_from"]
        ev = runner.evaluate(s, bad, 0)
        self.assertEqual(ev.mismatches, [
            ("tcp:relay.lab.test:443", "capture_rst_ttl = 64", "capture_rst_ttl = 63"),
            ("tcp:relay.lab.test:443", "capture_rst_injected = true", "capture_rst_injected = 1"),
            ("tcp:relay.lab.test:443", 'capture_icmp_from = "10.77.1.1"', "absent")])

    def test_the_diff_names_scenario_check_expected_and_got(self):
        bad = json.loads(json.dumps(DROP_REPORT))
        bad["results"][1].update(diagnosis="TCP_REFUSED", status="fail", message="reset by 10.77.1.1")
        ev = runner.evaluate(self.scenario, bad, 0)
        text = runner.format_evaluation(self.scenario, ev, bad)
        self.assertIn("MISMATCH in scenario", text)
        self.assertRegex(text, r"tcp:relay\.lab\.test:443 +OK +TCP_REFUSED/fail  \"reset by 10\.77\.1\.1\"")
        self.assertRegex(text, r"x tcp:relay\.lab\.test:443")   # marked in the full result list
        self.assertRegex(text, r"  dns:relay\.lab\.test +OK/pass")


class HelpersTest(unittest.TestCase):
    def test_lab_names_take_the_prefix_lab_sh_takes(self):
        saved = os.environ.pop("GWLAB_PREFIX", None)
        try:
            self.assertRegex(runner.new_lab_name(), r"^gwl[0-9a-f]{4}$")
            os.environ["GWLAB_PREFIX"] = "cap"
            self.assertRegex(runner.new_lab_name(), r"^cap[0-9a-f]{4}$")
        finally:
            os.environ.pop("GWLAB_PREFIX", None)
            if saved is not None:
                os.environ["GWLAB_PREFIX"] = saved

    def test_topology_values_become_lab_knobs(self):
        args = runner.knob_args({"squid": True, "reference": False, "idle_cut": 3,
                                 "firewall": ["drop tcp 9350-9354 to relay", "reset tcp 443"]})
        self.assertEqual(args, ["--set", "squid=on", "--set", "reference=off", "--set", "idle_cut=3",
                                "--set", "firewall=drop tcp 9350-9354 to relay;reset tcp 443"])

    def test_lab_variables_are_substituted_and_unknown_ones_rejected(self):
        env = {"LAB_CA": "/tmp/gwlab/x/ca/root.pem"}
        self.assertEqual(runner.substitute('ca_file = "${LAB_CA}" url = "/$hc/x"', env, "w"),
                         'ca_file = "/tmp/gwlab/x/ca/root.pem" url = "/$hc/x"')
        with self.assertRaisesRegex(runner.ScenarioError, r"unknown variable \$\{LAB_PROXY\}"):
            runner.substitute("--proxy ${LAB_PROXY}", env, "w")

    def test_the_env_file_is_read_without_its_quotes(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("LAB_NAME='gwl1a2b'\nLAB_PROXY='http://10.77.1.1:3128'\n")
        try:
            self.assertEqual(runner.read_env_file(f.name),
                             {"LAB_NAME": "gwl1a2b", "LAB_PROXY": "http://10.77.1.1:3128"})
        finally:
            os.unlink(f.name)

    def test_child_environment_drops_the_callers_proxy_settings(self):
        old = os.environ.get("HTTPS_PROXY")
        os.environ["HTTPS_PROXY"] = "http://corp-proxy.invalid:8080"
        try:
            env = runner.child_env({"LAB_NAME": "gwl1"})
        finally:
            if old is None:
                del os.environ["HTTPS_PROXY"]
            else:
                os.environ["HTTPS_PROXY"] = old
        self.assertNotIn("HTTPS_PROXY", env)
        self.assertEqual(env["LAB_NAME"], "gwl1")
        self.assertEqual(env["NO_COLOR"], "1")


class FakeGwprobeTest(unittest.TestCase):
    """The runner's gwprobe call, end to end, against fake_gwprobe.py (no namespace prefix)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.report_path = os.path.join(self.tmp.name, "report.json")
        self.argv_log = os.path.join(self.tmp.name, "argv.log")
        self.profile = os.path.join(self.tmp.name, "profile.toml")
        with open(self.profile, "w") as f:
            f.write('name = "t"\n')
        self.env = runner.child_env({"FAKE_GWPROBE_REPORT": self.report_path,
                                     "FAKE_GWPROBE_ARGV_LOG": self.argv_log})

    def tearDown(self):
        self.tmp.cleanup()

    def run_fake(self, canned, args=(), **env):
        with open(self.report_path, "w") as f:
            f.write(canned if isinstance(canned, str) else json.dumps(canned))
        return runner.run_gwprobe([], FAKE, self.profile, list(args), 30, dict(self.env, **env))

    def test_the_runner_asks_for_a_json_check_of_the_profile_with_the_scenario_args(self):
        self.run_fake(DROP_REPORT, ["--proxy", "http://10.77.1.1:3128"])
        with open(self.argv_log) as f:
            argv = json.loads(f.readline())
        self.assertEqual(argv, ["check", "--profile", self.profile, "--format", "json",
                                "--proxy", "http://10.77.1.1:3128"])

    def test_a_canned_matching_report_passes(self):
        code, rep, out, _ = self.run_fake(DROP_REPORT)
        self.assertEqual(code, 0)
        ev = runner.evaluate(scenario_from(DROP_SCENARIO), rep, code, out)
        self.assertEqual(ev.outcome, runner.EXIT_PASS)

    def test_a_canned_mismatching_report_fails_with_a_diff(self):
        bad = dict(DROP_REPORT, verdict="not_ready")
        code, rep, out, _ = self.run_fake(bad)
        self.assertEqual(code, 1)
        s = scenario_from(DROP_SCENARIO)
        ev = runner.evaluate(s, rep, code, out)
        self.assertEqual(ev.outcome, runner.EXIT_FAIL)
        self.assertIn("exit code", runner.format_evaluation(s, ev, rep))

    def test_output_that_is_not_json_gives_no_report(self):
        code, rep, _, _ = self.run_fake("gwprobe: profile.toml:1:1: expected a table\n",
                                        FAKE_GWPROBE_EXIT="2")
        self.assertEqual(code, 2)
        self.assertIsNone(rep)

    def test_a_gwprobe_that_outlives_its_timeout_is_killed(self):
        with open(self.report_path, "w") as f:
            json.dump(DROP_REPORT, f)
        code, rep, _, err = runner.run_gwprobe([], FAKE, self.profile, [], 0.5,
                                               dict(self.env, FAKE_GWPROBE_SLEEP="60"))
        self.assertIsNone(rep)
        self.assertIn("gwprobe killed after 0.5 s", err)

    def test_a_binary_without_check_is_recognised(self):
        os.environ["FAKE_GWPROBE_NO_CHECK"] = "1"
        try:
            ok, why = runner.gwprobe_check_support(FAKE)
        finally:
            del os.environ["FAKE_GWPROBE_NO_CHECK"]
        self.assertFalse(ok)
        self.assertIn("not available", why)
        self.assertEqual(runner.gwprobe_check_support(FAKE), (True, ""))


if __name__ == "__main__":
    unittest.main()
