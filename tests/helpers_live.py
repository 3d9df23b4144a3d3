"""Helpers for tests that read real processes or run as another user: children
that rename themselves, zombies, stopped processes, a raw reader that does not
use procstatus, and uid 65534 runs over world-readable temporary trees.

Used by tests/test_read_live.py, tests/test_read.py, tests/test_cli_*.py,
tests/test_peak.py and scripts/capture_fixtures.py. Everything here reads /proc
directly, so it can check the library against an independent source.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import procstatus

__all__ = [
    "COMM_MAX",
    "HAVE_PROC",
    "NOBODY_ENV",
    "SYSTEM_PYTHON",
    "Child",
    "SharedTree",
    "as_nobody",
    "kb_field",
    "raw_field",
    "raw_status",
    "requires_proc",
    "run_as_nobody",
    "set_comm",
    "shared_region_tree",
    "spawn_renamed",
    "spawn_zombie",
    "wait_for_state",
    "world_readable_dir",
]

HAVE_PROC = os.path.exists("/proc/self/status")

requires_proc = pytest.mark.skipif(
    not HAVE_PROC, reason="no /proc/self/status: procfs is not mounted here"
)

# Permission tests read as another user, because root ignores file modes. Only the
# system python is reachable by uid 65534 (pyenv lives in root's home); it gets the
# procstatus under test (the source tree, or an installed wheel's site-packages)
# and the attrs this interpreter uses (pure Python, so any version's copy serves)
# on its path. Callers skip when that user cannot import them.
SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = 65534
_SETPRIV = shutil.which("setpriv")
_SOURCE = Path(procstatus.__file__).resolve().parents[1]
_ATTRS_HOME = Path(attrs.__file__).resolve().parents[1]
NOBODY_ENV = {"PYTHONPATH": f"{_SOURCE}{os.pathsep}{_ATTRS_HOME}", "PATH": "/usr/bin:/bin"}


def as_nobody(argv: list[str]) -> list[str]:
    """``argv`` run as uid and gid 65534 with no groups; skips the test where impossible."""
    if os.geteuid() != 0 or _SETPRIV is None or not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"needs root, setpriv and {SYSTEM_PYTHON} to run as uid {NOBODY}")
    return [_SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]


def run_as_nobody(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as uid 65534 (see :func:`as_nobody`) and wait for it.

    Text output is captured, the environment is :data:`NOBODY_ENV` and the run
    times out after 30 s; ``kwargs`` go to :func:`subprocess.run` and override
    these (e.g. ``input=``, ``timeout=``). A non-zero exit is not an error here:
    the caller decides what it means.
    """
    options: dict[str, Any] = {
        "text": True,
        "capture_output": True,
        "timeout": 30,
        "env": NOBODY_ENV,
        **kwargs,
    }
    check = bool(options.pop("check", False))
    result: subprocess.CompletedProcess[str] = subprocess.run(
        as_nobody(argv), check=check, **options
    )
    return result


@contextlib.contextmanager
def world_readable_dir(prefix: str = "procstatus-") -> Iterator[Path]:
    """A new temporary directory of mode 0755, removed when the block ends.

    pytest's ``tmp_path`` lives under /tmp/pytest-of-root (mode 0700), which
    uid 65534 cannot enter; trees that user must reach are built here instead.
    Files and subdirectories created inside get the modes the test gives them.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as where:
        os.chmod(where, 0o755)
        yield Path(where)


# TASK_COMM_LEN is 16 (include/linux/sched.h): prctl(PR_SET_NAME) keeps 15 bytes.
COMM_MAX = 15

_PR_SET_NAME = 15  # include/uapi/linux/prctl.h


def set_comm(name: bytes) -> None:
    """prctl(PR_SET_NAME, name): renames the calling thread only (its comm).

    ``name`` must not contain NUL; the kernel keeps its first :data:`COMM_MAX` bytes.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME) failed")


# The child renames itself, starts idle threads, reports its uid and then blocks
# on stdin, so its status stays still while the parent reads it. It cannot
# import this module (it runs with -c, outside the tests' path), so it repeats
# set_comm() inline.
_CHILD = f"""
import ctypes, os, sys, threading
name = bytes.fromhex(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl({_PR_SET_NAME}, ctypes.c_char_p(name), 0, 0, 0) != 0:
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME) failed")
stop = threading.Event()
for _ in range(int(sys.argv[2])):
    threading.Thread(target=stop.wait, daemon=True).start()
sys.stdout.write(str(os.getuid()) + "\\n")
sys.stdout.flush()
sys.stdin.buffer.read()
"""


