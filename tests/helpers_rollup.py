"""Fake proc roots for the rollup and tree tests: process directories with a status,
smaps_rollup and smaps of our choosing (tests/test_read_rollup.py, tests/test_tree.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from strategies import ROLLUP_FIXTURES

__all__ = ["ROLLUP", "SMAPS", "add_process", "status"]

#: One idle process's smaps_rollup and smaps, read back to back (tests/fixtures/rollup).
ROLLUP = (ROLLUP_FIXTURES / "child-idle.rollup").read_bytes()
SMAPS = (ROLLUP_FIXTURES / "child-idle.smaps").read_bytes()


def status(pid: int, rss_kb: Optional[int], ppid: int = 1) -> bytes:
    """A status text with the lines read_rollup and read_tree use (a kernel thread without rss)."""
    memory = "" if rss_kb is None else f"VmRSS:\t{rss_kb:8d} kB\n"
    head = f"Name:\tp{pid}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n"
    return (head + memory).encode()


def add_process(
    root: Path,
    pid: int,
    *,
    rollup: Optional[bytes] = ROLLUP,
    smaps: Optional[bytes] = None,
    rss_kb: Optional[int] = 8688,
    ppid: int = 1,
) -> Path:
    """``root/<pid>`` with a status and the given smaps_rollup/smaps (None: no such file)."""
    directory = root / str(pid)
    directory.mkdir()
    (directory / "status").write_bytes(status(pid, rss_kb, ppid))
    if rollup is not None:
        (directory / "smaps_rollup").write_bytes(rollup)
    if smaps is not None:
        (directory / "smaps").write_bytes(smaps)
    return directory
