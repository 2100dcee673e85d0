#!/usr/bin/python3
"""Runs one network-lab scenario: lab up with the scenario's knobs, tool checks, gwprobe, compare.

Usage: scenario_runner.py [--gwprobe PATH] [--artifacts DIR] [--lab-name N] [--keep]
                          [--tools-only] SCENARIO.toml

Brings the lab up (scripts/lab.sh up with the scenario's [topology] knobs), runs its tool checks
(real dig/curl/nc/openssl from a lab namespace: proof that the lab itself is right), runs
`ip netns exec <client> gwprobe check --profile P --format json ARGS` and compares each check's
diagnosis code (and status, verdict, exit code) with [expect], printing a diff on mismatch; then
tears the lab down, also on failure, Ctrl-C or SIGTERM.

Exit: 0 pass, 1 mismatch or lab failure, 2 bad scenario or arguments, 77 skipped (not root, no
network namespaces, gwprobe without `check`, or expectations pending until a probe lands).
GWPROBE_LAB_STRICT=1 turns pending expectations into failures (for when every probe has landed).
Standard library only; needs Python >= 3.11 (tomllib): run it with /usr/bin/python3.
"""

import argparse
import dataclasses
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

try:
    import tomllib
except ImportError:  # pragma: no cover - Debian 12's /usr/bin/python3 is 3.11
    print("scenario_runner: needs Python >= 3.11 (tomllib); run it with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(2)

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_SKIP, EXIT_INTERRUPTED = 0, 1, 2, 77, 130
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_LAB_SCRIPT = os.path.join(REPO, "scripts", "lab.sh")
PROFILES_DIR = os.path.join(HERE, "profiles")
TOOLS_DIR = os.path.join(HERE, "tools")
SYSTEM_PYTHON = "/usr/bin/python3"

STATUSES = ("pass", "warn", "fail", "skip", "error")
VERDICTS = ("ready", "degraded", "not_ready")
NAMESPACES = ("client", "edge", "dns", "cloud")
LAB_UP_TIMEOUT_S = 90        # lab.sh waits at most 20 s per component; this bounds the whole
LAB_DOWN_TIMEOUT_S = 60
GWPROBE_TIMEOUT_S = 60       # default bound on one gwprobe run (scenario may change it)
TOOL_CHECK_TIMEOUT_S = 20
GRACE_S = 10                 # after SIGINT/SIGTERM, how long a child may take to clean up
# Proxy variables gwprobe honours: a CI environment's own must not leak into a lab run.
PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
             "all_proxy", "NO_PROXY", "no_proxy")
SECRET_VARS = ("LAB_PROXY_PASSWORD", "LAB_DB_PASSWORD")
LOG_SUFFIXES = (".log", ".out", ".conf", ".cfg", "knobs")


class ScenarioError(Exception):
    """The scenario file is malformed (message starts with the file name)."""


