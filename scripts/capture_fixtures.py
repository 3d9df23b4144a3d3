#!/usr/bin/env python3
"""Capture raw /proc/PID/status texts of interesting live processes as test fixtures.

Starts (or finds) each process, reads its status bytes with plain open() and
writes them to tests/fixtures/<name>.status, which tests/test_fixtures.py parses.
Run it from anywhere, on Linux, with the dev venv (it shares tests/helpers_live.py):

    .venv/bin/python scripts/capture_fixtures.py

Every process gets a known name (prctl PR_SET_NAME) and state, so the tests can
check exact values. Before writing, each capture is checked against what this
script set up; a capture that is impossible here (kthreadd in a container) is
skipped with a message, and the old fixture, if any, is left alone.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers_live import (  # noqa: E402  (needs the sys.path entry above)
    raw_field,
    raw_status,
    set_comm,
    spawn_renamed,
    wait_for_state,
)

FIXTURES = REPO / "tests" / "fixtures"

# (fixture name, comm set with prctl, expected State letter). tests/test_fixtures.py
# repeats these values on purpose: a fixture regenerated wrongly must fail there.
SELF = ("self", b"capture-self", b"R")
THREAD = ("thread", b"capture-thread", b"R")
ZOMBIE = ("zombie", b"capture-zombie", b"Z")
STOPPED = ("stopped", b"capture-stop", b"T")
HOSTILE = [
    ("hostile-tab-uid", b"x\tUid:\t7\t7\t7\t7", b"S"),
    ("hostile-newline", b"y\nVmRSS:\t1 kB", b"S"),
    ("hostile-bytes", b"z\xff\xe2\x80\xa8\r\x0b\\n \\", b"S"),
]


def capture_self() -> bytes:
    set_comm(SELF[1])  # this script is single-threaded here: Threads: 1
    return raw_status(os.getpid())


def capture_thread() -> bytes:
    result: list[bytes] = []

    def work() -> None:
        set_comm(THREAD[1])
        # Read by the thread itself, so that it is running (R) while read.
        result.append(raw_status(os.getpid(), threading.get_native_id()))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return result[0]


def capture_zombie() -> bytes:
    with spawn_renamed(ZOMBIE[1]) as child:
        assert child.process.stdin is not None
        child.process.stdin.close()  # the child's read() returns and it exits, unreaped
        return wait_for_state(child.pid, b"Z")


def capture_stopped() -> bytes:
    with spawn_renamed(STOPPED[1]) as child:
        os.kill(child.pid, signal.SIGSTOP)
        return wait_for_state(child.pid, b"T")


def capture_renamed(name: bytes) -> bytes:
    with spawn_renamed(name) as child:
        return raw_status(child.pid)  # spawn_renamed waits until it sleeps reading stdin


def capture_kthreadd() -> Optional[bytes]:
    try:
        status = raw_status(2)
    except OSError:
        return None
    return status if raw_field(status, b"Name") == b"kthreadd" else None


def write(
    name: str,
    expected_name: bytes,
    letter: Optional[bytes],
    capture: Callable[[], Optional[bytes]],
) -> None:
    status = capture()
    if status is None:
        print(f"skipped {name}: not available on this machine", file=sys.stderr)
        return
    state = raw_field(status, b"State")[:1]
    got = (raw_field(status, b"Name"), state if letter is not None else None)
    # The kernel prints a newline in a name as "\n" (fs/proc/array.c).
    want = (expected_name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n"), letter)
    if got != want:
        raise SystemExit(f"{name}: captured {got!r}, expected {want!r}")
    path = FIXTURES / f"{name}.status"
    path.write_bytes(status)
    print(f"wrote {path.relative_to(REPO)} ({len(status)} bytes)")


def main() -> None:
    if not os.path.exists("/proc/self/status"):
        raise SystemExit("no /proc/self/status: procfs is not mounted here")
    FIXTURES.mkdir(exist_ok=True)
    # Self first, while this process still has a single thread.
    write(*SELF, capture_self)
    write(*THREAD, capture_thread)
    write(*ZOMBIE, capture_zombie)
    write(*STOPPED, capture_stopped)
    for name, comm, letter in HOSTILE:
        write(name, comm, letter, functools.partial(capture_renamed, comm))
    write("kthreadd", b"kthreadd", None, capture_kthreadd)  # its state varies


if __name__ == "__main__":
    main()
