#!/usr/bin/python3
"""Fan-out benchmark (issue 2): 200 TCP checks, half of them silently dropped, 2 s timeout.

Creates two network namespaces joined by a veth pair (client 10.253.0.1, server 10.253.0.2),
listens on 100 ports in the server namespace and drops the other 100 with nftables, then runs
`gwprobe check` on a generated profile from the client namespace. Prints gwprobe's wall time,
the serial baseline (the sum of the per-check times: what a one-port-at-a-time test costs),
their ratio and gwprobe's peak RSS. Needs root; everything is torn down on exit.
Goal: wall time <= 1.25 x the per-check timeout; peak RSS <= 30 MB.
"""
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time

OPEN_PORTS = range(20000, 20100)
DROPPED_PORTS = range(20100, 20200)
TIMEOUT_S = 2.0


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    if len(sys.argv) != 2:
        print("usage: fanout.py PATH/TO/gwprobe", file=sys.stderr)
        return 2
    gwprobe = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("fanout: SKIPPED: needs root for network namespaces")
        return 0
    tag = "gwbf" + secrets.token_hex(2)
    client, server = tag + "c", tag + "s"
    listener = None
    work = tempfile.mkdtemp(prefix="gwprobe-fanout-")
    try:
        for ns in (client, server):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "c0", "netns", client, "type", "veth", "peer", "name", "s0", "netns", server)
        sh("ip", "-n", client, "addr", "add", "10.253.0.1/24", "dev", "c0")
        sh("ip", "-n", server, "addr", "add", "10.253.0.2/24", "dev", "s0")
        sh("ip", "-n", client, "link", "set", "c0", "up")
        sh("ip", "-n", server, "link", "set", "s0", "up")
        rules = (f"table inet {tag} {{\n chain inbound {{\n"
                 f"  type filter hook input priority 0; policy accept;\n"
                 f"  tcp dport {DROPPED_PORTS.start}-{DROPPED_PORTS.stop - 1} drop\n }}\n}}\n")
        subprocess.run(["ip", "netns", "exec", server, "nft", "-f", "-"], input=rules, text=True,
                       check=True)
        # 100 listening sockets in the server namespace; the kernel completes handshakes.
        code = ("import socket,sys,time\n"
                "s=[socket.create_server(('10.253.0.2',p),backlog=64) for p in range(%d,%d)]\n"
                "print('ready',flush=True)\nsys.stdin.read()\n") % (OPEN_PORTS.start, OPEN_PORTS.stop)
        listener = subprocess.Popen(["ip", "netns", "exec", server, "/usr/bin/python3", "-c", code],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "ready":
            print("fanout: listener failed to start", file=sys.stderr)
            return 1
        profile = os.path.join(work, "fanout.toml")
        with open(profile, "w") as f:
            f.write('name = "fanout"\ntimeout = "%ds"\n[[endpoint]]\nname = "Fan-out"\n'
                    'host = "10.253.0.2"\nports = ["%d-%d"]\nrequirement = "required"\n'
                    % (TIMEOUT_S, OPEN_PORTS.start, DROPPED_PORTS.stop - 1))

        start = time.monotonic()
        proc = subprocess.Popen(["ip", "netns", "exec", client, gwprobe, "check", "--profile", profile,
                                 "--format", "json", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=60)
        wall = time.monotonic() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        report = json.loads(out)
        results = report["results"]
        serial_s = sum(r["duration_ms"] for r in results) / 1000.0
        codes = {}
        for r in results:
            codes[r["diagnosis"]] = codes.get(r["diagnosis"], 0) + 1
        print("fan-out benchmark: %d TCP checks (%d open, %d silently dropped), timeout %.1f s"
              % (len(results), len(OPEN_PORTS), len(DROPPED_PORTS), TIMEOUT_S))
        print("  outcomes:            %s" % ", ".join("%s=%d" % kv for kv in sorted(codes.items())))
        print("  gwprobe wall time:   %.2f s  (%.2f x the per-check timeout; goal <= 1.25)"
              % (wall, wall / TIMEOUT_S))
        print("  serial baseline:     %.2f s  (sum of per-check times, one port at a time)" % serial_s)
        print("  speed-up:            %.1f x" % (serial_s / wall))
        print("  gwprobe peak RSS:    %.1f MB  (goal <= 30 MB)" % (peak_kb / 1024.0))
        return 0
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        for ns in (client, server):
            sh("ip", "netns", "del", ns, check=False)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
