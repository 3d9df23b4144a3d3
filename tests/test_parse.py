"""parse_status and parse_memory: what a kernel writes parses, anything else names its line."""

from __future__ import annotations

import os
import pickle
from typing import Optional, Union

import pytest

from procstatus import Ids, ProcStatus, StatusParseError, TaskState, parse_memory, parse_status

# A user process as Linux 6.x prints it (values made up for these tests).
TEXT = """\
Name:\tbash
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
PPid:\t1
Uid:\t1000\t1000\t1000\t1000
Groups:\t4 24 27\x20
VmPeak:\t   12000 kB
VmSize:\t   11000 kB
VmHWM:\t    5000 kB
VmRSS:\t    4000 kB
RssAnon:\t    1000 kB
RssFile:\t    3000 kB
RssShmem:\t       0 kB
SigBlk:\t0000000000010000
Cpus_allowed:\t3
Cpus_allowed_list:\t0-1
"""

KB = 1024


def test_a_kernel_text_parses() -> None:
    status = parse_status(TEXT)

    assert status.name == "bash"
    assert status.umask == 0o022
    assert status.state == TaskState(letter="S", meaning="sleeping")
    assert status.uid == Ids(real=1000, effective=1000, saved=1000, filesystem=1000)
    assert status.groups == (4, 24, 27)
    assert (status.peak_size, status.size) == (12000 * KB, 11000 * KB)
    assert (status.peak_rss, status.rss) == (5000 * KB, 4000 * KB)
    assert status.sig_blocked == 1 << 16
    assert status.cpus_allowed == status.cpus_allowed_list == frozenset({0, 1})


def test_bytes_and_str_parse_the_same() -> None:
    assert parse_status(TEXT.encode()) == parse_status(TEXT)


def test_other_types_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="status text must be str or bytes, not int"):
        parse_status(42)  # type: ignore[arg-type]


def test_absent_fields_are_none_not_zero() -> None:
    status = parse_status("Name:\tinit\nVmRSS:\t       0 kB\n")

    assert status.rss == 0
    assert status.swap is None
    assert status.peak_rss is None
    assert status.uid is None
    assert status.groups is None
    assert "VmSwap" not in status


def test_the_final_newline_is_optional() -> None:
    assert parse_status("Name:\tx\nPid:\t1") == parse_status("Name:\tx\nPid:\t1\n")


def test_an_empty_text_is_an_empty_status() -> None:
    status = parse_status("")

    assert len(status) == 0
    assert status.name is None
    assert status.memory is None


def test_blank_lines_are_skipped() -> None:
    # prometheus' fixture starts with an empty line; a 4.4.y stable kernel printed one.
    status = parse_status("\nName:\tx\n\n \t\nPid:\t1\n")

    assert list(status) == ["Name", "Pid"]


def test_unknown_lines_are_kept_in_order_with_their_text() -> None:
    status = parse_status("Name:\tx\nFuture:\t  some value \nPid:\t1\nVendorThing:\t0x10 kB\n")

    assert list(status) == ["Name", "Future", "Pid", "VendorThing"]
    assert status.unknown == ("Future", "VendorThing")
    assert status.get("Future") == "some value"
    assert status["VendorThing"] == "0x10 kB"


def test_tab_expanded_copies_parse() -> None:
    # Mail and blog copies turn the tab after the colon into spaces.
    status = parse_status("Name:   bash\nPid:    1\nUid:    0       0       0       0\n")

    assert status.name == "bash"
    assert status.pid == 1
    assert status.uid == Ids(0, 0, 0, 0)


def test_ids_printed_negative_by_old_kernels_are_the_same_32_bit_ids() -> None:
    # Up to 4.8 the kernel printed ids with %d.
    status = parse_status("Uid:\t-1\t-2\t0\t4294967295\nGroups:\t-233766913 \n")

    assert status.uid == Ids(4294967295, 4294967294, 0, 4294967295)
    assert status.groups == (4061200383,)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Groups:\n", ()),
        ("Groups:\t\n", ()),
        ("Groups:\t \n", ()),
        ("Groups:\t0 \n", (0,)),
        ("Groups:\t10 54323\n", (10, 54323)),
    ],
    ids=["no-tab", "2.6-empty", "4.9-empty", "one", "trailing-space-lost"],
)
def test_groups(text: str, groups: tuple[int, ...]) -> None:
    assert parse_status(text).groups == groups