class Interrupted(Exception):
    """SIGINT or SIGTERM reached the runner."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclasses.dataclass
class Expectation:
    pattern: str              # a check id, or an fnmatch pattern ("tcp:relay.lab.test:935?")
    diagnosis: str
    status: str | None = None
    facts: dict = dataclasses.field(default_factory=dict)  # fact -> exact value (JSON equality)

    @property
    def kind(self):
        return self.pattern.split(":", 1)[0]


@dataclasses.dataclass
class ToolCheck:
    name: str
    run: str
    ns: str = "client"
    exit: int | None = 0
    stdout: str | None = None
    stderr: str | None = None
    output: str | None = None
    timeout: float = TOOL_CHECK_TIMEOUT_S


@dataclasses.dataclass
class Scenario:
    path: str
    name: str
    description: str
    requires: list
    topology: dict
    profile_text: str
    args: list
    gwprobe_timeout: float
    expect_exit: int | None
    expect_verdict: str | None
    unlisted: str
    results: list
    tool_checks: list


# ---------------------------------------------------------------------------------------------
# Scenario files

def _take(table, key, types, where, default=None, required=False):
    if key not in table:
        if required:
            raise ScenarioError(f"{where}: missing '{key}'")
        return default
    value = table[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = " or ".join(t.__name__ for t in _as_tuple(types))
        raise ScenarioError(f"{where}: '{key}' must be {names}, not {type(value).__name__}")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _no_unknown_keys(table, allowed, where):
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} "
                            f"(expected: {', '.join(sorted(allowed))})")


def load_scenario(path, profiles_dir=PROFILES_DIR):
    """Parses and validates a scenario file; raises ScenarioError with 'file: what is wrong'."""
    where = os.path.relpath(path) if os.path.isabs(path) else path
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ScenarioError(f"{where}: cannot read: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{where}: not valid TOML: {e}")
    _no_unknown_keys(data, ("description", "requires", "topology", "gwprobe", "expect",
                            "tool_check"), where)
    description = _take(data, "description", str, where, required=True)
    requires = _take(data, "requires", list, where, default=[])
    for kind in requires:
        if not isinstance(kind, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
            raise ScenarioError(f"{where}: requires: {kind!r} is not a probe kind (dns, tcp, tls...)")

    topology = _take(data, "topology", dict, where, default={})
    for key, value in topology.items():
        if not re.fullmatch(r"[a-z_]+", key):
            raise ScenarioError(f"{where}: [topology] key {key!r} is not a knob name")
        if not isinstance(value, (str, int, bool, list)):
            raise ScenarioError(f"{where}: [topology] {key} must be a string, number, boolean or list")

    gw = _take(data, "gwprobe", dict, where, default={})
    _no_unknown_keys(gw, ("profile", "profile_toml", "args", "timeout"), f"{where}: [gwprobe]")
    if ("profile" in gw) == ("profile_toml" in gw):
        raise ScenarioError(f"{where}: [gwprobe] needs exactly one of 'profile' (a file under "
                            f"tests/lab/profiles) or 'profile_toml' (the profile inline)")
    if "profile" in gw:
        name = _take(gw, "profile", str, f"{where}: [gwprobe]")
        profile_path = os.path.join(profiles_dir, name)
        try:
            with open(profile_path, encoding="utf-8") as f:
                profile_text = f.read()
        except OSError as e:
            raise ScenarioError(f"{where}: [gwprobe] profile {name!r}: {e.strerror} ({profile_path})")
    else:
        profile_text = _take(gw, "profile_toml", str, f"{where}: [gwprobe]")
    args = _take(gw, "args", list, f"{where}: [gwprobe]", default=[])
    if not all(isinstance(a, str) for a in args):
        raise ScenarioError(f"{where}: [gwprobe] args must be strings")
    gwprobe_timeout = float(_take(gw, "timeout", (int, float), f"{where}: [gwprobe]",
                                  default=GWPROBE_TIMEOUT_S))

    expect = _take(data, "expect", dict, where, required=True)
    _no_unknown_keys(expect, ("exit", "verdict", "unlisted", "results"), f"{where}: [expect]")
    expect_exit = _take(expect, "exit", int, f"{where}: [expect]")
    expect_verdict = _take(expect, "verdict", str, f"{where}: [expect]")
    if expect_verdict is not None and expect_verdict not in VERDICTS:
        raise ScenarioError(f"{where}: [expect] verdict {expect_verdict!r} is not one of "
                            f"{', '.join(VERDICTS)}")
    unlisted = _take(expect, "unlisted", str, f"{where}: [expect]", default="any")
    results = []
    for pattern, value in _take(expect, "results", dict, f"{where}: [expect]", default={}).items():
        rwhere = f"{where}: [expect.results] {pattern!r}"
        if ":" not in pattern:
            raise ScenarioError(f"{rwhere}: a check id is KIND:TARGET (e.g. tcp:relay.lab.test:443)")
        if isinstance(value, str):
            results.append(Expectation(pattern, value))
        elif isinstance(value, dict):
            _no_unknown_keys(value, ("diagnosis", "status", "facts"), rwhere)
            status = _take(value, "status", str, rwhere)
            if status is not None and status not in STATUSES:
                raise ScenarioError(f"{rwhere}: status {status!r} is not one of {', '.join(STATUSES)}")
            facts = _take(value, "facts", dict, rwhere, default={})
            for key, fact in facts.items():
                if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                    raise ScenarioError(f"{rwhere}: facts: {key!r} is not a fact name")
                if not isinstance(fact, (str, int, float, bool)):
                    raise ScenarioError(f"{rwhere}: facts: {key} must be a string, number or boolean")
            results.append(Expectation(pattern, _take(value, "diagnosis", str, rwhere, required=True),
                                       status, facts))
        else:
            raise ScenarioError(f"{rwhere}: expected a diagnosis code or {{ diagnosis, status }}")
    for e in results:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", e.diagnosis):
            raise ScenarioError(f"{where}: [expect.results] {e.pattern!r}: {e.diagnosis!r} is "
                                f"not a diagnosis code (e.g. TCP_FILTERED)")
    if unlisted != "any" and not re.fullmatch(r"[A-Z][A-Z0-9_]*", unlisted):
        raise ScenarioError(f"{where}: [expect] unlisted must be 'any' or a diagnosis code")

    tool_checks = []
    for i, t in enumerate(_take(data, "tool_check", list, where, default=[]), 1):
        twhere = f"{where}: [[tool_check]] #{i}"
        if not isinstance(t, dict):
            raise ScenarioError(f"{twhere}: expected a table")
        _no_unknown_keys(t, ("name", "run", "ns", "exit", "stdout", "stderr", "output", "timeout"),
                         twhere)
        check = ToolCheck(name=_take(t, "name", str, twhere, required=True),
                          run=_take(t, "run", str, twhere, required=True),
                          ns=_take(t, "ns", str, twhere, default="client"),
                          exit=_take(t, "exit", int, twhere, default=0),
                          stdout=_take(t, "stdout", str, twhere),
                          stderr=_take(t, "stderr", str, twhere),
                          output=_take(t, "output", str, twhere),
                          timeout=float(_take(t, "timeout", (int, float), twhere,
                                              default=TOOL_CHECK_TIMEOUT_S)))
        if check.ns not in NAMESPACES:
            raise ScenarioError(f"{twhere}: ns {check.ns!r} is not one of {', '.join(NAMESPACES)}")
        for field in ("stdout", "stderr", "output"):
            try:
                re.compile(getattr(check, field) or "")
            except re.error as e:
                raise ScenarioError(f"{twhere}: {field} is not a valid regular expression: {e}")
        tool_checks.append(check)

    if not results and expect_exit is None and expect_verdict is None and not tool_checks:
        raise ScenarioError(f"{where}: expects nothing (give [expect.results], exit, verdict "
                            f"or a [[tool_check]])")
    name = os.path.splitext(os.path.basename(path))[0]
    return Scenario(path, name, description, requires, topology, profile_text, args,
                    gwprobe_timeout, expect_exit, expect_verdict, unlisted, results, tool_checks)


def knob_args(topology):
    """[topology] table -> scripts/lab.sh `--set KNOB=VALUE` arguments."""
    args = []
    for key, value in topology.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, list):
            value = ";".join(str(v) for v in value)
        args += ["--set", f"{key}={value}"]
    return args


def substitute(text, env, where):
    """Replaces ${LAB_...} with the lab's values; an unknown variable is an error."""
    def one(match):
        name = match.group(1)
        if name not in env:
            raise ScenarioError(f"{where}: unknown variable ${{{name}}} (the lab defines: "
                                f"{', '.join(sorted(env))})")
        return env[name]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", one, text)


