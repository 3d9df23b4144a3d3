"""The value kinds: fast layouts within the full check, exact number ranges, typed values in."""

from __future__ import annotations

import gc
import re
import tracemalloc
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from procstatus import FIELDS, Ids, Kind, SigQ, TaskState, _kinds
from procstatus._kinds import KINDS, write_checked
from strategies import FEW, SOME, any_values

# Each kind's fast layout accepts only what its full check accepts, with the
# same value: the fast path strips what the exact path strips.


def as_exact_path_sees_it(kind: Kind, printed: str) -> str:
    return printed.strip(" \t") if kind._padded or kind is _kinds.TEXT else printed


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@SOME
@given(data=st.data())
def test_a_fast_layout_accepts_only_valid_values(kind: Kind, data: st.DataObject) -> None:
    printed = data.draw(st.from_regex(kind._fast, fullmatch=True), label="printed")
    text = as_exact_path_sees_it(kind, printed)

    if kind._fast_check is None:
        assert kind._check(text) is None
    else:  # the fast path runs the rest of the check on these values
        assert (kind._check(text) is None) == (kind._fast_check(printed) is None)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@SOME
@given(printed=st.text(alphabet="0123456789abcdefx -,\t/%()kBRSn\\:\n\u00e9", max_size=40))
def test_what_a_fast_layout_accepts_is_valid(kind: Kind, printed: str) -> None:
    # The other way round: texts near the formats, kept only where the layout takes them.
    if re.fullmatch(kind._fast, printed) and (
        kind._fast_check is None or kind._fast_check(printed) is None
    ):
        assert kind._check(as_exact_path_sees_it(kind, printed)) is None


# Exact number ranges in patterns, so that ids need no check in Python.