# Names: the only text a process chooses. The kernel escapes newline as \n and
# backslash as \\ and writes every other byte raw.


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (b"Name:\tcat\n", b"cat"),
        (b"Name:\ta b\tc\\nd\\\\e:\xff\xfe\n", b"a b\tc\nd\\e:\xff\xfe"),
        (b"Name:\t\\\\n\n", b"\\n"),
        (b"Name:\t\n", b""),
        (b"Name:\t  two spaces first\n", b"  two spaces first"),
        (b"Name:\t\tleading tab\n", b"\tleading tab"),
        (b"Name:\ttrailing blanks \t \n", b"trailing blanks \t "),
        (b"Name:\ta\rb\n", b"a\rb"),
        (b"Name:\ta\x0bb\x0cc\n", b"a\x0bb\x0cc"),
        (b"Name:\ta\x1cb\x1dc\x1ed\x85e\n", b"a\x1cb\x1dc\x1ed\x85e"),
        (b"Name:\ta\xe2\x80\xa8b\xe2\x80\xa9c\n", b"a\xe2\x80\xa8b\xe2\x80\xa9c"),
        (b"Name:\tirq/24-ACPI:Ged\n", b"irq/24-ACPI:Ged"),
    ],
    ids=[
        "plain",
        "hostile-054",
        "escaped-backslash-then-n",
        "empty",
        "leading-spaces",
        "leading-tab",
        "trailing-blanks",
        "carriage-return",
        "vertical-tab-form-feed",
        "ascii-separators-and-nel",
        "unicode-line-separators",
        "colon",
    ],
)
def test_names_parse_exactly(line: bytes, name: bytes) -> None:
    # str.splitlines() would split at \r, \x0b, \x0c, \x1c-\x1e, \x85, U+2028, U+2029.
    status = parse_status(line + b"Pid:\t7\n")

    assert status.name is not None
    assert os.fsencode(status.name) == name
    assert status.pid == 7
    assert list(status) == ["Name", "Pid"]


def test_a_name_that_looks_like_a_line_changes_nothing() -> None:
    # psutil read "Uid:" anywhere in the text, so a process could choose its uid.
    text = "Name:\tx\tUid:\t7\t7\t7\t7\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t4 kB\n"

    status = parse_status(text)

    assert status.name == "x\tUid:\t7\t7\t7\t7"
    assert status.uid == Ids(1000, 1000, 1000, 1000)
    assert parse_memory(text) == status.memory


def test_a_name_cannot_forge_a_memory_line() -> None:
    text = b"Name:\tx\\nVmRSS:\t1 kB\nVmSize:\t8 kB\n"

    status = parse_status(text)

    assert status.name == "x\nVmRSS:\t1 kB"
    assert status.rss is None
    memory = parse_memory(text)
    assert memory is not None
    assert memory.rss is None
    assert memory.size == 8 * KB


# Errors: a StatusParseError names the line number and the field, exactly.

