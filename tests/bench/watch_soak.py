#!/usr/bin/python3
"""Soak benchmark for `gwprobe watch` (issue 7): 1,000 scheduled runs at a 20 ms interval against
loopback only -- a TLS server (its own throw-away CA), an accepting TCP port and a refused one --
with the endpoints exercised along the way (/metrics every 50 runs, /probe every 100, /report
every 200, a SIGHUP reload every 250) and the history rotating. Prints resident memory and open
descriptors after warm-up and at the end, and their largest values in between.
"Start" is after 200 warm-up runs (steady state: caches and allocator pools have filled); the
RSS right after start-up is printed too. Goal: RSS <= 20 MB and flat; no descriptor growth.
Bounded: 1,200 runs or 180 s, whichever comes first.
Needs only loopback (no root).
"""
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

WARMUP_RUNS = 200  # caches and allocator pools fill in the first few hundred runs
MEASURED_RUNS = 1000
INTERVAL = "20ms"
TIME_LIMIT_S = 180.0
RSS_GOAL_MB = 20.0


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(work):
    """A CA and a leaf for 127.0.0.1, with the openssl command line."""
    ca_key, ca_pem = os.path.join(work, "ca.key"), os.path.join(work, "ca.pem")
    key, csr, pem = (os.path.join(work, n) for n in ("leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(work, "leaf.ext")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", "/CN=gwprobe soak CA",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
       "-out", pem, "-days", "2", "-extfile", ext)
    return ca_pem, pem, key


class Servers:
    """An accepting TCP port, a TLS port and a refused port on 127.0.0.1, served by threads."""

    def __init__(self, cert, key):
        self.stop = threading.Event()
        self.plain = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.tls = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.refused = socket.socket()
        self.refused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        for sock, handler in ((self.plain, self._close), (self.tls, self._handshake)):
            sock.settimeout(0.2)
            threading.Thread(target=self._serve, args=(sock, handler), daemon=True).start()

    def ports(self):
        return (self.plain.getsockname()[1], self.tls.getsockname()[1],
                self.refused.getsockname()[1])

    def _serve(self, sock, handler):
        while not self.stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    @staticmethod
    def _close(conn):
        conn.close()

    def _handshake(self, conn):
        conn.settimeout(5)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # until the client closes
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        for s in (self.plain, self.tls, self.refused):
            s.close()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


def runs(port):
    return json.loads(get(port, "/healthz"))["runs"]


def main():
    if len(sys.argv) != 2:
        print("usage: watch_soak.py PATH/TO/gwprobe", file=sys.stderr)
        return 2
    gwprobe = os.path.abspath(sys.argv[1])
    # urllib must never consult a proxy: everything here is loopback.
    urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))
    work = tempfile.mkdtemp(prefix="gwprobe-soak-")
    ca, cert, key = make_certificates(work)
    servers = Servers(cert, key)
    plain, tls, refused = servers.ports()
    profile = os.path.join(work, "soak.toml")
    with open(profile, "w") as f:
        f.write(f'name = "soak"\ntimeout = "2s"\n[dns]\nprivate_answers_expected = true\n'
                f'[tls]\nca_file = "{ca}"\n'
                f'[[endpoint]]\nname = "TLS"\nhost = "127.0.0.1"\nports = [{tls}]\ntls = true\n'
                f'[[endpoint]]\nname = "Plain"\nhost = "127.0.0.1"\nports = [{plain}]\n'
                f'[[endpoint]]\nname = "Closed"\nhost = "127.0.0.1"\nports = [{refused}]\n'
                f'requirement = "optional"\n')
    events = os.path.join(work, "events.jsonl")
    history = os.path.join(work, "history.jsonl")
    proc = subprocess.Popen([gwprobe, "watch", "--profile", profile, "--interval", INTERVAL,
                             "--jitter", "0", "--listen", "127.0.0.1:0", "--history", history,
                             "--history-max-mb", "0.05", "--history-keep", "2",
                             "--state-log", events, "--hosts-file", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        port = None
        while port is None and time.monotonic() - started < 10:
            if os.path.exists(events):
                with open(events) as f:
                    for line in f:
                        e = json.loads(line)
                        if e["event"] == "start":
                            port = int(e["listen"].rsplit(":", 1)[1])
            if port is None:
                time.sleep(0.05)
        if port is None:
            print("watch_soak: gwprobe watch did not start:", proc.stderr.read(), file=sys.stderr)
            return 1

        rss_boot = rss_kb(proc.pid)
        while runs(port) < WARMUP_RUNS and time.monotonic() - started < TIME_LIMIT_S:
            time.sleep(0.05)
        base_runs = runs(port)
        rss0, fds0, threads0 = rss_kb(proc.pid), fd_count(proc.pid), thread_count(proc.pid)
        t0 = time.monotonic()
        rss_max, fds_max = rss0, fds0
        next_scrape, next_probe, next_report, next_reload = 50, 100, 200, 250
        done = 0
        while done < MEASURED_RUNS and time.monotonic() - started < TIME_LIMIT_S:
            time.sleep(0.02)
            done = runs(port) - base_runs
            rss_max, fds_max = max(rss_max, rss_kb(proc.pid)), max(fds_max, fd_count(proc.pid))
            if done >= next_scrape:
                get(port, "/metrics")
                next_scrape += 50
            if done >= next_probe:
                get(port, f"/probe?check=tls:127.0.0.1:{tls}")
                next_probe += 100
            if done >= next_report:
                get(port, "/report")
                next_report += 200
            if done >= next_reload:
                proc.send_signal(signal.SIGHUP)
                next_reload += 250
        elapsed = time.monotonic() - t0
        metrics = get(port, "/metrics")
        rss1, fds1, threads1 = rss_kb(proc.pid), fd_count(proc.pid), thread_count(proc.pid)
        lag = [l for l in metrics.splitlines() if l.startswith("gwprobe_watch_scheduler_lag")]
        verdicts = [l for l in metrics.splitlines() if l.startswith("gwprobe_watch_runs_total{")]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)

        sizes = {os.path.basename(p): os.path.getsize(p) for p in
                 (history, history + ".1", history + ".2", history + ".3") if os.path.exists(p)}
        reloads = sum(1 for line in open(events) if '"event":"reload"' in line)
        print(f"watch soak: {done} runs measured (after {WARMUP_RUNS} warm-up runs) in "
              f"{elapsed:.1f} s at --interval {INTERVAL}: {done / elapsed:.0f} runs/s; "
              f"3 checks per run (TLS, open TCP, refused TCP)")
        print(f"  RSS       start {rss0 / 1024:.1f} MB   end {rss1 / 1024:.1f} MB   "
              f"max {rss_max / 1024:.1f} MB   growth {(rss1 - rss0) / 1024:+.2f} MB   "
              f"(right after start-up: {rss_boot / 1024:.1f} MB)")
        print(f"  open fds  start {fds0}   end {fds1}   max {fds_max}")
        print(f"  threads   start {threads0}   end {threads1}")
        print(f"  history   {sizes} (cap 0.05 MiB per file, 2 rotated kept)")
        print(f"  reloads   {reloads} logged; " + "; ".join(verdicts + lag))
        print(f"  exit code after SIGTERM: {code}")
        flat = rss1 - rss0 <= 1024
        print(f"  goal: RSS <= {RSS_GOAL_MB:.0f} MB and flat, no fd growth -> "
              f"RSS {'met' if rss_max / 1024 <= RSS_GOAL_MB else 'MISSED'}, "
              f"{'flat' if flat else 'GROWING'}, fds {'flat' if fds1 <= fds0 else 'GREW'}"
              + ("" if done >= MEASURED_RUNS else f" (only {done} runs within {TIME_LIMIT_S:.0f} s)"))
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        servers.close()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
