#!/usr/bin/python3
"""Tool check: how an idle TCP connection ends (the lab's idle cutters).

Usage: idle_probe.py HOST PORT --idle S [--limit S] [--proxy http://host:port]
Connects (through a CONNECT proxy when given), stays silent for --idle seconds watching for the
peer to close, then sends one byte and waits up to --limit seconds for it to come back (the lab's
servers echo). Prints one line and exits 0:
  "closed by peer after X s"   FIN from a middlebox (haproxy, squid) while idle
  "reset after X s"            RST while idle
  "alive after X s"            the byte came back: nothing cut the connection
  "blackholed after X s"       the byte vanished (conntrack expiry that drops)
  "reset on send after X s"    the byte got a reset (conntrack expiry that rejects)
"""

import argparse
import select
import socket
import sys
import time
import urllib.parse


def open_connection(host, port, proxy, timeout):
    if not proxy:
        return socket.create_connection((host, port), timeout=timeout)
    p = urllib.parse.urlsplit(proxy)
    sock = socket.create_connection((p.hostname, p.port or 3128), timeout=timeout)
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("proxy closed the connection during CONNECT")
        head += chunk
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if status.split()[1:2] != ["200"]:
        raise ConnectionError(f"proxy refused: {status}")
    return sock


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--idle", type=float, required=True)
    parser.add_argument("--limit", type=float, default=3.0)
    parser.add_argument("--proxy")
    args = parser.parse_args()
    sock = open_connection(args.host, args.port, args.proxy, args.limit)
    start = time.monotonic()
    ready, _, _ = select.select([sock], [], [], args.idle)
    if ready:
        try:
            data = sock.recv(1)
            print(f"closed by peer after {time.monotonic() - start:.1f} s" if not data
                  else f"unexpected data after {time.monotonic() - start:.1f} s")
        except ConnectionResetError:
            print(f"reset after {time.monotonic() - start:.1f} s")
        return 0
    sock.settimeout(args.limit)
    try:
        sock.sendall(b"x")
        data = sock.recv(1)
        print(f"alive after {time.monotonic() - start:.1f} s" if data
              else f"closed by peer after {time.monotonic() - start:.1f} s")
    except socket.timeout:
        print(f"blackholed after {time.monotonic() - start:.1f} s")
    except ConnectionResetError:
        print(f"reset on send after {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
