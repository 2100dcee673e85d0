#!/usr/bin/python3
"""The lab's cloud-side servers: TCP echo, TLS echo, and HTTP(S) + WebSocket echo listeners.

Started by scripts/lab.sh inside the cloud namespace. Run with /usr/bin/python3 (Debian's), not
a pyenv python3 on PATH: python3-websockets is a Debian package.

Each --listen ADDR:PORTS:MODE opens one listener per port (PORTS = 443 or 9350-9354):
  tcp      accept and echo bytes (a port that is simply open)
  tls      TLS with the lab chain, then echo (an AMQPS-like port)
  web      plain HTTP: WebSocket upgrade -> echo; any other GET -> 200 "gwlab ok"
  web-tls  the same over TLS (the relay's 443)
WebSocket pings are answered (the library does it); the server never pings on its own
(ping_interval=None) so idle-timeout measurements see only the client's traffic. Requests for
/$hc/... without an Upgrade get the library's 426, as a relay would refuse a stripped upgrade.
When every listener is bound, the server writes --ready FILE.
"""

import argparse
import asyncio
import http
import logging
import os
import signal
import ssl
import sys

import websockets
import websockets.exceptions

LOG = logging.getLogger("cloud_servers")
ECHO_CHUNK = 65536
HEALTH_BODY = b"gwlab ok\n"


def parse_listen(spec):
    """'10.77.3.10:9350-9354:tcp' -> [('10.77.3.10', 9350, 'tcp'), ...]."""
    try:
        addr, ports, mode = spec.rsplit(":", 2)
        if "-" in ports:
            first, last = (int(p) for p in ports.split("-", 1))
        else:
            first = last = int(ports)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ADDR:PORT[-PORT]:MODE, got {spec!r}")
    if mode not in ("tcp", "tls", "web", "web-tls"):
        raise argparse.ArgumentTypeError(f"unknown mode {mode!r} in {spec!r}")
    if not (0 < first <= last < 65536):
        raise argparse.ArgumentTypeError(f"bad port range in {spec!r}")
    return [(addr, port, mode) for port in range(first, last + 1)]


async def echo_stream(reader, writer):
    try:
        while True:
            data = await reader.read(ECHO_CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass  # a peer that resets or fails its handshake is normal in the lab
    finally:
        writer.close()


async def echo_websocket(ws, _path):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.exceptions.ConnectionClosed:
        pass


async def answer_plain_http(path, headers):
    """Non-upgrade requests get a small 200, except relay paths (those need an upgrade)."""
    if headers.get("Upgrade", "").lower() == "websocket" or path.startswith("/$hc/"):
        return None  # let the library do the handshake (or its 426 for a stripped upgrade)
    return (http.HTTPStatus.OK, [("Content-Type", "text/plain"), ("Content-Length", str(len(HEALTH_BODY)))],
            HEALTH_BODY)


def tls_context(chain, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(chain, key)
    return context


async def serve(listeners, chain, key, ready):
    context = tls_context(chain, key) if any(m in ("tls", "web-tls") for _, _, m in listeners) else None
    servers = []
    for addr, port, mode in listeners:
        tls = context if mode in ("tls", "web-tls") else None
        if mode in ("tcp", "tls"):
            servers.append(await asyncio.start_server(echo_stream, addr, port, ssl=tls,
                                                      reuse_address=True))
        else:
            servers.append(await websockets.serve(echo_websocket, addr, port, ssl=tls,
                                                  process_request=answer_plain_http,
                                                  ping_interval=None, reuse_address=True))
        LOG.info("listening on %s:%d (%s)", addr, port, mode)
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(ready + ".tmp", ready)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    await stop
    for server in servers:
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", action="append", type=parse_listen, required=True,
                        metavar="ADDR:PORTS:MODE")
    parser.add_argument("--chain", help="PEM: leaf then intermediate (for tls modes)")
    parser.add_argument("--key", help="PEM private key of the leaf")
    parser.add_argument("--ready", help="file written once every listener is bound")
    args = parser.parse_args()
    listeners = [item for group in args.listen for item in group]
    if any(m in ("tls", "web-tls") for _, _, m in listeners) and not (args.chain and args.key):
        parser.error("tls and web-tls listeners need --chain and --key")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # websockets logs every refused handshake at ERROR with a traceback; one line is enough.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(listeners, args.chain, args.key, args.ready))
    except OSError as e:
        print(f"cloud_servers: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
