"""parse_rollup and sum_smaps: values, the header, unknown lines, uss, and every error."""

from __future__ import annotations

import pickle
from typing import Any, Optional

import attrs
import pytest

from procstatus import Error, RollupParseError, parse_rollup
from procstatus._rollup import rollup_lines, sum_smaps

# A rollup as Linux 6.18 prints it (values made up for these tests).
TEXT = """\
55d0a0000000-7ffc10000000 ---p 00000000 00:00 0                          [rollup]
Rss:                4000 kB
Pss:                1500 kB
Pss_Dirty:           700 kB
Pss_Anon:            600 kB
Pss_File:            800 kB
Pss_Shmem:           100 kB
Shared_Clean:       2400 kB
Shared_Dirty:        300 kB
Private_Clean:       200 kB
Private_Dirty:      1100 kB
Referenced:         3900 kB
Anonymous:           900 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:    2048 kB
Swap:                 64 kB
SwapPss:              32 kB
Locked:                0 kB
"""

KIB = 1024


def test_every_line_becomes_its_attribute_in_bytes() -> None:
    rollup = parse_rollup(TEXT)

    assert rollup.rss == 4000 * KIB
    assert rollup.pss == 1500 * KIB
    assert rollup.pss_dirty == 700 * KIB
    assert (rollup.pss_anon, rollup.pss_file, rollup.pss_shmem) == (600 * KIB, 800 * KIB, 100 * KIB)
    assert (rollup.shared_clean, rollup.shared_dirty) == (2400 * KIB, 300 * KIB)
    assert (rollup.private_clean, rollup.private_dirty) == (200 * KIB, 1100 * KIB)
    assert rollup.private_hugetlb == 2048 * KIB
    assert (rollup.swap, rollup.swap_pss, rollup.locked) == (64 * KIB, 32 * KIB, 0)
    assert rollup.unknown == ()
    assert not rollup.from_smaps


def test_bytes_and_str_give_the_same_rollup() -> None:
    assert parse_rollup(TEXT.encode()) == parse_rollup(TEXT)


def test_the_header_is_kept_as_read() -> None:
    rollup = parse_rollup(TEXT)

    assert rollup.header == TEXT.splitlines()[0]


@pytest.mark.parametrize(
    "header",
    [
        "00400000-7ffcc372d000 ---p 00000000 00:00 0 [rollup]",  # padding lost in a mail
        "00100000-ff709000 ---p 00000000 00:00 0\t\t [rollup]",  # tabs, as procfs-smaps_rollup
        "12c00000-7fd14f2000 ---p 00000000 00:00 0                                [rollup]",
    ],
    ids=["one-space", "tabs", "android"],
)
def test_headers_with_other_padding_are_accepted(header: str) -> None:
    assert parse_rollup(f"{header}\nRss: 4 kB\n").header == header


def test_a_text_without_header_parses() -> None:
    rollup = parse_rollup("Rss:  8 kB\nPss:  4 kB\n")

    assert (rollup.header, rollup.rss, rollup.pss) == (None, 8 * KIB, 4 * KIB)


def test_absent_lines_are_none_not_zero() -> None:
    # Linux 4.14 to 5.2 print no Pss_Anon/Pss_File/Pss_Shmem, Pss_Dirty came in 6.0.
    rollup = parse_rollup("Rss: 8 kB\nPss: 4 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: 4 kB\n")

    assert (rollup.pss_anon, rollup.pss_dirty, rollup.ksm, rollup.swap) == (None,) * 4
    assert rollup.uss == 4 * KIB


def test_unknown_lines_are_kept_in_order_as_text() -> None:
    # An Android vendor kernel prints Writeback (google/perfetto issue #258).
    text = "Rss: 8 kB\nWriteback:     0 kB\nLocked: 0 kB\nFuture_Line:  some text \n"

    rollup = parse_rollup(text)

    assert rollup.unknown == (("Writeback", "0 kB"), ("Future_Line", "some text"))
    assert rollup.get("Writeback") == "0 kB"
    assert rollup.get("Rss") == 8 * KIB
    assert rollup.get("Pss") is None
    assert rollup.get("Nothing") is None


def test_uss_is_private_clean_plus_private_dirty_plus_private_hugetlb() -> None:
    rollup = parse_rollup(TEXT)

    assert rollup.uss == (200 + 1100 + 2048) * KIB


def test_uss_counts_hugetlb_only_where_printed() -> None:
    # Before 4.4 there was no Private_Hugetlb line (only reachable through the smaps fallback).
    rollup = parse_rollup("Private_Clean: 2 kB\nPrivate_Dirty: 6 kB\n")

    assert rollup.uss == 8 * KIB


def test_uss_is_none_without_the_private_lines() -> None:
    assert parse_rollup("Rss: 8 kB\nPss: 4 kB\n").uss is None


def test_blank_lines_and_a_missing_final_newline_are_accepted() -> None:
    assert parse_rollup("Rss: 8 kB\n\nPss: 4 kB") == parse_rollup("Rss: 8 kB\nPss: 4 kB\n")


def test_rollup_lines_write_the_kernel_layout_back() -> None:
    rollup = parse_rollup(TEXT)

    assert "\n".join(rollup_lines(rollup)) + "\n" == TEXT


