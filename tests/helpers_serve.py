"""Helpers for the exporter's tests: ``procstatus serve`` as a child process, a
process with a known name and a known peak, and plain HTTP on loopback.

Used by tests/test_serve.py and tests/test_prometheus_server.py. Everything
listens on and connects to loopback only.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping

import attrs

from helpers_live import kb_field, raw_status, wait_for_state

__all__ = [
    "HttpAnswer",
    "Peaked",
    "Served",
    "free_port",
    "http_get",
    "raw_request",
    "serve_command",
    "spawn_peaked",
    "stop",
    "unique_name",
]

LOOPBACK = "127.0.0.1"
_SERVING = re.compile(r"procstatus serve: serving (http://\S+/metrics)\n")


def free_port(address: str = LOOPBACK) -> int:
    """A TCP port free on ``address`` right now (another program may take it later)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def unique_name(prefix: str) -> str:
    """A process name nobody else on this machine has: ``prefix`` and this pid, 15 bytes at most."""
    return f"{prefix}{os.getpid():x}"[:15]


@attrs.frozen
class Served:
    """A running ``procstatus serve`` and the URL it printed."""

    process: subprocess.Popen[bytes]
    url: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])


@contextlib.contextmanager
def serve_command(*args: str, timeout: float = 30.0) -> Iterator[Served]:
    """``python -m procstatus serve --port 0 ARGS`` until the block ends (then SIGKILL if alive).

    The block starts once the server printed its URL, so it accepts connections.
    ``--port 0`` lets the kernel choose a free port: no race with other programs.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "procstatus", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = _first_line(process, timeout)
        match = _SERVING.fullmatch(line)
        if match is None:
            _, err = process.communicate(timeout=timeout)
            raise RuntimeError(f"procstatus serve did not start: {line!r} {err!r}")
        yield Served(process=process, url=match[1])
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=timeout)


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    # readline() alone would wait forever for a server that hangs before printing.
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line.decode("utf-8", "replace")


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> tuple[int, str]:
    """Send ``signum`` and wait: the exit status and what was written to stderr."""
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    return process.returncode, err.decode("utf-8", "replace")


@attrs.frozen
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def http_get(url: str, *, method: str = "GET", timeout: float = 10.0) -> HttpAnswer:
    """One request to a loopback URL; HTTP errors are answers here, not exceptions."""
    assert url.startswith(("http://127.", "http://[::1]", "http://localhost")), url
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers), error.read())


def raw_request(host: str, port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` as it is and read the whole answer (the server closes the connection)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# The child renames itself, touches ``size`` bytes (bytes * int writes every
# page), frees them, and blocks on stdin: its VmHWM then stays at least
# ``size`` above its VmRSS, and does not change while it waits.
_PEAKED = """
import ctypes, sys
name, size = sys.argv[1].encode(), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0) != 0:  # PR_SET_NAME
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME) failed")
block = b"\\x01" * size
del block
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.buffer.read()
"""


@attrs.frozen
class Peaked:
    """A child process named ``name`` whose peak RSS is ``peak_rss`` bytes (VmHWM, read raw)."""

    pid: int
    name: str
    peak_rss: int
    rss: int


@contextlib.contextmanager
def spawn_peaked(name: str, size: int, *, reset: bool = False) -> Iterator[Peaked]:
    """A python child renamed ``name`` that touched and freed ``size`` bytes, idle until the end.

    Unless ``reset`` (the test resets the child's peak), the block must leave the
    peak as it found it.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _PEAKED, name, str(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline() != b"ready\n":
            raise RuntimeError(f"peaked child exited with {process.wait()}")
        status = wait_for_state(process.pid, b"S")
        yield Peaked(
            pid=process.pid,
            name=name,
            peak_rss=kb_field(status, b"VmHWM"),
            rss=kb_field(status, b"VmRSS"),
        )
        # Idle all along: the peak read at the start is still the peak.
        assert reset or kb_field(raw_status(process.pid), b"VmHWM") == kb_field(status, b"VmHWM")
    finally:
        if process.poll() is None:
            process.kill()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        process.wait()
