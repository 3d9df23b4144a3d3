"""The status texts captured on a live machine by scripts/capture_fixtures.py.

Each fixture is parsed and compared with what the script set up: the name it
gave the process (prctl), the state it put it in, and whether it has memory.
Other values are checked against the raw bytes with helpers_live.raw_field,
which does not use procstatus. The fixtures are files, so this needs no /proc.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import attrs
import pytest

from helpers_live import raw_field
from procstatus import parse_memory, parse_status, read_pid

FIXTURES = Path(__file__).parent / "fixtures"


@attrs.frozen
class Expected:
    name: bytes
    state: Optional[str]  # None: not fixed by the script (kthreadd)
    has_memory: bool
    threads: int
    kthread: bool
    is_thread: bool = False


# The same names and states as in scripts/capture_fixtures.py.
EXPECTED = {
    "self": Expected(b"capture-self", "R", has_memory=True, threads=1, kthread=False),
    "thread": Expected(
        b"capture-thread", "R", has_memory=True, threads=2, kthread=False, is_thread=True
    ),
    "zombie": Expected(b"capture-zombie", "Z", has_memory=False, threads=1, kthread=False),
    "stopped": Expected(b"capture-stop", "T", has_memory=True, threads=1, kthread=False),
    "hostile-tab-uid": Expected(
        b"x\tUid:\t7\t7\t7\t7", "S", has_memory=True, threads=1, kthread=False
    ),
    "hostile-newline": Expected(b"y\nVmRSS:\t1 kB", "S", has_memory=True, threads=1, kthread=False),
    "hostile-bytes": Expected(
        b"z\xff\xe2\x80\xa8\r\x0b\\n \\", "S", has_memory=True, threads=1, kthread=False
    ),
    "kthreadd": Expected(b"kthreadd", None, has_memory=False, threads=1, kthread=True),
}


def test_every_fixture_is_expected() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.status")) == sorted(EXPECTED)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture(fixture: str) -> None:
    expected = EXPECTED[fixture]
    data = (FIXTURES / f"{fixture}.status").read_bytes()
    status = parse_status(data)

    assert status.name is not None
    assert os.fsencode(status.name) == expected.name
    assert status.state is not None
    if expected.state is not None:
        assert status.state.letter == expected.state
    assert status.threads == expected.threads
    assert status.pid == int(raw_field(data, b"Pid"))
    assert status.uid is not None
    assert status.uid.real == int(raw_field(data, b"Uid").split(b"\t")[0])
    assert (status.pid != status.tgid) is expected.is_thread
    if b"\nKthread:" in data:  # Linux 6.4 and later
        assert status.kthread is expected.kthread

    memory = parse_memory(data)
    assert memory == status.memory
    if expected.has_memory:
        assert memory is not None
        assert memory.peak_rss == int(raw_field(data, b"VmHWM")[:-3]) * 1024
        assert memory.rss == int(raw_field(data, b"VmRSS")[:-3]) * 1024
    else:
        assert memory is None


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_read_from_a_fake_root(fixture: str, tmp_path: Path) -> None:
    data = (FIXTURES / f"{fixture}.status").read_bytes()
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_bytes(data)
    assert read_pid(42, tmp_path) == parse_status(data)
