#!/usr/bin/python3
"""A fake `gwprobe` for testing the scenario runner itself (never for testing gwprobe).

It answers the three calls the runner makes:
  check --help             exit 0 (or 2 with FAKE_GWPROBE_NO_CHECK=1, like a binary without it)
  codes                    delegates to the real binary in FAKE_GWPROBE_REAL, else exits 2
  check --profile P --format json [ARGS]
                           prints the JSON file FAKE_GWPROBE_REPORT and exits FAKE_GWPROBE_EXIT
                           (default: 0 for a ready/degraded verdict, 1 otherwise)
Other knobs: FAKE_GWPROBE_ARGV_LOG (append argv as one JSON line), FAKE_GWPROBE_STARTED (file
created when a check starts), FAKE_GWPROBE_SLEEP (seconds to wait before answering, bounded),
FAKE_GWPROBE_STDERR (text for stderr).
"""

import json
import os
import signal
import sys
import time

MAX_SLEEP_S = 120


def main(argv):
    if os.environ.get("FAKE_GWPROBE_ARGV_LOG"):
        with open(os.environ["FAKE_GWPROBE_ARGV_LOG"], "a") as f:
            f.write(json.dumps(argv) + "\n")
    if argv[:1] == ["codes"]:
        real = os.environ.get("FAKE_GWPROBE_REAL")
        if not real:
            print("fake gwprobe: no FAKE_GWPROBE_REAL for `codes`", file=sys.stderr)
            return 2
        os.execv(real, [real, "codes"])
    if argv[:1] != ["check"]:
        print(f"fake gwprobe: unsupported command {argv[:1]}", file=sys.stderr)
        return 2
    if "--help" in argv:
        return 2 if os.environ.get("FAKE_GWPROBE_NO_CHECK") == "1" else 0
    if "--profile" not in argv or argv[argv.index("--format") + 1:][:1] != ["json"]:
        print("fake gwprobe: expected --profile FILE --format json", file=sys.stderr)
        return 2
    if os.environ.get("FAKE_GWPROBE_STARTED"):
        with open(os.environ["FAKE_GWPROBE_STARTED"], "w") as f:
            f.write(str(os.getpid()))
    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    deadline = time.monotonic() + min(float(os.environ.get("FAKE_GWPROBE_SLEEP", "0")), MAX_SLEEP_S)
    while time.monotonic() < deadline and not interrupted:
        time.sleep(0.05)
    if interrupted:
        print("fake gwprobe: interrupted", file=sys.stderr)
        return 130
    with open(os.environ["FAKE_GWPROBE_REPORT"]) as f:
        text = f.read()
    sys.stdout.write(text)
    if os.environ.get("FAKE_GWPROBE_STDERR"):
        print(os.environ["FAKE_GWPROBE_STDERR"], file=sys.stderr)
    if "FAKE_GWPROBE_EXIT" in os.environ:
        return int(os.environ["FAKE_GWPROBE_EXIT"])
    try:
        verdict = json.loads(text).get("verdict")
    except ValueError:
        return 3
    return 0 if verdict in ("ready", "degraded") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
