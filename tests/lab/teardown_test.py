#!/usr/bin/python3
"""The lab leaves nothing behind: after `down`, after a failing scenario run, after a run or a
bring-up interrupted with SIGINT, and after a bring-up that fails, no namespace, veth,
/etc/netns entry, run directory or process of that lab remains. Needs root (exits 77 without).

Run: /usr/bin/python3 tests/lab/teardown_test.py
"""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenario_runner as runner  # noqa: E402

LAB = runner.DEFAULT_LAB_SCRIPT
RUNNER = os.path.join(HERE, "scenario_runner.py")
FAKE = os.path.join(HERE, "fake_gwprobe.py")
ROOT = os.environ.get("GWLAB_ROOT", "/tmp/gwlab")
WAIT_S = 60  # bound on every wait in this test

# Every component the lab can start, so teardown is tested against all of them.
FULL_KNOBS = ["--set", "squid=on", "--set", "squid_auth=basic", "--set", "squid_bump=on",
              "--set", "stripper=haproxy", "--set", "idle_cut=3", "--set", "postgres=running",
              "--set", "firewall=drop tcp 9350 to relay; reset tcp 9351 to relay",
              "--set", "cloud_command=exec socat TCP-LISTEN:443,bind=10.77.3.30,fork,reuseaddr EXEC:cat",
              "--set", "cloud_command_wait=10.77.3.30:443"]


def lab_name():
    return "gwlt" + os.urandom(2).hex()


def recorded_pids(name):
    try:
        with open(os.path.join(ROOT, name, "pids")) as f:
            return [(int(p), s) for _, p, s in (line.split() for line in f if line.strip())]
    except OSError:
        return []


def proc_alive(pid, start=None):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X") and (start is None or fields[19] == start)


def traces(name, pids=()):
    """Everything of lab `name` that still exists, as readable strings (empty = clean)."""
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [f"netns {line.split()[0]}" for line in netns.splitlines()
              if line.startswith(name + "-")]
    found += [f"/etc/netns entry {p}" for p in glob.glob(f"/etc/netns/{name}-*")]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [f"link {line.split(':')[1].strip()}" for line in links.splitlines() if name in line]
    if os.path.exists(os.path.join(ROOT, name)):
        found.append(f"run directory {os.path.join(ROOT, name)}")
    found += [f"recorded pid {pid}" for pid, start in pids if proc_alive(pid, start)]
    marker = f"GWLAB_RUN={name}".encode()
    lab_dir = os.path.join(ROOT, name).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or not proc_alive(entry):
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if marker in env or lab_dir + b"/" in cmdline:
            shown = cmdline.replace(b"\0", b" ")[:100].decode(errors="replace")
            found.append(f"process {entry} {shown}")
    return found


def wait_for(predicate, what):
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lab(*args, timeout=WAIT_S):
    return subprocess.run([LAB, *args], capture_output=True, text=True, timeout=timeout)