def check_codes_known(scenario, known_codes):
    """Expected diagnosis codes must exist in `gwprobe codes` (catches typos before a run)."""
    wanted = [(e.pattern, e.diagnosis) for e in scenario.results]
    if scenario.unlisted != "any":
        wanted.append(("unlisted", scenario.unlisted))
    for where, code in wanted:
        if code not in known_codes:
            raise ScenarioError(f"{scenario.path}: {where}: {code} is not a gwprobe diagnosis code")


# ---------------------------------------------------------------------------------------------
# Comparison

@dataclasses.dataclass
class Evaluation:
    mismatches: list      # (what, expected, got) triples
    pending: list         # (what, why) pairs: expectations on probes that have not landed
    checked: int          # expectations actually compared
    matched_ids: set      # result ids covered by an expectation

    @property
    def outcome(self):
        if self.mismatches:
            return EXIT_FAIL
        return EXIT_SKIP if self.pending else EXIT_PASS


def result_label(r):
    text = f"{r.get('diagnosis', '?')}/{r.get('status', '?')}"
    if r.get("message"):
        text += f"  \"{r['message']}\""
    return text


def evaluate(scenario, report, exit_code, output_text="", secrets=(), strict=False):
    """Compares a gwprobe JSON report (dict, or None when none was printed) with [expect].
    strict: pending expectations count as mismatches (once every probe has landed)."""
    ev = Evaluation([], [], 0, set())
    for name, value in secrets:
        if value and value in output_text:
            ev.mismatches.append(("secrets", f"{name} never printed", "it appears in gwprobe output"))
    if report is None:
        if exit_code == EXIT_USAGE and scenario.requires:
            # A scenario for a probe that has not landed may need a flag that has not either
            # (--proxy before the proxy probe): pending, with gwprobe's own words.
            said = next((line for line in output_text.splitlines() if line.strip()), "")
            ev.pending.append(("command line", f"gwprobe rejected it (exit 2: {said.strip()}); "
                                               f"needs probes: {', '.join(scenario.requires)}"))
        else:
            ev.mismatches.append(("report", "a JSON report on stdout", f"none (exit {exit_code})"))
        return _strict(ev) if strict else ev
    if report.get("schema") != "gwprobe.report/v1":
        ev.mismatches.append(("schema", "gwprobe.report/v1", repr(report.get("schema"))))
    results = [r for r in report.get("results", []) if isinstance(r, dict)]
    kinds_present = {r.get("kind") or str(r.get("id", "")).split(":", 1)[0] for r in results}

    for e in scenario.results:
        matches = [r for r in results if fnmatch.fnmatchcase(str(r.get("id", "")), e.pattern)]
        if not matches:
            if e.kind in scenario.requires and e.kind not in kinds_present:
                ev.pending.append((e.pattern, f"gwprobe produced no '{e.kind}' checks yet"))
            else:
                ev.mismatches.append((e.pattern, _expected_label(e), "no such check in the report"))
            continue
        ev.checked += 1
        for r in matches:
            ev.matched_ids.add(r.get("id"))
            if r.get("diagnosis") != e.diagnosis or (e.status and r.get("status") != e.status):
                ev.mismatches.append((r.get("id"), _expected_label(e), result_label(r)))
            facts = r.get("facts") if isinstance(r.get("facts"), dict) else {}
            for key, want in e.facts.items():
                got = facts.get(key)
                # bool is an int in Python: true must not match 1.
                if got != want or isinstance(got, bool) != isinstance(want, bool):
                    ev.mismatches.append((r.get("id"), f"{key} = {json.dumps(want)}",
                                          "absent" if key not in facts else
                                          f"{key} = {json.dumps(got)}"))

    if scenario.unlisted != "any":
        for r in results:
            if r.get("id") not in ev.matched_ids and r.get("diagnosis") != scenario.unlisted:
                ev.mismatches.append((r.get("id"), f"{scenario.unlisted} (unlisted)", result_label(r)))

    # Verdict and exit code depend on every check; with some pending they are not yet meaningful.
    for what, expected, got in (("verdict", scenario.expect_verdict, report.get("verdict")),
                                ("exit code", scenario.expect_exit, exit_code)):
        if expected is None:
            continue
        if ev.pending:
            ev.pending.append((what, "depends on the pending checks"))
        elif expected != got:
            ev.mismatches.append((what, str(expected), str(got)))
        else:
            ev.checked += 1
    return _strict(ev) if strict else ev


