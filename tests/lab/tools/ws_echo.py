#!/usr/bin/python3
"""Tool check: open a WebSocket (directly or through a CONNECT proxy), echo a message, ping.

Usage: ws_echo.py URL [--ca PEM] [--proxy http://[user:pass@]host:port] [--timeout S]
Prints one line: "echo ok, pong ok" on success, else what failed ("upgrade refused: HTTP 426",
"proxy CONNECT refused: HTTP 407", "tls: ...") and exits 1. Uses python3-websockets, so run it
with /usr/bin/python3.
"""

import argparse
import asyncio
import base64
import socket
import ssl
import sys
import urllib.parse

import websockets
import websockets.exceptions

MESSAGE = "gwlab echo"


def connect_tunnel(proxy, host, port, timeout):
    """A socket tunnelled through an HTTP CONNECT proxy, or raises ConnectionError."""
    p = urllib.parse.urlsplit(proxy)
    sock = socket.create_connection((p.hostname, p.port or 3128), timeout=timeout)
    request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if p.username is not None:
        creds = f"{urllib.parse.unquote(p.username)}:{urllib.parse.unquote(p.password or '')}"
        request += f"Proxy-Authorization: Basic {base64.b64encode(creds.encode()).decode()}\r\n"
    sock.sendall((request + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("proxy closed the connection during CONNECT")
        head += chunk
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if status.split()[1:2] != ["200"]:
        sock.close()
        raise ConnectionError(f"proxy CONNECT refused: HTTP {' '.join(status.split()[1:])}")
    sock.setblocking(False)
    return sock


async def run(url, ca, proxy, timeout):
    u = urllib.parse.urlsplit(url)
    secure = u.scheme == "wss"
    port = u.port or (443 if secure else 80)
    context = ssl.create_default_context(cafile=ca) if secure else None
    sock = connect_tunnel(proxy, u.hostname, port, timeout) if proxy else None
    kwargs = {}
    if sock:
        kwargs["sock"] = sock
        if secure:
            kwargs["server_hostname"] = u.hostname
    async with websockets.connect(url, ssl=context, open_timeout=timeout, ping_interval=None,
                                  **kwargs) as ws:
        await ws.send(MESSAGE)
        reply = await asyncio.wait_for(ws.recv(), timeout)
        if reply != MESSAGE:
            return f"echo wrong: {reply!r}"
        pong = await ws.ping()
        await asyncio.wait_for(pong, timeout)
        return "echo ok, pong ok"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--ca")
    parser.add_argument("--proxy")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args.url, args.ca, args.proxy, args.timeout))
    except websockets.exceptions.InvalidStatusCode as e:
        result = f"upgrade refused: HTTP {e.status_code}"
    except ssl.SSLError as e:
        result = f"tls: {e.reason or e}"
    except (ConnectionError, OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
        result = f"failed: {type(e).__name__}: {e}"
    print(result)
    return 0 if result == "echo ok, pong ok" else 1


if __name__ == "__main__":
    sys.exit(main())
