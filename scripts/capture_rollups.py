#!/usr/bin/env python3
"""Capture raw /proc/PID/smaps_rollup (and one smaps) texts of live processes as fixtures.

Writes tests/fixtures/rollup/<name>.rollup (and child-idle.smaps), which
tests/test_rollup_corpus.py parses; INDEX.md there says where every file came
from, these and the ones quoted from public reports. Run it on Linux 4.14+,
as root for the mlock capture, with the dev venv:

    .venvs/main/bin/python scripts/capture_rollups.py

Each process is set up so that its capture shows one thing (a region shared
after fork, mlocked pages, an idle child whose smaps and smaps_rollup are read
back to back), and each capture is checked against that before it is written;
a capture that is impossible here is skipped with a message, and the old
fixture, if any, is left alone. Files are read with plain open(), not procstatus.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "rollup"

MIB = 1 << 20
PAGE = mmap.PAGESIZE


def raw(pid: int, name: str) -> bytes:
    with open(f"/proc/{pid}/{name}", "rb") as file:
        return file.read()


def kb_line(text: bytes, key: bytes) -> int:
    """The value of ``key`` in a rollup text, in kB, read without procstatus."""
    for line in text.split(b"\n"):
        name, _, value = line.partition(b":")
        if name == key:
            return int(value.split()[0])
    raise KeyError(key)


@contextlib.contextmanager
def child(setup: Callable[[], None]) -> Iterator[int]:
    """A forked child that runs ``setup`` and then sleeps until the block ends."""
    ready_read, ready_write = os.pipe()
    hold_read, hold_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(ready_read)
            os.close(hold_write)
            setup()
            os.write(ready_write, b"x")
            os.read(hold_read, 1)  # blocks until the parent closes its end
        finally:
            os._exit(0)
    os.close(ready_write)
    os.close(hold_read)
    try:
        if os.read(ready_read, 1) != b"x":
            raise RuntimeError("the child failed to set itself up")
        yield pid
    finally:
        os.close(hold_write)
        os.close(ready_read)
        os.waitpid(pid, 0)


def capture_self() -> Optional[bytes]:
    return raw(os.getpid(), "smaps_rollup")


def capture_shared() -> Optional[bytes]:
    """The parent's rollup while a forked child maps the same 16 MiB MAP_SHARED region."""
    region = mmap.mmap(-1, 16 * MIB, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    region.write(b"\x01" * (16 * MIB))  # every page resident, in the parent

    def touch() -> None:
        total = 0
        for offset in range(0, 16 * MIB, PAGE):
            total += region[offset]  # map every page in the child too
        assert total == 16 * MIB // PAGE

    with child(touch):
        text = raw(os.getpid(), "smaps_rollup")
    region.close()
    # The 16 MiB are shared by two processes: at least 8 MiB of Pss_Shmem are ours.
    if kb_line(text, b"Shared_Dirty") < 16 * 1024 or kb_line(text, b"Pss_Shmem") < 8 * 1024:
        raise SystemExit(f"shared: the region does not show as shared:\n{text.decode()}")
    return text


def capture_locked() -> Optional[bytes]:
    """A child that mlock()s a 4 MiB private region: Locked counts its Pss."""
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[bytes] = []

    def lock() -> None:
        region = mmap.mmap(-1, 4 * MIB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        region.write(b"\x02" * (4 * MIB))
        address = ctypes.addressof(ctypes.c_char.from_buffer(region))
        if libc.mlock(ctypes.c_void_p(address), ctypes.c_size_t(4 * MIB)) != 0:
            raise OSError(ctypes.get_errno(), "mlock failed")
        lock.region = region  # type: ignore[attr-defined]  # keep it mapped

    try:
        with child(lock) as pid:
            result.append(raw(pid, "smaps_rollup"))
    except RuntimeError:
        return None  # mlock refused (RLIMIT_MEMLOCK without root)
    text = result[0]
    if kb_line(text, b"Locked") < 4 * 1024:
        raise SystemExit(f"locked: no locked memory shows:\n{text.decode()}")
    return text


def capture_idle_pair() -> Optional[tuple[bytes, bytes]]:
    """An idle process's smaps_rollup and smaps, read back to back (the fallback's fixture).

    A fresh interpreter (not a fork, whose pages the parent would keep
    un-sharing) blocked on stdin; taken again until the rollup read before
    and after smaps is the same, so both texts describe one state.
    """
    for _ in range(10):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; sys.stdout.write('r\\n'); sys.stdout.flush(); sys.stdin.read()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            process.stdout.readline()
            time.sleep(0.2)  # let it reach read() and stay there
            rollup = raw(process.pid, "smaps_rollup")
            smaps = raw(process.pid, "smaps")
            if raw(process.pid, "smaps_rollup") == rollup:
                return rollup, smaps
        finally:
            process.kill()
            process.wait()
    raise SystemExit("idle process: its rollup kept changing while smaps was read")


def write(name: str, data: Optional[bytes]) -> None:
    if data is None:
        print(f"skipped {name}: not available on this machine", file=sys.stderr)
        return
    path = FIXTURES / name
    path.write_bytes(data)
    print(f"wrote {path.relative_to(REPO)} ({len(data)} bytes)")


def main() -> None:
    if not os.path.exists("/proc/self/smaps_rollup"):
        raise SystemExit("no /proc/self/smaps_rollup: Linux 4.14+ with procfs is needed")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    write("self.rollup", capture_self())
    write("shared-parent.rollup", capture_shared())
    write("locked.rollup", capture_locked())
    pair = capture_idle_pair()
    if pair is not None:
        write("child-idle.rollup", pair[0])
        write("child-idle.smaps", pair[1])


if __name__ == "__main__":
    main()
