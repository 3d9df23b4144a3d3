"""ProcStatus as a read-only mapping by kernel name, its typed attributes, memory and replace()."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from procstatus import Ids, Memory, ProcStatus, SigQ, StatusParseError, TaskState, parse_status

KB = 1024

TEXT = """\
Name:\tpython3
State:\tR (running)
Pid:\t77
Uid:\t0\t1\t2\t3
VmHWM:\t    2048 kB
VmRSS:\t    1024 kB
Threads:\t3
SigQ:\t2/63965
Future:\tnot in the table
"""


@pytest.fixture
def status() -> ProcStatus:
    return parse_status(TEXT)


def test_mapping_by_kernel_name(status: ProcStatus) -> None:
    assert status["VmHWM"] == 2048 * KB
    assert status.get("VmHWM") == 2048 * KB
    assert status.get("VmSwap") is None
    assert status.get("VmSwap", 0) == 0
    assert "VmRSS" in status
    assert "VmSwap" not in status
    assert "peak_rss" not in status  # keys are kernel names, not attributes


def test_iteration_is_file_order(status: ProcStatus) -> None:
    expected = ["Name", "State", "Pid", "Uid", "VmHWM", "VmRSS", "Threads", "SigQ", "Future"]

    assert list(status) == expected
    assert list(status.keys()) == expected
    assert len(status) == 9
    assert dict(status.items())["SigQ"] == SigQ(queued=2, limit=63965)
    assert next(iter(status.values())) == "python3"


def test_absent_key_is_a_key_error(status: ProcStatus) -> None:
    with pytest.raises(KeyError, match="VmSwap"):
        status["VmSwap"]


def test_attributes_are_typed_values(status: ProcStatus) -> None:
    assert status.name == "python3"
    assert status.state == TaskState(letter="R", meaning="running")
    assert status.state is not None
    assert (status.state.letter, status.state.meaning, str(status.state)) == (
        "R",
        "running",
        "R (running)",
    )
    assert status.uid == Ids(real=0, effective=1, saved=2, filesystem=3)
    assert status.uid is not None
    assert status.uid.saved == 2
    assert (status.peak_rss, status.rss, status.swap) == (2048 * KB, 1024 * KB, None)
    assert status.threads == 3


def test_raw_is_the_printed_text(status: ProcStatus) -> None:
    assert status.raw("VmHWM") == "2048 kB"
    assert status.raw("Uid") == "0\t1\t2\t3"
    assert status.raw("Future") == "not in the table"
    with pytest.raises(KeyError):
        status.raw("VmSwap")


def test_unknown_lines(status: ProcStatus) -> None:
    assert status.unknown == ("Future",)
    assert status["Future"] == "not in the table"


def test_statuses_from_the_same_text_are_equal(status: ProcStatus) -> None:
    assert status == parse_status(TEXT)
    assert status == parse_status(TEXT.replace("\t    ", "\t"))  # padding is not a value


@pytest.mark.parametrize(
    "other",
    [
        TEXT.replace("Pid:\t77", "Pid:\t78"),
        TEXT.replace("Future:\tnot in the table\n", ""),
        TEXT.replace(
            "Name:\tpython3\nState:\tR (running)\n", "State:\tR (running)\nName:\tpython3\n"
        ),
    ],
    ids=["value", "missing-line", "order"],
)
def test_statuses_that_differ_are_not_equal(status: ProcStatus, other: str) -> None:
    assert status != parse_status(other)


def test_statuses_are_unhashable_and_read_only(status: ProcStatus) -> None:
    with pytest.raises(TypeError):
        hash(status)
    with pytest.raises(AttributeError):
        status.pid = 1


def test_repr_shows_the_main_fields(status: ProcStatus) -> None:
    assert repr(status) == (
        "ProcStatus(name='python3', pid=77, state=TaskState(letter='R', meaning='running'),"
        " rss=1048576, peak_rss=2097152, ... 9 fields)"
    )


# Memory.


def test_memory_collects_the_memory_lines_in_bytes(status: ProcStatus) -> None:
    assert status.memory == Memory(peak_rss=2048 * KB, rss=1024 * KB)


def test_memory_is_none_without_memory_lines() -> None:
    assert parse_status("Name:\tkthreadd\nKthread:\t1\n").memory is None


def test_memory_is_frozen(status: ProcStatus) -> None:
    memory = status.memory
    assert memory is not None

    with pytest.raises(AttributeError):
        memory.rss = 0  # type: ignore[misc]
    assert memory._replace(rss=0).rss == 0


# replace().


def test_replace_changes_values_in_place(status: ProcStatus) -> None:
    changed = status.replace(pid=42, name="new\nname\\", rss=4096)

    assert (changed.pid, changed.name, changed.rss) == (42, "new\nname\\", 4096)
    assert list(changed) == list(status)
    assert changed.raw("VmRSS") == "4 kB"
    assert changed.raw("Name") == "new\\nname\\\\"
    assert status.pid == 77  # the original is unchanged


def test_replace_with_none_removes_the_line(status: ProcStatus) -> None:
    changed = status.replace(peak_rss=None, swap=None)

    assert "VmHWM" not in changed
    assert changed.peak_rss is None
    assert len(changed) == len(status) - 1


def test_replace_adds_absent_fields_at_the_end(status: ProcStatus) -> None:
    changed = status.replace(swap=8192, groups=(), cpus_allowed=frozenset({0, 40}))

    assert list(changed)[-3:] == ["VmSwap", "Groups", "Cpus_allowed"]
    assert changed.swap == 8192
    assert changed.groups == ()
    assert changed.cpus_allowed == frozenset({0, 40})
    assert changed.raw("Cpus_allowed") == "100,00000001"


def test_replace_keeps_unknown_lines(status: ProcStatus) -> None:
    assert status.replace(pid=1)["Future"] == "not in the table"


def test_replace_unknown_attribute_is_a_type_error(status: ProcStatus) -> None:
    with pytest.raises(TypeError) as caught:
        status.replace(vmrss=4096)

    assert str(caught.value) == "ProcStatus has no field attribute 'vmrss'"


def test_replace_kb_field_needs_a_multiple_of_1024(status: ProcStatus) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011  (the message is checked below)
        status.replace(rss=1000)

    assert str(caught.value) == "rss is printed in kB: 1000 is not a multiple of 1024"
    assert not isinstance(caught.value, StatusParseError)


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("pid-negative", {"pid": -1}, "line 3 (Pid): expected a decimal number of at most 20 digits"),
    ("rss-negative", {"rss": -1024}, "line 6 (VmRSS): expected a decimal number"),
    ("umask-too-big", {"umask": 0o1000}, "line 10 (Umask): expected four octal digits"),
    ("mask-negative", {"sig_blocked": -1}, "line 10 (SigBlk): expected at most 64"),
    ("three-ids", {"uid": (1, 2, 3)}, "line 4 (Uid): expected four 32-bit ids"),
    ("id-over-32-bits", {"gid": (0, 0, 0, 2**32)}, "line 10 (Gid): id 4294967296 does not fit"),
    ("state-letter-only", {"state": "R"}, "line 2 (State): expected a letter and a word"),
    ("name-text", {"pid": "seven"}, "line 3 (Pid): expected a decimal number"),
    ("cpus-allowed-negative", {"cpus_allowed": frozenset({-1})}, "line 10 (Cpus_allowed)"),
    ("rss-float", {"rss": 1024.0}, "line 6 (VmRSS)"),
    ("name-number", {"name": 5}, "line 1 (Name): cannot write 5"),
    ("words-as-text", {"x86_thread_features": "abc"}, "line 10 (x86_Thread_features): cannot"),
    ("groups-as-text", {"groups": "12"}, "line 10 (Groups): cannot write '12'"),
]


@pytest.mark.parametrize(
    ("changes", "message"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_replace_rejects_values_the_kernel_cannot_print(
    status: ProcStatus, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(StatusParseError) as caught:
        status.replace(**changes)

    assert str(caught.value).startswith(message)


def test_replace_does_not_check_invariants(status: ProcStatus) -> None:
    # A status below its own peak is what check_invariants() is for; replace() allows it.
    assert status.replace(peak_rss=0).peak_rss == 0


def test_a_status_pickles_to_an_equal_status(status: ProcStatus) -> None:
    assert pickle.loads(pickle.dumps(status)) == status
