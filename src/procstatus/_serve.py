"""The HTTP side of the exporter: ``/metrics`` in the Prometheus text format.

prometheus_client's own ``start_http_server`` answers every path and every
method with the metrics; an exporter should say 404 to a wrong path and 405 to
a POST, so this module has its own small handler on the standard library's
threading HTTP server, and uses prometheus_client only to write the text
(``generate_latest``).

Each connection gets a thread (a slow scrape never holds up another) with a
socket timeout, so a client that connects and says nothing costs a thread for
a few seconds at most. Requests are HTTP/1.0 style: one response per
connection, closed after it.
"""

from __future__ import annotations

import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Optional

from prometheus_client import ProcessCollector
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

__all__ = ["DEFAULT_ADDRESS", "DEFAULT_PORT", "MetricsServer", "exporter_registry", "serve"]

#: Loopback only unless told otherwise: the metrics name every process of the
#: machine and what it uses, which is for the monitoring system, not for any
#: host that can reach this one. Pass the address to listen on explicitly.
DEFAULT_ADDRESS = "127.0.0.1"
#: An arbitrary port in the range exporters use (9100-9999); not a registered one.
DEFAULT_PORT = 9640

# A client that connects and sends nothing (or a request too slowly) is dropped
# after this many seconds; Prometheus sends its whole request at once.
_TIMEOUT_S = 10.0

#: The text format 0.0.4, which every Prometheus reads. prometheus_client's
#: CONTENT_TYPE_LATEST says 1.0.0 since 0.22 (UTF-8 metric names); our names
#: are plain, so what generate_latest writes is 0.0.4 text on every version.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LANDING = b"procstatus exporter: metrics at /metrics\n"
_ALLOWED = "GET, HEAD"
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(32), 127)}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _TIMEOUT_S
    server_version = "procstatus"
    # What a request that cannot be parsed is answered in. The base class's
    # HTTP/0.9 would send the error page without a status line or headers.
    default_request_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics" and not body:
            # HEAD: the headers alone, without collecting. A scrape reads every
            # process and, in the peak-per-interval mode, resets their peaks; a
            # health check or a proxy's probe must do neither. The length is
            # known only by scraping, so it is left out, as RFC 9110 (9.3.2)
            # allows for fields "determined only while generating the content".
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.end_headers()
            return
        if path == "/metrics":
            try:
                payload = generate_latest(self.server.registry)
            except Exception as error:  # one failed scrape must not stop the server
                self.log_message("scrape failed: %s: %s", type(error).__name__, error)
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "scrape failed")
                return
            content_type = CONTENT_TYPE
        elif path == "/":
            payload, content_type = _LANDING, "text/plain; charset=utf-8"
        else:
            self.send_error(HTTPStatus.NOT_FOUND, "only /metrics is served here")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", _ALLOWED)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # Methods a client might try; any other one gets 501 from BaseHTTPRequestHandler.
    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

    def log_request(self, code: object = "-", size: object = "-") -> None:
        pass  # no access log: Prometheus scrapes every few seconds

    def log_message(self, format: str, *args: Any) -> None:  # the base class's names
        # Errors only (bad requests, failed scrapes). The request line is the
        # client's text: control characters are escaped so that it cannot
        # rewrite the terminal (Python 3.12 does this in the base class, 3.9 not).
        text = (format % args).translate(_CONTROL)
        sys.stderr.write(f"procstatus serve: {self.client_address[0]}: {text}\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process from exiting
    registry: CollectorRegistry

    def server_bind(self) -> None:
        # HTTPServer.server_bind also looks the host's name up (socket.getfqdn),
        # a DNS query that can stall startup; the name is used for nothing here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class _Server6(_Server):
    address_family = socket.AF_INET6


class MetricsServer:
    """An HTTP server of ``registry``'s metrics at ``/metrics``, bound when created.

    ``port=0`` takes a free port; :attr:`port` tells which. ``address`` may be
    an IPv4 or IPv6 address or a host name. ``HEAD /metrics`` answers the
    headers without collecting (a probe must not scrape, nor reset peaks in
    the peak-per-interval mode). Other paths answer 404, methods
    other than GET and HEAD 405 (or 501), malformed requests 400, and a scrape
    that raises 500; the server goes on serving after each. Use
    :meth:`serve_forever` in a thread and :meth:`shutdown` from another, or
    :func:`serve`, which does both and stops on SIGTERM and SIGINT.
    """

    def __init__(
        self, registry: CollectorRegistry, address: str = DEFAULT_ADDRESS, port: int = DEFAULT_PORT
    ) -> None:
        family = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0][0]
        server_class = _Server6 if family == socket.AF_INET6 else _Server
        self._server: _Server = server_class((address, port), _Handler)
        self._server.registry = registry

    @property
    def address(self) -> str:
        """The address listened on."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port listened on (the one chosen when created with ``port=0``)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://ADDRESS:PORT/metrics``, with an IPv6 address in brackets."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}/metrics"

    def serve_forever(self) -> None:
        """Answer requests until :meth:`shutdown` is called (from another thread)."""
        self._server.serve_forever()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it returns."""
        self._server.shutdown()

    def close(self) -> None:
        """Close the listening socket."""
        self._server.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


def exporter_registry(collector: Collector) -> CollectorRegistry:
    """A new registry with ``collector``, and the exporter's own process metrics.

    Those are prometheus_client's ``process_*`` metrics and, next to them,
    ``process_resident_memory_peak_bytes`` (see ``register_self_peak``).
    """
    from .prometheus import register_self_peak  # noqa: PLC0415 - that module imports this one

    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    register_self_peak(registry)
    return registry


def serve(
    collector: Optional[Collector] = None,
    *,
    address: str = DEFAULT_ADDRESS,
    port: int = DEFAULT_PORT,
    on_listening: Optional[Callable[[MetricsServer], None]] = None,
) -> None:
    """Serve ``collector``'s metrics until SIGTERM or SIGINT (default: ``ProcStatusCollector()``).

    The registry served is :func:`exporter_registry`'s. ``on_listening`` is
    called with the server once it accepts connections (``procstatus serve``
    prints the URL there). Returns normally after either signal, having
    restored the previous handlers; must be called from the main thread (only
    it may set signal handlers). Raises OSError when the address cannot be
    bound (in use, not an address of this host) and ``socket.gaierror`` when
    it cannot be resolved.
    """
    if collector is None:
        from .prometheus import ProcStatusCollector  # noqa: PLC0415 - that module imports this one

        collector = ProcStatusCollector()
    with MetricsServer(exporter_registry(collector), address, port) as server:
        stop = threading.Event()

        def on_signal(signum: int, frame: Optional[FrameType]) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        thread = threading.Thread(target=server.serve_forever, name="procstatus-serve")
        try:
            thread.start()
            if on_listening is not None:
                on_listening(server)
            # Event.wait() is woken by the handler, which runs in this thread
            # between the interrupted lock acquisitions (signals interrupt lock
            # waits on POSIX since Python 3.2).
            stop.wait()
        finally:
            if thread.is_alive():
                server.shutdown()
                thread.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