@attrs.frozen
class Child:
    """A running child process started by :func:`spawn_renamed`."""

    pid: int
    uid: int
    threads: int
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def spawn_renamed(name: bytes, *, extra_threads: int = 0) -> Iterator[Child]:
    """A child python renamed with prctl(PR_SET_NAME, name), idle until the block ends.

    ``name`` must not contain NUL; the kernel keeps its first 15 bytes. The block
    starts once every thread of the child sleeps (State S) and stays asleep: the
    main thread is blocked reading stdin and the extra threads on an event, so
    the child's status does not change while the block reads it.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD, name.hex(), str(extra_threads)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"child for name {name!r} exited with {process.wait()}")
        # The line is out before the child reaches read(): wait until it sleeps there.
        wait_for_state(process.pid, b"S")
        _wait_until_all_threads_sleep(process.pid)
        yield Child(pid=process.pid, uid=int(line), threads=1 + extra_threads, process=process)
    finally:
        _finish(process)


@contextlib.contextmanager
def spawn_zombie() -> Iterator[subprocess.Popen[bytes]]:
    """A child that has exited and is not reaped yet (state Z) until the block ends.

    Reap it inside the block with ``process.wait()`` to test a reaped pid.
    """
    process = subprocess.Popen([sys.executable, "-c", ""])
    try:
        wait_for_state(process.pid, b"Z")
        yield process
    finally:
        process.wait()


def _finish(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        # A stopped child must be continued, or it would not see stdin close.
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    process.wait()


def raw_status(pid: int, tid: int | None = None) -> bytes:
    """The raw bytes of /proc/PID/status (or of a thread), read without procstatus."""
    path = f"/proc/{pid}/status" if tid is None else f"/proc/{pid}/task/{tid}/status"
    with open(path, "rb") as file:
        return file.read()


def kb_field(status: bytes, key: bytes) -> int:
    """A ``%8lu kB`` line (VmHWM, VmRSS, ...) of raw status bytes, in bytes."""
    value = raw_field(status, key).strip()
    assert value.endswith(b" kB"), value
    return int(value[:-3]) * 1024


def raw_field(status: bytes, key: bytes) -> bytes:
    """The value of line ``key`` in raw status bytes, found independently of procstatus.

    The kernel escapes newline in names (fs/proc/array.c), so ``\\n<key>:\\t`` can
    only match a real line, never text inside the Name line.
    """
    if key == b"Name":
        return status[len(b"Name:\t") : status.index(b"\n")]
    start = status.index(b"\n" + key + b":\t") + len(key) + 3
    return status[start : status.index(b"\n", start)]


def wait_for_state(pid: int, letters: bytes, timeout: float = 10.0) -> bytes:
    """Poll until the State letter of ``pid`` is one of ``letters``; the raw status then."""
    deadline = time.monotonic() + timeout
    while True:
        status = raw_status(pid)
        if raw_field(status, b"State")[:1] in letters:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} did not reach state {letters!r}")
        time.sleep(0.005)


def _thread_activity(pid: int) -> dict[int, tuple[bytes, bytes, bytes]]:
    """Per thread of ``pid``: its State letter and context switch counts."""
    activity = {}
    for tid in sorted(int(entry) for entry in os.listdir(f"/proc/{pid}/task")):
        status = raw_status(pid, tid)
        activity[tid] = (
            raw_field(status, b"State")[:1],
            raw_field(status, b"voluntary_ctxt_switches"),
            raw_field(status, b"nonvoluntary_ctxt_switches"),
        )
    return activity


def _wait_until_all_threads_sleep(pid: int, timeout: float = 10.0) -> None:
    """Poll until every thread of ``pid`` sleeps and none ran between two polls.

    A thread in S may only be waiting for the GIL and run again a moment later;
    unchanged context switch counts across two polls show it did not.
    """
    deadline = time.monotonic() + timeout
    previous: dict[int, tuple[bytes, bytes, bytes]] = {}
    while True:
        current = _thread_activity(pid)
        if current == previous and all(state == b"S" for state, _, _ in current.values()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the threads of process {pid} did not all go to sleep")
        previous = current
        time.sleep(0.005)


# A tree of processes sharing one region (tests/test_read_rollup_live.py, test_tree.py).
# The parent maps an anonymous MAP_SHARED region, writes every page of it, then
# forks children that each read every page (mapping it too), report, and wait
# on stdin like the parent; every process of the tree exits when stdin closes.
_SHARED_TREE = """
import mmap, os, sys
size, children = int(sys.argv[1]), int(sys.argv[2])
region = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
chunk = b"\\x01" * (1 << 20)
for offset in range(0, size, len(chunk)):
    region[offset:offset + len(chunk)] = chunk[: size - offset]
pids = []
for _ in range(children):
    ready, done = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready)
        pages = range(0, size, mmap.PAGESIZE)
        assert sum(region[offset] for offset in pages) == len(pages)
        os.write(done, b"x")
        os.read(0, 1)
        os._exit(0)
    os.close(done)
    assert os.read(ready, 1) == b"x"
    os.close(ready)
    pids.append(pid)
sys.stdout.write(" ".join(map(str, pids)) + "\\n")
sys.stdout.flush()
os.read(0, 1)
for pid in pids:
    os.waitpid(pid, 0)
"""


@attrs.frozen
class SharedTree:
    """A running tree from :func:`shared_region_tree`: the parent and its children."""

    pid: int
    children: tuple[int, ...]
    size: int


@contextlib.contextmanager
def shared_region_tree(size: int, children: int = 4) -> Iterator[SharedTree]:
    """A python parent and ``children`` forked children that all map one ``size``-byte
    MAP_SHARED anonymous region, every page resident in each; idle until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SHARED_TREE, str(size), str(children)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the shared-region tree exited with {process.wait()}")
        pids = tuple(int(word) for word in line.split())
        for pid in (process.pid, *pids):
            wait_for_state(pid, b"S")
        yield SharedTree(pid=process.pid, children=pids, size=size)
    finally:
        _end_tree(process)


def _end_tree(process: subprocess.Popen[bytes]) -> None:
    # Closing stdin ends the parent and every child (they all wait reading it).
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _finish(process)