class TeardownTest(unittest.TestCase):
    def setUp(self):
        self.names = []

    def tearDown(self):
        for name in self.names:  # whatever a failed assertion left, remove it
            lab("down", "--name", name)

    def new_name(self):
        name = lab_name()
        self.names.append(name)
        return name

    def assertClean(self, name, pids=()):
        # Killed daemons are reparented to init, which reaps them a little later.
        deadline = time.monotonic() + 5
        while traces(name, pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(traces(name, pids), [])

    def test_down_removes_every_trace_of_a_full_lab_and_a_second_down_is_harmless(self):
        name = self.new_name()
        up = lab("up", "--name", name, *FULL_KNOBS)
        self.assertEqual(up.returncode, 0, up.stderr)
        pids = recorded_pids(name)
        with open(os.path.join(ROOT, name, "pids")) as f:
            labels = {line.split()[0] for line in f}
        self.assertTrue({"dnsmasq-system", "dnsmasq-reference", "cloud-servers", "squid", "haproxy",
                         "postgres", "cloud-command"} <= labels, labels)
        self.assertTrue(all(proc_alive(p, s) for p, s in pids))
        self.assertGreaterEqual(len(traces(name, pids)), 4 + 4 + len(pids))
        # The database really runs and holds the seed data.
        q = lab("exec", "--name", name, "client", "bash", "-c",
                "PGPASSWORD=$LAB_DB_PASSWORD psql -h db.lab.test -U postgres -d gwlab -Atc "
                "'select count(*) from items'")
        self.assertEqual(q.stdout.strip(), "100", q.stderr)

        down = lab("down", "--name", name)
        self.assertEqual(down.returncode, 0, down.stderr)
        self.assertClean(name, pids)
        again = lab("down", "--name", name)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertClean(name, pids)

    def test_two_labs_run_side_by_side_and_one_going_down_leaves_the_other_working(self):
        a, b = self.new_name(), self.new_name()
        self.assertEqual(lab("up", "--name", a).returncode, 0)
        self.assertEqual(lab("up", "--name", b, "--set", "dns_records=relay.lab.test=10.77.3.11")
                         .returncode, 0)
        pids_a = recorded_pids(a)
        self.assertEqual(lab("down", "--name", a).returncode, 0)
        self.assertClean(a, pids_a)
        dig = lab("exec", "--name", b, "client", "dig", "+short", "+time=1", "relay.lab.test")
        self.assertEqual(dig.stdout.strip(), "10.77.3.11")
        self.assertEqual(lab("down", "--name", b).returncode, 0)
        self.assertClean(b)

    def write_scenario(self, directory):
        path = os.path.join(directory, "teardown-probe.toml")
        with open(path, "w") as f:
            f.write('description = "teardown test"\n[topology]\nsquid = true\npostgres = "running"\n'
                    '[gwprobe]\nprofile_toml = """name = \\"t\\"\\n"""\n'
                    '[expect]\nexit = 0\nverdict = "ready"\n')
        return path

    def run_runner_with_fake(self, name, directory, **fake_env):
        env = dict(os.environ, **fake_env)
        return subprocess.Popen([runner.SYSTEM_PYTHON, RUNNER, "--gwprobe", FAKE, "--lab-name", name,
                                 self.write_scenario(directory)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def test_a_failing_scenario_run_leaves_nothing(self):
        name = self.new_name()
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            with open(report, "w") as f:
                json.dump({"schema": "gwprobe.report/v1", "verdict": "not_ready", "results": []}, f)
            proc = self.run_runner_with_fake(name, tmp, FAKE_GWPROBE_REPORT=report)
            out, _ = proc.communicate(timeout=WAIT_S)
        self.assertEqual(proc.returncode, runner.EXIT_FAIL, out)
        self.assertIn("MISMATCH", out)
        self.assertClean(name)

    def test_a_scenario_run_interrupted_with_sigint_leaves_nothing(self):
        name = self.new_name()
        with tempfile.TemporaryDirectory() as tmp:
            started = os.path.join(tmp, "started")
            report = os.path.join(tmp, "report.json")
            with open(report, "w") as f:
                json.dump({"schema": "gwprobe.report/v1", "verdict": "ready", "results": []}, f)
            proc = self.run_runner_with_fake(name, tmp, FAKE_GWPROBE_REPORT=report,
                                             FAKE_GWPROBE_SLEEP="60", FAKE_GWPROBE_STARTED=started)
            wait_for(lambda: os.path.exists(started) or proc.poll() is not None, "the fake gwprobe")
            pids = recorded_pids(name)
            self.assertTrue(pids)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=WAIT_S)
        self.assertEqual(proc.returncode, runner.EXIT_INTERRUPTED, out)
        self.assertIn("INTERRUPTED", out)
        self.assertClean(name, pids)

    def test_a_bring_up_interrupted_with_sigint_leaves_nothing(self):
        name = self.new_name()
        proc = subprocess.Popen([LAB, "up", "--name", name, *FULL_KNOBS],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Interrupt once the namespaces and the first daemons exist.
        wait_for(lambda: len(recorded_pids(name)) >= 2 or proc.poll() is not None, "daemons")
        pids = recorded_pids(name)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT_S)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("tearing lab", err)
        self.assertClean(name, pids)

    def test_a_bring_up_that_fails_leaves_nothing(self):
        name = self.new_name()
        up = lab("up", "--name", name, "--set", "squid=on", "--set", "cloud_command=exit 3",
                 "--set", "cloud_command_wait=10.77.3.30:443")
        self.assertEqual(up.returncode, 1)
        self.assertIn("cloud-command did not start", up.stderr)
        self.assertClean(name)


if __name__ == "__main__":
    problem = runner.environment_problem()
    if problem:
        print(f"SKIPPED: {problem}")
        sys.exit(runner.EXIT_SKIP)
    unittest.main()
