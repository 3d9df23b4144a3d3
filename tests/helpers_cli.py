"""Helpers for the tests of the ``procstatus`` command (tests/test_cli_*.py).

The command is driven as a subprocess, the way a person runs it: ``python -m
procstatus`` with the interpreter running the tests, so the package under test
is the one this interpreter imports (the source tree, or an installed wheel).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

__all__ = [
    "ENV",
    "NO_SUCH_PID",
    "PROCSTATUS",
    "fake_process",
    "make_fake_root",
    "procstatus_cmd",
    "read_lines",
    "sigint_not_ignored",
    "with_closed",
]

#: Beyond PID_MAX_LIMIT (2**22, include/linux/threads.h): no process can have it.
NO_SUCH_PID = 2**22 + 1

#: UTF-8 output whatever the locale, and a fixed width for argparse's help.
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}

#: The command, as the tests run it.
PROCSTATUS = [sys.executable, "-m", "procstatus"]


def procstatus_cmd(
    *args: str, stdin: Optional[str] = None, env: Optional[dict[str, str]] = None
) -> subprocess.CompletedProcess[str]:
    """``python -m procstatus ARGS``; whatever happens, never a traceback."""
    result = subprocess.run(
        [*PROCSTATUS, *args],
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        env=ENV if env is None else env,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr
    return result


#: How each closed stream is spelled in sh: the redirection that closes it.
_CLOSE = {"stdout": ">&-", "stderr": "2>&-", "both": ">&- 2>&-"}


def with_closed(stream: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``procstatus ARGS`` started with ``stream`` closed, as ``sh -c 'procstatus >&-'`` does.

    ``stream`` is ``"stdout"``, ``"stderr"`` or ``"both"``. A closed descriptor is
    not ``/dev/null``: the process starts with no file at that number, and Python
    sets ``sys.stdout`` (or ``sys.stderr``) to ``None``. Whichever stream stays
    open is captured, and must hold no traceback.
    """
    script = f'exec "$@" {_CLOSE[stream]}'
    result = subprocess.run(
        ["sh", "-c", script, "sh", *PROCSTATUS, *args],
        capture_output=True,
        encoding="utf-8",
        env=ENV,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def fake_process(pid: int, name: str, *, hwm: int, rss: int, swap: int, size: int) -> str:
    """A status text with the memory lines given in kB."""
    return (
        f"Name:\t{name}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\n"
        f"VmPeak:\t{size:8d} kB\nVmSize:\t{size:8d} kB\nVmHWM:\t{hwm:8d} kB\n"
        f"VmRSS:\t{rss:8d} kB\nVmSwap:\t{swap:8d} kB\nThreads:\t1\n"
    )


def make_fake_root(where: Path) -> Path:
    """A proc tree of four processes and one kernel thread (pid 2: no memory lines)."""
    root = where / "proc"
    processes = {
        2: "Name:\tkthreadd\nState:\tS (sleeping)\nTgid:\t2\nPid:\t2\nThreads:\t1\n",
        10: fake_process(10, "big-peak", hwm=900_000, rss=1_000, swap=0, size=950_000),
        11: fake_process(11, "big-rss", hwm=500_000, rss=400_000, swap=10, size=600_000),
        12: fake_process(12, "swapped", hwm=2_000, rss=1_500, swap=300_000, size=400_000),
        13: fake_process(13, "huge-size", hwm=1_000, rss=900, swap=0, size=9_000_000),
    }
    for pid, text in processes.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_text(text)
    return root


@contextlib.contextmanager
def sigint_not_ignored() -> Iterator[None]:
    """Children started in the block get SIGINT's default action, as in a terminal.

    A shell's background job (``pytest &``) ignores SIGINT; an ignored signal
    stays ignored through exec(2), and Python then leaves it so: Ctrl-C would
    never reach the command. A handler, unlike SIG_IGN, is reset by exec.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def read_lines(stream: int, count: int, timeout: float = 30.0) -> list[str]:
    """The next ``count`` lines from the pipe ``stream`` (a file descriptor), as they come.

    Raw reads through a selector, so that a line is seen as soon as the writer
    flushes it and a writer that stalls fails the test after ``timeout`` seconds
    instead of blocking it. Reads never go past the ``count``-th newline's chunk:
    call once per stream.
    """
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while data.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError(f"{count} lines did not come in {timeout} s: {data!r}")
            chunk = os.read(stream, 65536)
            if not chunk:
                raise EOFError(f"the pipe closed after {data!r}")
            data += chunk
    return data.decode("utf-8").split("\n")[:count]