@pytest.mark.parametrize("limit", ["4294967295", "2147483648", "1000", "9", "10", "1909"])
def test_at_most_is_exactly_the_numbers_up_to_the_limit(limit: str) -> None:
    pattern = re.compile(_kinds._at_most(limit))
    width = len(limit)
    edges = {0, 1, int(limit) - 1, int(limit), int(limit) + 1, 10**width - 1, 10 ** (width - 1)}
    for number in edges | set(range(0, 10**width, max(1, 10**width // 997))):
        text = f"{number:0{width}d}"
        if len(text) == width:
            assert (pattern.fullmatch(text) is not None) == (number <= int(limit)), text


@FEW
@given(st.integers(min_value=-(2**33), max_value=2**33))
@example(2**32 - 1)
@example(2**32)
@example(-(2**31))
@example(-(2**31) - 1)
def test_an_id_pattern_takes_exactly_the_32_bit_ids(number: int) -> None:
    text = str(number)
    assert (re.fullmatch(_kinds._ID32, text) is not None) == (0 <= number < 2**32)
    assert (re.fullmatch(_kinds._ID_ANY, text) is not None) == (-(2**31) <= number < 2**32)


# Range lists: only what bitmap_list_string() prints, converted in one pass.


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0-3,8", None),
        ("0,1,2,5", None),  # adjacent singles: a copy, not the kernel's, but harmless
        ("", None),
        ("3-1", "range 3-1 runs backwards"),
        ("0-3,2", "2 is not above the numbers before it (ranges are ascending and disjoint)"),
        ("5,2", "2 is not above the numbers before it (ranges are ascending and disjoint)"),
        ("0-8191,0-8191", "0-8191 is not above the numbers before it"),
        ("0-8192", "8192 is not a CPU or node number (at most 8191)"),
        ("8192", "8192 is not a CPU or node number (at most 8191)"),
        ("0-8191", None),
        ("99999", "expected ascending numbers"),  # five digits: the pattern refuses it
    ],
)
def test_range_lists_must_be_ascending_and_disjoint(text: str, reason: str) -> None:
    found = _kinds.RANGE_LIST._check(text)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(reason)


def test_the_largest_range_list_converts_to_each_number_once() -> None:
    assert _kinds.RANGE_LIST._convert("0-8191") == frozenset(range(8192))


# Sets of CPU or node numbers: as many as a kernel can have (NR_CPUS <= 8192) in
# either form, and only small ones kept once converted.


@pytest.mark.parametrize(
    ("words", "valid"), [(1, True), (256, True), (257, False)], ids=["one", "most", "too-many"]
)
def test_hex_words_hold_at_most_8192_bits(words: int, valid: bool) -> None:
    text = ",".join(["ffffffff"] * words)
    assert (_kinds.HEX_WORDS._check(text) is None) is valid


def test_large_sets_converted_are_not_kept() -> None:
    _kinds.clear_caches()
    gc.collect()
    tracemalloc.start()
    try:
        for last in range(8191, 8191 - 64, -1):  # 64 distinct short texts, ~8,000 numbers each
            assert len(_kinds.RANGE_LIST._convert(f"0-{last}")) == last + 1
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        _kinds.clear_caches()
    assert kept < 256 * 1024, f"{kept} bytes kept"


def test_small_sets_converted_are_kept() -> None:
    _kinds.clear_caches()
    assert _kinds.RANGE_LIST._convert("0-3,8") is _kinds.RANGE_LIST._convert("0-3,8")


@FEW
@given(st.frozensets(st.integers(min_value=0, max_value=8191), max_size=50))
def test_hex_words_convert_and_write_back(numbers: frozenset[int]) -> None:
    text = _kinds.HEX_WORDS._write(numbers)

    assert _kinds.HEX_WORDS._check(text) is None
    assert _kinds.HEX_WORDS._convert(text) == numbers
    assert int(text.replace(",", ""), 16) == sum(1 << number for number in numbers)


# Typed values in: written as the kernel would, read back as themselves.

VALUES: list[tuple[str, Any, str]] = [
    ("VmRSS", 4096 * 1024, "4096 kB"),
    ("Mem", 12345, "12345 bytes"),
    ("Pid", 0, "0"),
    ("voluntary_ctxt_switches", 2**64 - 1, "18446744073709551615"),
    ("Kthread", True, "1"),
    ("Umask", 0o022, "0022"),
    ("SleepAVG", 101, "101%"),
    ("State", TaskState("t", "tracing stop"), "t (tracing stop)"),
    ("Uid", Ids(0, 1, 2, 2**32 - 1), "0\t1\t2\t4294967295"),
    ("Gid", (5, 5, 5, 5), "5\t5\t5\t5"),
    ("Groups", (), ""),
    ("Groups", (4, 24), "4 24"),
    ("NSpid", (7, 1), "7\t1"),
    ("SigQ", SigQ(1, 2), "1/2"),
    ("SigCgt", 2**127, "80000000000000000000000000000000"),
    ("untag_mask", 2**64 - 1, "0xffffffffffffffff"),
    ("Cpus_allowed", frozenset({0, 33}), "2,00000001"),
    ("Mems_allowed_list", {0, 1, 2, 7}, "0-2,7"),
    ("x86_Thread_features", ("shstk", "wrss"), "shstk wrss"),
    ("Speculation_Store_Bypass", "thread vulnerable", "thread vulnerable"),
    ("User GPRS", "0 1\n           2 3", "0 1\n           2 3"),
    ("Name", "a\nb\\c  ", "a\\nb\\\\c  "),
]


@pytest.mark.parametrize(("key", "value", "text"), VALUES, ids=[case[0] for case in VALUES])
def test_a_typed_value_is_written_as_the_kernel_prints_it(key: str, value: Any, text: str) -> None:
    kind = FIELDS[key].kind

    assert write_checked(kind, value) == text
    assert kind._convert(text) == value


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@SOME
@given(value=any_values)
def test_any_value_is_written_exactly_or_refused(kind: Kind, value: object) -> None:
    try:
        text = write_checked(kind, value)
    except (TypeError, ValueError):
        return
    assert kind._check(text) is None
    assert kind._convert(text) == value