def _strict(ev):
    ev.mismatches += [(what, "no pending expectations (strict)", why) for what, why in ev.pending]
    ev.pending = []
    return ev


def _expected_label(e):
    return e.diagnosis + (f"/{e.status}" if e.status else "")


def format_evaluation(scenario, ev, report):
    """The diff printed on mismatch (and the pending list on skip)."""
    lines = []
    if ev.mismatches:
        lines.append(f"MISMATCH in scenario {scenario.name} ({scenario.path}):")
        width = max(len(str(m[0])) for m in ev.mismatches)
        lines.append(f"  {'check':<{width}}  {'expected':<24}  got")
        for what, expected, got in ev.mismatches:
            lines.append(f"  {str(what):<{width}}  {expected:<24}  {got}")
    if ev.pending:
        lines.append("PENDING (until the probes land):")
        for what, why in ev.pending:
            lines.append(f"  {what}: {why}")
    if report is not None and ev.mismatches:
        lines.append(f"report: verdict {report.get('verdict')}, {len(report.get('results', []))} results:")
        bad = {str(m[0]) for m in ev.mismatches}
        for r in report.get("results", []):
            mark = "x" if str(r.get("id")) in bad else " "
            lines.append(f"  {mark} {str(r.get('id')):<40} {result_label(r)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Child processes (each in its own session: a terminal's Ctrl-C reaches only the runner, which
# then stops the child in order)

def run_child(argv, timeout, env=None, stop_signal=signal.SIGTERM):
    """Runs argv; returns (exit code, stdout, stderr, timed_out). On timeout the child's process
    group is killed; on Interrupted it gets stop_signal, GRACE_S to finish, then SIGKILL."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), True
    except BaseException:
        _stop(proc, stop_signal)
        raise


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group of a child we started in its own session
    except ProcessLookupError:
        pass


def _stop(proc, stop_signal):
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(stop_signal)
        proc.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
    except ProcessLookupError:
        pass


def _raise_interrupted(signum, _frame):
    # One interruption is enough: further signals must not cut the orderly stop short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


# ---------------------------------------------------------------------------------------------
# The lab

class Lab:
    """A lab brought up by scripts/lab.sh; down() is safe to call whatever happened."""

    def __init__(self, script, name, gwprobe=None):
        self.script = script
        self.name = name
        self.gwprobe = gwprobe
        self.env = {}
        self.dir = None

    def up(self, knobs):
        # A cloud_command (the bundled relay and gateway) runs "$GWPROBE": the binary under test.
        env = dict(os.environ)
        if self.gwprobe:
            env["GWPROBE"] = os.path.abspath(self.gwprobe)
        code, out, err, timed_out = run_child([self.script, "up", "--name", self.name] + knobs,
                                              LAB_UP_TIMEOUT_S, env=env)
        if code != 0 or timed_out:
            raise LabError(f"lab up failed (exit {code}{', timed out' if timed_out else ''}):\n"
                           + err.strip())
        for line in out.splitlines():
            if line.startswith("LAB_DIR="):
                self.dir = line.split("=", 1)[1]
        if not self.dir:
            raise LabError("lab up printed no LAB_DIR")
        self.env = read_env_file(os.path.join(self.dir, "env"))

    def down(self):
        code, _, err, _ = run_child([self.script, "down", "--name", self.name], LAB_DOWN_TIMEOUT_S)
        if code != 0:
            raise LabError(f"lab down reported a problem (exit {code}):\n{err.strip()}")

    def ns(self, short):
        return self.env[f"LAB_NS_{'CLIENT' if short == 'client' else short.upper()}"]

    def save_logs(self, into):
        if not self.dir or not os.path.isdir(self.dir):
            return
        for root, _dirs, files in os.walk(self.dir):
            for f in files:
                if f.endswith(LOG_SUFFIXES) and "passwd" not in f:
                    rel = os.path.relpath(os.path.join(root, f), self.dir)
                    os.makedirs(os.path.dirname(os.path.join(into, rel)), exist_ok=True)
                    shutil.copyfile(os.path.join(root, f), os.path.join(into, rel))


class LabError(Exception):
    pass


def read_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value[1:-1] if value[:1] == "'" and value[-1:] == "'" else value
    return env


def child_env(lab_env):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_ENV}
    env.update(lab_env)
    env.update({"NO_COLOR": "1", "LAB_TOOLS": TOOLS_DIR, "LAB_PYTHON": SYSTEM_PYTHON})
    return env


def run_tool_checks(scenario, lab, log):
    """Runs each [[tool_check]] in its namespace; returns the list of failures (strings)."""
    failures = []
    for check in scenario.tool_checks:
        argv = ["ip", "netns", "exec", lab.ns(check.ns), "bash", "-c", check.run]
        code, out, err, timed_out = run_child(argv, check.timeout, env=child_env(lab.env))
        problems = []
        if timed_out:
            problems.append(f"timed out after {check.timeout:g} s")
        elif check.exit is not None and code != check.exit:
            problems.append(f"exit {code}, expected {check.exit}")
        for field, text in (("stdout", out), ("stderr", err), ("output", out + err)):
            pattern = getattr(check, field)
            if pattern and not re.search(pattern, text, re.MULTILINE):
                problems.append(f"{field} does not match /{pattern}/")
        if problems:
            failures.append(f"tool check '{check.name}' ({check.ns}: {check.run}): "
                            + "; ".join(problems)
                            + f"\n    stdout: {out.strip()[-400:]!r}\n    stderr: {err.strip()[-400:]!r}")
            log(f"  FAIL  {check.name}")
        else:
            log(f"  ok    {check.name}")
    return failures


def gwprobe_check_support(gwprobe):
    """(True, '') when `gwprobe check` exists; else (False, why). Runs nothing on the network."""
    code, out, err, timed_out = run_child([gwprobe, "check", "--help"], 30)
    if code == 0 and not timed_out:
        return True, ""
    first = (err.strip() or out.strip()).splitlines()[:1]
    return False, f"`gwprobe check` is not available yet ({first[0] if first else f'exit {code}'})"


def gwprobe_codes(gwprobe):
    """Diagnosis codes from `gwprobe codes`, or None when that fails."""
    code, out, _, timed_out = run_child([gwprobe, "codes"], 30)
    if code != 0 or timed_out:
        return None
    codes = {line.split()[0] for line in out.splitlines() if line.split()}
    return codes or None


def run_gwprobe(prefix, gwprobe, profile_path, args, timeout, env):
    """Runs gwprobe check (after prefix, e.g. ip netns exec NS); returns (exit, report, out, err)."""
    argv = prefix + [gwprobe, "check", "--profile", profile_path, "--format", "json"] + args
    code, out, err, timed_out = run_child(argv, timeout, env=env, stop_signal=signal.SIGINT)
    if timed_out:
        err += f"\n[runner: gwprobe killed after {timeout:g} s]"
    try:
        report = json.loads(out)
        if not isinstance(report, dict):
            report = None
    except ValueError:
        report = None
    return code, report, out, err


def environment_problem():
    """Why the lab cannot run here (a skip reason), or None."""
    if os.geteuid() != 0:
        return "the network lab needs root (network namespaces, nftables)"
    if not shutil.which("ip") or not shutil.which("unshare"):
        return "iproute2/util-linux missing: run scripts/setup.sh all"
    try:
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cannot create a network namespace: {e}"
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.decode(errors='replace').strip()}"
    return None


def new_lab_name():
    # The same prefix rule as scripts/lab.sh: GWLAB_PREFIX lets a caller keep its labs apart.
    return os.environ.get("GWLAB_PREFIX", "gwl") + os.urandom(2).hex()


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--gwprobe", default=os.environ.get("GWPROBE"),
                        help="the gwprobe binary (default: $GWPROBE)")
    parser.add_argument("--lab-script", default=DEFAULT_LAB_SCRIPT)
    parser.add_argument("--lab-name", default=None, help="lab name (default: gwl + 4 hex digits)")
    parser.add_argument("--artifacts", help="directory for the report, gwprobe stderr and, on "
                                            "failure, the lab's logs")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    parser.add_argument("--tools-only", action="store_true",
                        help="verify the lab with the tool checks; do not run gwprobe")
    opts = parser.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    try:
        scenario = load_scenario(opts.scenario)
    except ScenarioError as e:
        print(f"scenario_runner: {e}", file=sys.stderr)
        return EXIT_USAGE
    log(f"scenario {scenario.name}: {scenario.description}")
    problem = environment_problem()
    if problem:
        log(f"SKIPPED: {problem}")
        return EXIT_SKIP

    gwprobe_ready, why_not = False, "--tools-only"
    if not opts.tools_only:
        if not opts.gwprobe or not os.access(opts.gwprobe, os.X_OK):
            print(f"scenario_runner: no gwprobe binary at {opts.gwprobe!r} (give --gwprobe PATH)",
                  file=sys.stderr)
            return EXIT_USAGE
        opts.gwprobe = os.path.abspath(opts.gwprobe)
        gwprobe_ready, why_not = gwprobe_check_support(opts.gwprobe)
        codes = gwprobe_codes(opts.gwprobe)
        if codes:
            try:
                check_codes_known(scenario, codes)
            except ScenarioError as e:
                print(f"scenario_runner: {e}", file=sys.stderr)
                return EXIT_USAGE

    if opts.artifacts:
        os.makedirs(opts.artifacts, exist_ok=True)
    lab = Lab(opts.lab_script, opts.lab_name or new_lab_name(), opts.gwprobe)
    old_handlers = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    outcome, messages, report = EXIT_FAIL, [], None
    try:
        started = time.monotonic()
        lab.up(knob_args(scenario.topology))
        log(f"lab {lab.name} up in {time.monotonic() - started:.2f} s ({lab.dir})")
        failures = run_tool_checks(scenario, lab, log)
        if failures:
            messages += ["LAB PROBLEM (a tool check failed: the lab, not gwprobe, is wrong):"] + failures
            outcome = EXIT_FAIL
        elif not gwprobe_ready:
            messages.append(f"SKIPPED gwprobe expectations: {why_not}; "
                            f"{len(scenario.tool_checks)} tool check(s) passed, "
                            f"{len(scenario.results)} expectation(s) not checked")
            outcome = EXIT_SKIP if not opts.tools_only else EXIT_PASS
        else:
            profile_path = os.path.join(lab.dir, f"profile-{scenario.name}.toml")
            with open(profile_path, "w", encoding="utf-8") as f:
                f.write(substitute(scenario.profile_text, lab.env, f"{scenario.path}: profile"))
            args = [substitute(a, lab.env, f"{scenario.path}: [gwprobe] args") for a in scenario.args]
            env = child_env(lab.env)
            log(f"gwprobe check --profile {os.path.basename(profile_path)} --format json "
                f"{' '.join(_redact(a, lab.env) for a in args)}")
            started = time.monotonic()
            code, report, out, err = run_gwprobe(["ip", "netns", "exec", lab.ns("client")],
                                                 opts.gwprobe, profile_path, args,
                                                 scenario.gwprobe_timeout, env)
            log(f"gwprobe exited {code} after {time.monotonic() - started:.2f} s")
            if opts.artifacts:
                _write(os.path.join(opts.artifacts, f"{scenario.name}.report.json"), out)
                _write(os.path.join(opts.artifacts, f"{scenario.name}.stderr"), err)
            secrets = [(n, lab.env.get(n, "")) for n in SECRET_VARS]
            ev = evaluate(scenario, report, code, out + err if report is not None else err + out,
                          secrets, strict=os.environ.get("GWPROBE_LAB_STRICT") == "1")
            outcome = ev.outcome
            text = format_evaluation(scenario, ev, report)
            if text:
                messages.append(text)
            if outcome == EXIT_FAIL and err.strip():
                messages.append("gwprobe stderr:\n" + _indent(err.strip()[-2000:]))
            if outcome == EXIT_PASS:
                messages.append(f"PASS: {ev.checked} expectation(s) matched")
    except Interrupted as e:
        messages.append(f"INTERRUPTED by {e}: tearing the lab down")
        outcome = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        messages.append("INTERRUPTED: tearing the lab down")
        outcome = EXIT_INTERRUPTED
    except (LabError, ScenarioError, OSError) as e:
        messages.append(f"ERROR: {e}")
        outcome = EXIT_FAIL
    finally:
        # Teardown must finish even if a second Ctrl-C arrives.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if outcome == EXIT_FAIL and opts.artifacts:
            lab.save_logs(os.path.join(opts.artifacts, f"{scenario.name}.lab"))
        if opts.keep and outcome != EXIT_INTERRUPTED:
            messages.append(f"lab {lab.name} left up: scripts/lab.sh down --name {lab.name}")
        else:
            try:
                lab.down()
            except LabError as e:
                messages.append(f"ERROR: {e}")
                outcome = EXIT_FAIL
        for s, h in old_handlers.items():
            signal.signal(s, h)
    for m in messages:
        log(m)
    return outcome


def _redact(arg, env):
    for name in SECRET_VARS:
        if env.get(name):
            arg = arg.replace(env[name], "***")
    return arg


def _indent(text):
    return "\n".join("  " + line for line in text.splitlines())


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