ERRORS: list[tuple[str, Union[str, bytes], int, Optional[str], str]] = [
    (
        "arabic-indic-digits",
        "Name:\tx\nVmRSS:\t\u0661\u0662 kB\n",
        2,
        "VmRSS",
        "line 2 (VmRSS): expected a decimal number of at most 20 digits followed by ' kB':"
        " 'VmRSS:\\t\u0661\u0662 kB'",
    ),
    (
        "underscore",
        "Name:\tx\nVmRSS:\t1_000 kB\n",
        2,
        "VmRSS",
        "line 2 (VmRSS): expected a decimal number of at most 20 digits followed by ' kB':"
        " 'VmRSS:\\t1_000 kB'",
    ),
    (
        "plus-sign",
        "VmHWM:\t+5 kB\n",
        1,
        "VmHWM",
        "line 1 (VmHWM): expected a decimal number of at most 20 digits followed by ' kB':"
        " 'VmHWM:\\t+5 kB'",
    ),
    (
        "minus-sign",
        "VmHWM:\t-5 kB\n",
        1,
        "VmHWM",
        "line 1 (VmHWM): expected a decimal number of at most 20 digits followed by ' kB':"
        " 'VmHWM:\\t-5 kB'",
    ),
    (
        "megabytes",
        "Name:\tx\nPid:\t1\nVmSwap:\t12 MB\n",
        3,
        "VmSwap",
        "line 3 (VmSwap): expected a decimal number of at most 20 digits followed by ' kB':"
        " 'VmSwap:\\t12 MB'",
    ),
    (
        "three-uids",
        "Name:\tx\nUid:\t1\t2\t3\n",
        2,
        "Uid",
        "line 2 (Uid): expected four 32-bit ids separated by tabs: 'Uid:\\t1\\t2\\t3'",
    ),
    (
        "uid-over-32-bits",
        "Uid:\t0\t0\t0\t4294967296\n",
        1,
        "Uid",
        "line 1 (Uid): id 4294967296 does not fit in 32 bits: 'Uid:\\t0\\t0\\t0\\t4294967296'",
    ),
    (
        "mask-not-hex",
        "SigBlk:\t00000000000000zz\n",
        1,
        "SigBlk",
        "line 1 (SigBlk): expected at most 64 lower-case hexadecimal digits:"
        " 'SigBlk:\\t00000000000000zz'",
    ),
    (
        "cpu-range-backwards",
        "Cpus_allowed_list:\t3-1\n",
        1,
        "Cpus_allowed_list",
        "line 1 (Cpus_allowed_list): range 3-1 runs backwards: 'Cpus_allowed_list:\\t3-1'",
    ),
    (
        "umask-three-digits",
        "Umask:\t022\n",
        1,
        "Umask",
        "line 1 (Umask): expected four octal digits starting with 0: 'Umask:\\t022'",
    ),
    (
        "state-without-meaning",
        "State:\tR\n",
        1,
        "State",
        "line 1 (State): expected a letter and a word in parentheses, such as R (running):"
        " 'State:\\tR'",
    ),
    (
        "bad-escape-in-name",
        b"Name:\ta\\tb\n",
        1,
        "Name",
        "line 1 (Name): expected any text in which a backslash starts \\n or \\\\:"
        " 'Name:\\ta\\\\tb'",
    ),
    (
        "no-colon",
        "Name:\tx\nPid 1\n",
        2,
        None,
        "line 2: no ':' in the line: 'Pid 1'",
    ),
    (
        "duplicate",
        "Name:\tx\nVmRSS:\t4 kB\nPid:\t1\nVmRSS:\t8 kB\n",
        4,
        "VmRSS",
        "line 4 (VmRSS): the field appears twice: 'VmRSS:\\t8 kB'",
    ),
    (
        "empty-key",
        "Name:\tx\n:\t1\n",
        2,
        None,
        "line 2: no field name before ':': ':\\t1'",
    ),
    (
        "crlf",
        "Name:\tx\r\nPid:\t1\r\n",
        2,
        "Pid",
        "line 2 (Pid): expected a decimal number of at most 20 digits: 'Pid:\\t1\\r'",
    ),
    (
        "first-bad-line-wins",
        "Name:\tx\nPid:\tone\nVmRSS:\tmany\n",
        2,
        "Pid",
        "line 2 (Pid): expected a decimal number of at most 20 digits: 'Pid:\\tone'",
    ),
    (
        "blank-lines-still-count",
        "\n\nPid:\tone\n",
        3,
        "Pid",
        "line 3 (Pid): expected a decimal number of at most 20 digits: 'Pid:\\tone'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_malformed_text_names_line_and_field(
    text: Union[str, bytes], line: int, field: Optional[str], message: str
) -> None:
    with pytest.raises(StatusParseError) as caught:
        parse_status(text)

    assert str(caught.value) == message
    assert (caught.value.line, caught.value.field) == (line, field)
    assert isinstance(caught.value, ValueError)


def test_a_5000_digit_number_is_a_parse_error_not_int_digit_limit() -> None:
    text = "Name:\tx\nVmRSS:\t" + "9" * 5000 + " kB\n"

    with pytest.raises(StatusParseError) as caught:
        parse_status(text)
    with pytest.raises(StatusParseError) as from_memory:
        parse_memory(text)

    assert (caught.value.line, caught.value.field) == (2, "VmRSS")
    assert caught.value.reason == (
        "expected a decimal number of at most 20 digits followed by ' kB'"
    )
    assert caught.value.text == "VmRSS:\t" + "9" * 5000 + " kB"
    assert str(from_memory.value) == str(caught.value)


def test_a_5000_digit_pid_is_a_parse_error() -> None:
    with pytest.raises(StatusParseError) as caught:
        parse_status("Pid:\t" + "1" * 5000)

    assert (caught.value.line, caught.value.field) == (1, "Pid")


def test_the_largest_unsigned_long_parses() -> None:
    status = parse_status("VmLib:\t18446744073709327564 kB\nSigQ:\t0/18446744073709551615\n")

    assert status.lib == 18446744073709327564 * KB  # VmLib underflow before 4.16
    assert status.sigq == (0, 2**64 - 1)


def test_parse_errors_pickle() -> None:
    with pytest.raises(StatusParseError) as caught:
        parse_status("Pid:\tx\n")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert (copy.line, copy.field, copy.text, copy.reason, str(copy)) == (
        1,
        "Pid",
        "Pid:\tx",
        "expected a decimal number of at most 20 digits",
        str(caught.value),
    )


# parse_memory: only the memory lines, with the same checks on them.


def test_parse_memory_reads_only_memory() -> None:
    memory = parse_memory(TEXT)

    assert memory == parse_status(TEXT).memory
    assert memory is not None
    assert (memory.peak_rss, memory.rss, memory.swap) == (5000 * KB, 4000 * KB, None)


@pytest.mark.parametrize(
    "text",
    ["Name:\tkthreadd\nPid:\t2\n", "", "Name:\tzombie\nState:\tZ (zombie)\n"],
    ids=["kernel-thread", "empty", "zombie"],
)
def test_parse_memory_is_none_without_memory_lines(text: str) -> None:
    assert parse_memory(text) is None
    assert parse_status(text).memory is None


@pytest.mark.parametrize(
    "text",
    [
        "Name:\tx\nVmRSS:\t12 MB\n",
        "Name:\tx\nVmRSS:\t4 kB\nVmRSS:\t4 kB\n",
        "VmHWM:\t4 kB\r\n",
        "VmSize:\t" + "1" * 5000 + " kB\n",
    ],
    ids=["unit", "duplicate", "crlf", "huge"],
)
def test_parse_memory_raises_the_same_error_on_bad_memory_lines(text: str) -> None:
    with pytest.raises(StatusParseError) as from_status:
        parse_status(text)
    with pytest.raises(StatusParseError) as from_memory:
        parse_memory(text)

    assert str(from_memory.value) == str(from_status.value)


def test_parse_memory_of_bytes_equals_str() -> None:
    assert parse_memory(TEXT.encode()) == parse_memory(TEXT)


def test_parse_status_returns_a_proc_status() -> None:
    assert isinstance(parse_status(TEXT), ProcStatus)


# s390 register dumps (task_show_regs(), up to 2.6.37) continue a free-text line
# on the indented lines after it.


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            "User GPRS:\t0 1\n           2 3\n           4 5\nPid:\t1\n",
            "0 1\n           2 3\n           4 5",
        ),
        ("User GPRS:\t0 1\n  2 3\n\n \t\n  4 5\n\nPid:\t1\n", "0 1\n  2 3\n  4 5"),
        ("User GPRS:\t0 1\n\n  2 3", "0 1\n  2 3"),
        ("Future:\tx  \n\tmore  \n", "x\n\tmore  "),
    ],
    ids=["three-lines", "blank-lines-between", "blank-line-first", "unknown-line"],
)
def test_continuation_lines_join_their_free_text_line(text: str, value: str) -> None:
    status = parse_status(text)

    key = next(iter(status))
    assert status[key] == value


def test_only_free_text_lines_continue() -> None:
    with pytest.raises(StatusParseError, match=r"^line 2: no ':' in the line: '  7'"):
        parse_status("Pid:\t1\n  7\n")
