"""ProcStatus as a read-only mapping by kernel name, its typed attributes, memory and replace()."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any, Optional

import pytest

import procstatus
from procstatus import (
    FieldTypeError,
    FieldValueError,
    Ids,
    Memory,
    ProcStatus,
    SigQ,
    TaskState,
    format_status,
    parse_status,
)

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:

    def assert_type(value: object, _: object) -> object:
        return value


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


def test_values_by_key_have_their_field_types_for_type_checkers(status: ProcStatus) -> None:
    # mypy --strict checks each assert_type: the overloads of __getitem__ and get
    # are generated from the field table (scripts/field_types.py).
    assert assert_type(status["VmHWM"], int) == 2048 * KB
    assert assert_type(status.get("VmHWM"), Optional[int]) == 2048 * KB
    assert assert_type(status.get("VmSwap"), Optional[int]) is None
    assert assert_type(status.get("VmSwap", 0), int) == 0
    assert assert_type(status["Uid"], Ids).saved == 2
    assert assert_type(status["State"], TaskState).letter == "R"
    assert assert_type(status["SigQ"], SigQ).limit == 63965
    assert assert_type(status.get("Name"), Optional[str]) == "python3"
    assert assert_type(status.get("Groups"), Optional[tuple[int, ...]]) is None
    assert assert_type(status["Future"], Any) == "not in the table"
    assert assert_type(status.peak_rss, Optional[int]) == 2048 * KB


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


# replace(): typed values in, each checked by its kind; nothing else changes.


def test_replace_changes_values_in_place(status: ProcStatus) -> None:
    changed = status.replace(pid=42, name="new\nname\\", rss=4096)

    assert (changed.pid, changed.name, changed.rss) == (42, "new\nname\\", 4096)
    assert list(changed) == list(status)
    assert changed.raw("VmRSS") == "4 kB"
    assert changed.raw("Name") == "new\\nname\\\\"
    assert status.pid == 77  # the original is unchanged
    assert {key: changed[key] for key in changed if key not in ("Pid", "Name", "VmRSS")} == {
        key: status[key] for key in status if key not in ("Pid", "Name", "VmRSS")
    }


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


def test_replace_takes_a_plain_tuple_and_reads_back_the_named_one(status: ProcStatus) -> None:
    changed = status.replace(uid=(5, 6, 7, 8), sigq=(1, 2))

    assert changed.uid == Ids(real=5, effective=6, saved=7, filesystem=8)
    assert type(changed.uid) is Ids
    assert changed.sigq == SigQ(queued=1, limit=2)


def test_replace_unknown_attribute_is_a_type_error(status: ProcStatus) -> None:
    with pytest.raises(FieldTypeError) as caught:
        status.replace(vmrss=4096)

    assert str(caught.value) == "vmrss: ProcStatus has no field of this attribute name"
    assert isinstance(caught.value, TypeError)


REJECTED: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("pid-negative", {"pid": -1}, FieldValueError, "Pid: -1 is not a decimal number"),
    (
        "rss-not-whole-kb",
        {"rss": 1000},
        FieldValueError,
        "VmRSS: 1000 is not a multiple of 1024: the kernel prints memory in kB",
    ),
    ("rss-negative", {"rss": -1024}, FieldValueError, "VmRSS: -1024 is not a size"),
    ("umask-too-big", {"umask": 0o1000}, FieldValueError, "Umask: 512 is not a mode"),
    ("mask-negative", {"sig_blocked": -1}, FieldValueError, "SigBlk: -1 is not a mask"),
    ("three-ids", {"uid": (1, 2, 3)}, FieldValueError, "Uid: expected 4 numbers, not 3"),
    ("one-sigq", {"sigq": (1,)}, FieldValueError, "SigQ: expected 2 numbers, not 1"),
    ("three-sigq", {"sigq": (1, 2, 3)}, FieldValueError, "SigQ: expected 2 numbers, not 3"),
    ("sigq-dict", {"sigq": {}}, FieldTypeError, "SigQ: expected a tuple, not dict"),
    ("id-over-32-bits", {"gid": (0, 0, 0, 2**32)}, FieldValueError, "Gid: 4294967296 is not"),
    ("state-text", {"state": "R"}, FieldTypeError, "State: expected a TaskState, not str"),
    (
        "state-letter-only",
        {"state": TaskState("R", "x)")},
        FieldValueError,
        "State: TaskState(letter='R', meaning='x)') cannot be written: expected a letter",
    ),
    ("pid-text", {"pid": "seven"}, FieldTypeError, "Pid: expected an int, not str"),
    ("pid-bool", {"pid": True}, FieldTypeError, "Pid: expected an int, not bool"),
    ("kthread-int", {"kthread": 192767}, FieldTypeError, "Kthread: expected a bool"),
    ("cpu-negative", {"cpus_allowed": frozenset({-1})}, FieldValueError, "Cpus_allowed: -1 is"),
    ("cpu-2-40", {"cpus_allowed": {2**40}}, FieldValueError, "Cpus_allowed: 1099511627776 is"),
    ("cpu-list", {"cpus_allowed_list": [0, 1]}, FieldTypeError, "Cpus_allowed_list: expected"),
    ("rss-float", {"rss": 1024.0}, FieldTypeError, "VmRSS: expected an int, not float"),
    ("name-number", {"name": 5}, FieldTypeError, "Name: expected a str, not int"),
    ("words-as-text", {"x86_thread_features": "abc"}, FieldTypeError, "x86_Thread_features:"),
    ("word-with-space", {"x86_thread_features": ("a b",)}, FieldValueError, "x86_Thread_f"),
    ("groups-as-text", {"groups": "12"}, FieldTypeError, "Groups: expected a tuple, not str"),
    ("groups-as-list", {"groups": [12]}, FieldTypeError, "Groups: expected a tuple, not list"),
    (
        "text-that-adds-a-line",
        {"speculation_store_bypass": "x\nVmSwap:\t4 kB"},
        FieldValueError,
        "Speculation_Store_Bypass: 'x\\nVmSwap:\\t4 kB' cannot be written: a line break",
    ),
    (
        "text-with-blanks-around",
        {"speculation_store_bypass": " x"},
        FieldValueError,
        "Speculation_Store_Bypass: ' x' cannot be written: blanks around a text",
    ),
]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_replace_rejects_values_the_kernel_cannot_print(
    status: ProcStatus, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        status.replace(**changes)

    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, procstatus.Error)
    assert caught.value.field == str(caught.value).partition(":")[0]  # type: ignore[attr-defined]


def test_replace_errors_pickle(status: ProcStatus) -> None:
    with pytest.raises(FieldValueError) as caught:
        status.replace(rss=1000)

    copy = pickle.loads(pickle.dumps(caught.value))

    assert (type(copy), copy.field, copy.reason, str(copy)) == (
        FieldValueError,
        "VmRSS",
        caught.value.reason,
        str(caught.value),
    )


def test_a_value_cannot_add_or_change_another_line(status: ProcStatus) -> None:
    # A name is escaped; a text may only continue its own line (s390 dumps).
    changed = status.replace(name="x\nVmSwap:\t4 kB", speculation_store_bypass="a\n   b")

    assert "VmSwap" not in changed
    assert changed.name == "x\nVmSwap:\t4 kB"
    assert changed.speculation_store_bypass == "a\n   b"
    assert parse_status(format_status(changed)) == changed


# from_fields(): the validating constructor.


def test_from_fields_makes_a_status_from_typed_values() -> None:
    made = ProcStatus.from_fields(
        {
            "Name": "worker",
            "State": TaskState("S", "sleeping"),
            "Uid": Ids(0, 0, 0, 0),
            "VmRSS": 8192,
            "Kthread": False,
            "Cpus_allowed_list": frozenset({0, 1, 2}),
            "Future": "kept as text",
            "VmSwap": None,  # left out
        }
    )

    assert list(made) == ["Name", "State", "Uid", "VmRSS", "Kthread", "Cpus_allowed_list", "Future"]
    assert made.rss == 8192
    assert made.raw("Cpus_allowed_list") == "0-2"
    assert made.swap is None
    assert made == parse_status(format_status(made))


def test_from_fields_of_a_status_is_that_status(status: ProcStatus) -> None:
    assert ProcStatus.from_fields(status) == status
    assert ProcStatus.from_fields(dict(status)) == status


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"VmRSS": "5 MB"}, FieldTypeError, "VmRSS: expected an int, not str"),
        ({"VmRSS": 5000}, FieldValueError, "VmRSS: 5000 is not a multiple of 1024"),
        ({"Future": 5}, FieldTypeError, "Future: expected a str, not int"),
        ({"Bad:key": "x"}, FieldValueError, "Bad:key: a field name is not empty"),
        ({"": "x"}, FieldValueError, ": a field name is not empty"),
        ({5: "x"}, FieldTypeError, "5: a field name is a str"),
    ],
    ids=["text-for-memory", "not-whole-kb", "unknown-not-text", "colon-in-key", "empty", "int"],
)
def test_from_fields_rejects_what_the_kernel_cannot_print(
    fields: dict[Any, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        ProcStatus.from_fields(fields)

    assert str(caught.value).startswith(message)


def test_from_fields_takes_a_mapping() -> None:
    with pytest.raises(TypeError, match="fields must be a mapping, not list"):
        ProcStatus.from_fields([("Name", "x")])  # type: ignore[arg-type]


def test_the_unchecked_constructor_is_private() -> None:
    # ProcStatus({"VmRSS": "5 MB"}).rss used to be 5120: a status is always checked.
    with pytest.raises(TypeError, match=r"ProcStatus is made by procstatus\.parse_status"):
        ProcStatus({"VmRSS": "5 MB"})


def test_replace_does_not_check_invariants(status: ProcStatus) -> None:
    # A status below its own peak is what check_invariants() is for; replace() allows it.
    assert status.replace(peak_rss=0).peak_rss == 0


def test_a_status_pickles_to_an_equal_status(status: ProcStatus) -> None:
    assert pickle.loads(pickle.dumps(status)) == status