ERRORS = [
    ("", 1, None, "no rollup lines in the text"),
    ("\n \n", 1, None, "no rollup lines in the text"),
    ("Rss: 8 kB\nPss 4 kB\n", 2, None, "not a 'Key: value' line or the [rollup] header"),
    ("Rss: 8 kB\n: 4 kB\n", 2, None, "not a 'Key: value' line or the [rollup] header"),
    (
        "Rss: 8 kB\n55d0-7ffc ---p 00000000 00:00 0 [rollup]\n",
        2,
        None,
        "not a 'Key: value' line or the [rollup] header",
    ),
    (
        "563a0f81a000-563a0f81c000 r--p 00000000 fe:00 260386  /usr/bin/head\nSize: 8 kB\n",
        1,
        None,
        "not a 'Key: value' line or the [rollup] header",
    ),
    ("Rss: 8 kB\nRss: 8 kB\n", 2, "Rss", "the field appears twice"),
    ("Pss: 4\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: 4 KB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: -4 kB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: +4 kB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: 1_000 kB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: \u0664 kB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: 123456789012345678901 kB\n", 1, "Pss", "expected a size like '1234 kB'"),
    ("Pss: 4 kB\r\n", 1, "Pss", "expected a size like '1234 kB'"),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    ERRORS,
    ids=[
        "empty",
        "blank",
        "no-colon",
        "no-key",
        "header-not-first",
        "smaps-text",
        "twice",
        "no-unit",
        "wrong-unit",
        "negative",
        "plus",
        "underscore",
        "arabic-indic-digit",
        "21-digits",
        "carriage-return",
    ],
)
def test_malformed_text_raises_naming_line_and_field(
    text: str, line: int, field: Optional[str], reason: str
) -> None:
    with pytest.raises(RollupParseError) as caught:
        parse_rollup(text)

    error = caught.value
    assert (error.line, error.field, error.reason) == (line, field, reason)
    assert isinstance(error, ValueError)
    assert isinstance(error, Error)


def test_the_error_message_names_line_field_and_text() -> None:
    with pytest.raises(
        RollupParseError, match=r"^line 2 \(Pss\): expected a size like '1234 kB': 'Pss: x kB'$"
    ):
        parse_rollup("Rss: 1 kB\nPss: x kB\n")


def test_the_error_survives_pickling() -> None:
    with pytest.raises(RollupParseError) as caught:
        parse_rollup("Pss: x\n")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert (copy.line, copy.field, copy.text, str(copy)) == (1, "Pss", "Pss: x", str(caught.value))


@pytest.mark.parametrize("data", [None, 7, ["Rss: 1 kB"]], ids=["none", "int", "list"])
def test_data_of_another_type_is_a_type_error(data: Any) -> None:
    with pytest.raises(TypeError, match="rollup text must be str or bytes"):
        parse_rollup(data)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"rss": -1024}, ValueError),
        ({"rss": 1000}, ValueError),
        ({"pss": 1.0}, TypeError),
        ({"pss": True}, TypeError),
        ({"unknown": [("a", "b")]}, TypeError),
        ({"unknown": (("a", "b\n"),)}, TypeError),
    ],
    ids=["negative", "not-whole-kb", "float", "bool", "list", "newline"],
)
def test_values_are_checked_on_evolve_too(changes: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        attrs.evolve(parse_rollup(TEXT), **changes)


def test_rollups_are_immutable() -> None:
    rollup = parse_rollup(TEXT)

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rollup.rss = 0  # type: ignore[misc]


# sum_smaps: the fallback for kernels before 4.14.

SMAPS = """\
00400000-0048a000 r-xp 00000000 fd:03 960637                             /bin/bash
Size:                552 kB
Rss:                 460 kB
Pss:                 100 kB
Shared_Clean:        452 kB
Shared_Dirty:          0 kB
Private_Clean:         8 kB
Private_Dirty:         0 kB
Referenced:          460 kB
Anonymous:             0 kB
AnonHugePages:         0 kB
Swap:                  0 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Locked:                0 kB
VmFlags: rd ex mr mw me dw
7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Rss:                  20 kB
Pss:                  20 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:        20 kB
Referenced:           20 kB
Anonymous:            20 kB
AnonHugePages:         0 kB
Swap:                  8 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Locked:                0 kB
VmFlags: rd wr mr mw me gd ac
"""


def test_sum_smaps_adds_each_field_over_the_mappings() -> None:
    rollup = sum_smaps(SMAPS)

    assert rollup is not None
    assert (rollup.rss, rollup.pss, rollup.swap) == (480 * KIB, 120 * KIB, 8 * KIB)
    assert (rollup.private_clean, rollup.private_dirty, rollup.uss) == (8 * KIB, 20 * KIB, 28 * KIB)
    assert rollup.anonymous == 20 * KIB
    assert rollup.from_smaps


def test_sum_smaps_leaves_rollup_only_and_unprinted_lines_none() -> None:
    rollup = sum_smaps(SMAPS)

    assert rollup is not None
    # Pss_Anon is rollup only; SwapPss (4.3) and LazyFree (4.12) this old kernel did not print.
    assert (rollup.pss_anon, rollup.swap_pss, rollup.lazy_free) == (None, None, None)
    assert (rollup.header, rollup.unknown) == (None, ())


def test_sum_smaps_of_an_empty_text_is_none() -> None:
    assert sum_smaps(b"") is None


def test_sum_smaps_names_a_bad_value() -> None:
    with pytest.raises(RollupParseError) as caught:
        sum_smaps(SMAPS.replace("Pss:                  20 kB", "Pss: 20"))

    assert (caught.value.line, caught.value.field) == (20, "Pss")


def test_sum_smaps_refuses_a_line_that_is_neither_field_nor_mapping() -> None:
    with pytest.raises(RollupParseError, match="neither a smaps field line nor a mapping header"):
        sum_smaps("Rss: 4 kB\nsomething else\n")
